"""Builders of executor ``Call`` messages (``/api/v1/executor`` on the agent).

Every call carries ``executor_id`` and ``framework_id`` (from ``MESOS_EXECUTOR_ID`` and
``MESOS_FRAMEWORK_ID``).  Shapes follow ``include/mesos/v1/executor/executor.proto``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mesos_wm.errors import LocalProtocolError, ProtocolError
from mesos_wm.ids import decode_uuid, encode_bytes
from mesos_wm.wire._common import JsonDict, id_json
from mesos_wm.wire.messages import task_status
from mesos_wm.wire.states import TaskState

__all__ = ["heartbeat", "message", "subscribe", "task_status", "update"]


def _call(call_type: str, framework_id: str, executor_id: str, body: Any = None) -> JsonDict:
    call: JsonDict = {
        "type": call_type,
        "executor_id": id_json(executor_id, "executor_id"),
        "framework_id": id_json(framework_id, "framework_id"),
    }
    if body is not None:
        call[call_type.lower()] = body
    return call


def subscribe(
    framework_id: str,
    executor_id: str,
    unacknowledged_tasks: Iterable[Mapping[str, Any]] = (),
    unacknowledged_updates: Iterable[Mapping[str, Any]] = (),
) -> JsonDict:
    """Build SUBSCRIBE, with what the executor still holds from an earlier subscription.

    Args:
        framework_id: ``MESOS_FRAMEWORK_ID``.
        executor_id: ``MESOS_EXECUTOR_ID``.
        unacknowledged_tasks: ``TaskInfo`` dicts launched but with no acknowledged update
            yet (STAGING tasks not listed are dropped by the agent).
        unacknowledged_updates: ``TaskStatus`` dicts (or ``{"status": TaskStatus}``
            updates) not yet acknowledged; the agent replays them.

    Returns:
        The call.
    """
    updates = [
        {"status": dict(u["status"])} if "status" in u else {"status": dict(u)}
        for u in unacknowledged_updates
    ]
    body = {
        "unacknowledged_tasks": [dict(t) for t in unacknowledged_tasks],
        "unacknowledged_updates": updates,
    }
    return _call("SUBSCRIBE", framework_id, executor_id, body)


def update(framework_id: str, executor_id: str, status: Mapping[str, Any]) -> JsonDict:
    """Build UPDATE carrying a task status.

    Args:
        framework_id: ``MESOS_FRAMEWORK_ID``.
        executor_id: ``MESOS_EXECUTOR_ID``.
        status: from :func:`task_status`, with a fresh 16-byte ``uuid``.

    Returns:
        The call.

    Raises:
        LocalProtocolError: ``status`` has no valid 16-byte uuid, or is TASK_STAGING (the
            agent rejects both).
    """
    uuid_text = status.get("uuid")
    if uuid_text is None:
        raise LocalProtocolError("an executor UPDATE needs a status with a 16-byte uuid")
    try:
        decode_uuid(uuid_text)
    except ProtocolError as exc:
        raise LocalProtocolError(f"the status uuid is invalid: {exc}") from exc
    if status.get("state") == TaskState.STAGING:
        raise LocalProtocolError("executors may not send TASK_STAGING updates")
    return _call("UPDATE", framework_id, executor_id, {"status": dict(status)})


def message(framework_id: str, executor_id: str, data: bytes) -> JsonDict:
    """Build MESSAGE: unreliable bytes for the scheduler."""
    return _call("MESSAGE", framework_id, executor_id, {"data": encode_bytes(data)})


def heartbeat(framework_id: str, executor_id: str) -> JsonDict:
    """Build HEARTBEAT (Mesos 1.9+ agents; keeps idle connections alive)."""
    return _call("HEARTBEAT", framework_id, executor_id)
