"""pymesos's MesosExecutorDriver against the loopback fake agent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mesos_wm.compat.pymesos import (
    DRIVER_ABORTED,
    DRIVER_STOPPED,
    Executor,
    MesosExecutorDriver,
    decode_data,
    encode_data,
)
from tests.compat.conftest import CallLog
from tests.drivers.fake_agent import FakeAgent
from tests.drivers.fake_master import Validator

CALLBACKS = [
    "registered",
    "reregistered",
    "disconnected",
    "launchTask",
    "launchTaskGroup",
    "killTask",
    "frameworkMessage",
    "shutdown",
    "error",
]


class RecordingExecutor(Executor):
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


def task(task_id: str) -> dict[str, Any]:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": "agent-1"},
        "executor": {
            "executor_id": {"value": "ex-1"},
            "type": "CUSTOM",
            "command": {"value": "python3 executor.py"},
        },
    }


@pytest.fixture
async def agent(validator: Validator | None) -> AsyncIterator[FakeAgent]:
    fake = FakeAgent(validator=validator)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    assert not fake.violations, fake.violations


@pytest.fixture
async def make(
    agent: FakeAgent, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., MesosExecutorDriver]]:
    made: list[MesosExecutorDriver] = []

    def build(executor: Executor, **env: str) -> MesosExecutorDriver:
        environ = {
            "MESOS_FRAMEWORK_ID": "fw-1",
            "MESOS_EXECUTOR_ID": "ex-1",
            "MESOS_AGENT_ENDPOINT": agent.endpoint,
            "MESOS_CHECKPOINT": "0",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "5secs",
            **env,
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        driver = MesosExecutorDriver(executor)
        made.append(driver)
        return driver

    yield build
    for driver in made:
        await blocking(driver.abort)
        with contextlib.suppress(Exception):
            await blocking(driver.join)


def test_the_environment_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESOS_AGENT_ENDPOINT", raising=False)
    with pytest.raises(ValueError, match="MESOS_AGENT_ENDPOINT"):
        MesosExecutorDriver(Executor())


async def test_pymesos_executor_lifecycle(
    agent: FakeAgent, make: Callable[..., MesosExecutorDriver]
) -> None:
    executor = RecordingExecutor()

    def run_task(driver: MesosExecutorDriver, task_info: dict[str, Any]) -> None:
        driver.sendStatusUpdate({"task_id": task_info["task_id"], "state": "TASK_RUNNING"})
        driver.sendFrameworkMessage(encode_data(b"started " + task_info["name"].encode()))

    def kill(driver: MesosExecutorDriver, task_id: dict[str, str]) -> None:
        driver.sendStatusUpdate({"task_id": task_id, "state": "TASK_KILLED"})

    executor.on["launchTask"] = run_task
    executor.on["killTask"] = kill
    driver = make(executor)
    assert driver.framework_id == {"value": "fw-1"} and driver.grace_shutdown_period == 5.0
    await blocking(driver.start)
    executor_info, framework_info, agent_info = await blocking(executor.log.wait_for, "registered")
    assert agent_info["hostname"] == "agent1.local" and type(agent_info) is dict
    stream = await agent.next_stream()
    await stream.send({"type": "LAUNCH", "launch": {"task": task("t-1")}})
    await stream.send(
        {"type": "LAUNCH_GROUP", "launch_group": {"task_group": {"tasks": [task("g-1")]}}}
    )
    await stream.send({"type": "KILL", "kill": {"task_id": {"value": "t-1"}}})
    await stream.send({"type": "MESSAGE", "message": {"data": encode_data(b"ping")}})
    (message,) = await blocking(executor.log.wait_for, "frameworkMessage")
    assert decode_data(message) == b"ping"
    ((tasks,),) = executor.log.args("launchTaskGroup")
    assert [t["task_id"]["value"] for t in tasks] == ["g-1"]
    assert executor.log.args("killTask") == [({"value": "t-1"},)]
    updates = [c["update"]["status"] for c in agent.calls_of("UPDATE")]
    assert [u["state"] for u in updates] == ["TASK_RUNNING", "TASK_KILLED"]
    assert all(
        u["source"] == "SOURCE_EXECUTOR" and len(decode_data(u["uuid"])) == 16 for u in updates
    )
    (sent,) = agent.calls_of("MESSAGE")
    assert decode_data(sent["message"]["data"]) == b"started t-1"

    await stream.send({"type": "SHUTDOWN"})
    assert await asyncio.wait_for(blocking(driver.join), 10) == DRIVER_STOPPED
    assert "shutdown" in executor.log.names()


async def test_lost_agent_without_checkpointing_shuts_down(
    agent: FakeAgent, make: Callable[..., MesosExecutorDriver]
) -> None:
    executor = RecordingExecutor()
    driver = make(executor)
    await blocking(driver.start)
    stream = await agent.next_stream()
    stream.cut()
    assert await asyncio.wait_for(blocking(driver.join), 10) == DRIVER_ABORTED
    assert executor.log.names()[-2:] == ["disconnected", "shutdown"]
    assert "error" not in executor.log.names()


async def test_checkpointing_executor_reregisters(
    agent: FakeAgent, make: Callable[..., MesosExecutorDriver]
) -> None:
    executor = RecordingExecutor()
    driver = make(executor, MESOS_CHECKPOINT="1", MESOS_SUBSCRIPTION_BACKOFF_MAX="10ms")
    await blocking(driver.start)
    stream = await agent.next_stream()
    stream.cut()
    await blocking(executor.log.wait_for, "disconnected")
    (agent_info,) = await blocking(executor.log.wait_for, "reregistered")
    assert agent_info["id"] == {"value": "agent-1"}
    assert await blocking(driver.stop) == DRIVER_STOPPED


async def test_error_event_goes_to_error_and_aborts(
    agent: FakeAgent, make: Callable[..., MesosExecutorDriver]
) -> None:
    executor = RecordingExecutor()
    driver = make(executor)
    await blocking(driver.start)
    stream = await agent.next_stream()
    await stream.send({"type": "ERROR", "error": {"message": "Unknown executor"}})
    assert await asyncio.wait_for(blocking(driver.join), 10) == DRIVER_ABORTED
    assert executor.log.args("error") == [("Unknown executor",)]
