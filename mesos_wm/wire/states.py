"""Mesos v1 task states, status sources and reasons (``include/mesos/v1/mesos.proto``).

The terminal set follows the C++ code (``protobuf::isTerminalState`` in
``src/common/protobuf_utils.cpp``), not the comments in ``mesos.proto``: TASK_LOST is
terminal there even though the proto calls it "can be rescheduled", and TASK_UNREACHABLE
and TASK_UNKNOWN are not.
"""

from __future__ import annotations

import enum

__all__ = [
    "TERMINAL_STATES",
    "Reason",
    "Source",
    "TaskState",
    "is_terminal",
]


class TaskState(enum.StrEnum):
    """A Mesos ``TaskState``; the value is the JSON name (``"TASK_RUNNING"``).

    Members are ``str`` instances, so they compare equal to, and serialise as, the name.
    """

    STAGING = "TASK_STAGING"
    STARTING = "TASK_STARTING"
    RUNNING = "TASK_RUNNING"
    KILLING = "TASK_KILLING"
    FINISHED = "TASK_FINISHED"
    FAILED = "TASK_FAILED"
    KILLED = "TASK_KILLED"
    ERROR = "TASK_ERROR"
    LOST = "TASK_LOST"
    DROPPED = "TASK_DROPPED"
    UNREACHABLE = "TASK_UNREACHABLE"
    GONE = "TASK_GONE"
    GONE_BY_OPERATOR = "TASK_GONE_BY_OPERATOR"
    UNKNOWN = "TASK_UNKNOWN"


TERMINAL_STATES: frozenset[TaskState] = frozenset(
    {
        TaskState.FINISHED,
        TaskState.FAILED,
        TaskState.KILLED,
        TaskState.LOST,
        TaskState.ERROR,
        TaskState.DROPPED,
        TaskState.GONE,
        TaskState.GONE_BY_OPERATOR,
    }
)


_TERMINAL_BY_NAME: dict[str, bool] = {s.value: s in TERMINAL_STATES for s in TaskState}


def is_terminal(state: str | TaskState) -> bool:
    """Tell whether a task in ``state`` will never change state again.

    Args:
        state: a :class:`TaskState` or its JSON name (``"TASK_FINISHED"``).

    Returns:
        True for the terminal states of the C++ code.

    Raises:
        ValueError: ``state`` is not a Mesos task state name.
    """
    try:
        terminal = _TERMINAL_BY_NAME.get(state)
    except TypeError:
        terminal = None
    if terminal is None:
        raise ValueError(f"{state!r} is not a valid TaskState")
    return terminal


class Source(enum.StrEnum):
    """``TaskStatus.Source``: who generated a status update."""

    MASTER = "SOURCE_MASTER"
    AGENT = "SOURCE_AGENT"
    EXECUTOR = "SOURCE_EXECUTOR"


class Reason(enum.StrEnum):
    """``TaskStatus.Reason``: why a status update was sent (the v1 names)."""

    COMMAND_EXECUTOR_FAILED = "REASON_COMMAND_EXECUTOR_FAILED"
    CONTAINER_LAUNCH_FAILED = "REASON_CONTAINER_LAUNCH_FAILED"
    CONTAINER_LIMITATION = "REASON_CONTAINER_LIMITATION"
    CONTAINER_LIMITATION_DISK = "REASON_CONTAINER_LIMITATION_DISK"
    CONTAINER_LIMITATION_MEMORY = "REASON_CONTAINER_LIMITATION_MEMORY"
    CONTAINER_PREEMPTED = "REASON_CONTAINER_PREEMPTED"
    CONTAINER_UPDATE_FAILED = "REASON_CONTAINER_UPDATE_FAILED"
    EXECUTOR_REGISTRATION_TIMEOUT = "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
    EXECUTOR_REREGISTRATION_TIMEOUT = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT"
    EXECUTOR_TERMINATED = "REASON_EXECUTOR_TERMINATED"
    EXECUTOR_UNREGISTERED = "REASON_EXECUTOR_UNREGISTERED"
    FRAMEWORK_REMOVED = "REASON_FRAMEWORK_REMOVED"
    GC_ERROR = "REASON_GC_ERROR"
    INVALID_FRAMEWORKID = "REASON_INVALID_FRAMEWORKID"
    INVALID_OFFERS = "REASON_INVALID_OFFERS"
    IO_SWITCHBOARD_EXITED = "REASON_IO_SWITCHBOARD_EXITED"
    MASTER_DISCONNECTED = "REASON_MASTER_DISCONNECTED"
    RECONCILIATION = "REASON_RECONCILIATION"
    RESOURCES_UNKNOWN = "REASON_RESOURCES_UNKNOWN"
    AGENT_DISCONNECTED = "REASON_AGENT_DISCONNECTED"
    AGENT_REMOVED = "REASON_AGENT_REMOVED"
    AGENT_RESTARTED = "REASON_AGENT_RESTARTED"
    AGENT_UNKNOWN = "REASON_AGENT_UNKNOWN"
    TASK_KILLED_DURING_LAUNCH = "REASON_TASK_KILLED_DURING_LAUNCH"
    TASK_CHECK_STATUS_UPDATED = "REASON_TASK_CHECK_STATUS_UPDATED"
    TASK_HEALTH_CHECK_STATUS_UPDATED = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
    TASK_GROUP_INVALID = "REASON_TASK_GROUP_INVALID"
    TASK_GROUP_UNAUTHORIZED = "REASON_TASK_GROUP_UNAUTHORIZED"
    TASK_INVALID = "REASON_TASK_INVALID"
    TASK_UNAUTHORIZED = "REASON_TASK_UNAUTHORIZED"
    TASK_UNKNOWN = "REASON_TASK_UNKNOWN"
