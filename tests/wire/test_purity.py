"""The wire layer, ids and resources are pure: no I/O libraries, a tested public surface."""

from __future__ import annotations

import json
import subprocess
import sys

import mesos_wm.wire as wire
from mesos_wm.wire import (
    executor_calls,
    executor_events,
    messages,
    recordio,
    scheduler_calls,
    scheduler_events,
    states,
)

PURE_MODULES = [
    "mesos_wm.ids",
    "mesos_wm.resources",
    "mesos_wm.wire",
    "mesos_wm.wire.recordio",
    "mesos_wm.wire.states",
    "mesos_wm.wire.messages",
    "mesos_wm.wire.scheduler_calls",
    "mesos_wm.wire.scheduler_events",
    "mesos_wm.wire.executor_calls",
    "mesos_wm.wire.executor_events",
]
FORBIDDEN = ["asyncio", "aiohttp", "sqlite3", "psycopg", "kazoo", "socket", "threading"]


def test_pure_modules_import_no_io_libraries() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {PURE_MODULES!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_exported_names_exist() -> None:
    for module in (
        wire,
        recordio,
        states,
        messages,
        scheduler_calls,
        scheduler_events,
        executor_calls,
        executor_events,
    ):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_contract_names() -> None:
    assert {"RecordIODecoder", "encode", "TaskState", "TERMINAL_STATES", "is_terminal"} <= set(
        wire.__all__
    )
    assert {
        "Subscribed", "Offers", "InverseOffers", "Rescind", "RescindInverseOffer", "Update",
        "UpdateOperationStatus", "Message", "Failure", "Error", "Heartbeat", "SchedulerEvent",
        "parse_event",
    } <= set(scheduler_events.__all__)  # fmt: skip
    assert {
        "Subscribed", "Launch", "LaunchGroup", "Kill", "Acknowledged", "Message", "Shutdown",
        "Error", "Heartbeat", "ExecutorEvent", "parse_event",
    } <= set(executor_events.__all__)  # fmt: skip
    assert {"launch", "launch_group", "task_info", "command_info", "executor_info"} <= set(
        scheduler_calls.__all__
    )
    assert {"docker_container"} <= set(scheduler_calls.__all__)
