"""The background acknowledgement sender: bounded concurrency, order, failures, drain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mesos_wm.errors import TransportError
from mesos_wm.framework import FrameworkConfig
from mesos_wm.framework.acks import AckSender
from mesos_wm.framework.homes import Homes
from mesos_wm.framework.pending import ReadySet
from mesos_wm.framework.policy import OfferPolicy
from mesos_wm.framework.reconcile import Reconciler
from mesos_wm.framework.runtime import Runtime
from mesos_wm.matcher import Matcher
from mesos_wm.queue import TaskQueue
from tests.framework.builders import status


class SlowDriver:
    """Answers each ACKNOWLEDGE after the test releases it; counts calls in flight."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.fail = fail or set()
        self.in_flight = 0
        self.most = 0
        self.sent: list[str] = []
        self.started: list[str] = []
        self.gate = asyncio.Event()

    async def acknowledge(self, body: Any) -> bool:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        task_id = body["task_id"]["value"]
        self.started.append(task_id)
        try:
            await self.gate.wait()
            if task_id in self.fail:
                raise TransportError("connection refused")
            self.sent.append(task_id)
            return True
        finally:
            self.in_flight -= 1


@pytest.fixture
def rt(tmp_path: Any) -> Runtime:
    config = FrameworkConfig()
    queue = TaskQueue.open(f"sqlite:///{tmp_path}/q.db")
    return Runtime(queue=queue, config=config, clock=lambda: 0.0,
                   matcher=Matcher(roles=["*"]), ready=ReadySet(lambda wf: None),
                   homes=Homes(), policy=OfferPolicy(config, 0.0),
                   reconciler=Reconciler(1000.0, 30.0, 100))


async def test_at_most_workers_acknowledgements_are_in_flight_and_all_are_sent(
        rt: Runtime) -> None:
    driver = SlowDriver()
    rt.driver = driver  # type: ignore[assignment]
    sender = AckSender(rt, workers=3)
    for i in range(10):
        sender.put(status(f"wf.t{i}.a1", "TASK_RUNNING"))
    await asyncio.sleep(0)
    assert driver.in_flight == 3 and len(sender) == 10
    assert driver.started == ["wf.t0.a1", "wf.t1.a1", "wf.t2.a1"]
    driver.gate.set()
    await sender.drain()
    assert driver.most == 3
    assert sorted(driver.sent) == sorted(f"wf.t{i}.a1" for i in range(10))
    assert driver.started == [f"wf.t{i}.a1" for i in range(10)]
    assert rt.stats.acknowledged == 10 and rt.stats.calls == 10 and len(sender) == 0


async def test_a_failed_acknowledgement_is_not_counted_and_the_rest_go_out(
        rt: Runtime) -> None:
    driver = SlowDriver(fail={"wf.t1.a1"})
    rt.driver = driver  # type: ignore[assignment]
    sender = AckSender(rt, workers=2)
    driver.gate.set()
    for i in range(4):
        sender.put(status(f"wf.t{i}.a1", "TASK_FINISHED"))
    await sender.drain()
    assert sorted(driver.sent) == ["wf.t0.a1", "wf.t2.a1", "wf.t3.a1"]
    assert rt.stats.acknowledged == 3


async def test_drain_returns_at_once_when_nothing_is_pending_and_workers_restart(
        rt: Runtime) -> None:
    driver = SlowDriver()
    driver.gate.set()
    rt.driver = driver  # type: ignore[assignment]
    sender = AckSender(rt, workers=1)
    await asyncio.wait_for(sender.drain(), 1)
    sender.put(status("wf.a.a1", "TASK_RUNNING"))
    await sender.drain()
    sender.put(status("wf.a.a1", "TASK_FINISHED"))
    await sender.drain()
    assert driver.sent == ["wf.a.a1", "wf.a.a1"]


def test_workers_must_be_positive(rt: Runtime) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AckSender(rt, workers=0)
