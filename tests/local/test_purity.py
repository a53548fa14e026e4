"""The master core is pure: importing it loads no event loop, HTTP or I/O library."""

from __future__ import annotations

import json
import subprocess
import sys

CORE_MODULES = [
    "mesos_wm.local.state",
    "mesos_wm.local.core",
    "mesos_wm.local.offers",
    "mesos_wm.local.statuses",
    "mesos_wm.local.simulation",
    "mesos_wm.local.launching",
    "mesos_wm.local.reconciliation",
    "mesos_wm.local.executors",
    "mesos_wm.local.frameworks",
    "mesos_wm.local.agents",
    "mesos_wm.local.allocator",
    "mesos_wm.local.updates",
    "mesos_wm.local.validation",
    "mesos_wm.local.schema",
    "mesos_wm.local.model",
    "mesos_wm.local.effects",
    "mesos_wm.local.messages",
    "mesos_wm.local.config",
]
FORBIDDEN = ["asyncio", "aiohttp", "sqlite3", "socket", "subprocess", "threading"]


def test_core_modules_import_no_io_libraries() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {CORE_MODULES!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_master_state_is_assembled_from_the_core_layers() -> None:
    from mesos_wm.local.core import CoreState
    from mesos_wm.local.state import MasterState

    layers = [cls.__module__ for cls in MasterState.__mro__ if issubclass(cls, CoreState)]
    assert set(CORE_MODULES[:10]) == set(layers)
