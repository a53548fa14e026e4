"""Parsing of executor events into typed objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from addict import Dict

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.wire import executor_events as ev
from tests.wire.samples import EXECUTOR_EVENTS, UUID16


def parse(obj: dict[str, Any]) -> ev.ExecutorEvent:
    return ev.parse_event(json.dumps(obj).encode())


def test_subscribed() -> None:
    event = parse(EXECUTOR_EVENTS["SUBSCRIBED"])
    assert isinstance(event, ev.Subscribed)
    assert isinstance(event.executor_info, Dict)
    assert event.executor_info.executor_id.value == "wm-executor"
    assert event.framework_info.id.value == "c0ffee-0000"
    assert event.agent_info.hostname == "agent-1"
    assert event.container_id == "ctr-1"


def test_launch() -> None:
    event = parse(EXECUTOR_EVENTS["LAUNCH"])
    assert isinstance(event, ev.Launch)
    assert event.task.task_id.value == "task-1"


def test_launch_group() -> None:
    event = parse(EXECUTOR_EVENTS["LAUNCH_GROUP"])
    assert isinstance(event, ev.LaunchGroup)
    assert event.task_group.tasks[0].name == "task one"


def test_kill() -> None:
    event = parse(EXECUTOR_EVENTS["KILL"])
    assert isinstance(event, ev.Kill)
    assert event.task_id == "task-1"
    assert event.grace_period_seconds == 3.0
    bare = parse({"type": "KILL", "kill": {"task_id": {"value": "t"}}})
    assert bare == ev.Kill("t", None)
    assert isinstance(bare, ev.Kill)
    assert bare.grace_period_seconds is None


def test_acknowledged() -> None:
    assert parse(EXECUTOR_EVENTS["ACKNOWLEDGED"]) == ev.Acknowledged("task-1", UUID16)


def test_message_shutdown_error_heartbeat() -> None:
    assert parse(EXECUTOR_EVENTS["MESSAGE"]) == ev.Message(b"hello")
    assert parse(EXECUTOR_EVENTS["SHUTDOWN"]) == ev.Shutdown()
    assert parse(EXECUTOR_EVENTS["ERROR"]) == ev.Error("agent is going away")
    assert parse(EXECUTOR_EVENTS["HEARTBEAT"]) == ev.Heartbeat()


def test_every_sample_parses() -> None:
    for name, sample in EXECUTOR_EVENTS.items():
        assert type(parse(sample)).__name__.upper() == name.replace("_", ""), name


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (b"nope", "not valid JSON"),
        (b'"LAUNCH"', "JSON object"),
        (b"{}", "no type"),
        (b'{"type": "OFFERS"}', "unknown executor event type 'OFFERS'"),
        (b'{"type": "LAUNCH"}', "LAUNCH event has no 'launch' body"),
        (b'{"type": "LAUNCH", "launch": {"task": {}}}', "task_id"),
        (b'{"type": "KILL", "kill": {}}', "kill.task_id is missing"),
        (
            b'{"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "t"},'
            b' "uuid": "AAAA"}}',
            "acknowledged.uuid: uuid must be exactly 16 bytes, got 3",
        ),
        (b'{"type": "MESSAGE", "message": {}}', "message.data"),
        (b'{"type": "SUBSCRIBED", "subscribed": {"executor_info": {}}}', "framework_info"),
    ],
)
def test_protocol_errors_name_the_problem(record: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        ev.parse_event(record)
