"""The scheduler driver's event stream: framing, drops, heartbeats, redirects, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from mesos_wm.drivers.events import Disconnected, Updates
from mesos_wm.drivers.scheduler import SchedulerDriver
from mesos_wm.errors import AuthenticationFailed, MasterRejected, SubscriptionLost
from mesos_wm.wire.recordio import encode
from mesos_wm.wire.scheduler_events import Error, Heartbeat, Offers, Subscribed, Update
from mesos_wm.wire.session import SessionState
from tests.drivers.conftest import Recorder
from tests.drivers.fake_master import (
    HEARTBEAT,
    FakeMaster,
    Reply,
    error_event,
    offers_event,
    update_event,
)

MakeDriver = Callable[..., SchedulerDriver]


async def test_subscribe_sends_full_framework_info_and_delivers_subscribed(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    await driver.start()
    assert await driver.wait_subscribed(5) == "fw-0001"
    subscribed = await recorder.next(Subscribed)
    assert subscribed.framework_id == "fw-0001"
    assert driver.state is SessionState.SUBSCRIBED
    (first,) = fake_master.subscribes
    assert first.body["type"] == "SUBSCRIBE"
    assert "framework_id" not in first.body
    info = first.body["subscribe"]["framework_info"]
    assert info == {"user": "tester", "name": "driver-test", "roles": ["wm"]}
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["Accept"] == "application/json"
    assert "Mesos-Stream-Id" not in first.headers


async def test_user_defaults_to_the_current_os_user(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    import getpass

    driver = make_driver(framework_info={"name": "no-user"})
    await driver.start()
    await driver.wait_subscribed(5)
    info = fake_master.subscribes[0].body["subscribe"]["framework_info"]
    assert info["user"] == getpass.getuser()


async def test_a_record_split_at_every_offset_across_http_chunks(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    record = encode(json.dumps(offers_event("o-1", "o-2")).encode())
    for offset in range(1, len(record)):
        await stream.send_raw(record[:offset], record[offset:], pause=0.0005)
    await stream.send(HEARTBEAT)
    await recorder.next(Heartbeat)
    offers = recorder.of(Offers)
    assert len(offers) == len(record) - 1
    assert {tuple(o.id.value for o in ev.offers) for ev in offers} == {("o-1", "o-2")}
    assert len(fake_master.subscribes) == 1


async def test_several_records_in_one_chunk_and_a_chunk_per_byte(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    records = [encode(json.dumps(offers_event(f"o-{n}")).encode()) for n in range(4)]
    blob = b"".join(records)
    cut = len(records[0]) + len(records[1]) + len(records[2]) + 3
    await stream.send_raw(blob[:cut], blob[cut:])
    await stream.send_raw(*(bytes([b]) for b in encode(json.dumps(HEARTBEAT).encode())))
    await recorder.next(Heartbeat)
    assert [ev.offers[0].id.value for ev in recorder.of(Offers)] == ["o-0", "o-1", "o-2", "o-3"]


async def test_updates_read_together_are_delivered_as_one_batch_in_stream_order(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver(batch_updates=True, auto_acknowledge=True)
    await driver.start()
    stream = await fake_master.next_stream()
    await recorder.next(Subscribed)
    events = [update_event("t-1", uuid_bytes=bytes(range(16))), update_event("t-2"),
              offers_event("o-1"), update_event("t-3", "TASK_FINISHED")]
    await stream.send_raw(b"".join(encode(json.dumps(e).encode()) for e in events))
    await stream.send(HEARTBEAT)
    await recorder.next(Heartbeat)
    kinds = [type(e) for e in recorder.events if not isinstance(e, Subscribed | Heartbeat)]
    assert kinds == [Updates, Offers, Updates]
    first, last = recorder.of(Updates)
    assert [u.task_id for u in first.updates] == ["t-1", "t-2"]
    assert [u.task_id for u in last.updates] == ["t-3"]
    assert not recorder.of(Update)
    acks = [c["acknowledge"]["task_id"]["value"] for c in fake_master.calls_of("ACKNOWLEDGE")]
    assert acks == ["t-1"]


async def test_updates_before_a_bad_record_are_delivered_before_the_stream_is_dropped(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver(batch_updates=True)
    await driver.start()
    stream = await fake_master.next_stream()
    await recorder.next(Subscribed)
    good = b"".join(encode(json.dumps(update_event(f"t-{n}")).encode()) for n in range(2))
    await stream.send_raw(good + encode(b'{"type": "NONSENSE"}'))
    await recorder.next(Disconnected)
    (batch,) = recorder.of(Updates)
    assert [u.task_id for u in batch.updates] == ["t-0", "t-1"]


@pytest.mark.parametrize(
    "garbage",
    [b"99999999\n", b"12x\n{}", b"0\n", b"\n", b"-5\n"],
    ids=["oversized", "non-digit", "zero", "empty", "negative"],
)
async def test_bad_length_prefix_drops_the_stream_and_resubscribes(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder, garbage: bytes
) -> None:
    driver = make_driver(max_record_size=4096)
    await driver.start()
    first = await fake_master.next_stream()
    await driver.wait_subscribed(5)
    await first.send_raw(garbage)
    lost = await recorder.next(Disconnected)
    assert "RecordIO" in lost.reason
    second = await fake_master.next_stream()
    assert second.stream_id != first.stream_id
    assert fake_master.subscribes[1].body["framework_id"] == {"value": "fw-0001"}
    await driver.wait_subscribed(5)


async def test_stream_cut_mid_record_resubscribes_with_the_same_framework_id(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    await driver.start()
    first = await fake_master.next_stream()
    record = encode(json.dumps(offers_event("o-1")).encode())
    await first.send_raw(record[:20])
    first.cut()
    lost = await recorder.next(Disconnected)
    assert "broke" in lost.reason or "closed" in lost.reason
    second = await fake_master.next_stream()
    assert fake_master.subscribes[1].body["framework_id"] == {"value": "fw-0001"}
    assert fake_master.subscribes[1].body["subscribe"]["framework_info"]["id"] == {
        "value": "fw-0001"
    }
    await second.send(offers_event("o-2"))
    offers = await recorder.next(Offers)
    assert offers.offers[0].id.value == "o-2"
    assert not recorder.of(Offers)[:-1]


async def test_clean_end_in_the_middle_of_a_record_is_reported(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    await driver.start()
    first = await fake_master.next_stream()
    await first.send_raw(b'120\n{"type"')
    await first.end()
    lost = await recorder.next(Disconnected)
    assert "middle of a record" in lost.reason
    await fake_master.next_stream()


async def test_heartbeat_timeout_resubscribes_with_the_same_framework_id(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    fake_master.heartbeat_interval = 0.05
    driver = make_driver()
    await driver.start()
    first = await fake_master.next_stream()
    loop = asyncio.get_running_loop()
    started = loop.time()
    lost = await recorder.next(Disconnected, timeout=5)
    assert 0.2 <= loop.time() - started < 2.0
    assert "5 heartbeat intervals" in lost.reason
    second = await fake_master.next_stream()
    assert second.stream_id != first.stream_id
    assert fake_master.subscribes[1].body["framework_id"] == {"value": "fw-0001"}
    assert first.closed_by_peer


async def test_heartbeats_keep_the_stream_alive(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    fake_master.heartbeat_interval = 0.05
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    for _ in range(20):
        await stream.send(HEARTBEAT)
        await asyncio.sleep(0.03)
    assert len(recorder.of(Heartbeat)) == 20
    assert not recorder.of(Disconnected)
    assert len(fake_master.subscribes) == 1


async def test_redirect_to_another_port_is_followed(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    follower = FakeMaster()
    await follower.start()
    try:
        follower.subscribe_script.append(
            Reply(307, headers={"Location": f"//127.0.0.1:{fake_master.port}/api/v1/scheduler"})
        )
        driver = make_driver(master=follower.url)
        await driver.start()
        await driver.wait_subscribed(5)
        assert driver.master_url == fake_master.url
        assert len(follower.subscribes) == 1 and len(fake_master.subscribes) == 1
        await driver.revive()
        assert fake_master.calls_of("REVIVE") and not follower.calls
    finally:
        await follower.close()


async def test_503_is_retried_with_backoff_until_a_leader_answers(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    fake_master.subscribe_script += [Reply(503, "No leader elected"), Reply(503), None]
    driver = make_driver()
    await driver.start()
    assert await driver.wait_subscribed(5) == "fw-0001"
    assert len(fake_master.subscribes) == 3


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_info' to be present",
            MasterRejected,
        ),
        (403, "Framework is not authorized to subscribe with role 'wm'", MasterRejected),
        (401, "Unauthorized", AuthenticationFailed),
    ],
)
async def test_4xx_to_subscribe_stops_the_driver_with_the_masters_message(
    fake_master: FakeMaster,
    make_driver: MakeDriver,
    status: int,
    message: str,
    error: type[MasterRejected],
) -> None:
    fake_master.subscribe_script.append(Reply(status, message))
    driver = make_driver()
    await driver.start()
    with pytest.raises(error) as raised:
        await asyncio.wait_for(driver.join(), 5)
    assert raised.value.status == status
    assert raised.value.message == message
    assert len(fake_master.subscribes) == 1
    assert driver.state is SessionState.STOPPED
    with pytest.raises(error):
        await driver.wait_subscribed(1)


async def test_error_event_aborts_the_driver(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    await stream.send(error_event("Framework has been removed"))
    error = await recorder.next(Error)
    assert error.message == "Framework has been removed"
    with pytest.raises(SubscriptionLost, match="Framework has been removed"):
        await asyncio.wait_for(driver.join(), 5)
    await asyncio.sleep(0.1)
    assert len(fake_master.subscribes) == 1


async def test_error_as_first_event_aborts_too(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    fake_master.send_subscribed = False
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    await stream.send(error_event("Framework failed over"))
    with pytest.raises(SubscriptionLost, match="failed over"):
        await asyncio.wait_for(driver.join(), 5)


async def test_an_event_before_subscribed_is_a_protocol_error_and_resubscribes(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    fake_master.send_subscribed = False
    driver = make_driver()
    await driver.start()
    first = await fake_master.next_stream()
    await first.send(HEARTBEAT)
    second = await fake_master.next_stream()
    await second.send(fake_master.subscribed_event())
    await driver.wait_subscribed(5)
    assert recorder.of(Heartbeat) == []


async def test_handler_exception_stops_the_driver_and_join_raises_it(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    def explode(event: object) -> None:
        if isinstance(event, Offers):
            raise KeyError("bug in the framework")

    recorder.on_event = explode
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    await stream.send(offers_event("o-1"))
    with pytest.raises(KeyError, match="bug in the framework"):
        await asyncio.wait_for(driver.join(), 5)
    assert driver.state is SessionState.STOPPED


async def test_stop_from_inside_the_handler(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = make_driver()

    async def stop_on_offers(event: object) -> None:
        if isinstance(event, Offers):
            await driver.stop()

    recorder.on_event = stop_on_offers
    await driver.start()
    stream = await fake_master.next_stream()
    await stream.send(offers_event("o-1"))
    await asyncio.wait_for(driver.join(), 5)
    assert driver.state is SessionState.STOPPED
    assert not fake_master.calls


async def test_give_up_after_reports_the_last_connection_error(make_driver: MakeDriver) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    driver = make_driver(master=f"127.0.0.1:{port}", give_up_after=0.2)
    await driver.start()
    from mesos_wm.errors import ConnectError

    with pytest.raises(ConnectError, match="no subscription for 0.2s"):
        await asyncio.wait_for(driver.join(), 5)


async def test_stop_while_the_handler_runs_returns_and_join_waits_for_the_handler(
    fake_master: FakeMaster, make_driver: MakeDriver, recorder: Recorder
) -> None:
    release = asyncio.Event()

    async def slow(event: object) -> None:
        if isinstance(event, Offers):
            await release.wait()

    recorder.on_event = slow
    driver = make_driver()
    await driver.start()
    stream = await fake_master.next_stream()
    await stream.send(offers_event("o-1"))
    await recorder.next(Offers)
    await asyncio.wait_for(driver.stop(), 1)
    joining = asyncio.ensure_future(driver.join())
    await asyncio.sleep(0.05)
    assert not joining.done()
    release.set()
    await asyncio.wait_for(joining, 5)
    assert driver.state is SessionState.STOPPED


async def test_a_full_framework_info_is_sent_as_built(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    from mesos_wm.wire import scheduler_calls

    info = scheduler_calls.framework_info(
        user="airavata",
        name="wm",
        roles=["wm", "gpu"],
        failover_timeout=3600,
        checkpoint=True,
        principal="wm-principal",
        capabilities=["PARTITION_AWARE", "TASK_KILLING_STATE", "GPU_RESOURCES"],
        hostname="scheduler.local",
        webui_url="http://scheduler.local:8080",
        labels={"team": "airavata"},
    )
    driver = make_driver(framework_info=info, suppressed_roles=["gpu"])
    await driver.start()
    await driver.wait_subscribed(5)
    body = fake_master.subscribes[0].body["subscribe"]
    sent = body["framework_info"]
    assert sent == info
    capabilities = {c["type"] for c in sent["capabilities"]}
    assert {"MULTI_ROLE", "PARTITION_AWARE", "TASK_KILLING_STATE", "GPU_RESOURCES"} <= capabilities
    assert "role" not in sent and sent["roles"] == ["wm", "gpu"]
    assert body["suppressed_roles"] == ["gpu"]
