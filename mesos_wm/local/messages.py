"""JSON messages the embedded master and its agents emit, with exact proto field names.

Pure builders: scheduler events (``mesos.v1.scheduler.Event``), executor events
(``mesos.v1.executor.Event``) and the ``TaskStatus``, ``Offer`` and ``Attribute`` messages
they carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

JsonDict = dict[str, Any]

_NANOS = 1_000_000_000


def id_of(value: str) -> JsonDict:
    """Return the ``{"value": ...}`` form of an id."""
    return {"value": value}


def duration(seconds: float) -> JsonDict:
    """Return a ``DurationInfo`` for ``seconds``."""
    return {"nanoseconds": round(seconds * _NANOS)}


def duration_seconds(info: Mapping[str, Any] | None, default: float) -> float:
    """Read a ``DurationInfo`` as seconds, or ``default`` when it is absent."""
    if not info or "nanoseconds" not in info:
        return default
    return int(info["nanoseconds"]) / _NANOS


def task_status(
    *,
    task_id: str,
    state: str,
    source: str,
    timestamp: float,
    agent_id: str | None = None,
    executor_id: str | None = None,
    uuid: str | None = None,
    message: str | None = None,
    reason: str | None = None,
    data: str | None = None,
    healthy: bool | None = None,
    unreachable_time: float | None = None,
) -> JsonDict:
    """Return a ``TaskStatus``; master-generated statuses pass no ``uuid``.

    Args:
        task_id: the task's id.
        state: a ``TASK_*`` name.
        source: ``SOURCE_MASTER``, ``SOURCE_AGENT`` or ``SOURCE_EXECUTOR``.
        timestamp: seconds since the epoch.
        agent_id: the agent the task is (or was) on.
        executor_id: the executor running the task.
        uuid: base64 of the 16-byte update uuid (only for updates that need an ack).
        message: human-readable detail.
        reason: a ``REASON_*`` name.
        data: base64 payload from the executor.
        healthy: health-check result, when known.
        unreachable_time: when the task became unreachable (seconds since the epoch).

    Returns:
        The TaskStatus dict.
    """
    status: JsonDict = {
        "task_id": id_of(task_id),
        "state": state,
        "source": source,
        "timestamp": timestamp,
    }
    if agent_id is not None:
        status["agent_id"] = id_of(agent_id)
    if executor_id is not None:
        status["executor_id"] = id_of(executor_id)
    if uuid is not None:
        status["uuid"] = uuid
    if message is not None:
        status["message"] = message
    if reason is not None:
        status["reason"] = reason
    if data is not None:
        status["data"] = data
    if healthy is not None:
        status["healthy"] = healthy
    if unreachable_time is not None:
        status["unreachable_time"] = {"nanoseconds": round(unreachable_time * _NANOS)}
    return status


def attributes_json(attributes: Mapping[str, str | float]) -> list[JsonDict]:
    """Return ``Attribute`` messages (TEXT for strings, SCALAR for numbers)."""
    result: list[JsonDict] = []
    for name, value in attributes.items():
        if isinstance(value, str):
            result.append({"name": name, "type": "TEXT", "text": {"value": value}})
        else:
            result.append({"name": name, "type": "SCALAR", "scalar": {"value": float(value)}})
    return result


# -- scheduler events -------------------------------------------------------------------


def subscribed(framework_id: str, heartbeat_interval: float, master_info: JsonDict) -> JsonDict:
    """Return a SUBSCRIBED event."""
    return {
        "type": "SUBSCRIBED",
        "subscribed": {
            "framework_id": id_of(framework_id),
            "heartbeat_interval_seconds": heartbeat_interval,
            "master_info": master_info,
        },
    }


def offers(offer_list: list[JsonDict]) -> JsonDict:
    """Return an OFFERS event (note the ``offers.offers`` nesting of the proto)."""
    return {"type": "OFFERS", "offers": {"offers": offer_list}}


def rescind(offer_id: str) -> JsonDict:
    """Return a RESCIND event."""
    return {"type": "RESCIND", "rescind": {"offer_id": id_of(offer_id)}}


def update(status: JsonDict) -> JsonDict:
    """Return an UPDATE event."""
    return {"type": "UPDATE", "update": {"status": status}}


def message(agent_id: str, executor_id: str, data: str) -> JsonDict:
    """Return a MESSAGE event (``data`` is base64)."""
    return {
        "type": "MESSAGE",
        "message": {"agent_id": id_of(agent_id), "executor_id": id_of(executor_id), "data": data},
    }


def failure(
    agent_id: str | None = None, executor_id: str | None = None, status: int | None = None
) -> JsonDict:
    """Return a FAILURE event (agent lost, or executor exited with ``status``)."""
    body: JsonDict = {}
    if agent_id is not None:
        body["agent_id"] = id_of(agent_id)
    if executor_id is not None:
        body["executor_id"] = id_of(executor_id)
    if status is not None:
        body["status"] = status
    return {"type": "FAILURE", "failure": body}


def error(text: str) -> JsonDict:
    """Return an ERROR event."""
    return {"type": "ERROR", "error": {"message": text}}


def heartbeat() -> JsonDict:
    """Return a HEARTBEAT event."""
    return {"type": "HEARTBEAT"}


# -- executor events --------------------------------------------------------------------


def executor_subscribed(
    executor_info: JsonDict, framework_info: JsonDict, agent_info: JsonDict, container_id: str
) -> JsonDict:
    """Return an executor SUBSCRIBED event."""
    return {
        "type": "SUBSCRIBED",
        "subscribed": {
            "executor_info": executor_info,
            "framework_info": framework_info,
            "agent_info": agent_info,
            "container_id": id_of(container_id),
        },
    }


def executor_launch(task: JsonDict) -> JsonDict:
    """Return an executor LAUNCH event."""
    return {"type": "LAUNCH", "launch": {"task": task}}


def executor_launch_group(tasks: Iterable[JsonDict]) -> JsonDict:
    """Return an executor LAUNCH_GROUP event."""
    return {"type": "LAUNCH_GROUP", "launch_group": {"task_group": {"tasks": list(tasks)}}}


def executor_kill(task_id: str, kill_policy: JsonDict | None = None) -> JsonDict:
    """Return an executor KILL event."""
    body: JsonDict = {"task_id": id_of(task_id)}
    if kill_policy:
        body["kill_policy"] = kill_policy
    return {"type": "KILL", "kill": body}


def executor_acknowledged(task_id: str, uuid: str) -> JsonDict:
    """Return an executor ACKNOWLEDGED event (the agent stored the update)."""
    return {"type": "ACKNOWLEDGED", "acknowledged": {"task_id": id_of(task_id), "uuid": uuid}}


def executor_message(data: str) -> JsonDict:
    """Return an executor MESSAGE event."""
    return {"type": "MESSAGE", "message": {"data": data}}


def executor_shutdown() -> JsonDict:
    """Return an executor SHUTDOWN event."""
    return {"type": "SHUTDOWN"}


def executor_error(text: str) -> JsonDict:
    """Return an executor ERROR event."""
    return {"type": "ERROR", "error": {"message": text}}
