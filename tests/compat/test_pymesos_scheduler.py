"""pymesos's MesosSchedulerDriver against the loopback fake master."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import getpass
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from addict import Dict

from mesos_wm.compat.pymesos import (
    DRIVER_ABORTED,
    DRIVER_NOT_STARTED,
    DRIVER_RUNNING,
    DRIVER_STOPPED,
    MesosSchedulerDriver,
    Scheduler,
    decode_data,
    encode_data,
)
from mesos_wm.errors import NotSubscribed
from tests.compat.conftest import CallLog
from tests.drivers.fake_master import (
    HEARTBEAT,
    FakeMaster,
    Reply,
    error_event,
    offers_event,
    update_event,
)

CALLBACKS = [
    "registered",
    "reregistered",
    "disconnected",
    "processHeartBeat",
    "resourceOffers",
    "inverseOffers",
    "offerRescinded",
    "inverseOfferRescinded",
    "statusUpdate",
    "operationStatusUpdate",
    "frameworkMessage",
    "slaveLost",
    "executorLost",
    "error",
]


class RecordingScheduler(Scheduler):
    def __init__(self) -> None:
        self.log = CallLog()
        self.on: dict[str, Callable[..., None]] = {}

    def __getattribute__(self, name: str) -> Any:
        if name in CALLBACKS:

            def callback(driver: Any, *args: Any) -> None:
                self.log.add(name, *args)
                if name in self.on:
                    self.on[name](driver, *args)

            return callback
        return super().__getattribute__(name)


def blocking(function: Callable[..., Any], *args: Any) -> Any:
    return asyncio.to_thread(function, *args)


@pytest.fixture
async def make(fake_master: FakeMaster) -> AsyncIterator[Callable[..., MesosSchedulerDriver]]:
    made: list[MesosSchedulerDriver] = []

    def build(sched: Scheduler, **kwargs: Any) -> MesosSchedulerDriver:
        framework = kwargs.pop("framework", {"name": "pymesos-style", "user": "tester"})
        driver = MesosSchedulerDriver(
            sched, framework, kwargs.pop("master", fake_master.url), **kwargs
        )
        made.append(driver)
        return driver

    yield build
    for driver in made:
        await blocking(driver.abort)
        with contextlib.suppress(Exception):
            await blocking(driver.join)


async def started(driver: MesosSchedulerDriver, sched: RecordingScheduler) -> tuple[Any, ...]:
    assert await blocking(driver.start) == DRIVER_RUNNING
    return await blocking(sched.log.wait_for, "registered")


async def test_registered_with_pymesos_framework_defaults(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched, framework={"name": "no-user"})
    assert driver.join() == DRIVER_NOT_STARTED
    framework_id, master_info = await started(driver, sched)
    assert framework_id == {"value": "fw-0001"} and type(framework_id) is dict
    assert master_info["hostname"] == "127.0.0.1" and master_info["port"] == fake_master.port
    info = fake_master.subscribes[0].body["subscribe"]["framework_info"]
    assert info["user"] == getpass.getuser()
    assert info["failover_timeout"] == 100.0
    assert {"type": "GPU_RESOURCES"} in info["capabilities"]
    assert driver.framework_id == "fw-0001"
    assert driver.connected and driver.master == f"127.0.0.1:{fake_master.port}"
    assert all(name.startswith("mesos-wm-scheduler-callbacks") for name in sched.log.threads)


async def test_offers_launch_from_the_callback_with_pymesos_shapes(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()

    def launch(driver: MesosSchedulerDriver, offers: list[Any]) -> None:
        for offer in offers:
            task = Dict()
            task.task_id.value = "task-" + offer.id.value
            task.agent_id.value = offer.agent_id.value
            task.name = "hello"
            task.command.value = "echo hello"
            task.data = encode_data(b"payload")
            task.resources = [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}]
            driver.launchTasks(offer.id, [task], {"refuse_seconds": 5})

    sched.on["resourceOffers"] = launch
    driver = make(sched, use_addict=True)
    await started(driver, sched)
    await fake_master.open_streams[0].send(offers_event("o-1", "o-2"))
    (offers,) = await blocking(sched.log.wait_for, "resourceOffers")
    assert isinstance(offers[0], Dict)
    await asyncio.sleep(0.1)
    accepts = fake_master.calls_of("ACCEPT")
    assert [a["accept"]["offer_ids"] for a in accepts] == [[{"value": "o-1"}], [{"value": "o-2"}]]
    operation = accepts[0]["accept"]["operations"][0]
    assert operation["type"] == "LAUNCH"
    assert operation["launch"]["task_infos"][0]["task_id"] == {"value": "task-o-1"}
    assert decode_data(operation["launch"]["task_infos"][0]["data"]) == b"payload"
    assert accepts[0]["accept"]["filters"] == {"refuse_seconds": 5.0}


async def test_implicit_acknowledgements_only_for_updates_with_uuid(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    await started(driver, sched)
    stream = fake_master.open_streams[0]
    await stream.send(update_event("t-1", uuid_bytes=uuid.uuid4().bytes))
    await stream.send(update_event("t-2", "TASK_LOST"))
    (status,) = await blocking(sched.log.wait_for, "statusUpdate", 2)
    assert type(status) is dict and status["task_id"] == {"value": "t-2"}
    await asyncio.sleep(0.1)
    acks = fake_master.calls_of("ACKNOWLEDGE")
    assert [a["acknowledge"]["task_id"]["value"] for a in acks] == ["t-1"]


async def test_explicit_acknowledgements(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched, implicit_acknowledgements=False)
    await started(driver, sched)
    await fake_master.open_streams[0].send(update_event("t-1", uuid_bytes=uuid.uuid4().bytes))
    (status,) = await blocking(sched.log.wait_for, "statusUpdate")
    await asyncio.sleep(0.05)
    assert fake_master.calls_of("ACKNOWLEDGE") == []
    await blocking(driver.acknowledgeStatusUpdate, status)
    await blocking(driver.acknowledgeStatusUpdate, {"task_id": {"value": "t-9"}})
    assert len(fake_master.calls_of("ACKNOWLEDGE")) == 1


async def test_every_driver_method_sends_its_call(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    await started(driver, sched)
    offer_id = {"value": "o-1"}

    def calls() -> None:
        driver.declineOffer(offer_id, {"refuse_seconds": 60})
        driver.declineOffer([offer_id, {"value": "o-2"}])
        driver.launchTasks(offer_id, [])
        driver.acceptOffers([offer_id], [], None)
        driver.reviveOffers()
        driver.suppressOffers(["wm"])
        driver.killTask({"value": "t-1"})
        driver.reconcileTasks([{"task_id": {"value": "t-1"}, "agent_id": {"value": "a-1"}}])
        driver.reconcileTasks([])
        driver.sendFrameworkMessage({"value": "ex-1"}, {"value": "a-1"}, encode_data(b"hi"))
        driver.requestResources(
            [
                {
                    "agent_id": {"value": "a-1"},
                    "resources": [{"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}],
                }
            ]
        )
        driver.acceptInverseOffers({"value": "io-1"})
        driver.declineInverseOffer([{"value": "io-2"}], {"refuse_seconds": 1})

    await blocking(calls)
    assert [c.body["type"] for c in fake_master.calls] == [
        "DECLINE",
        "DECLINE",
        "DECLINE",
        "DECLINE",
        "REVIVE",
        "SUPPRESS",
        "KILL",
        "RECONCILE",
        "RECONCILE",
        "MESSAGE",
        "REQUEST",
        "ACCEPT_INVERSE_OFFERS",
        "DECLINE_INVERSE_OFFERS",
    ]
    assert fake_master.calls_of("DECLINE")[0]["decline"] == {
        "offer_ids": [{"value": "o-1"}],
        "filters": {"refuse_seconds": 60.0},
    }
    assert fake_master.calls_of("RECONCILE")[0]["reconcile"]["tasks"] == [
        {"task_id": {"value": "t-1"}, "agent_id": {"value": "a-1"}}
    ]
    message = fake_master.calls_of("MESSAGE")[0]["message"]
    assert base64.b64decode(message["data"]) == b"hi"
    assert fake_master.calls_of("SUPPRESS")[0]["suppress"] == {"roles": ["wm"]}


async def test_callbacks_for_every_event(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    await started(driver, sched)
    stream = fake_master.open_streams[0]
    await stream.send({"type": "RESCIND", "rescind": {"offer_id": {"value": "o-1"}}})
    await stream.send(
        {
            "type": "MESSAGE",
            "message": {
                "agent_id": {"value": "a-1"},
                "executor_id": {"value": "ex-1"},
                "data": encode_data(b"from executor"),
            },
        }
    )
    await stream.send({"type": "FAILURE", "failure": {"agent_id": {"value": "a-2"}}})
    await stream.send(
        {
            "type": "FAILURE",
            "failure": {
                "agent_id": {"value": "a-3"},
                "executor_id": {"value": "ex-3"},
                "status": 137,
            },
        }
    )
    await stream.send(HEARTBEAT)
    await blocking(sched.log.wait_for, "processHeartBeat")
    assert sched.log.args("offerRescinded") == [({"value": "o-1"},)]
    ((executor_id, agent_id, data),) = sched.log.args("frameworkMessage")
    assert (executor_id, agent_id, decode_data(data)) == (
        {"value": "ex-1"},
        {"value": "a-1"},
        b"from executor",
    )
    assert sched.log.args("slaveLost") == [({"value": "a-2"},)]
    assert sched.log.args("executorLost") == [({"value": "ex-3"}, {"value": "a-3"}, 137)]


async def test_disconnected_then_reregistered(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    await started(driver, sched)
    fake_master.open_streams[0].cut()
    await blocking(sched.log.wait_for, "disconnected")
    (master_info,) = await blocking(sched.log.wait_for, "reregistered")
    assert master_info["port"] == fake_master.port
    assert fake_master.subscribes[1].body["framework_id"] == {"value": "fw-0001"}
    assert sched.log.names().count("registered") == 1


async def test_calls_while_disconnected_raise_instead_of_vanishing(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    with pytest.raises(NotSubscribed):
        driver.reviveOffers()
    fake_master.subscribe_script += [None] + [Reply(503)] * 5
    await started(driver, sched)
    fake_master.open_streams[0].cut()
    await blocking(sched.log.wait_for, "disconnected")
    with pytest.raises(NotSubscribed):
        await blocking(driver.declineOffer, {"value": "o-1"})


async def test_error_event_calls_error_and_aborts(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    await started(driver, sched)
    await fake_master.open_streams[0].send(error_event("Framework has been removed"))
    assert await blocking(driver.join) == DRIVER_ABORTED
    assert sched.log.args("error") == [("Framework has been removed",)]
    assert driver.aborted


async def test_a_rejected_subscription_is_reported_to_error(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    fake_master.subscribe_script.append(Reply(401, "Unauthorized"))
    sched = RecordingScheduler()
    driver = make(sched, principal="p", secret="wrong")
    await blocking(driver.start)
    assert await blocking(driver.join) == DRIVER_ABORTED
    ((message,),) = sched.log.args("error")
    assert "401" in message
    assert fake_master.subscribes[0].headers["Authorization"].startswith("Basic ")


async def test_stop_tears_down_unless_failing_over(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    driver = make(sched)
    await started(driver, sched)
    assert await blocking(driver.stop) == DRIVER_STOPPED
    assert await blocking(driver.join) == DRIVER_STOPPED
    assert fake_master.calls_of("TEARDOWN") == [
        {"type": "TEARDOWN", "framework_id": {"value": "fw-0001"}}
    ]

    other = RecordingScheduler()
    keeper = make(other, failover=True)
    await started(keeper, other)
    await blocking(keeper.stop)
    aborted = RecordingScheduler()
    aborting = make(aborted)
    await started(aborting, aborted)
    assert await blocking(aborting.abort) == DRIVER_ABORTED
    assert await blocking(aborting.join) == DRIVER_ABORTED
    assert len(fake_master.calls_of("TEARDOWN")) == 1


async def test_a_callback_exception_aborts_and_join_raises_it(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()

    def broken(driver: MesosSchedulerDriver, offers: list[Any]) -> None:
        raise ZeroDivisionError("framework bug")

    sched.on["resourceOffers"] = broken
    driver = make(sched)
    await started(driver, sched)
    await fake_master.open_streams[0].send(offers_event("o-1"))
    with pytest.raises(ZeroDivisionError, match="framework bug"):
        await blocking(driver.join)
    assert driver.aborted


async def test_stop_from_inside_a_callback(
    fake_master: FakeMaster, make: Callable[..., MesosSchedulerDriver]
) -> None:
    sched = RecordingScheduler()
    sched.on["resourceOffers"] = lambda driver, offers: driver.stop()
    driver = make(sched)
    await started(driver, sched)
    await fake_master.open_streams[0].send(offers_event("o-1"))
    assert await asyncio.wait_for(blocking(driver.join), 10) == DRIVER_STOPPED
    assert fake_master.calls_of("TEARDOWN")
