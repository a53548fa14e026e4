"""The matcher is a pure layer: importing it pulls in no I/O library."""

from __future__ import annotations

import subprocess
import sys

import mesos_wm.matcher as matcher


def test_importing_the_matcher_loads_no_io_modules() -> None:
    code = (
        "import sys, mesos_wm.matcher\n"
        "bad = {'asyncio', 'aiohttp', 'sqlite3', 'psycopg', 'kazoo', 'socket', 'threading'}\n"
        "print(sorted(bad & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_exported() -> None:
    for name in matcher.__all__:
        assert getattr(matcher, name) is not None
    assert {"TaskRequest", "Offer", "AgentCapacity", "Constraint", "PendingIndex",
            "RunningIndex", "Matcher", "MatchResult", "Placement", "Unplaced",
            "Fitness", "Strategy"} <= set(matcher.__all__)
