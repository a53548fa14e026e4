"""Exact JSON of the executor call builders."""

from __future__ import annotations

import base64

import pytest

from mesos_wm.errors import LocalProtocolError
from mesos_wm.wire import executor_calls as calls
from tests.wire.samples import TASK_INFO, UUID16

IDS = {"executor_id": {"value": "e1"}, "framework_id": {"value": "F1"}}


def running(uuid: bytes | None = UUID16) -> dict[str, object]:
    return calls.task_status(task_id="t1", state="TASK_RUNNING", uuid=uuid)


def test_subscribe_first_time() -> None:
    assert calls.subscribe("F1", "e1") == {
        "type": "SUBSCRIBE",
        **IDS,
        "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []},
    }


def test_subscribe_with_unacknowledged_tasks_and_updates() -> None:
    status = running()
    call = calls.subscribe("F1", "e1", [TASK_INFO], [status, {"status": status}])
    assert call["subscribe"] == {
        "unacknowledged_tasks": [TASK_INFO],
        "unacknowledged_updates": [{"status": status}, {"status": status}],
    }


def test_update() -> None:
    status = running()
    assert calls.update("F1", "e1", status) == {
        "type": "UPDATE",
        **IDS,
        "update": {"status": status},
    }
    assert status["uuid"] == base64.b64encode(UUID16).decode()
    assert status["source"] == "SOURCE_EXECUTOR"


def test_update_needs_a_uuid() -> None:
    with pytest.raises(LocalProtocolError, match="uuid"):
        calls.update("F1", "e1", running(uuid=None))
    with pytest.raises(LocalProtocolError, match="uuid"):
        calls.update("F1", "e1", {**running(), "uuid": "AAAA"})


def test_update_refuses_staging() -> None:
    with pytest.raises(LocalProtocolError, match="STAGING"):
        calls.update("F1", "e1", calls.task_status(task_id="t", state="TASK_STAGING", uuid=UUID16))


def test_message() -> None:
    assert calls.message("F1", "e1", b"hi") == {
        "type": "MESSAGE",
        **IDS,
        "message": {"data": "aGk="},
    }


def test_heartbeat() -> None:
    assert calls.heartbeat("F1", "e1") == {"type": "HEARTBEAT", **IDS}


def test_ids_are_required() -> None:
    with pytest.raises(LocalProtocolError, match="executor_id"):
        calls.heartbeat("F1", "")
