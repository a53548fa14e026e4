"""What the pure master core asks its I/O shell to do: small frozen values.

The core (:mod:`mesos_wm.local.state`) returns a list of these from every method; the shell
(:mod:`mesos_wm.local.master`) carries them out in order.  Streams are addressed by their
``Mesos-Stream-Id`` so a framework that failed over never gets its old stream's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AcknowledgeExecutor",
    "CloseStream",
    "Effect",
    "KillTask",
    "LaunchTasks",
    "OperatorEvent",
    "SendEvent",
    "SendExecutorMessage",
    "ShutdownExecutor",
    "ShutdownFramework",
]


@dataclass(frozen=True, slots=True)
class SendEvent:
    """Write a scheduler event to one subscription stream."""

    stream_id: str
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CloseStream:
    """End one subscription stream (after its last event)."""

    stream_id: str


@dataclass(frozen=True, slots=True)
class OperatorEvent:
    """Write an event to every operator API subscriber."""

    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LaunchTasks:
    """Start tasks on a real agent.

    ``executor`` is None for command tasks (the built-in command executor runs each task);
    otherwise the tasks go to that executor (``group`` for LAUNCH_GROUP).
    """

    agent_id: str
    framework_info: dict[str, Any]
    executor: dict[str, Any] | None
    tasks: tuple[dict[str, Any], ...]
    group: bool = False


@dataclass(frozen=True, slots=True)
class KillTask:
    """Kill a task on a real agent (SIGTERM, grace period, SIGKILL; or KILL to its executor)."""

    agent_id: str
    framework_id: str
    task_id: str
    executor_id: str | None
    kill_policy: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ShutdownExecutor:
    """Shut an executor down (SHUTDOWN event, grace period, then kill)."""

    agent_id: str
    framework_id: str
    executor_id: str


@dataclass(frozen=True, slots=True)
class ShutdownFramework:
    """Kill every task and executor of a removed framework on one agent."""

    agent_id: str
    framework_id: str


@dataclass(frozen=True, slots=True)
class SendExecutorMessage:
    """Deliver a framework message to an executor (unreliable, like Mesos)."""

    agent_id: str
    framework_id: str
    executor_id: str
    data: str


@dataclass(frozen=True, slots=True)
class AcknowledgeExecutor:
    """Tell an executor its update was stored (the executor ACKNOWLEDGED event)."""

    agent_id: str
    framework_id: str
    executor_id: str
    task_id: str
    uuid: str


Effect = (
    SendEvent
    | CloseStream
    | OperatorEvent
    | LaunchTasks
    | KillTask
    | ShutdownExecutor
    | ShutdownFramework
    | SendExecutorMessage
    | AcknowledgeExecutor
)
