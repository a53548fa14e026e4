"""The small database interface the queue's logic is written against.

Backends implement :class:`Tx` over their driver (SQL uses ``?`` placeholders; PostgreSQL
converts them).  :class:`Op` gathers what one transaction does besides SQL: history rows,
per-workflow counter deltas and the ready-index effects to apply after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mesos_wm.errors import InvalidTransition
from mesos_wm.queue.model import TaskShape
from mesos_wm.queue.ready import ReadyColumns
from mesos_wm.queue.states import Counters, WorkflowState, rollup, workflow_may_move

CHUNK = 500


class Tx(Protocol):
    """One open transaction.

    Attributes:
        serialized: True when a write transaction excludes every other writer for its
            whole length (SQLite); False when other transactions may commit between its
            statements (PostgreSQL at READ COMMITTED).
    """

    serialized: bool

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return every row."""

    def columns(self, sql: str, params: Sequence[Any] = ()) -> list[list[Any]]:
        """Run a query and return its result column by column (empty without rows)."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement and return the number of rows changed."""

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run a statement for each parameter row."""

    def new_ids(self, counts: Mapping[str, int]) -> dict[str, list[int]]:
        """Allocate fresh row ids: ``counts`` maps ``workflows``, ``tasks`` or ``shapes`` to
        how many, in one round trip where the backend can."""

    def for_update(self, alias: str, *, skip_locked: bool = False) -> str:
        """Return the row-locking clause for ``alias`` (empty where the whole store is
        locked by the transaction)."""

    def notify(self, payload: str) -> None:
        """Tell other processes that new work may be ready (on commit)."""

    def lock_names(self, workflow_ids: Sequence[str]) -> None:
        """Serialize this transaction with others that lock any of these workflow ids
        (until commit), so a check-then-insert of a new id is atomic across the intake and
        ``workflows``; a no-op where the transaction locks the whole store."""


def one(tx: Tx, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """Return the first row of a query, or None."""
    rows = tx.all(sql, params)
    return rows[0] if rows else None


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """Split ``items`` into pieces small enough for one ``IN (...)`` list."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def marks(n: int) -> str:
    """Return ``?, ?, ...`` with ``n`` placeholders."""
    return ", ".join("?" * n)


@dataclass
class Effects:
    """Changes to the in-memory indexes, applied only after the transaction commits.

    ``announced``: ready-task counts of workflows this process put in the intake (its
    listeners hear of them at once); ``expanded``: workflow ids expanded from the intake;
    ``folded``: the journal position folded up to (see :mod:`~mesos_wm.queue.submissions`).
    """

    ready: ReadyColumns = field(default_factory=ReadyColumns)
    unready: list[int] = field(default_factory=list)
    timers: list[tuple[int, float]] = field(default_factory=list)
    shapes: dict[int, TaskShape] = field(default_factory=dict)
    shape_digests: dict[str, int] = field(default_factory=dict)
    workflows: dict[int, tuple[str, str]] = field(default_factory=dict)
    change_seqs: list[int] = field(default_factory=list)
    announced: dict[str, int] = field(default_factory=dict)
    expanded: list[str] = field(default_factory=list)
    folded: int | None = None


@dataclass
class _Delta:
    settled: int = 0
    unsuccessful: int = 0
    queued: bool = False
    launched: bool = False
    cancel: bool | None = None


class Op:
    """The context of one transaction of the queue's logic.

    Args:
        tx: the open transaction.
        now: the time of the operation.
        shape_of: returns the shape of a shape id (loading it if needed).
    """

    def __init__(self, tx: Tx, now: float, shape_of: Callable[[Tx, int], TaskShape]) -> None:
        self.tx = tx
        self.now = now
        self._shape_of = shape_of
        self.fx = Effects()
        self.history: list[tuple[Any, ...]] = []
        self.defer_history = False
        self.defer_finish = False
        self._deltas: dict[int, _Delta] = {}
        self.workflow_changes: dict[int, tuple[WorkflowState, WorkflowState]] = {}

    def shape(self, shape_id: int) -> TaskShape:
        """Return the shape with this id."""
        return self._shape_of(self.tx, shape_id)

    def log(
        self, wf: int, task: int | None, state: str, reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """Add a history row (written by :meth:`finish`)."""
        self.history.append((wf, task, self.now, state, reason, message))

    def count(
        self, wf: int, settled: int = 0, unsuccessful: int = 0, *, queued: bool = False,
        launched: bool = False,
    ) -> None:
        """Add to a workflow's counters (written by :meth:`finish`)."""
        d = self._deltas.setdefault(wf, _Delta())
        d.settled += settled
        d.unsuccessful += unsuccessful
        d.queued |= queued
        d.launched |= launched

    def set_cancel(self, wf: int, requested: bool) -> None:
        """Set or clear a workflow's cancel request (written by :meth:`finish`)."""
        self._deltas.setdefault(wf, _Delta()).cancel = requested

    def pending(self, wf: int) -> bool:
        """Tell whether counter deltas of this workflow wait for :meth:`finish`."""
        return wf in self._deltas

    def finish(self, *, force: bool = False) -> None:
        """Write the counter deltas, roll workflow states up, and write the history.

        With ``defer_finish`` set this does nothing unless ``force`` is given: the deltas
        wait for a later forced call; with ``defer_history`` set the history rows wait for
        :meth:`write_history` (both in the same transaction).
        """
        if self.defer_finish and not force:
            return
        rows = self._write_deltas()
        moved: list[tuple[str, int]] = []
        for wf in self._deltas:
            row = rows.get(wf)
            if row is None:
                continue
            old = WorkflowState(row[0])
            new = rollup(Counters(row[1], row[2], row[3], bool(row[4]), bool(row[5]),
                                  bool(row[6])))
            if new != old:
                if not workflow_may_move(old, new):
                    raise InvalidTransition(f"workflow cannot move from {old} to {new}")
                self.log(wf, None, new.value)
                self.workflow_changes[wf] = (old, new)
                moved.append((new.value, wf))
        if moved:
            self.tx.many("UPDATE workflows SET state = ? WHERE id = ?", moved)
        self._deltas.clear()
        if not self.defer_history:
            self.write_history()

    def _write_deltas(self) -> dict[int, tuple[Any, ...]]:
        """Add the counter deltas to their workflows: one statement per distinct delta
        (per chunk of workflows), returning each workflow's state and counters."""
        groups: dict[tuple[int, int, int, int, int], list[int]] = {}
        for wf, d in self._deltas.items():
            cancel = -1 if d.cancel is None else int(d.cancel)
            key = (d.settled, d.unsuccessful, int(d.queued), int(d.launched), cancel)
            groups.setdefault(key, []).append(wf)
        rows: dict[int, tuple[Any, ...]] = {}
        for (settled, unsuccessful, queued, launched, cancel), wfs in groups.items():
            for part in chunks(wfs):
                for row in self.tx.all(
                    "UPDATE workflows SET settled = settled + ?, unsuccessful = unsuccessful + ?,"
                    " queued_ever = CASE WHEN ? = 1 THEN 1 ELSE queued_ever END,"
                    " launched_ever = CASE WHEN ? = 1 THEN 1 ELSE launched_ever END,"
                    " cancel_requested = CASE WHEN ? = -1 THEN cancel_requested ELSE ? END,"
                    f" updated_at = ? WHERE id IN ({marks(len(part))})"
                    " RETURNING id, state, total, settled, unsuccessful, queued_ever,"
                    " launched_ever, cancel_requested",
                    (settled, unsuccessful, queued, launched, cancel, cancel, self.now, *part),
                ):
                    rows[row[0]] = row[1:]
        return rows

    def write_history(self) -> None:
        """Write the history rows gathered so far (one statement for all of them)."""
        if self.history:
            self.tx.many(
                "INSERT INTO history (wf, task, at, state, reason, message)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                self.history,
            )
            self.history = []

    def record_change(self, wf: int) -> None:
        """Note that other processes must refresh this workflow's ready tasks."""
        self.record_changes([wf])

    def record_changes(self, wfs: Sequence[int]) -> None:
        """Note that other processes must refresh these workflows' ready tasks."""
        for part in chunks(wfs):
            rows = self.tx.all(
                "INSERT INTO changes (wf, at) VALUES " + ", ".join(["(?, ?)"] * len(part))
                + " RETURNING seq",
                [v for wf in part for v in (wf, self.now)],
            )
            self.fx.change_seqs.extend(int(r[0]) for r in rows)
        if wfs:
            self.tx.notify(str(wfs[0]))
