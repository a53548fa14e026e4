"""A custom executor built on mesos_wm's ExecutorDriver (for the driver integration test).

Each LAUNCH gets TASK_RUNNING then TASK_FINISHED; KILL gets TASK_KILLED; SHUTDOWN stops.
"""

from __future__ import annotations

import asyncio
import sys

from mesos_wm.drivers.executor import ExecutorDriver
from mesos_wm.wire.executor_events import Kill, Launch, Shutdown


async def main() -> int:
    done = asyncio.Event()
    driver: ExecutorDriver

    async def handler(event: object) -> None:
        if isinstance(event, Launch):
            task_id = event.task.task_id.value
            await driver.send_status(task_id, "TASK_RUNNING")
            await driver.send_status(task_id, "TASK_FINISHED", message="driver done")
        elif isinstance(event, Kill):
            await driver.send_status(event.task_id, "TASK_KILLED")
        elif isinstance(event, Shutdown):
            done.set()

    driver = ExecutorDriver(handler)
    await driver.start()
    await done.wait()
    await driver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
