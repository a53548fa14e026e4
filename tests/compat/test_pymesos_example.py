"""examples/pymesos_framework.py, a pymesos-style framework, as a real process."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from tests.drivers.fake_master import FakeMaster, offers_event, update_event

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pymesos_framework.py"


async def wait_for_calls(master: FakeMaster, call_type: str, count: int = 1) -> list[dict]:
    async with asyncio.timeout(20):
        while len(master.calls_of(call_type)) < count:
            await asyncio.sleep(0.02)
    return master.calls_of(call_type)


async def test_the_example_launches_tasks_and_stops_when_they_finish(
    fake_master: FakeMaster,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        fake_master.url,
        "--tasks",
        "3",
        "--timeout",
        "60",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        stream = await fake_master.next_stream(timeout=30)
        info = fake_master.subscribes[0].body["subscribe"]["framework_info"]
        assert info["name"] == "pymesos-style hello"
        await stream.send(offers_event("o-1"))
        (accept,) = await wait_for_calls(fake_master, "ACCEPT")
        tasks = accept["accept"]["operations"][0]["launch"]["task_infos"]
        assert [t["task_id"]["value"] for t in tasks] == ["hello-1", "hello-2", "hello-3"]
        assert accept["accept"]["filters"] == {"refuse_seconds": 5.0}
        await wait_for_calls(fake_master, "SUPPRESS")
        for task in tasks:
            await stream.send(
                update_event(
                    task["task_id"]["value"], "TASK_FINISHED", uuid_bytes=uuid.uuid4().bytes
                )
            )
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()
    assert b"all 3 tasks ended; stopping" in output
    assert fake_master.calls_of("TEARDOWN") == [
        {"type": "TEARDOWN", "framework_id": {"value": "fw-0001"}}
    ]
    acked = [a["acknowledge"]["task_id"]["value"] for a in fake_master.calls_of("ACKNOWLEDGE")]
    assert acked == ["hello-1", "hello-2"]
