"""What the queue returns: read views of workflows, tasks and attempts, and the outcomes of
the transitions the framework asks for.  All are frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mesos_wm.proto import TaskSpec
from mesos_wm.queue.model import TaskShape
from mesos_wm.queue.states import TaskState, WorkflowState

TaskRef = int | tuple[str, str]
"""A task, as its ``key`` (from :class:`ReadyTask`) or ``(workflow_id, task_id)``."""


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One launch of a task.

    Attributes:
        number: 1 for the first launch.
        mesos_task_id: the Mesos TaskID of this attempt.
        state: ``LAUNCHING`` or the last Mesos state (``TASK_RUNNING``...).
        infra: the attempt ended by an infrastructure loss (it did not use a user retry).
    """

    number: int
    mesos_task_id: str
    state: str
    agent_id: str | None
    executor_id: str | None
    launched_at: float
    updated_at: float
    finished_at: float | None
    reason: str | None
    message: str | None
    exit_code: int | None
    infra: bool

    def to_json(self) -> dict[str, Any]:
        """Return the attempt as a JSON object."""
        return {
            "number": self.number,
            "mesos_task_id": self.mesos_task_id,
            "state": self.state,
            "agent_id": self.agent_id,
            "executor_id": self.executor_id,
            "launched_at": self.launched_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "reason": self.reason,
            "message": self.message,
            "exit_code": self.exit_code,
            "infra": self.infra,
        }


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task as stored, with its attempts (oldest first)."""

    key: int
    workflow_id: str
    task_id: str
    type: str
    state: TaskState
    depends_on: tuple[str, ...]
    run_on: str
    priority: int
    shape: TaskShape
    retries_used: int
    infra_retries_used: int
    not_before: float | None
    reason: str | None
    cancel_requested: bool
    updated_at: float
    attempts: tuple[AttemptRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the task as a JSON object."""
        return {
            "id": self.task_id,
            "type": self.type,
            "state": self.state.value,
            "depends_on": list(self.depends_on),
            "run_on": self.run_on,
            "priority": self.priority,
            "resources": self.shape.resources.to_json(),
            "retries_used": self.retries_used,
            "infra_retries_used": self.infra_retries_used,
            "not_before": self.not_before,
            "reason": self.reason,
            "cancel_requested": self.cancel_requested,
            "updated_at": self.updated_at,
            "attempts": [a.to_json() for a in self.attempts],
        }


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    """A workflow as stored; ``tasks`` is empty unless asked for."""

    workflow_id: str
    name: str | None
    owner: str
    priority: int
    labels: dict[str, str]
    state: WorkflowState
    not_before: float | None
    created_at: float
    updated_at: float
    total: int
    settled: int
    unsuccessful: int
    tasks: tuple[TaskRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the workflow (and its tasks, if loaded) as a JSON object."""
        doc: dict[str, Any] = {
            "id": self.workflow_id,
            "name": self.name,
            "owner": self.owner,
            "priority": self.priority,
            "labels": dict(self.labels),
            "state": self.state.value,
            "not_before": self.not_before,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tasks_total": self.total,
            "tasks_settled": self.settled,
            "tasks_unsuccessful": self.unsuccessful,
        }
        if self.tasks:
            doc["tasks"] = [t.to_json() for t in self.tasks]
        return doc


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One timestamped state change of a workflow (``task_id`` None) or of one of its tasks."""

    at: float
    task_id: str | None
    state: str
    reason: str | None
    message: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the entry as a JSON object."""
        return {
            "at": self.at,
            "task": self.task_id,
            "state": self.state,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ReadyTask:
    """A QUEUED task, as the matcher sees it.

    Attributes:
        key: pass it back to ``mark_launching`` and ``record_reason``.
        attempt: the number its next launch will get.
        queued_at: when it became ready (for offer-wait timeouts).
    """

    key: int
    workflow_id: str
    task_id: str
    owner: str
    priority: int
    attempt: int
    shape: TaskShape
    queued_at: float


@dataclass(frozen=True, slots=True)
class Launch:
    """The recorded intent to launch one attempt: everything to build its TaskInfo."""

    key: int
    workflow_id: str
    task_id: str
    attempt: int
    mesos_task_id: str
    agent_id: str
    spec: TaskSpec
    shape: TaskShape


@dataclass(frozen=True, slots=True)
class Claims:
    """Result of ``mark_launching_many``: launches recorded, and tasks no longer QUEUED."""

    launched: tuple[Launch, ...]
    lost: tuple[TaskRef, ...]


@dataclass(frozen=True, slots=True)
class KillRequest:
    """An attempt the framework should kill (its task was cancelled)."""

    mesos_task_id: str
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """A failed attempt will be retried.

    Attributes:
        not_before: when the task becomes QUEUED again.
        infra: the failure was an infrastructure loss (user retries untouched).
        next_attempt: the attempt number of the retry.
    """

    not_before: float
    infra: bool
    next_attempt: int


@dataclass(frozen=True, slots=True)
class StatusOutcome:
    """What ``apply_status`` changed.

    Attributes:
        known: the Mesos task id belongs to an attempt in this queue.
        applied: the update changed the task (False for stale or duplicate updates).
        note: why an update was not applied, for logs.
        task_state: the task's state after the update (None when unknown).
        retry: set when the failed attempt will be retried.
        released: tasks that became QUEUED because this one settled.
        skipped: tasks SKIPPED because their ``run_on`` condition failed.
        workflow_state: the workflow's new state, if it changed.
        kill: the attempt is alive but should not be (an old attempt, or a cancelled task).
        error: set when the update itself is invalid (its ``state`` is not a Mesos task
            state); nothing was written for it.
    """

    known: bool
    applied: bool
    workflow_id: str | None = None
    task_id: str | None = None
    attempt: int | None = None
    note: str | None = None
    task_state: TaskState | None = None
    retry: RetryScheduled | None = None
    released: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    workflow_state: WorkflowState | None = None
    kill: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One Mesos status update, as ``apply_statuses`` takes it.

    Attributes:
        mesos_task_id: ``TaskStatus.task_id``.
        state: ``TaskStatus.state`` (``TASK_RUNNING``...).
        reason: ``TaskStatus.reason``.
        message: ``TaskStatus.message``.
        exit_code: the command's exit code, if known.
        agent_id: ``TaskStatus.agent_id``.
        executor_id: ``TaskStatus.executor_id``.
        data: ``TaskStatus.data`` (a serialized TaskResult), kept on the attempt.
    """

    mesos_task_id: str
    state: str
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    agent_id: str | None = None
    executor_id: str | None = None
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """Result of submitting one workflow.

    Attributes:
        created: False when the same content was already in the queue (a no-op).
        ready: tasks that became QUEUED at once.
    """

    workflow_id: str
    created: bool
    ready: int
    state: WorkflowState


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """Result of ``cancel`` or ``retry``.

    Attributes:
        changed: task ids whose state changed.
        kills: attempts to kill (cancel of running tasks).
        workflow_state: the workflow's state afterwards.
    """

    workflow_id: str
    workflow_state: WorkflowState
    changed: tuple[str, ...] = ()
    kills: tuple[KillRequest, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ActiveAttempt:
    """An attempt Mesos may still be running (for reconciliation and kills)."""

    mesos_task_id: str
    agent_id: str | None
    state: str
    workflow_id: str
    task_id: str
    attempt: int
    kill_requested: bool
