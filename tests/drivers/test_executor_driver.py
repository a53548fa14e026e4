"""The executor driver against a loopback fake agent, and the MESOS_* environment."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mesos_wm.drivers.events import Disconnected
from mesos_wm.drivers.executor import ExecutorDriver
from mesos_wm.drivers.executor_env import ExecutorEnvironment, parse_duration
from mesos_wm.errors import (
    AuthenticationFailed,
    LocalProtocolError,
    MasterRejected,
    NotSubscribed,
    SubscriptionLost,
)
from mesos_wm.wire import executor_calls
from mesos_wm.wire.executor_events import (
    Acknowledged,
    Error,
    Heartbeat,
    Kill,
    Launch,
    LaunchGroup,
    Message,
    Shutdown,
    Subscribed,
)
from tests.drivers.conftest import Recorder
from tests.drivers.fake_agent import FakeAgent
from tests.drivers.fake_master import Reply, Validator

MakeExecutor = Callable[..., ExecutorDriver]

TOKEN = "executor-token-123"


def task_json(task_id: str) -> dict[str, Any]:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": "agent-1"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}],
        "executor": {
            "executor_id": {"value": "ex-1"},
            "type": "CUSTOM",
            "command": {"value": "run-executor"},
        },
    }


def launch(task_id: str) -> dict[str, Any]:
    return {"type": "LAUNCH", "launch": {"task": task_json(task_id)}}


def acknowledged(task_id: str, uuid_text: str) -> dict[str, Any]:
    return {
        "type": "ACKNOWLEDGED",
        "acknowledged": {"task_id": {"value": task_id}, "uuid": uuid_text},
    }


@pytest.fixture
async def fake_agent(validator: Validator | None) -> AsyncIterator[FakeAgent]:
    agent = FakeAgent(validator=validator, token=TOKEN)
    await agent.start()
    try:
        yield agent
    finally:
        await agent.close()
    assert not agent.violations, agent.violations


@pytest.fixture
async def make_executor(fake_agent: FakeAgent, recorder: Recorder) -> AsyncIterator[MakeExecutor]:
    made: list[ExecutorDriver] = []

    def make(**env: str) -> ExecutorDriver:
        environ = {
            "MESOS_FRAMEWORK_ID": "fw-1",
            "MESOS_EXECUTOR_ID": "ex-1",
            "MESOS_AGENT_ENDPOINT": fake_agent.endpoint,
            "MESOS_SLAVE_ID": "agent-1",
            "MESOS_EXECUTOR_AUTHENTICATION_TOKEN": TOKEN,
            "MESOS_CHECKPOINT": "0",
            "MESOS_SUBSCRIPTION_BACKOFF_MAX": "20ms",
            **env,
        }
        driver = ExecutorDriver(
            recorder,
            environment=ExecutorEnvironment.from_environ(environ),
            rng=random.Random(3),
            wall_clock=lambda: 1_700_000_000.0,
            subscribe_timeout=1.0,
        )
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.stop()


# -- environment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5secs", 5.0),
        ("1.5mins", 90.0),
        ("100ms", 0.1),
        ("2hrs", 7200.0),
        ("1days", 86400.0),
        ("1weeks", 604800.0),
        ("250us", 0.00025),
        ("10ns", 1e-8),
        (" 3secs ", 3.0),
        (".5secs", 0.5),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "secs", "5 seconds", "-1secs", "5sec", "1e3secs"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_environment_is_read_and_checked() -> None:
    env = ExecutorEnvironment.from_environ(
        {
            "MESOS_FRAMEWORK_ID": "fw-1",
            "MESOS_EXECUTOR_ID": "ex-1",
            "MESOS_AGENT_ENDPOINT": "10.0.0.2:5051",
            "MESOS_SLAVE_ID": "agent-7",
            "MESOS_DIRECTORY": "/var/lib/mesos/sandbox",
            "MESOS_SANDBOX": "/mnt/mesos/sandbox",
            "MESOS_CHECKPOINT": "1",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "5secs",
            "MESOS_RECOVERY_TIMEOUT": "15mins",
            "MESOS_SUBSCRIPTION_BACKOFF_MAX": "2secs",
            "MESOS_EXECUTOR_AUTHENTICATION_TOKEN": "tok",
        }
    )
    assert env.agent_url == "http://10.0.0.2:5051"
    assert (env.checkpoint, env.shutdown_grace_period, env.recovery_timeout) == (True, 5.0, 900.0)
    assert (env.subscription_backoff_max, env.authentication_token) == (2.0, "tok")
    assert (env.agent_id, env.directory, env.sandbox) == (
        "agent-7",
        "/var/lib/mesos/sandbox",
        "/mnt/mesos/sandbox",
    )
    base = {"MESOS_FRAMEWORK_ID": "f", "MESOS_EXECUTOR_ID": "e", "MESOS_AGENT_ENDPOINT": "h:1"}
    assert ExecutorEnvironment.from_environ({**base, "MESOS_CHECKPOINT": "0"}).checkpoint is False
    tls = ExecutorEnvironment.from_environ({**base, "LIBPROCESS_SSL_ENABLED": "true"})
    assert tls.agent_url == "https://h:1"


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"MESOS_FRAMEWORK_ID": ""}, "MESOS_FRAMEWORK_ID"),
        ({"MESOS_AGENT_ENDPOINT": "http://h:1"}, "host:port"),
        ({"MESOS_RECOVERY_TIMEOUT": "soon"}, "MESOS_RECOVERY_TIMEOUT"),
    ],
)
def test_environment_errors_name_the_variable(change: dict[str, str], hint: str) -> None:
    base = {"MESOS_FRAMEWORK_ID": "f", "MESOS_EXECUTOR_ID": "e", "MESOS_AGENT_ENDPOINT": "h:1"}
    with pytest.raises(ValueError, match=hint):
        ExecutorEnvironment.from_environ({**base, **change})


# -- the driver ------------------------------------------------------------------------------


async def test_subscribe_with_bearer_token_then_launch_update_acknowledge(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor()
    await driver.start()
    subscribed = await driver.wait_subscribed(5)
    assert subscribed.agent_info.id.value == "agent-1"
    (first,) = fake_agent.subscribes
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.body == {
        "type": "SUBSCRIBE",
        "executor_id": {"value": "ex-1"},
        "framework_id": {"value": "fw-1"},
        "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []},
    }
    stream = await fake_agent.next_stream()
    await stream.send(launch("t-1"))
    await recorder.next(Launch)
    assert list(driver.unacknowledged_tasks) == ["t-1"]

    uuid = await driver.send_status("t-1", "TASK_RUNNING", message="started")
    assert len(uuid) == 16
    (update,) = fake_agent.calls_of("UPDATE")
    status = update["update"]["status"]
    assert base64.b64decode(status["uuid"]) == uuid
    assert status["source"] == "SOURCE_EXECUTOR"
    assert status["state"] == "TASK_RUNNING"
    assert status["executor_id"] == {"value": "ex-1"}
    assert status["timestamp"] == 1_700_000_000.0
    assert fake_agent.calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert list(driver.unacknowledged_updates) == [uuid]

    second = await driver.send_status("t-1", "TASK_FINISHED")
    assert second != uuid
    await stream.send(acknowledged("t-1", status["uuid"]))
    await recorder.next(Acknowledged)
    assert list(driver.unacknowledged_updates) == [second]
    assert driver.unacknowledged_tasks == {}


async def test_every_executor_event_reaches_the_handler(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor()
    await driver.start()
    stream = await fake_agent.next_stream()
    group = {
        "type": "LAUNCH_GROUP",
        "launch_group": {"task_group": {"tasks": [task_json("g-1"), task_json("g-2")]}},
    }
    await stream.send(group)
    await stream.send(
        {
            "type": "KILL",
            "kill": {
                "task_id": {"value": "g-1"},
                "kill_policy": {"grace_period": {"nanoseconds": 3_000_000_000}},
            },
        }
    )
    await stream.send({"type": "MESSAGE", "message": {"data": base64.b64encode(b"hi").decode()}})
    await stream.send({"type": "HEARTBEAT"})
    await stream.send({"type": "SHUTDOWN"})
    await recorder.next(Shutdown)
    assert [type(e) for e in recorder.events] == [
        Subscribed,
        LaunchGroup,
        Kill,
        Message,
        Heartbeat,
        Shutdown,
    ]
    assert set(driver.unacknowledged_tasks) == {"g-1", "g-2"}
    kill = recorder.of(Kill)[0]
    assert (kill.task_id, kill.grace_period_seconds) == ("g-1", 3.0)
    assert recorder.of(Message)[0].data == b"hi"
    await driver.message(b"back")
    (message,) = fake_agent.calls_of("MESSAGE")
    assert base64.b64decode(message["message"]["data"]) == b"back"
    await driver.heartbeat()
    assert fake_agent.calls_of("HEARTBEAT") == [
        {"type": "HEARTBEAT", "executor_id": {"value": "ex-1"}, "framework_id": {"value": "fw-1"}}
    ]


async def test_error_event_stops_the_driver(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor(MESOS_CHECKPOINT="1")
    await driver.start()
    stream = await fake_agent.next_stream()
    await stream.send({"type": "ERROR", "error": {"message": "Executor is unknown"}})
    await recorder.next(Error)
    with pytest.raises(SubscriptionLost, match="Executor is unknown"):
        await asyncio.wait_for(driver.join(), 5)
    assert len(fake_agent.subscribes) == 1


async def test_disconnect_without_checkpointing_exits(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor()
    await driver.start()
    stream = await fake_agent.next_stream()
    stream.cut()
    await recorder.next(Disconnected)
    with pytest.raises(SubscriptionLost, match="does not checkpoint"):
        await asyncio.wait_for(driver.join(), 5)
    assert len(fake_agent.subscribes) == 1
    with pytest.raises(NotSubscribed):
        await driver.send_status("t-1", "TASK_RUNNING")


async def test_disconnect_with_checkpointing_resubscribes_with_unacknowledged_state(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor(MESOS_CHECKPOINT="1", MESOS_RECOVERY_TIMEOUT="10secs")
    await driver.start()
    stream = await fake_agent.next_stream()
    await stream.send(launch("t-1"))
    await stream.send(launch("t-2"))
    await recorder.next(Launch)
    await recorder.next(Launch)
    acked = await driver.send_status("t-1", "TASK_RUNNING")
    kept = await driver.send_status("t-2", "TASK_RUNNING")
    await stream.send(acknowledged("t-1", base64.b64encode(acked).decode()))
    await recorder.next(Acknowledged)

    stream.cut()
    await recorder.next(Disconnected)
    late = await driver.send_status("t-2", "TASK_FINISHED")
    assert len(fake_agent.calls_of("UPDATE")) == 2
    await fake_agent.next_stream()
    await recorder.next(Subscribed)
    resubscribe = fake_agent.subscribes[-1].body["subscribe"]
    assert [t["task_id"]["value"] for t in resubscribe["unacknowledged_tasks"]] == ["t-2"]
    uuids = [base64.b64decode(u["status"]["uuid"]) for u in resubscribe["unacknowledged_updates"]]
    assert uuids == [kept, late]


async def test_checkpointing_executor_gives_up_after_the_recovery_timeout(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor(MESOS_CHECKPOINT="1", MESOS_RECOVERY_TIMEOUT="300ms")
    await driver.start()
    await fake_agent.next_stream()
    await fake_agent.close()
    await recorder.next(Disconnected)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SubscriptionLost, match=r"within 0\.3s"):
        await asyncio.wait_for(driver.join(), 5)
    assert 0.25 <= loop.time() - started < 2.0


async def test_agent_restart_within_the_recovery_timeout(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor(MESOS_CHECKPOINT="1", MESOS_RECOVERY_TIMEOUT="10secs")
    await driver.start()
    await fake_agent.next_stream()
    await fake_agent.close()
    await recorder.next(Disconnected)
    await asyncio.sleep(0.1)
    await fake_agent.start(port=int(fake_agent.endpoint.rsplit(":", 1)[1]))
    await fake_agent.next_stream()
    await driver.wait_subscribed(5)
    assert len(fake_agent.subscribes) >= 2


async def test_subscribe_rejections(fake_agent: FakeAgent, make_executor: MakeExecutor) -> None:
    fake_agent.subscribe_script.append(Reply(503, "Agent has not finished recovery"))
    fake_agent.subscribe_script.append(Reply(403, "Executor is not registered"))
    driver = make_executor()
    await driver.start()
    with pytest.raises(MasterRejected, match="not registered") as raised:
        await asyncio.wait_for(driver.join(), 5)
    assert raised.value.status == 403
    assert len(fake_agent.subscribes) == 2


async def test_wrong_token_is_authentication_failed(
    fake_agent: FakeAgent, make_executor: MakeExecutor
) -> None:
    driver = make_executor(MESOS_EXECUTOR_AUTHENTICATION_TOKEN="stolen")
    await driver.start()
    with pytest.raises(AuthenticationFailed):
        await asyncio.wait_for(driver.join(), 5)


async def test_bad_updates_are_refused_before_sending(
    fake_agent: FakeAgent, make_executor: MakeExecutor
) -> None:
    driver = make_executor()
    await driver.start()
    await driver.wait_subscribed(5)
    with pytest.raises(LocalProtocolError, match="STAGING"):
        await driver.send_status("t-1", "TASK_STAGING")
    status = executor_calls.task_status(task_id="t-1", state="TASK_RUNNING")
    with pytest.raises(LocalProtocolError):
        await driver.update({**status, "uuid": base64.b64encode(b"short").decode()})
    fake_agent.call_script.append(Reply(400, "Invalid status"))
    with pytest.raises(MasterRejected, match="Invalid status"):
        await driver.update(status)
    assert fake_agent.calls_of("UPDATE") and driver.unacknowledged_updates == {}


async def test_message_needs_a_subscription(make_executor: MakeExecutor) -> None:
    driver = make_executor()
    with pytest.raises(NotSubscribed):
        await driver.message(b"x")
    with pytest.raises(NotSubscribed):
        await driver.heartbeat()


async def test_stop_from_the_handler_on_shutdown(
    fake_agent: FakeAgent, make_executor: MakeExecutor, recorder: Recorder
) -> None:
    driver = make_executor()

    async def on_event(event: object) -> None:
        if isinstance(event, Shutdown):
            await driver.send_status("t-1", "TASK_KILLED")
            await driver.stop()

    recorder.on_event = on_event
    await driver.start()
    stream = await fake_agent.next_stream()
    await stream.send({"type": "SHUTDOWN"})
    await asyncio.wait_for(driver.join(), 5)
    assert fake_agent.calls_of("UPDATE")[0]["update"]["status"]["state"] == "TASK_KILLED"
