"""The durable task queue: one public API, written once over small backend primitives.

:class:`TaskQueue` is what users and the framework call: this module holds opening,
submitting, the calls users make and the reads; the calls the framework makes while it
runs workflows are its base :class:`~mesos_wm.queue.framework_calls.FrameworkCalls`.
:class:`~mesos_wm.queue.core.QueueCore` holds the machinery, and the backends
(:mod:`~mesos_wm.queue.sqlite`, :mod:`~mesos_wm.queue.postgres`) implement its primitives.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Mapping, Sequence

from mesos_wm.queue import intake, ops_submit, ops_user, reads
from mesos_wm.queue.db import Op
from mesos_wm.queue.framework_calls import FRAMEWORK_ID, FrameworkCalls
from mesos_wm.queue.model import Workflow
from mesos_wm.queue.prepare import Prepared, prepare
from mesos_wm.queue.records import (
    ActiveAttempt,
    ChangeResult,
    HistoryEntry,
    SubmitResult,
    TaskRecord,
    WorkflowRecord,
)
from mesos_wm.queue.states import WorkflowState

__all__ = ["DEFAULT_URL", "FRAMEWORK_ID", "TaskQueue"]

DEFAULT_URL = "sqlite:///./mesos_wm_queue.db"


class TaskQueue(FrameworkCalls, abc.ABC):
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
