"""The durable task queue: one public API, written once over small backend primitives.

:class:`TaskQueue` is what users and the framework call; :class:`~mesos_wm.queue.core.
QueueCore` holds the machinery, and the backends (:mod:`~mesos_wm.queue.sqlite`,
:mod:`~mesos_wm.queue.postgres`) implement its primitives.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Mapping, Sequence

from mesos_wm.errors import InvalidTransition
from mesos_wm.queue import intake, ops_run, ops_submit, ops_user, reads
from mesos_wm.queue.core import QueueCore
from mesos_wm.queue.db import Op, one
from mesos_wm.queue.model import Workflow
from mesos_wm.queue.prepare import Prepared, prepare
from mesos_wm.queue.records import (
    ActiveAttempt,
    ChangeResult,
    Claims,
    HistoryEntry,
    Launch,
    ReadyTask,
    StatusOutcome,
    StatusUpdate,
    SubmitResult,
    TaskRecord,
    TaskRef,
    WorkflowRecord,
)
from mesos_wm.queue.states import WorkflowState

DEFAULT_URL = "sqlite:///./mesos_wm_queue.db"
FRAMEWORK_ID = "framework_id"


class TaskQueue(QueueCore, abc.ABC):
    """The central durable queue of workflows, tasks and attempts.

    Open one with :meth:`open`; use it from one thread at a time per instance (calls are
    serialised by a lock).  Several processes may open the same store.  Every method that
    changes something takes ``now`` (default: the clock) and runs in one transaction:
    when it raises, nothing was written.

    Attributes:
        announced_limit: after this many :meth:`submit` calls without anything else, the
            next submit expands the intake first (bounding what the queue remembers about
            its own submissions).
    """

    announced_limit: int = 100_000

    # -- opening -------------------------------------------------------------------------

    @staticmethod
    def open(url: str | None = None, *, rng: random.Random | None = None) -> TaskQueue:
        """Open (creating if needed) the queue at ``url`` and rebuild its ready index.

        Args:
            url: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (query
                options ``synchronous=full|normal``, ``busy_timeout=<seconds>``) or
                ``postgresql://user:password@host:port/database``.  None means
                ``sqlite:///./mesos_wm_queue.db``.
            rng: jitter source for retry backoffs.

        Returns:
            The open queue.

        Raises:
            ValueError: the URL is malformed, or its backend's driver is not installed.
            StoreError: the database cannot be opened or has an incompatible schema.
        """
        url = url or DEFAULT_URL
        scheme = url.split(":", 1)[0].lower()
        queue: TaskQueue
        if scheme == "sqlite":
            from mesos_wm.queue.sqlite import SqliteTaskQueue

            queue = SqliteTaskQueue.from_url(url, rng=rng)
        elif scheme in ("postgresql", "postgres"):
            from mesos_wm.queue.postgres import PostgresTaskQueue

            queue = PostgresTaskQueue.from_url(url, rng=rng)
        else:
            raise ValueError(
                f"unsupported queue URL {url!r}: use sqlite:///path/to/queue.db or "
                "postgresql://user@host/database"
            )
        try:
            queue.recover()
        except BaseException:
            queue.close()
            raise
        return queue

    # -- submitting ----------------------------------------------------------------------

    def submit(self, workflow: Workflow, *, now: float | None = None) -> SubmitResult:
        """Add a workflow atomically; submitting the same content again is a no-op.

        The workflow is checked in memory and made durable in one small write: one record
        appended to the submission journal of an SQLite file
        (:mod:`~mesos_wm.queue.submissions`), one row of the intake table on PostgreSQL
        (:mod:`~mesos_wm.queue.intake`).  It is expanded into its task rows by the next
        read or transition of any process.  Listeners hear of its ready tasks at once.

        Args:
            workflow: the workflow.
            now: the submission time (default: the clock).

        Returns:
            Whether it was created and how many tasks became ready.

        Raises:
            SpecError: the workflow is invalid (every problem, located).
            DagCycleError: its dependencies form a cycle.
            WorkflowConflict: its id is taken by different content.
            StoreError: the database failed.
            Nothing is written when anything is raised.
        """
        return self._enqueue(prepare(workflow, self._shape_memo), now)

    def _enqueue(self, p: Prepared, now: float | None) -> SubmitResult:
        """Commit one prepared workflow to the intake (backends may do it their way)."""
        return self._transact(
            lambda op: intake.enqueue(op, p, self._next_seq(), self._shape_ids), now,
            drain=len(self._announced) >= self.announced_limit,
        )

    def submit_many(
        self, workflows: Sequence[Workflow], *, now: float | None = None
    ) -> list[SubmitResult]:
        """Add several workflows in one transaction: all of them, or none.

        Their rows are written in full at once (one bulk insert per table).

        Raises:
            SpecError, DagCycleError, WorkflowConflict, StoreError: as :meth:`submit`.
        """
        return self._submit_rows([prepare(w, self._shape_memo) for w in workflows], now)

    def _submit_rows(self, prepared: Sequence[Prepared], now: float | None) -> list[SubmitResult]:
        """Write the full rows of prepared workflows in one transaction."""

        def run(op: Op) -> list[SubmitResult]:
            self._before_insert(op)
            return ops_submit.submit(op, prepared, self._shape_ids)

        return self._transact(run, now)

    def _before_insert(self, op: Op) -> None:
        """Make the ids of waiting submissions visible to ``op`` until it ends (a hook)."""

    # -- what users ask for --------------------------------------------------------------

    def cancel(
        self, workflow_id: str, task_id: str | None = None, *, now: float | None = None
    ) -> ChangeResult:
        """Cancel a workflow, or one of its tasks.

        Waiting tasks become CANCELED at once; running ones are marked, and the result lists
        their attempts for the framework to kill (they become CANCELED when the kill is
        confirmed).  A workflow goes to CANCELING, then CANCELED.  Cancelling a settled
        workflow or task changes nothing.  A single cancelled task counts as a failure for
        its dependants' ``run_on``.

        Raises:
            WorkflowNotFound, TaskNotFound: no such workflow or task.
            StoreError: the database failed.
        """
        return self._transact(lambda op: ops_user.cancel(op, workflow_id, task_id), now)

    def retry(
        self, workflow_id: str, task_id: str | None = None, *, now: float | None = None
    ) -> ChangeResult:
        """Run failed tasks again: one task, or every FAILED/ERROR/KILLED/CANCELED task of the
        workflow.  Their descendants are reset to PENDING and run again when their parents
        settle; retry budgets start afresh.

        Raises:
            InvalidTransition: nothing to retry, the task has not failed, a descendant is
                still running, or the workflow is being cancelled.
            WorkflowNotFound, TaskNotFound: no such workflow or task.
            StoreError: the database failed.
        """
        return self._transact(lambda op: ops_user.retry(op, workflow_id, task_id), now)

    # -- reading -------------------------------------------------------------------------

    def get_workflow(self, workflow_id: str, *, tasks: bool = True) -> WorkflowRecord:
        """Return a workflow (with its tasks and their attempts unless ``tasks`` is False).

        Raises:
            WorkflowNotFound: no such workflow.
        """
        return self._read(lambda tx: reads.get_workflow(tx, workflow_id, tasks, self._shape_of))

    def get_task(self, workflow_id: str, task_id: str) -> TaskRecord:
        """Return one task with its attempts.

        Raises:
            TaskNotFound: no such task.
        """
        return self._read(lambda tx: reads.get_task(tx, workflow_id, task_id, self._shape_of))

    def find_attempt(self, mesos_task_id: str) -> tuple[str, str, int] | None:
        """Return (workflow id, task id, attempt number) of a Mesos task id, or None."""
        return self._read(lambda tx: reads.find_attempt(tx, mesos_task_id))

    def list_workflows(
        self,
        *,
        state: WorkflowState | str | Sequence[WorkflowState | str] | None = None,
        owner: str | None = None,
        label: Mapping[str, str] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[WorkflowRecord]:
        """Return workflows (without tasks), newest first.

        Args:
            state: one state or several.
            owner: only this owner's.
            label: only workflows carrying every one of these labels.
            since: created at or after this time.
            until: created before this time.
            limit: at most this many.

        Raises:
            ValueError: an unknown state name.
        """
        states: list[str] = []
        if state is not None:
            items = [state] if isinstance(state, str) else list(state)
            states = [WorkflowState(s).value for s in items]
        labels = sorted((label or {}).items())
        return self._read(
            lambda tx: reads.list_workflows(tx, states=states, owner=owner, labels=labels,
                                            since=since, until=until, limit=limit)
        )

    def history(self, workflow_id: str) -> list[HistoryEntry]:
        """Return the timestamped state changes of a workflow and its tasks, oldest first.

        Raises:
            WorkflowNotFound: no such workflow.
        """
        return self._read(lambda tx: reads.history(tx, workflow_id))

    def why(self, workflow_id: str, task_id: str) -> str:
        """Explain why a task is in its state (for a waiting task: what it waits for).

        Raises:
            TaskNotFound: no such task.
        """

        return self._read(lambda tx: reads.explain(tx, workflow_id, task_id, self._shape_of))

    def active_attempts(self) -> list[ActiveAttempt]:
        """Return every attempt that has not ended (to reconcile with Mesos after a restart)."""
        return self._read(reads.active_attempts)

    # -- what the framework does ---------------------------------------------------------

    def ready_tasks(self, limit: int | None = None, *, now: float | None = None) -> list[ReadyTask]:
        """Return QUEUED tasks, highest priority first and first come first served.

        Tasks whose ``not_before`` (start time or retry backoff) has passed are moved from
        PENDING to QUEUED first (a write, only when some are due).

        Args:
            limit: at most this many.
            now: the current time (default: the clock).
        """
        self.promote_due(now=now)
        with self._lock:
            return self._index.tasks(limit)

    def mark_launching(
        self, task: TaskRef, *, agent_id: str, executor_id: str | None = None,
        now: float | None = None,
    ) -> Launch:
        """Record the intent to launch a QUEUED task on an agent, before sending ACCEPT.

        Returns:
            The attempt's Mesos task id and :class:`~mesos_wm.proto.TaskSpec`.

        Raises:
            InvalidTransition: the task is not QUEUED.
            TaskNotFound: no such task.
        """
        claims = self.mark_launching_many([task], agent_id=agent_id, executor_id=executor_id,
                                          now=now)
        if not claims.launched:
            raise InvalidTransition(f"task {task!r} is not QUEUED")
        return claims.launched[0]

    def mark_launching_many(
        self, tasks: Sequence[TaskRef], *, agent_id: str, executor_id: str | None = None,
        now: float | None = None,
    ) -> Claims:
        """Record launch intents for several tasks on one agent in one transaction.

        Tasks that are no longer QUEUED (or, on PostgreSQL, are being claimed by another
        scheduler at this moment: ``FOR UPDATE SKIP LOCKED``) are returned as ``lost``.

        Raises:
            TaskNotFound: a ``(workflow_id, task_id)`` names no task.
        """

        def run(op: Op) -> Claims:
            keys = [t if isinstance(t, int) else reads.key_of(op.tx, *t) for t in tasks]
            launched, lost = ops_run.claim(op, keys, agent_id, executor_id,
                                           skip_locked=self.skip_locked)
            lost_set = set(lost)
            refs = tuple(t for t, k in zip(tasks, keys, strict=True) if k in lost_set)
            return Claims(tuple(launched), refs)

        return self._transact(run, now)

    def apply_status(
        self,
        mesos_task_id: str,
        state: str,
        *,
        reason: str | None = None,
        message: str | None = None,
        exit_code: int | None = None,
        agent_id: str | None = None,
        executor_id: str | None = None,
        data: bytes | None = None,
        now: float | None = None,
    ) -> StatusOutcome:
        """Apply a Mesos status update to its attempt and task; acknowledge it only after
        this returns (the change is committed).  A batch of one :meth:`apply_statuses`.

        Stale and duplicate updates are recorded on their attempt but never move a task
        backwards.  A terminal update settles the task (releasing dependants) or schedules
        a retry: user failures use ``retries.max`` with capped exponential backoff,
        infrastructure losses use ``retries.max_infra`` and are relaunched at once.

        Args:
            mesos_task_id: ``TaskStatus.task_id``.
            state: ``TaskStatus.state`` (``TASK_RUNNING``...).
            reason: ``TaskStatus.reason``.
            message: ``TaskStatus.message``.
            exit_code: the command's exit code, if known.
            agent_id: ``TaskStatus.agent_id``.
            executor_id: ``TaskStatus.executor_id``.
            data: ``TaskStatus.data`` (a serialized TaskResult), kept on the attempt.
            now: the time (default: the clock).

        Returns:
            What changed; ``kill`` tells the framework to kill an attempt that should not
            be alive.

        Raises:
            ValueError: ``state`` is not a Mesos task state.
            StoreError: the database failed.
        """
        update = StatusUpdate(mesos_task_id, state, reason, message, exit_code, agent_id,
                              executor_id, data)
        outcome = self.apply_statuses([update], now=now)[0]
        if outcome.error is not None:
            raise ValueError(outcome.error)
        return outcome

    def apply_statuses(
        self, updates: Sequence[StatusUpdate], *, now: float | None = None
    ) -> list[StatusOutcome]:
        """Apply many Mesos status updates in one transaction (one commit), in order.

        Each update is applied exactly as :meth:`apply_status` applies it alone (attempt
        checks, the transition table, retries and backoff, dependants released, the
        workflow rolled up), and later updates see what earlier ones changed, so the result
        equals applying them one by one.  Listeners hear of the tasks that became ready
        once, after the commit.  Acknowledge the updates only after this returns.

        Args:
            updates: the updates, in the order they arrived.
            now: the time of all of them (default: the clock).

        Returns:
            One outcome per update, in order.  An invalid update (its ``state`` is not a
            Mesos task state) does not stop the others: its outcome has ``known`` and
            ``applied`` False and says why in ``error``, and nothing is written for it.

        Raises:
            StoreError: the database failed; nothing of the batch was written.
        """
        items = list(updates)
        rejected = [ops_run.rejection(u) for u in items]
        if all(r is not None for r in rejected):
            return [r for r in rejected if r is not None]
        return self._transact(lambda op: ops_run.apply_statuses(op, items, self._rng), now)

    def give_up(self, task: TaskRef, reason: str, *, now: float | None = None) -> StatusOutcome:
        """Fail a QUEUED task that waited too long for an offer (QUEUED -> ERROR).

        Raises:
            InvalidTransition: the task is not QUEUED.
            TaskNotFound: no such task.
        """

        def run(op: Op) -> StatusOutcome:
            key = task if isinstance(task, int) else reads.key_of(op.tx, *task)
            return ops_run.give_up(op, key, reason)

        return self._transact(run, now)

    def record_reason(self, task: TaskRef, text: str, *, now: float | None = None) -> None:
        """Store why a waiting task has not been placed (shown by ``mesos-wm why``)."""
        self.record_reasons({task: text}, now=now)

    def record_reasons(self, reasons: Mapping[TaskRef, str], *, now: float | None = None) -> int:
        """Store the reasons of several waiting tasks; unchanged ones are not rewritten.

        Returns:
            How many reasons were written.
        """

        def run(op: Op) -> list[tuple[int, str]]:
            items = []
            for task, text in reasons.items():
                key = task if isinstance(task, int) else reads.key_of(op.tx, *task)
                if self._reasons.get(key) != text:
                    items.append((key, text))
            op.tx.many(
                "UPDATE tasks SET reason = ? WHERE id = ? AND state IN ('PENDING', 'QUEUED')",
                [(text, key) for key, text in items],
            )
            return items

        written = self._transact(run, now)
        with self._lock:
            self._reasons.update(written)
        return len(written)

    # -- scheduler metadata --------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return a stored scheduler metadata value (e.g. ``framework_id``), or None."""
        row = self._read(lambda tx: one(tx, "SELECT value FROM meta WHERE key = ?", (key,)),
                         drain=False)
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        """Store (or with None, delete) a scheduler metadata value durably."""

        def run(op: Op) -> None:
            if value is None:
                op.tx.run("DELETE FROM meta WHERE key = ?", (key,))
            else:
                op.tx.run(
                    "INSERT INTO meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

        self._transact(run, None, drain=False)

    def get_framework_id(self) -> str | None:
        """Return the persisted Mesos framework id, or None before the first SUBSCRIBED."""
        return self.get_meta(FRAMEWORK_ID)

    def set_framework_id(self, framework_id: str | None) -> None:
        """Persist the Mesos framework id (None forgets it, e.g. after a teardown)."""
        self.set_meta(FRAMEWORK_ID, framework_id)

