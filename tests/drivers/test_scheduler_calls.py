"""The scheduler driver's calls: stream id, every call type, acks, errors, disconnection."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable

import pytest

from mesos_wm.drivers.events import Disconnected
from mesos_wm.drivers.scheduler import SchedulerDriver
from mesos_wm.errors import LocalProtocolError, MasterRejected, NotLeader, NotSubscribed
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.scheduler_events import Offers, Subscribed, Update
from mesos_wm.wire.session import SessionState
from tests.drivers.conftest import Recorder
from tests.drivers.fake_master import FakeMaster, Reply, offers_event, update_event
from tests.support import missing_service

MakeDriver = Callable[..., SchedulerDriver]


async def subscribed(make_driver: MakeDriver, **kwargs: object) -> SchedulerDriver:
    driver = make_driver(**kwargs)
    await driver.start()
    await driver.wait_subscribed(5)
    return driver


async def test_every_call_type_carries_the_stream_id_and_framework_id(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = await subscribed(make_driver)
    task = scheduler_calls.task_info(
        name="t",
        task_id="t-1",
        agent_id="agent-1",
        resources=[{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}],
        command=scheduler_calls.command_info("true"),
    )
    executor = scheduler_calls.executor_info(
        executor_id="ex-1", command=scheduler_calls.command_info("run-executor")
    )
    await driver.accept(["o-1"], [scheduler_calls.launch([task])], refuse_seconds=5)
    group_task = {**task, "task_id": {"value": "t-2"}}
    group_task.pop("command")
    await driver.accept(["o-2"], [scheduler_calls.launch_group(executor, [group_task])])
    await driver.decline(["o-3", "o-4"], refuse_seconds=30)
    await driver.accept_inverse_offers(["io-1"])
    await driver.decline_inverse_offers(["io-2"], refuse_seconds=1)
    await driver.revive(["wm"])
    await driver.suppress()
    await driver.kill("t-1", "agent-1", grace_period_seconds=2.5)
    await driver.shutdown("ex-1", "agent-1")
    await driver.reconcile([("t-1", "agent-1"), ("t-2", None)])
    await driver.reconcile()
    await driver.message("agent-1", "ex-1", b"\x00hello")
    await driver.request(
        [("agent-1", [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}])]
    )
    await driver.acknowledge_operation_status(uuid.uuid4().bytes, "op-1", agent_id="agent-1")
    await driver.reconcile_operations([("op-1", "agent-1")])
    await driver.update_framework({"user": "tester", "name": "renamed", "roles": ["wm"]})
    types = [c.body["type"] for c in fake_master.calls]
    assert types == [
        "ACCEPT",
        "ACCEPT",
        "DECLINE",
        "ACCEPT_INVERSE_OFFERS",
        "DECLINE_INVERSE_OFFERS",
        "REVIVE",
        "SUPPRESS",
        "KILL",
        "SHUTDOWN",
        "RECONCILE",
        "RECONCILE",
        "MESSAGE",
        "REQUEST",
        "ACKNOWLEDGE_OPERATION_STATUS",
        "RECONCILE_OPERATIONS",
        "UPDATE_FRAMEWORK",
    ]
    stream_id = fake_master.current_stream_id
    for call in fake_master.calls:
        assert call.headers["Mesos-Stream-Id"] == stream_id
        assert call.headers["Content-Type"] == "application/json"
        assert call.body["framework_id"] == {"value": "fw-0001"}
    decline = fake_master.calls_of("DECLINE")[0]["decline"]
    assert decline == {
        "offer_ids": [{"value": "o-3"}, {"value": "o-4"}],
        "filters": {"refuse_seconds": 30.0},
    }
    kill = fake_master.calls_of("KILL")[0]["kill"]
    assert kill["kill_policy"] == {"grace_period": {"nanoseconds": 2_500_000_000}}
    message = fake_master.calls_of("MESSAGE")[0]["message"]
    assert base64.b64decode(message["data"]) == b"\x00hello"
    update = fake_master.calls_of("UPDATE_FRAMEWORK")[0]["update_framework"]
    assert update["framework_info"]["id"] == {"value": "fw-0001"}
    assert driver.framework_info["name"] == "renamed"


async def test_calls_reuse_a_keep_alive_connection_separate_from_the_stream(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = await subscribed(make_driver)
    for _ in range(5):
        await driver.revive()
    stream = fake_master.open_streams[0]
    stream_peer = stream.request.transport.get_extra_info("peername")  # type: ignore[union-attr]
    call_peers = {c.headers.get("Connection", "keep-alive") for c in fake_master.calls}
    assert call_peers == {"keep-alive"}
    assert stream_peer is not None


async def test_calls_while_disconnected_raise_not_subscribed(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    with pytest.raises(NotSubscribed, match="idle"):
        await driver.decline(["o-1"])
    fake_master.subscribe_script += [None, Reply(503), Reply(503), Reply(503), None]
    await driver.start()
    first = await fake_master.next_stream()
    await driver.wait_subscribed(5)
    first.cut()
    await recorder.next(Disconnected)
    with pytest.raises(NotSubscribed):
        await driver.kill("t-1")
    await fake_master.next_stream()
    await driver.wait_subscribed(5)
    assert fake_master.calls == []
    await driver.kill("t-1")
    assert [c.body["type"] for c in fake_master.calls] == ["KILL"]
    await driver.stop()
    with pytest.raises(NotSubscribed, match="stopped"):
        await driver.revive()


async def test_acknowledge_only_updates_that_carry_a_uuid(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = await subscribed(make_driver)
    stream = fake_master.open_streams[0]
    update_uuid = uuid.uuid4().bytes
    await stream.send(update_event("t-1", uuid_bytes=update_uuid))
    await stream.send(update_event("t-2", "TASK_LOST"))
    with_uuid = await recorder.next(Update)
    without_uuid = await recorder.next(Update)
    assert fake_master.calls == []
    assert await driver.acknowledge(with_uuid) is True
    assert await driver.acknowledge(without_uuid) is False
    assert await driver.acknowledge(without_uuid.status) is False
    (ack,) = fake_master.calls_of("ACKNOWLEDGE")
    assert ack["acknowledge"] == {
        "agent_id": {"value": "agent-1"},
        "task_id": {"value": "t-1"},
        "uuid": base64.b64encode(update_uuid).decode(),
    }
    with pytest.raises(LocalProtocolError, match="agent_id"):
        await driver.acknowledge({"uuid": base64.b64encode(update_uuid).decode()})


async def test_auto_acknowledge_happens_after_the_handler_returns(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    seen_calls_in_handler: list[int] = []

    def record_calls(event: object) -> None:
        if isinstance(event, Update):
            seen_calls_in_handler.append(len(fake_master.calls))

    recorder.on_event = record_calls
    driver = await subscribed(make_driver, auto_acknowledge=True)
    stream = fake_master.open_streams[0]
    await stream.send(update_event("t-1", uuid_bytes=uuid.uuid4().bytes))
    await stream.send(update_event("t-2", "TASK_LOST"))
    await stream.send(update_event("t-3", "TASK_FINISHED", uuid_bytes=uuid.uuid4().bytes))
    await recorder.next(Update)
    await recorder.next(Update)
    await recorder.next(Update)
    await asyncio.sleep(0.05)
    acks = [c["acknowledge"]["task_id"]["value"] for c in fake_master.calls_of("ACKNOWLEDGE")]
    assert acks == ["t-1", "t-3"]
    assert seen_calls_in_handler == [0, 1, 1]
    assert driver.state is SessionState.SUBSCRIBED


async def test_call_rejections_carry_the_masters_message(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = await subscribed(make_driver)
    fake_master.call_script += [
        Reply(403, "Framework is not subscribed"),
        Reply(400, "Failed to validate scheduler::Call: Expecting 'accept' to be present"),
    ]
    with pytest.raises(MasterRejected) as forbidden:
        await driver.revive()
    assert (forbidden.value.status, forbidden.value.message) == (
        403,
        "Framework is not subscribed",
    )
    with pytest.raises(MasterRejected, match="Expecting 'accept' to be present") as bad:
        await driver.decline(["o-1"])
    assert bad.value.status == 400


async def test_calls_answered_503_are_retried_then_raise_not_leader(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = await subscribed(make_driver, call_retries=2)
    fake_master.call_script += [Reply(503), Reply(503)]
    await driver.revive()
    assert len(fake_master.calls_of("REVIVE")) == 3
    fake_master.call_script += [Reply(503)] * 3
    with pytest.raises(NotLeader, match="503"):
        await driver.suppress()
    assert len(fake_master.calls_of("SUPPRESS")) == 3


async def test_suppressed_roles_survive_resubscription(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = await subscribed(make_driver)
    await driver.suppress(["wm"])
    fake_master.open_streams[0].cut()
    await recorder.next(Disconnected)
    await fake_master.next_stream()
    await fake_master.next_stream()
    await driver.wait_subscribed(5)
    assert fake_master.subscribes[-1].body["subscribe"]["suppressed_roles"] == ["wm"]
    await driver.revive()
    assert driver._session.suppressed_roles == frozenset()


async def test_stop_with_teardown_sends_teardown_and_stops(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = await subscribed(make_driver)
    await driver.stop(teardown=True)
    assert [c.body for c in fake_master.calls] == [
        {"type": "TEARDOWN", "framework_id": {"value": "fw-0001"}}
    ]
    assert driver.state is SessionState.STOPPED
    await asyncio.wait_for(driver.join(), 5)


async def test_events_are_delivered_in_order_with_backpressure(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    release = asyncio.Event()
    in_handler: list[str] = []

    async def slow(event: object) -> None:
        if isinstance(event, Offers):
            in_handler.append(event.offers[0].id.value)
            await release.wait()

    recorder.on_event = slow
    await subscribed(make_driver)
    stream = fake_master.open_streams[0]
    for n in range(3):
        await stream.send(offers_event(f"o-{n}"))
    await asyncio.sleep(0.1)
    assert in_handler == ["o-0"]
    release.set()
    await asyncio.sleep(0.1)
    assert in_handler == ["o-0", "o-1", "o-2"]
    assert isinstance(recorder.events[0], Subscribed)


async def test_the_fake_master_judges_calls_with_the_mesos_protos(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    if fake_master.validator is None:
        missing_service("the conformance oracle (Debian's mesos-go protos) is not available here")
    driver = await subscribed(make_driver)
    with pytest.raises(MasterRejected, match="offerIds"):
        await driver.call(
            lambda fid: {
                "type": "DECLINE",
                "framework_id": {"value": fid},
                "decline": {"offerIds": []},
            }
        )
    assert len(fake_master.violations) == 1
    fake_master.violations.clear()
