"""The durable task queue: one public API, written once over small backend primitives.

Every state change runs in one database transaction; the in-memory ready index and timers
are updated only after the commit, so a crash at any point leaves the store consistent and
:meth:`TaskQueue.recover` (run by :meth:`TaskQueue.open`) rebuilds the index from it.
Backends (:mod:`~mesos_wm.queue.sqlite`, :mod:`~mesos_wm.queue.postgres`) provide
transactions, id allocation, row locks, error mapping and change notification.
"""

from __future__ import annotations

import abc
import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from mesos_wm.errors import InvalidTransition, StoreError
from mesos_wm.queue import ops_run, ops_submit, ops_user, reads
from mesos_wm.queue.db import Effects, Op, Tx, one
from mesos_wm.queue.model import TaskShape, Workflow
from mesos_wm.queue.ready import ReadyIndex, Timers, matching_order
from mesos_wm.queue.records import (
    ActiveAttempt,
    ChangeResult,
    Claims,
    HistoryEntry,
    Launch,
    ReadyTask,
    StatusOutcome,
    SubmitResult,
    TaskRecord,
    TaskRef,
    WorkflowRecord,
)
from mesos_wm.queue.states import SETTLED, TaskState, WorkflowState

R = TypeVar("R")
Listener = Callable[[int], None]
DEFAULT_URL = "sqlite:///./mesos_wm_queue.db"
FRAMEWORK_ID = "framework_id"
_RETRIES = 6


class TaskQueue(abc.ABC):
    """The central durable queue of workflows, tasks and attempts.

    Open one with :meth:`open`; use it from one thread at a time per instance (calls are
    serialised by a lock).  Several processes may open the same store.

    Args:
        rng: jitter source for retry backoffs; None for exact backoffs.
    """

    skip_locked: bool = False

    def __init__(self, *, rng: random.Random | None = None) -> None:
        self._lock = threading.RLock()
        self._rng = rng
        self._index = ReadyIndex()
        self._timers = Timers()
        self._listeners: list[Listener] = []
        self._shape_ids: dict[str, int] = {}
        self._reasons: dict[int, str] = {}
        self._last_seq = 0
        self._own_seqs: set[int] = set()
        self._closed = False

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

    # -- primitives the backends provide -------------------------------------------------

    @abc.abstractmethod
    def _begin(self, write: bool) -> Tx:
        """Start a transaction (a write transaction locks what it must) and return it."""

    @abc.abstractmethod
    def _commit(self) -> None:
        """Commit the open transaction durably."""

    @abc.abstractmethod
    def _rollback(self) -> None:
        """Roll the open transaction back; must not raise."""

    @abc.abstractmethod
    def _is_db_error(self, exc: BaseException) -> bool:
        """Tell whether ``exc`` comes from the database driver."""

    @abc.abstractmethod
    def _is_transient(self, exc: BaseException) -> bool:
        """Tell whether the transaction may succeed if run again (lock timeout, deadlock)."""

    @abc.abstractmethod
    def _changed_elsewhere(self) -> bool:
        """Cheaply tell whether another connection may have committed since the last call."""

    @abc.abstractmethod
    def _wait(self, timeout: float) -> bool:
        """Block until another process may have changed the store, or ``timeout``."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Close the connections."""

    # -- transactions --------------------------------------------------------------------

    def _transact(self, fn: Callable[[Op], R], now: float | None, *, write: bool = True) -> R:
        with self._lock:
            if self._closed:
                raise StoreError("the queue is closed")
            stamp = time.time() if now is None else now
            for attempt in itertools.count():
                try:
                    op = Op(self._begin(write), stamp, self._shape_of)
                    result = fn(op)
                    self._commit()
                except BaseException as exc:
                    self._rollback()
                    if not self._is_db_error(exc):
                        raise
                    if self._is_transient(exc) and attempt < _RETRIES:
                        time.sleep(0.005 * 2**attempt)
                        continue
                    raise StoreError(f"queue database error: {exc}") from exc
                self._apply(op.fx)
                return result
        raise AssertionError("unreachable")

    def _read(self, fn: Callable[[Tx], R]) -> R:
        return self._transact(lambda op: fn(op.tx), None, write=False)

    def _shape_of(self, tx: Tx, shape_id: int) -> TaskShape:
        shape = self._index.shapes.get(shape_id)
        if shape is None:
            row = one(tx, "SELECT doc FROM shapes WHERE id = ?", (shape_id,))
            if row is None:
                raise StoreError(f"shape {shape_id} is missing from the store")
            shape = self._index.shapes[shape_id] = TaskShape.from_json(json.loads(row[0]))
        return shape

    def _apply(self, fx: Effects) -> None:
        index = self._index
        for key in fx.unready:
            index.remove(key)
            self._timers.discard(key)
            self._reasons.pop(key, None)
        index.shapes.update(fx.shapes)
        self._shape_ids.update(fx.shape_digests)
        index.workflows.update(fx.workflows)
        self._own_seqs.update(fx.change_seqs)
        missing_wf = {row[1] for row in fx.ready if row[1] not in index.workflows}
        missing_shape = {row[3] for row in fx.ready if row[3] not in index.shapes}
        if missing_wf or missing_shape:
            self._load_refs(missing_wf, missing_shape)
        added = index.add_many(fx.ready)
        for key, not_before in fx.timers:
            self._timers.set(key, not_before)
        if added:
            self._notify(added)

    def _load_refs(self, wfs: Iterable[int], shapes: Iterable[int]) -> None:
        def load(tx: Tx) -> dict[int, tuple[str, str]]:
            for shape_id in shapes:
                self._shape_of(tx, shape_id)
            return reads.workflow_names(tx, list(wfs))

        self._index.workflows.update(self._read(load))

    def _notify(self, count: int) -> None:
        for listener in list(self._listeners):
            listener(count)

    # -- submitting ----------------------------------------------------------------------

    def submit(self, workflow: Workflow, *, now: float | None = None) -> SubmitResult:
        """Add a workflow atomically; submitting the same content again is a no-op.

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
        return self.submit_many([workflow], now=now)[0]

    def submit_many(
        self, workflows: Sequence[Workflow], *, now: float | None = None
    ) -> list[SubmitResult]:
        """Add several workflows in one transaction: all of them, or none.

        Raises:
            SpecError, DagCycleError, WorkflowConflict, StoreError: as :meth:`submit`.
        """
        digests: dict[int, str] = {}
        prepared = []
        for workflow in workflows:
            ops_submit.check(workflow)
            prepared.append(ops_submit.prepare(workflow, digests))
        return self._transact(
            lambda op: ops_submit.submit(op, prepared, self._shape_ids), now
        )

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

        def explain(tx: Tx) -> str:
            task = reads.get_task(tx, workflow_id, task_id, self._shape_of)
            state = task.state
            if state == TaskState.PENDING:
                waiting = [f"{n} ({s})" for n, s in reads.pending_info(tx, task.key)
                           if TaskState(s) not in SETTLED]
                if waiting:
                    return "PENDING: waiting for " + ", ".join(waiting)
                if task.not_before is not None:
                    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(task.not_before))
                    return f"PENDING: not before {at}" + (f" ({task.reason})" if task.reason
                                                         else "")
            if state == TaskState.QUEUED:
                return "QUEUED: " + (task.reason or "waiting for a matching offer")
            last = task.attempts[-1] if task.attempts else None
            detail = task.reason or (last.message or last.reason if last else None)
            return f"{state.value}" + (f": {detail}" if detail else "")

        return self._read(explain)

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

    def ready_count(self) -> int:
        """Return how many tasks are in the ready index."""
        return len(self._index)

    def next_wakeup(self) -> float | None:
        """Return when the next waiting task's ``not_before`` passes, or None."""
        with self._lock:
            return self._timers.next_time()

    def promote_due(self, *, now: float | None = None) -> int:
        """Queue the tasks whose ``not_before`` has passed; returns how many."""
        stamp = time.time() if now is None else now
        with self._lock:
            due = self._timers.pop_due(stamp)
            if not due:
                return 0
            try:
                return self._transact(lambda op: ops_run.promote(op, due), stamp)
            except BaseException:
                for key in due:
                    self._timers.set(key, stamp)
                raise

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
        this returns (the change is committed).

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
        return self._transact(
            lambda op: ops_run.apply_status(
                op, mesos_task_id, state, reason=reason, message=message, exit_code=exit_code,
                agent_id=agent_id, executor_id=executor_id, data=data, rng=self._rng,
            ),
            now,
        )

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
        row = self._read(lambda tx: one(tx, "SELECT value FROM meta WHERE key = ?", (key,)))
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

        self._transact(run, None)

    def get_framework_id(self) -> str | None:
        """Return the persisted Mesos framework id, or None before the first SUBSCRIBED."""
        return self.get_meta(FRAMEWORK_ID)

    def set_framework_id(self, framework_id: str | None) -> None:
        """Persist the Mesos framework id (None forgets it, e.g. after a teardown)."""
        self.set_meta(FRAMEWORK_ID, framework_id)

    # -- notification, recovery, other processes -----------------------------------------

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(n)`` after ``n`` tasks became ready in this process's index."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        """Stop calling ``callback``."""
        self._listeners.remove(callback)

    def recover(self) -> int:
        """Rebuild the ready index and timers from the store; returns the ready count."""

        def load(tx: Tx) -> tuple[Any, ...]:
            shapes = tx.all("SELECT id, digest, doc FROM shapes")
            ready = reads.ready_rows(tx)
            timed = reads.timed_rows(tx)
            wfs = {row[1] for row in ready}
            wfs.update(row[1] for row in tx.all(
                "SELECT id, wf FROM tasks t WHERE t.deps_left = 0"
                " AND t.state IN ('PENDING', 'QUEUED') AND t.state = 'PENDING'"))
            names = reads.workflow_names(tx, sorted(wfs))
            seq = one(tx, "SELECT COALESCE(MAX(seq), 0) FROM changes")
            return shapes, ready, timed, names, int(seq[0]) if seq else 0

        shapes, ready, timed, names, seq = self._read(load)
        with self._lock:
            self._index.load(ready)
            self._index.shapes = {int(i): TaskShape.from_json(json.loads(doc))
                                  for i, _, doc in shapes}
            self._shape_ids = {d: int(i) for i, d, _ in shapes}
            self._index.workflows = names
            self._timers.load(timed)
            self._reasons.clear()
            self._last_seq = seq
            self._own_seqs.clear()
        if ready:
            self._notify(len(ready))
        return len(ready)

    def refresh(self) -> int:
        """Pick up workflows submitted, cancelled or retried by other processes.

        Returns:
            How many tasks became ready in this process's index.
        """
        with self._lock:
            if not self._changed_elsewhere():
                return 0
            rows = self._read(lambda tx: tx.all(
                "SELECT seq, wf FROM changes WHERE seq > ? ORDER BY seq", (self._last_seq,)))
            if not rows:
                return 0
            wfs = sorted({wf for seq, wf in rows if seq not in self._own_seqs})
            self._last_seq = max(seq for seq, _ in rows)
            self._own_seqs = {s for s in self._own_seqs if s > self._last_seq}
            before = len(self._index)
            for wf in wfs:
                self._reload_workflow(wf)
            added = max(len(self._index) - before, 0)
        if added:
            self._notify(added)
        return added

    def _reload_workflow(self, wf: int) -> None:
        def load(tx: Tx) -> tuple[Any, ...]:
            return (reads.ready_rows(tx, wf), reads.timed_rows(tx, wf),
                    reads.workflow_names(tx, [wf]))

        ready, timed, names = self._read(load)
        index = self._index
        index.workflows.update(names)
        keep = {row[0] for row in ready}
        for key in index.keys_of_workflow(wf):
            if key not in keep:
                index.remove(key)
        shapes = {row[3] for row in ready if row[3] not in index.shapes}
        if shapes:
            self._load_refs((), shapes)
        index.add_many(sorted(ready, key=matching_order))
        for key, not_before in timed:
            self._timers.set(key, not_before)

    def wait_for_change(self, timeout: float) -> bool:
        """Block until another process may have changed the queue (PostgreSQL: LISTEN/
        NOTIFY; SQLite: polling), or ``timeout`` seconds; then call :meth:`refresh`.

        Returns:
            True if a change was seen.
        """
        return self._wait(timeout)

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database connections (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close()

    def __enter__(self) -> TaskQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

