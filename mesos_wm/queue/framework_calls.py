"""The calls the framework makes on the queue while it runs workflows on Mesos.

:class:`FrameworkCalls` is a base of :class:`~mesos_wm.queue.store.TaskQueue`: ready
tasks, launch intents, Mesos status updates, placement reasons and the scheduler's
metadata (its Mesos framework id).  Use the methods through a ``TaskQueue``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mesos_wm.errors import InvalidTransition
from mesos_wm.queue import ops_run, reads
from mesos_wm.queue.core import QueueCore
from mesos_wm.queue.db import Op, one
from mesos_wm.queue.records import (
    Claims,
    Launch,
    ReadyTask,
    StatusOutcome,
    StatusUpdate,
    TaskRef,
)

FRAMEWORK_ID = "framework_id"


class FrameworkCalls(QueueCore):
    """What the framework asks of the queue (a base of :class:`~mesos_wm.queue.store.TaskQueue`)."""

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
            mesos_task_id, state, reason, message, exit_code, agent_id, executor_id, data:
                the fields of one :class:`StatusUpdate`, described there.
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

        def run(op: Op) -> list[StatusOutcome]:
            return ops_run.apply_statuses(op, items, self._rng, rejected=rejected)

        return self._transact(run, now)

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

