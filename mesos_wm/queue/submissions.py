"""Single submissions through the journal: the SQLite backend's intake.

Theory of operation
-------------------
``submit`` of one workflow on SQLite checks and encodes it in memory, then appends ONE
record to the store's submission journal (:mod:`~mesos_wm.queue.journal`, a directory
next to the database): the workflow's id, digest, first state, submission time and
document (:mod:`~mesos_wm.queue.prepare`), plus the documents of shapes the store may not
know yet.  The ``O_DSYNC`` write of that record is the point of durability and atomicity:
it costs one data write to an already allocated block, where an SQLite commit appends to
its WAL and syncs it.

Ids stay unique across the journal and the tables: under the journal's lock a submitter
first reads the records other processes appended since it last looked (it keeps the id,
digest and first state of every record not yet folded), then looks the id up in
``workflows``; only if the id is free does it append.  A record leaves that memory only
once the ``folded`` hint has passed it, which is written after the fold committed, so the
id is in ``workflows`` by then.  ``submit_many`` writes the tables directly and holds the
journal's lock from its fold to its commit, so no record slips in between its check and
its insert.

**Folding** — decoding the records into exactly the rows a direct submit writes, each
workflow as of its own submission time, in submission order — is done by whichever
transaction of whichever process next needs the store's contents, like the expansion of
the PostgreSQL intake table (:mod:`~mesos_wm.queue.intake`).  The position folded up to
is kept in ``meta`` (``journal_folded``) and written in the same transaction as the rows,
so a fold is atomic and never repeated; after the commit the journal's ``folded`` hint
lets its segments be recycled.  A fold reads only up to the journal's end as appenders
have noted it (records already durable), and opening the store folds whatever a crash left.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Container, Mapping

from mesos_wm.errors import StoreError
from mesos_wm.queue.db import Op, one
from mesos_wm.queue.journal import Journal, RecordTooLarge
from mesos_wm.queue.model import TaskShape, canonical
from mesos_wm.queue.ops_submit import existing, insert, intern_shapes
from mesos_wm.queue.prepare import Prepared, decode
from mesos_wm.queue.states import WorkflowState

FOLDED_KEY = "journal_folded"
_FIXED = struct.Struct("<d32sHBII")  # time, digest, lengths of id, state, document, shapes
_SHAPES_REMEMBERED = 4096

Taken = tuple[str, WorkflowState]
"""(digest, state) of a workflow id already in the queue."""


def encode(p: Prepared, at: float, state: WorkflowState, shapes: Mapping[str, TaskShape]) -> bytes:
    """Return the journal record of a submission."""
    wid, st, doc = p.workflow_id.encode(), state.value.encode(), p.doc.encode()
    extra = "\n".join(f"{sd}\t{canonical(s.to_json())}" for sd, s in shapes.items()).encode()
    fixed = _FIXED.pack(at, bytes.fromhex(p.digest), len(wid), len(st), len(doc), len(extra))
    return b"".join((fixed, wid, st, doc, extra))


def head(payload: bytes) -> tuple[str, str, str]:
    """Return the workflow id, digest and first state of a record."""
    _at, digest, n_id, n_state, _n_doc, _n_extra = _FIXED.unpack_from(payload)
    start = _FIXED.size
    wid = payload[start : start + n_id].decode()
    state = payload[start + n_id : start + n_id + n_state].decode()
    return wid, digest.hex(), state


def decode_record(payload: bytes) -> tuple[Prepared, float, dict[str, TaskShape]]:
    """Return the prepared workflow, submission time and shapes of a record.

    Raises:
        ValueError, KeyError, TypeError: the record is not one (a damaged journal).
    """
    at, digest, n_id, n_state, n_doc, n_extra = _FIXED.unpack_from(payload)
    start = _FIXED.size + n_id + n_state
    doc = payload[start : start + n_doc].decode()
    extra = payload[start + n_doc : start + n_doc + n_extra].decode()
    shapes: dict[str, TaskShape] = {}
    if extra:
        for line in extra.split("\n"):
            sd, text = line.split("\t", 1)
            shapes[sd] = TaskShape.from_json(json.loads(text))
    return decode(digest.hex(), doc), at, shapes


class Submissions:
    """One process's side of the journal: appending submissions and folding them.

    Args:
        journal: the store's journal.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._taken: dict[str, tuple[str, str, int]] = {}
        self._seen = 0
        self._sent_shapes: set[str] = set()

    def append(
        self, p: Prepared, at: float, state: WorkflowState, known_shapes: Container[str],
        lookup: Callable[[str], Taken | None],
    ) -> Taken | None:
        """Append a submission durably unless its id is taken.

        Args:
            p: the prepared workflow.
            at: the submission time.
            state: its first state.
            known_shapes: digests of shapes the store holds.
            lookup: finds an id in ``workflows`` (called under the journal's lock).

        Returns:
            None when the record was appended, else (digest, state) of the id's holder.

        Raises:
            RecordTooLarge: the record would not fit in a segment (nothing was appended).
            OSError: the journal cannot be written (nothing was appended).
        """
        sent = self._sent_shapes
        shapes = {sd: s for sd, s in p.shapes.items() if sd not in known_shapes and sd not in sent}
        payload = encode(p, at, state, shapes)
        journal = self.journal
        if not journal.fits(len(payload)):
            raise RecordTooLarge(f"{p.workflow_id!r} is too large for the journal")
        journal.lock()
        try:
            end, folded = journal.tail()
            if end != self._seen or (self._taken and folded > self._oldest()):
                self._catch_up(end, folded)
            old = self._taken.get(p.workflow_id)
            if old is not None:
                return old[0], WorkflowState(old[1])
            found = lookup(p.workflow_id)
            if found is not None:
                return found
            pos, self._seen = journal.append(end, payload)
        finally:
            journal.unlock()
        self._taken[p.workflow_id] = (p.digest, state.value, pos)
        if len(sent) > _SHAPES_REMEMBERED:
            sent.clear()
        sent.update(shapes)
        return None

    def _oldest(self) -> int:
        return self._taken[next(iter(self._taken))][2]

    def _catch_up(self, end: int, folded: int) -> None:
        taken = self._taken
        while taken:
            first = next(iter(taken))
            if taken[first][2] >= folded:
                break
            del taken[first]
        start = max(self._seen, folded)
        if start < end:
            for pos, payload in self.journal.read(start, end):
                wid, digest, state = head(payload)
                taken[wid] = (digest, state, pos)
        self._seen = max(self._seen, end)

    def waiting(self) -> bool:
        """Tell whether records may wait to be folded (from the journal's hints)."""
        end, folded = self.journal.hints()
        return end > folded

    def waiting_ids(self, op: Op) -> list[tuple[str, str, str]]:
        """Return (workflow id, digest, document) of the records not folded, in order."""
        return [(p.workflow_id, p.digest, p.doc) for p, _at, _s, _pos in self._unfolded(op)[1]]

    def _unfolded(
        self, op: Op
    ) -> tuple[int, list[tuple[Prepared, float, dict[str, TaskShape], int]]]:
        """Return the journal's end and the records between ``journal_folded`` and it."""
        row = one(op.tx, "SELECT value FROM meta WHERE key = ?", (FOLDED_KEY,))
        folded = int(row[0]) if row else 0
        journal = self.journal
        end = journal.end(folded)
        try:
            records = [(*decode_record(payload), pos) for pos, payload in journal.read(folded, end)]
        except (ValueError, KeyError, TypeError, struct.error) as exc:
            raise StoreError(f"the submission journal holds a damaged record: {exc!r}") from exc
        return end, records

    def fold(self, op: Op, shape_ids: Mapping[str, int]) -> int:
        """Fold every durable record after ``journal_folded`` into the tables (in ``op``'s
        write transaction); the ``folded`` hint follows after the commit.

        Returns:
            How many workflows were folded.

        Raises:
            StoreError: a record is damaged (nothing is folded).
        """
        end, records = self._unfolded(op)
        op.fx.folded = end
        if not records:
            return 0
        shapes: dict[str, TaskShape] = {}
        for _p, _at, extra, _pos in records:
            shapes.update(extra)
        ids = [p.workflow_id for p, _at, _s, _pos in records]
        taken = existing(op, ids)
        fresh: dict[str, tuple[Prepared, float, int]] = {}
        for p, at, _s, pos in records:
            if p.workflow_id not in taken and p.workflow_id not in fresh:
                p.shapes = shapes
                fresh[p.workflow_id] = (p, at, pos)
        items = sorted(fresh.values(), key=lambda item: (item[1], item[2]))
        if items:
            intern_shapes(op, [p for p, _at, _pos in items], shape_ids)
            insert(op, [(p, at) for p, at, _pos in items], shape_ids)
        op.tx.run(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (FOLDED_KEY, str(end)),
        )
        op.fx.expanded.extend(ids)
        return len(items)
