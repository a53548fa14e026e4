"""Fixtures of the embedded-master tests: conformance-checked raw schedulers."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from mesos_wm.local.master import LocalMaster
from mesos_wm.testing.raw import RawScheduler

EXECUTOR_SCRIPT = Path(__file__).with_name("executor_script.py")


NEWER_REASONS = {"REASON_AGENT_REMOVED_BY_OPERATOR": "REASON_AGENT_REMOVED"}
"""TaskStatus reasons of Apache Mesos newer than the mesos-go protos of the oracle
(REASON_AGENT_REMOVED_BY_OPERATOR = 31, Mesos 1.5), each with an older stand-in."""


def oracle_view(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the oracle can check it: newer reasons replaced by their stand-ins."""
    status = event.get("update", {}).get("status", {})
    if status.get("reason") not in NEWER_REASONS:
        return event
    status = {**status, "reason": NEWER_REASONS[status["reason"]]}
    return {**event, "update": {**event["update"], "status": status}}


@pytest.fixture
def conform(mesos_protos: Any) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Check every scheduler event against the Mesos protos; fail the test at the end."""
    errors: list[str] = []

    def check(event: dict[str, Any]) -> None:
        try:
            mesos_protos.check_scheduler_event(oracle_view(event))
        except AssertionError as exc:
            errors.append(f"{json.dumps(event)[:300]}: {exc}")

    yield check
    assert not errors, "\n".join(errors)


@pytest_asyncio.fixture
async def scheduler(
    mesos_master: LocalMaster, conform: Callable[[dict[str, Any]], None]
) -> AsyncIterator[Callable[..., Awaitable[RawScheduler]]]:
    """Subscribe conformance-checked raw schedulers: ``await scheduler(name="x")``."""
    opened: list[RawScheduler] = []

    async def subscribe(master: LocalMaster | None = None, **info: Any) -> RawScheduler:
        target = master or mesos_master
        framework = {"user": "tester", "name": "test", **info}
        raw = RawScheduler(target.url, framework, on_event=conform)
        await raw.subscribe()
        opened.append(raw)
        return raw

    yield subscribe
    for raw in opened:
        await raw.close()


def executor_info(executor_id: str = "exec-1", **extra: Any) -> dict[str, Any]:
    """A CUSTOM ExecutorInfo running the test executor script."""
    info: dict[str, Any] = {
        "executor_id": {"value": executor_id},
        "type": "CUSTOM",
        "command": {"value": f"{sys.executable} {EXECUTOR_SCRIPT}", "shell": True},
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
        ],
    }
    info.update(extra)
    return info
