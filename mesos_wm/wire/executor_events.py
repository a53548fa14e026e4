"""Executor events (``/api/v1/executor`` stream from the agent) parsed into frozen
dataclasses; Mesos message bodies stay as :class:`addict.Dict`.

Shapes follow ``include/mesos/v1/executor/executor.proto``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from addict import Dict

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.wire._parse import Body, load_event

__all__ = [
    "Acknowledged",
    "Error",
    "ExecutorEvent",
    "Heartbeat",
    "Kill",
    "Launch",
    "LaunchGroup",
    "Message",
    "Shutdown",
    "Subscribed",
    "parse_event",
]

_NANOS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class Subscribed:
    """The agent accepted our subscription."""

    executor_info: Dict
    framework_info: Dict
    agent_info: Dict
    container_id: str | None


@dataclass(frozen=True)
class Launch:
    """Run one task (``TaskInfo``)."""

    task: Dict


@dataclass(frozen=True)
class LaunchGroup:
    """Run a group of tasks atomically (``TaskGroupInfo``, tasks under ``tasks``)."""

    task_group: Dict


@dataclass(frozen=True)
class Kill:
    """Kill a task, within the kill policy's grace period when one is given."""

    task_id: str
    kill_policy: Dict | None

    @property
    def grace_period_seconds(self) -> float | None:
        """The grace period from the kill policy, in seconds, or None."""
        if self.kill_policy is None:
            return None
        nanos = self.kill_policy.get("grace_period", {}).get("nanoseconds")
        return None if nanos is None else int(nanos) / _NANOS_PER_SECOND


@dataclass(frozen=True)
class Acknowledged:
    """The agent stored our update with ``uuid`` (not the scheduler's acknowledgement)."""

    task_id: str
    uuid: bytes


@dataclass(frozen=True)
class Message:
    """Bytes the scheduler sent us (unreliable)."""

    data: bytes


@dataclass(frozen=True)
class Shutdown:
    """Kill every task and exit within the shutdown grace period."""


@dataclass(frozen=True)
class Error:
    """The agent reports an error for this executor."""

    message: str


@dataclass(frozen=True)
class Heartbeat:
    """The agent is alive (Mesos 1.9+)."""


ExecutorEvent = (
    Subscribed
    | Launch
    | LaunchGroup
    | Kill
    | Acknowledged
    | Message
    | Shutdown
    | Error
    | Heartbeat
)


def _required(body: Body, field: str) -> Dict:
    value = body.message(field)
    assert value is not None
    return value


def _subscribed(event: Dict) -> Subscribed:
    body = Body("SUBSCRIBED", event)
    return Subscribed(
        _required(body, "executor_info"),
        _required(body, "framework_info"),
        _required(body, "agent_info"),
        body.id("container_id", required=False),
    )


def _launch(event: Dict) -> Launch:
    task = _required(Body("LAUNCH", event), "task")
    if not isinstance(task.get("task_id"), dict):
        raise RemoteProtocolError("LAUNCH event field launch.task.task_id is missing")
    return Launch(task)


def _launch_group(event: Dict) -> LaunchGroup:
    return LaunchGroup(_required(Body("LAUNCH_GROUP", event), "task_group"))


def _kill(event: Dict) -> Kill:
    body = Body("KILL", event)
    task_id = body.id("task_id")
    assert task_id is not None
    return Kill(task_id, body.message("kill_policy", required=False))


def _acknowledged(event: Dict) -> Acknowledged:
    body = Body("ACKNOWLEDGED", event)
    task_id = body.id("task_id")
    assert task_id is not None
    return Acknowledged(task_id, body.uuid("uuid"))


def _message(event: Dict) -> Message:
    return Message(Body("MESSAGE", event).data_bytes("data"))


def _error(event: Dict) -> Error:
    return Error(Body("ERROR", event).string("message"))


_PARSERS: dict[str, Callable[[Dict], ExecutorEvent]] = {
    "SUBSCRIBED": _subscribed,
    "LAUNCH": _launch,
    "LAUNCH_GROUP": _launch_group,
    "KILL": _kill,
    "ACKNOWLEDGED": _acknowledged,
    "MESSAGE": _message,
    "SHUTDOWN": lambda event: Shutdown(),
    "ERROR": _error,
    "HEARTBEAT": lambda event: Heartbeat(),
}


def parse_event(record: bytes) -> ExecutorEvent:
    """Parse one RecordIO record of the executor event stream.

    Args:
        record: the JSON bytes of one event.

    Returns:
        The typed event.

    Raises:
        RemoteProtocolError: invalid JSON, an unknown ``type``, a missing body, or a
            missing/invalid required field; the message names what is wrong.
    """
    event_type, event = load_event(record, "executor")
    parser = _PARSERS.get(event_type)
    if parser is None:
        raise RemoteProtocolError(f"unknown executor event type {event_type!r}")
    return parser(event)
