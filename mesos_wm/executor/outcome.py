"""What a handler returns: the terminal state of one attempt, as data.

Handlers never signal failure by raising: a failed download, a non-zero exit code or an
expired wall time is a :class:`TaskOutcome` with state ``FAILED``, a message and (when Mesos
has one that fits) a reason.  The runner turns an outcome into the task's terminal status
update, with the :class:`~mesos_wm.proto.taskspec_pb2.TaskResult` in ``TaskStatus.data``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mesos_wm.proto.taskspec_pb2 import TaskResult
from mesos_wm.wire.states import Reason, TaskState

MAX_MESSAGE_CHARS = 2000


class Outcome(enum.StrEnum):
    """The terminal task states a handler can end in (values are Mesos ``TaskState`` names)."""

    FINISHED = "TASK_FINISHED"
    FAILED = "TASK_FAILED"
    KILLED = "TASK_KILLED"
    ERROR = "TASK_ERROR"

    @property
    def task_state(self) -> TaskState:
        """The same state as a :class:`~mesos_wm.wire.states.TaskState`."""
        return TaskState(self.value)


#: The reason reported when a task's wall time expires.  Mesos 1.9+ has
#: REASON_MAX_COMPLETION_TIME_REACHED for exactly this, but the v1 protos the project
#: validates against (and :class:`~mesos_wm.wire.states.Reason`) predate it.
WALL_TIME_REASON = Reason.CONTAINER_LIMITATION


@dataclass
class TaskOutcome:
    """The end of one attempt.

    Attributes:
        state: the terminal state to report.
        message: a short human-readable explanation (truncated to 2000 characters).
        reason: a Mesos reason (:class:`~mesos_wm.wire.states.Reason`), when one fits.
        result: the structured result sent in ``TaskStatus.data``; the runner fills the
            identifiers and timings it knows.
    """

    state: Outcome
    message: str = ""
    reason: Reason | None = None
    result: TaskResult = field(default_factory=TaskResult)

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE_CHARS:
            self.message = "…" + self.message[-(MAX_MESSAGE_CHARS - 1) :]

    @property
    def ok(self) -> bool:
        """True when the attempt finished successfully."""
        return self.state is Outcome.FINISHED


def finished(message: str = "", result: TaskResult | None = None) -> TaskOutcome:
    """Build a successful outcome."""
    return TaskOutcome(Outcome.FINISHED, message, None, result or TaskResult())


def failed(
    message: str, reason: Reason | None = None, result: TaskResult | None = None
) -> TaskOutcome:
    """Build a failed outcome (the attempt may succeed when retried)."""
    return TaskOutcome(Outcome.FAILED, message, reason, result or TaskResult())


def invalid(message: str, result: TaskResult | None = None) -> TaskOutcome:
    """Build a ``TASK_ERROR`` outcome: the spec itself is wrong, a retry cannot help."""
    return TaskOutcome(Outcome.ERROR, message, Reason.TASK_INVALID, result or TaskResult())
