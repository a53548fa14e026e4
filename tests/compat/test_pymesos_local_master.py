"""examples/pymesos_framework.py against the embedded local master (real command tasks)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mesos_wm.local.config import FAST
from mesos_wm.local.master import LocalMaster

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pymesos_framework.py"


async def test_the_pymesos_example_runs_its_tasks_on_the_local_master() -> None:
    async with LocalMaster(agents=1, config=FAST) as master:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE),
            master.url,
            "--tasks",
            "3",
            "--timeout",
            "60",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), 90)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = output.decode()
    assert process.returncode == 0, text
    for number in (1, 2, 3):
        assert f"task hello-{number} is TASK_FINISHED" in text
    assert "all 3 tasks ended; stopping" in text
