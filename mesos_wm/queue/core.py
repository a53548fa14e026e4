"""The machinery under :class:`~mesos_wm.queue.store.TaskQueue`: transactions, the
in-memory ready index and its recovery, and the primitives each backend implements.

Every state change runs in one database transaction (retried when the database reports a
transient conflict); the ready index and timers are updated only after the commit, so a
crash at any point leaves the store consistent and :meth:`QueueCore.recover` rebuilds the
index from it.  Every transaction except a single submit first probes the intake and
expands what waits there (:mod:`~mesos_wm.queue.intake`), so reads and transitions always
see whole workflows; a read that finds something waiting becomes a write transaction.
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
from collections.abc import Callable, Iterable
from typing import Any, Self, TypeVar

from mesos_wm.errors import StoreError
from mesos_wm.queue import intake, ops_run, reads
from mesos_wm.queue.db import Effects, Op, Tx, one
from mesos_wm.queue.model import TaskShape
from mesos_wm.queue.prepare import ShapeMemo
from mesos_wm.queue.ready import ReadyIndex, Timers

R = TypeVar("R")
Listener = Callable[[int], None]
_RETRIES = 6


class QueueCore(abc.ABC):
    """Transactions, the ready index, recovery and notification; see ``TaskQueue``.

    Args:
        rng: jitter source for retry backoffs; None for exact backoffs.
    """

    skip_locked: bool = False
    reads_can_write: bool = False

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
        self._announced: dict[str, int] = {}
        self._shape_memo = ShapeMemo()
        self._seq = 0
        self._closed = False

    # -- primitives the backends provide -------------------------------------------------

    @abc.abstractmethod
    def _begin(self, write: bool) -> Tx:
        """Start a transaction (a write transaction locks what it must) and return it."""

    @abc.abstractmethod
    def _outside(self) -> Tx:
        """Return a Tx for single statements outside any transaction (autocommit)."""

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

    def _intake_waiting(self, tx: Tx) -> bool:
        """Tell whether submissions may wait to be expanded (cheaply; may say yes wrongly)."""
        return intake.waiting(tx)

    def _intake_expand(self, op: Op) -> None:
        """Expand every waiting submission into the tables, in ``op``'s transaction."""
        intake.expand(op, self._shape_ids)

    def _waiting_submissions(self, op: Op) -> list[tuple[str, str, str]]:
        """Return (workflow id, digest, document) of the submissions waiting, in order,
        without expanding them."""
        return [(str(w), str(d), str(doc)) for w, d, doc in op.tx.all(
            "SELECT workflow_id, digest, doc FROM intake ORDER BY at, seq")]

    # -- transactions --------------------------------------------------------------------

    def _transact(
        self, fn: Callable[[Op], R], now: float | None, *, write: bool = True,
        drain: bool = True, notify: bool = True,
    ) -> R:
        return self._run(fn, now, write=write, drain=drain, notify=notify)[0]

    def _run(
        self, fn: Callable[[Op], R], now: float | None, *, write: bool, drain: bool,
        notify: bool,
    ) -> tuple[R, int]:
        """Run ``fn`` in one transaction, retried on transient conflicts, after expanding
        the intake (``drain``); apply its effects after the commit.

        Returns:
            ``fn``'s result and how many tasks became ready in the index.
        """
        with self._lock:
            if self._closed:
                raise StoreError("the queue is closed")
            stamp = time.time() if now is None else now
            for attempt in itertools.count():
                try:
                    tx = self._begin(write)
                    pre = None
                    if drain and self._intake_waiting(tx):
                        if not (write or self.reads_can_write):
                            self._rollback()
                            write = True
                            continue
                        pre = Op(tx, stamp, self._shape_of)
                        self._intake_expand(pre)
                    if drain and self._announced:
                        pre = pre or Op(tx, stamp, self._shape_of)
                        done = set(pre.fx.expanded)
                        intake.catch_up(pre, [w for w in self._announced if w not in done])
                    op = Op(tx, stamp, self._shape_of)
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
                news = self._apply(op.fx) if pre is None else (
                    self._apply(pre.fx) + self._apply(op.fx))
                if news and notify:
                    self._notify(news)
                return result, news
        raise AssertionError("unreachable")

    def _sync(self, *, notify: bool = True) -> int:
        """Expand the intake (and catch up with own submissions expanded elsewhere).

        Returns:
            How many tasks became ready in the index.
        """
        with self._lock:
            if not self._announced and not self._closed:
                try:
                    if not self._intake_waiting(self._outside()):
                        return 0
                except BaseException as exc:
                    if not self._is_db_error(exc):
                        raise  # a database error: the transaction below retries or maps it
            return self._run(lambda op: None, None, write=False, drain=True, notify=notify)[1]

    def _next_seq(self) -> int:
        self._seq = max(self._seq + 1, time.time_ns())
        return self._seq

    def _read(self, fn: Callable[[Tx], R], *, drain: bool = True) -> R:
        return self._transact(lambda op: fn(op.tx), None, write=False, drain=drain)

    def _shape_of(self, tx: Tx, shape_id: int) -> TaskShape:
        shape = self._index.shapes.get(shape_id)
        if shape is None:
            row = one(tx, "SELECT doc FROM shapes WHERE id = ?", (shape_id,))
            if row is None:
                raise StoreError(f"shape {shape_id} is missing from the store")
            shape = self._index.shapes[shape_id] = TaskShape.from_json(json.loads(row[0]))
        return shape

    def _apply(self, fx: Effects) -> int:
        """Apply a committed transaction's effects; returns how many tasks are news."""
        index = self._index
        if fx.announced and not (fx.ready or fx.unready or fx.timers or fx.expanded):
            self._shape_ids.update(fx.shape_digests)
            index.shapes.update(fx.shapes)
            self._announced.update(fx.announced)
            return sum(fx.announced.values())
        for key in fx.unready:
            index.remove(key)
            self._timers.discard(key)
            self._reasons.pop(key, None)
        index.shapes.update(fx.shapes)
        self._shape_ids.update(fx.shape_digests)
        index.workflows.update(fx.workflows)
        self._own_seqs.update(fx.change_seqs)
        ready = fx.ready
        missing_wf = set(ready.wfs).difference(index.workflows)
        missing_shape = set(ready.shapes).difference(index.shapes)
        if missing_wf or missing_shape:
            self._load_refs(missing_wf, missing_shape)
        added = index.add_columns(ready)
        for key, not_before in fx.timers:
            self._timers.set(key, not_before)
        heard = sum(self._announced.pop(w, 0) for w in fx.expanded) if self._announced else 0
        self._announced.update(fx.announced)
        return max(added - heard, 0) + sum(fx.announced.values())

    def _load_refs(self, wfs: Iterable[int], shapes: Iterable[int]) -> None:
        def load(tx: Tx) -> dict[int, tuple[str, str]]:
            for shape_id in shapes:
                self._shape_of(tx, shape_id)
            return reads.workflow_names(tx, list(wfs))

        self._index.workflows.update(self._read(load, drain=False))

    def _notify(self, count: int) -> None:
        for listener in list(self._listeners):
            listener(count)

    def ready_count(self) -> int:
        """Return how many tasks are ready (expanding the intake first)."""
        with self._lock:
            self._sync()
            return len(self._index)

    def next_wakeup(self) -> float | None:
        """Return when the next waiting task's ``not_before`` passes, or None."""
        with self._lock:
            self._sync()
            return self._timers.next_time()

    def promote_due(self, *, now: float | None = None) -> int:
        """Queue the tasks whose ``not_before`` has passed; returns how many."""
        stamp = time.time() if now is None else now
        with self._lock:
            self._sync()
            due = self._timers.pop_due(stamp)
            if not due:
                return 0
            try:
                return self._transact(lambda op: ops_run.promote(op, due), stamp)
            except BaseException:
                for key in due:
                    self._timers.set(key, stamp)
                raise

    # -- notification, recovery, other processes -----------------------------------------

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(n)`` after ``n`` tasks became ready in this process's index."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        """Stop calling ``callback``."""
        self._listeners.remove(callback)

    def recover(self) -> int:
        """Expand the intake, then rebuild the ready index and timers from the store.

        Returns:
            How many tasks are ready.
        """

        def load(tx: Tx) -> tuple[Any, ...]:
            shapes = tx.all("SELECT id, digest, doc FROM shapes")
            index = ReadyIndex()
            index.load_columns(reads.ready_columns(tx))
            timed = reads.timed_rows(tx)
            names = reads.workflow_names(tx, index.workflow_rows())
            seq = one(tx, "SELECT COALESCE(MAX(seq), 0) FROM changes")
            return shapes, index, timed, names, int(seq[0]) if seq else 0

        with self._lock:
            shapes, index, timed, names, seq = self._run(
                lambda op: load(op.tx), None, write=False, drain=True, notify=False)[0]
            self._announced.clear()
            self._index = index
            index.shapes = {int(i): TaskShape.from_json(json.loads(doc)) for i, _, doc in shapes}
            self._shape_ids = {d: int(i) for i, d, _ in shapes}
            index.workflows = names
            self._timers.load(timed)
            self._reasons.clear()
            self._last_seq = seq
            self._own_seqs.clear()
        ready = len(index)
        if ready:
            self._notify(ready)
        return ready

    def refresh(self) -> int:
        """Pick up workflows submitted, cancelled or retried by other processes.

        Returns:
            How many tasks became ready in this process's index.
        """
        with self._lock:
            if not self._changed_elsewhere():
                return 0
            added = self._sync(notify=False)
            rows = self._read(lambda tx: tx.all(
                "SELECT seq, wf FROM changes WHERE seq > ? ORDER BY seq", (self._last_seq,)),
                drain=False)
            if rows:
                wfs = sorted({wf for seq, wf in rows if seq not in self._own_seqs})
                self._last_seq = max(seq for seq, _ in rows)
                self._own_seqs = {s for s in self._own_seqs if s > self._last_seq}
                before = len(self._index)
                for wf in wfs:
                    self._reload_workflow(wf)
                added += max(len(self._index) - before, 0)
        if added:
            self._notify(added)
        return added

    def _reload_workflow(self, wf: int) -> None:
        def load(tx: Tx) -> tuple[Any, ...]:
            return (reads.ready_rows(tx, wf), reads.timed_rows(tx, wf),
                    reads.workflow_names(tx, [wf]))

        ready, timed, names = self._read(load, drain=False)
        index = self._index
        index.workflows.update(names)
        keep = {row[0] for row in ready}
        for key in index.keys_of_workflow(wf):
            if key not in keep:
                index.remove(key)
        shapes = {row[3] for row in ready if row[3] not in index.shapes}
        if shapes:
            self._load_refs((), shapes)
        index.add_many(ready)
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

