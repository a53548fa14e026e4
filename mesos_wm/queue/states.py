"""Task and workflow states of the queue, and the tables that say how they may change.

Theory of operation
-------------------
A **task** waits in PENDING until every task it depends on has settled (reached a terminal
state) and its ``not_before`` time has passed.  Its ``run_on`` condition is then evaluated
against how its parents settled: if the condition holds it becomes QUEUED (ready to be
placed on an offer), otherwise SKIPPED.  The framework records its intent to launch
(LAUNCHING) before it sends ACCEPT; Mesos status updates then move the task through
STAGING, STARTING and RUNNING to a terminal state.  A failed attempt with retries left goes
back to PENDING (waiting for its backoff) or straight to QUEUED.  A user retry moves a
settled task back to PENDING/QUEUED; its descendants are reset to PENDING with it.

Each launch is an **attempt** with its own Mesos task id.  Status updates are applied to
the task only when they belong to its current attempt and the table allows the move, so a
stale or duplicate update (an old attempt, TASK_RUNNING after TASK_FINISHED, TASK_STAGING
after TASK_RUNNING) never moves a task backwards: it is recorded on its attempt and
otherwise ignored.

A **workflow** is rolled up from counters over its tasks (see :func:`rollup`): CREATED until
a task is first queued, SCHEDULED until one is first launched, then EXECUTING until every
task has settled: COMPLETED if none failed, FAILED otherwise.  Cancelling moves it to
CANCELING until its running attempts have been killed, then CANCELED.  A user retry
reopens a FAILED or CANCELED workflow.

Everything that changes a state asks :data:`TASK_TRANSITIONS` or
:data:`WORKFLOW_TRANSITIONS`; nothing else encodes which moves are legal.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from mesos_wm.errors import InvalidTransition


class TaskState(enum.StrEnum):
    """The state of a task in the queue (the value is its name)."""

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    LAUNCHING = "LAUNCHING"
    STAGING = "STAGING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    ERROR = "ERROR"
    CANCELED = "CANCELED"
    SKIPPED = "SKIPPED"


class WorkflowState(enum.StrEnum):
    """The state of a workflow (Airavata's experiment states)."""

    CREATED = "CREATED"
    SCHEDULED = "SCHEDULED"
    EXECUTING = "EXECUTING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"


_T = TaskState
_ATTEMPT_ENDS = frozenset({_T.FINISHED, _T.FAILED, _T.KILLED, _T.ERROR, _T.CANCELED})
_RETRY = frozenset({_T.PENDING, _T.QUEUED})

TASK_TRANSITIONS: Mapping[TaskState, frozenset[TaskState]] = {
    _T.PENDING: frozenset({_T.QUEUED, _T.SKIPPED, _T.CANCELED}),
    _T.QUEUED: frozenset({_T.LAUNCHING, _T.CANCELED, _T.ERROR, _T.PENDING}),
    _T.LAUNCHING: frozenset({_T.STAGING, _T.STARTING, _T.RUNNING}) | _ATTEMPT_ENDS | _RETRY,
    _T.STAGING: frozenset({_T.STARTING, _T.RUNNING}) | _ATTEMPT_ENDS | _RETRY,
    _T.STARTING: frozenset({_T.RUNNING}) | _ATTEMPT_ENDS | _RETRY,
    _T.RUNNING: _ATTEMPT_ENDS | _RETRY,
    _T.FINISHED: frozenset({_T.PENDING}),
    _T.FAILED: _RETRY,
    _T.KILLED: _RETRY,
    _T.ERROR: _RETRY,
    _T.CANCELED: _RETRY,
    _T.SKIPPED: _RETRY,
}
"""Allowed moves of a task: ``TASK_TRANSITIONS[old]`` holds every legal new state.

Moves out of settled states exist only for a user retry (and FINISHED -> PENDING only for
the descendants a retry resets)."""

_W = WorkflowState
WORKFLOW_TRANSITIONS: Mapping[WorkflowState, frozenset[WorkflowState]] = {
    _W.CREATED: frozenset({_W.SCHEDULED, _W.EXECUTING, _W.FAILED, _W.CANCELING, _W.CANCELED}),
    _W.SCHEDULED: frozenset({_W.EXECUTING, _W.FAILED, _W.CANCELING, _W.CANCELED}),
    _W.EXECUTING: frozenset({_W.COMPLETED, _W.FAILED, _W.CANCELING, _W.CANCELED}),
    _W.COMPLETED: frozenset(),
    _W.FAILED: frozenset({_W.CREATED, _W.SCHEDULED, _W.EXECUTING}),
    _W.CANCELING: frozenset({_W.CANCELED}),
    _W.CANCELED: frozenset({_W.CREATED, _W.SCHEDULED, _W.EXECUTING}),
}
"""Allowed moves of a workflow; FAILED/CANCELED -> CREATED/SCHEDULED/EXECUTING is a retry."""

SETTLED: frozenset[TaskState] = frozenset(s for s in TaskState if s not in _RETRY) - {
    _T.LAUNCHING,
    _T.STAGING,
    _T.STARTING,
    _T.RUNNING,
}
"""Terminal task states: the task will not change again unless a user retries it."""

ACTIVE: frozenset[TaskState] = frozenset({_T.LAUNCHING, _T.STAGING, _T.STARTING, _T.RUNNING})
"""States in which a task has a live attempt."""

UNSUCCESSFUL: frozenset[TaskState] = frozenset({_T.FAILED, _T.KILLED, _T.ERROR, _T.CANCELED})
"""Settled states that make a workflow FAILED and count as a failure for ``run_on``."""

WORKFLOW_SETTLED: frozenset[WorkflowState] = frozenset(
    {_W.COMPLETED, _W.FAILED, _W.CANCELED}
)

MESOS_TO_TASK: Mapping[str, TaskState] = {
    "TASK_STAGING": _T.STAGING,
    "TASK_STARTING": _T.STARTING,
    "TASK_RUNNING": _T.RUNNING,
}
"""Non-terminal Mesos states that move a task; the others (KILLING, UNREACHABLE) are only
recorded on the attempt."""

ATTEMPT_RANK: Mapping[str, int] = {
    "LAUNCHING": 0,
    "TASK_STAGING": 1,
    "TASK_STARTING": 2,
    "TASK_RUNNING": 3,
    "TASK_KILLING": 3,
    "TASK_UNREACHABLE": 3,
}
"""Order of an attempt's non-terminal states; any other Mesos state ends the attempt.

An update is recorded on the attempt when its rank is at least the attempt's current one
(RUNNING and UNREACHABLE may alternate) and the attempt has not ended."""


class RunOn(enum.StrEnum):
    """When a task runs, given how its parents settled."""

    SUCCESS = "success"
    FAILURE = "failure"
    ALWAYS = "always"


class Outcome(enum.IntEnum):
    """How a settled task counts for its children's ``run_on``."""

    OK = 0  # FINISHED
    BAD = 1  # failed, or skipped because something upstream failed
    NONE = 2  # skipped because its own condition was not met (nothing failed)


def check_task_transition(old: TaskState, new: TaskState, what: str = "task") -> None:
    """Raise unless the table allows a task to move from ``old`` to ``new``.

    Args:
        old: the current state.
        new: the requested state.
        what: names the task in the error message.

    Raises:
        InvalidTransition: the move is not in :data:`TASK_TRANSITIONS`.
    """
    if new not in TASK_TRANSITIONS[old]:
        raise InvalidTransition(f"{what} cannot move from {old} to {new}")


def task_may_move(old: TaskState, new: TaskState) -> bool:
    """Tell whether :data:`TASK_TRANSITIONS` allows ``old`` -> ``new``."""
    return new in TASK_TRANSITIONS[old]


def workflow_may_move(old: WorkflowState, new: WorkflowState) -> bool:
    """Tell whether :data:`WORKFLOW_TRANSITIONS` allows ``old`` -> ``new`` (or no change)."""
    return old == new or new in WORKFLOW_TRANSITIONS[old]


def outcome_of(state: TaskState, upstream_failed: bool) -> Outcome:
    """Classify a settled task for its children's ``run_on`` evaluation.

    Args:
        state: a settled state.
        upstream_failed: for SKIPPED, whether it was skipped because something upstream
            failed.

    Returns:
        OK, BAD or NONE.
    """
    if state == _T.FINISHED:
        return Outcome.OK
    if state == _T.SKIPPED:
        return Outcome.BAD if upstream_failed else Outcome.NONE
    return Outcome.BAD


def should_run(run_on: RunOn, parents_bad: int, parents_none: int) -> bool:
    """Evaluate ``run_on`` once every parent has settled.

    Args:
        run_on: the task's condition.
        parents_bad: parents that settled as :attr:`Outcome.BAD`.
        parents_none: parents skipped without an upstream failure.

    Returns:
        True if the task runs, False if it is SKIPPED.
    """
    if run_on == RunOn.ALWAYS:
        return True
    if run_on == RunOn.FAILURE:
        return parents_bad > 0
    return parents_bad == 0 and parents_none == 0


@dataclass(frozen=True, slots=True)
class Counters:
    """Per-workflow task counters the workflow state is rolled up from."""

    total: int
    settled: int
    unsuccessful: int
    queued_ever: bool
    launched_ever: bool
    cancel_requested: bool


def counter_delta(old: TaskState | None, new: TaskState) -> tuple[int, int]:
    """How a task move changes (settled, unsuccessful) counts.

    Args:
        old: the previous state, or None for a new task.
        new: the new state.

    Returns:
        The deltas to add to the workflow's ``settled`` and ``unsuccessful`` counters.
    """
    settled = (new in SETTLED) - (old is not None and old in SETTLED)
    bad = (new in UNSUCCESSFUL) - (old is not None and old in UNSUCCESSFUL)
    return settled, bad


def rollup(counters: Counters) -> WorkflowState:
    """Compute a workflow's state from its task counters.

    Args:
        counters: the workflow's counters after a change.

    Returns:
        The state the workflow is in.
    """
    done = counters.settled >= counters.total
    if counters.cancel_requested:
        return _W.CANCELED if done else _W.CANCELING
    if done:
        return _W.FAILED if counters.unsuccessful else _W.COMPLETED
    if counters.launched_ever:
        return _W.EXECUTING
    if counters.queued_ever:
        return _W.SCHEDULED
    return _W.CREATED
