"""The write-ahead intake of single submissions: a table on PostgreSQL (and in an SQLite
``:memory:`` store); an SQLite file uses its submission journal instead
(:mod:`~mesos_wm.queue.submissions`), and expands this table only when an older version
left rows in it.

Theory of operation
-------------------
``submit`` of one workflow checks and encodes it in memory, then commits ONE row to
``intake`` — workflow id (primary key), digest, first state, submission time, an ordering
stamp and the workflow's document (:mod:`~mesos_wm.queue.prepare`) — in one short
transaction.  That commit is the point of durability and atomicity, and it touches one
B-tree instead of the dozen the full rows need.  Whether the id is taken is decided by
primary-key lookups in both ``intake`` and ``workflows``.  On PostgreSQL both kinds of
submit first take a per-id advisory lock, so neither slips in between the other's check
and insert; and since a submit's insert may have waited for an expansion of the same id
to commit (its ``NOT EXISTS`` looked at the tables before), a submit confirms afterwards
that the id did not reach ``workflows`` meanwhile, and takes its row back if it did.

The intake is **expanded** — decoded into exactly the rows a direct submit writes, each
workflow as of its own submission time, and its intake rows deleted, in one transaction —
by whichever transaction of whichever process next needs the store's contents: every read
and every transition of the queue first probes the intake (one indexed lookup) and expands
it when something waits, and so does ``recover``.  A reader therefore never misses a
workflow whose submit returned, and a crash at any point leaves each workflow either in the
intake or in full (never both, never half); the next transaction expands what is left.

Several expanders: on SQLite the store's write lock serializes them.  On PostgreSQL each
locks the rows it expands (``FOR UPDATE``, in submission order); a second waits for the
first, then finds those rows gone and expands the rest.  Launch claims (``FOR UPDATE SKIP
LOCKED`` on task rows) run after their transaction's expansion and only ever see whole
workflows; the intake is locked before any task or workflow row, so the order of locks
stays the same in every transaction.

A process's own submissions: its listeners hear of their ready tasks when the intake row
commits (``announced``); when another process expanded them first, the submitter loads
their ready rows the next time it touches the store (:func:`catch_up`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mesos_wm.errors import StoreError
from mesos_wm.queue import reads
from mesos_wm.queue.db import Op, Tx
from mesos_wm.queue.ops_submit import conflict, existing, initial_state, insert, intern_shapes
from mesos_wm.queue.prepare import Prepared, decode
from mesos_wm.queue.records import SubmitResult

_INSERT = (
    "INSERT INTO intake (workflow_id, digest, state, at, seq, doc) SELECT ?, ?, ?, ?, ?, ?"
    " WHERE NOT EXISTS (SELECT 1 FROM workflows WHERE workflow_id = ?)"
    " ON CONFLICT (workflow_id) DO NOTHING"
)
_EXPANDED = "SELECT 1 FROM workflows WHERE workflow_id = ?"


def enqueue(op: Op, p: Prepared, seq: int, shape_ids: Mapping[str, int]) -> SubmitResult:
    """Commit point of ``submit``: add one workflow to the intake (or find it there).

    Args:
        op: the transaction context (its time is the submission time).
        p: the prepared workflow.
        seq: this process's next ordering stamp (orders submissions made at one time).
        shape_ids: known shape ids by digest.

    Raises:
        WorkflowConflict: the id is taken by different content (nothing written).
    """
    tx, wid = op.tx, p.workflow_id
    tx.lock_names([wid])
    intern_shapes(op, [p], shape_ids)
    ready, state = initial_state(p, op.now)
    inserted = tx.run(_INSERT, (wid, p.digest, state.value, op.now, seq, p.doc, wid)) > 0
    if inserted and not tx.serialized and tx.all(_EXPANDED, (wid,)):
        tx.run("DELETE FROM intake WHERE workflow_id = ? AND seq = ?", (wid, seq))
        inserted = False
    if not inserted:
        old = existing(op, [wid])[wid]
        if old[0] != p.digest:
            raise conflict(wid)
        return SubmitResult(wid, False, 0, old[1])
    tx.notify(wid)
    op.fx.announced[p.workflow_id] = ready
    return SubmitResult(p.workflow_id, True, ready, state)


def waiting(tx: Tx) -> bool:
    """Tell whether anything waits in the intake (one indexed probe)."""
    return bool(tx.all("SELECT 1 FROM intake LIMIT 1"))


def expand(op: Op, shape_ids: Mapping[str, int]) -> int:
    """Expand everything waiting in the intake, in submission order.

    Returns:
        How many workflows were expanded.

    Raises:
        StoreError: a row cannot be decoded (nothing is expanded).
    """
    tx = op.tx
    rows = tx.all("SELECT workflow_id, digest, at, doc FROM intake ORDER BY at, seq"
                  + tx.for_update("intake"))
    if not rows:
        return 0
    try:
        items = [(decode(dig, doc), float(at)) for _wid, dig, at, doc in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"the intake holds a damaged row: {exc!r}") from exc
    intern_shapes(op, [p for p, _ in items], shape_ids)
    insert(op, items, shape_ids)
    tx.many("DELETE FROM intake WHERE workflow_id = ?", [(r[0],) for r in rows])
    op.fx.expanded.extend(r[0] for r in rows)
    return len(rows)


def catch_up(op: Op, workflow_ids: Sequence[str]) -> None:
    """Load the ready rows and timers of this process's submissions that another process
    expanded (they count as expanded here: their tasks were announced already)."""
    ready, timed, names = reads.rows_of_workflows(op.tx, workflow_ids)
    op.fx.ready.extend(ready)
    op.fx.timers.extend(timed)
    op.fx.workflows.update(names)
    op.fx.expanded.extend(workflow_ids)
