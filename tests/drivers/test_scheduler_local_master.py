"""The asyncio scheduler driver against the embedded local master (issue 3), when present."""

from __future__ import annotations

import asyncio
import random

from mesos_wm.drivers import Backoff, Disconnected, SchedulerDriver
from mesos_wm.local.config import FAST
from mesos_wm.local.master import LocalMaster
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.scheduler_events import Offers, Subscribed, Update
from tests.drivers.conftest import Recorder


async def test_launch_acknowledge_drop_and_resubscribe_on_the_local_master() -> None:
    recorder = Recorder()
    info = scheduler_calls.framework_info(
        user="tester", name="driver-it", roles=["wm"], failover_timeout=60
    )
    async with LocalMaster(agents=1, config=FAST) as master:
        driver = SchedulerDriver(
            master.url, info, recorder, backoff=Backoff(0.01, 0.05), rng=random.Random(1)
        )
        await driver.start()
        try:
            framework_id = await driver.wait_subscribed(10)
            offers = await recorder.next(Offers)
            offer = offers.offers[0]
            task = scheduler_calls.task_info(
                name="echo",
                task_id="t-1",
                agent_id=offer.agent_id.value,
                resources=[
                    {
                        "name": "cpus",
                        "type": "SCALAR",
                        "scalar": {"value": 0.1},
                        "allocation_info": {"role": "wm"},
                    },
                    {
                        "name": "mem",
                        "type": "SCALAR",
                        "scalar": {"value": 32},
                        "allocation_info": {"role": "wm"},
                    },
                ],
                command=scheduler_calls.command_info("echo hello"),
            )
            await driver.accept([offer.id.value], [scheduler_calls.launch([task])])
            states = []
            async with asyncio.timeout(20):
                while "TASK_FINISHED" not in states:
                    update = await recorder.next(Update)
                    states.append(update.state)
                    assert await driver.acknowledge(update) is (update.uuid is not None)
            await driver.reconcile([("t-1", offer.agent_id.value)])
            reconciled = await recorder.next(Update)
            assert reconciled.uuid is None and await driver.acknowledge(reconciled) is False

            master.faults.drop_stream(framework_id)
            await recorder.next(Disconnected)
            again = await recorder.next(Subscribed)
            assert again.framework_id == framework_id

            master.faults.refuse_calls(0.05)
            await driver.revive()
        finally:
            await driver.stop(teardown=True)
        await asyncio.wait_for(driver.join(), 5)
