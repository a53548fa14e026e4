"""This project's scheduler and executor drivers against the embedded master."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from mesos_wm.drivers.scheduler import SchedulerDriver
from mesos_wm.local.master import LocalMaster
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.scheduler_events import Offers, Update

DRIVER_EXECUTOR = Path(__file__).with_name("driver_executor.py")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.offers: asyncio.Queue[Offers] = asyncio.Queue()
        self.updates: asyncio.Queue[Update] = asyncio.Queue()

    async def __call__(self, event: Any) -> None:
        self.events.append(event)
        if isinstance(event, Offers):
            self.offers.put_nowait(event)
        elif isinstance(event, Update):
            self.updates.put_nowait(event)

    async def until(self, state: str, task_id: str) -> Update:
        while True:
            update = await asyncio.wait_for(self.updates.get(), 10)
            if update.status.state == state and update.status.task_id.value == task_id:
                return update


def resources() -> list[dict[str, Any]]:
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
    ]


async def test_scheduler_driver_runs_command_and_custom_executor_tasks(
    mesos_master: LocalMaster,
) -> None:
    recorder = Recorder()
    info = scheduler_calls.framework_info(user="tester", name="driver-test")
    driver = SchedulerDriver(mesos_master.url, info, recorder, auto_acknowledge=True)
    await driver.start()
    try:
        framework_id = await driver.wait_subscribed(10)
        assert framework_id.startswith(mesos_master.state.master_id)
        offers = await asyncio.wait_for(recorder.offers.get(), 10)
        offer = offers.offers[0]
        agent_id = offer.agent_id.value
        command = scheduler_calls.task_info(
            name="cmd",
            task_id="cmd-1",
            agent_id=agent_id,
            resources=resources(),
            command=scheduler_calls.command_info("echo driver"),
        )
        executor = scheduler_calls.executor_info(
            executor_id="drv-exec",
            command=scheduler_calls.command_info(f"{sys.executable} {DRIVER_EXECUTOR}"),
            resources=resources(),
        )
        custom = scheduler_calls.task_info(
            name="custom",
            task_id="exec-1",
            agent_id=agent_id,
            resources=resources(),
            executor=executor,
        )
        await driver.accept([offer.id.value], [scheduler_calls.launch([command, custom])])
        finished = await recorder.until("TASK_FINISHED", "cmd-1")
        assert finished.status.message == "Command exited with status 0"
        custom_done = await recorder.until("TASK_FINISHED", "exec-1")
        assert custom_done.status.message == "driver done"
        await driver.reconcile([("cmd-1", agent_id)])
        await driver.shutdown("drv-exec", agent_id)
        await mesos_master.wait_for(
            lambda: not mesos_master.state.agents[agent_id].executors.get(framework_id)
        )
    finally:
        await driver.stop(teardown=True)
    await mesos_master.wait_for(lambda: not mesos_master.state.frameworks)
