"""The in-memory ready index: every QUEUED task, compactly, in the order the matcher takes.

Entries live in parallel typed arrays (one slot per entry) instead of an object per task,
and refer to interned shapes and workflows by id, so a million ready tasks cost about 200
bytes each rather than ~760 for a dict per task.  Each priority has a FIFO bucket of slots;
removal marks a slot dead and the arrays are compacted once dead slots outnumber live
ones, so every operation is amortised O(1) and iteration is in (priority desc, FIFO) order.

:class:`Timers` holds tasks whose dependencies are met but whose ``not_before`` (a start
time or a retry backoff) is in the future.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import neg
from typing import Any

from mesos_wm.queue.model import TaskShape
from mesos_wm.queue.records import ReadyTask

_COMPACT_MIN = 4096


def matching_order(row: tuple[Any, ...]) -> tuple[int, float, int]:
    """Sort key of ready rows: priority (highest first), then queued_at, then key."""
    return (-row[4], row[6], row[0])


Row = tuple[int, int, str, int, int, int, float]
"""A ready entry: (key, workflow row, task id, shape id, priority, attempts so far, queued_at)."""


class ReadyColumns:
    """Ready entries gathered column by column (bulk inserts add whole columns without a
    tuple per entry), in the order they are to be added."""

    __slots__ = ("attempts", "keys", "names", "prios", "queued", "shapes", "wfs")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.wfs: list[int] = []
        self.names: list[str] = []
        self.shapes: list[int] = []
        self.prios: list[int] = []
        self.attempts: list[int] = []
        self.queued: list[float] = []

    @classmethod
    def of(cls, columns: Sequence[list[Any]]) -> ReadyColumns:
        """Return entries from their seven columns (in :data:`Row` order; empty: none)."""
        out = cls()
        if columns:
            (out.keys, out.wfs, out.names, out.shapes, out.prios, out.attempts,
             out.queued) = columns
        return out

    @classmethod
    def from_rows(cls, rows: Sequence[Row]) -> ReadyColumns:
        """Return ``rows`` as columns."""
        return cls.of(list(map(list, zip(*rows, strict=True))))

    def __len__(self) -> int:
        return len(self.keys)

    def append(self, row: Row) -> None:
        """Add one entry."""
        self.keys.append(row[0])
        self.wfs.append(row[1])
        self.names.append(row[2])
        self.shapes.append(row[3])
        self.prios.append(row[4])
        self.attempts.append(row[5])
        self.queued.append(row[6])

    def extend(self, rows: Iterable[Row]) -> None:
        """Add entries."""
        for row in rows:
            self.append(row)

    def rows(self) -> list[Row]:
        """Return the entries as rows."""
        return list(zip(self.keys, self.wfs, self.names, self.shapes, self.prios,
                        self.attempts, self.queued, strict=True))


class ReadyIndex:
    """QUEUED tasks by priority (highest first), first come first served within one."""

    def __init__(self) -> None:
        self.shapes: dict[int, TaskShape] = {}
        self.workflows: dict[int, tuple[str, str]] = {}
        self._reset()

    def _reset(self) -> None:
        self._key: list[int] = []  # the same int objects as the keys of _slot: no extra cost
        self._wf = array("q")
        self._shape = array("i")
        self._prio = array("i")
        self._attempts = array("i")
        self._queued = array("d")
        self._names: list[str] = []
        self._alive = bytearray()
        self._slot: dict[int, int] = {}
        self._buckets: dict[int, array[int]] = {}
        self._heads: dict[int, int] = {}
        self._per_workflow: dict[int, int] = {}
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def add(self, row: Row) -> bool:
        """Add one entry at the back of its priority's queue.

        Returns:
            False if the key was already in the index (nothing changes).
        """
        key = row[0]
        if key in self._slot:
            return False
        slot = len(self._key)
        self._key.append(key)
        self._wf.append(row[1])
        self._names.append(row[2])
        self._shape.append(row[3])
        self._prio.append(row[4])
        self._attempts.append(row[5])
        self._queued.append(row[6])
        self._alive.append(1)
        self._slot[key] = slot
        self._per_workflow[row[1]] = self._per_workflow.get(row[1], 0) + 1
        bucket = self._buckets.get(row[4])
        if bucket is None:
            bucket = self._buckets[row[4]] = array("i")
            self._heads[row[4]] = 0
        bucket.append(slot)
        return True

    def add_many(self, rows: Sequence[Row]) -> int:
        """Add entries (at the back of their priorities' queues); returns how many were new."""
        if len(rows) < 32:
            return sum(self.add(row) for row in rows)
        return self.add_columns(ReadyColumns.from_rows(rows))

    def add_columns(self, c: ReadyColumns) -> int:
        """Add entries given column by column; returns how many were new."""
        n = len(c.keys)
        keys = c.keys
        slot_of = self._slot
        if n < 32 or not slot_of.keys().isdisjoint(keys) or len(set(keys)) < n:
            return sum(self.add(row) for row in c.rows())
        first = len(self._key)
        self._key.extend(keys)
        self._wf.extend(c.wfs)
        self._names.extend(c.names)
        self._shape.extend(c.shapes)
        self._prio.extend(c.prios)
        self._attempts.extend(c.attempts)
        self._queued.extend(c.queued)
        self._alive.extend(b"\x01" * n)
        slot_of.update(zip(keys, range(first, first + n), strict=True))
        per_workflow = self._per_workflow
        for wf, count in Counter(c.wfs).items():
            per_workflow[wf] = per_workflow.get(wf, 0) + count
        prios = c.prios
        if prios.count(prios[0]) == n:
            self._bucket(prios[0]).extend(range(first, first + n))
        else:
            for i, prio in enumerate(prios, first):
                self._bucket(prio).append(i)
        return n

    def _bucket(self, prio: int) -> array[int]:
        bucket = self._buckets.get(prio)
        if bucket is None:
            bucket = self._buckets[prio] = array("i")
            self._heads[prio] = 0
        return bucket

    def load(self, rows: Sequence[Row], *, ordered: bool = False) -> None:
        """Replace the contents with ``rows``.

        Args:
            rows: the entries.
            ordered: they are already in matching order (priority desc, queued_at, key);
                otherwise they are sorted first.

        Raises:
            ValueError: a key appears twice.
        """
        if not ordered:
            rows = sorted(rows, key=matching_order)
        self.load_columns(ReadyColumns.from_rows(rows))

    def load_columns(self, c: ReadyColumns) -> None:
        """Replace the contents with entries given column by column, in matching order.

        Builds the arrays a column at a time (no object per entry); the index takes
        ownership of ``c.keys`` and ``c.names``.

        Raises:
            ValueError: a key appears twice.
        """
        self._reset()
        keys, prios = c.keys, c.prios
        n = len(keys)
        if not n:
            return
        self._key = keys
        self._wf = _column("q", c.wfs)
        self._names = c.names
        self._shape = _column("i", c.shapes)
        self._prio = _column("i", prios)
        self._attempts = _column("i", c.attempts)
        self._queued = array("d", c.queued)
        self._alive = bytearray(b"\x01") * n
        self._slot = dict(zip(keys, range(n), strict=True))
        if len(self._slot) != n:
            raise ValueError("duplicate keys in the ready rows")
        self._per_workflow = dict(Counter(c.wfs))
        start = 0
        while start < n:  # priorities are descending: one bisection per priority
            prio = prios[start]
            end = bisect_right(prios, -prio, lo=start, key=neg)
            self._buckets[prio] = array("i", range(start, end))
            self._heads[prio] = 0
            start = end

    def remove(self, key: int) -> bool:
        """Remove an entry; returns False if it was not in the index."""
        slot = self._slot.pop(key, None)
        if slot is None:
            return False
        self._alive[slot] = 0
        self._dead += 1
        wf = self._wf[slot]
        left = self._per_workflow[wf] - 1
        if left:
            self._per_workflow[wf] = left
        else:
            del self._per_workflow[wf]
        if self._dead > _COMPACT_MIN and self._dead > len(self._slot):
            self._compact()
        return True

    def _compact(self) -> None:
        rows = [self._row(slot) for slot in self._slots()]
        shapes, workflows = self.shapes, self.workflows
        self._reset()
        for row in rows:
            self.add(row)
        self.shapes, self.workflows = shapes, workflows

    def _row(self, slot: int) -> Row:
        return (
            self._key[slot],
            self._wf[slot],
            self._names[slot],
            self._shape[slot],
            self._prio[slot],
            self._attempts[slot],
            self._queued[slot],
        )

    def _slots(self) -> Iterator[int]:
        alive = self._alive
        for prio in sorted(self._buckets, reverse=True):
            bucket = self._buckets[prio]
            head = self._heads[prio]
            while head < len(bucket) and not alive[bucket[head]]:
                head += 1
            self._heads[prio] = head
            for i in range(head, len(bucket)):
                slot = bucket[i]
                if alive[slot]:
                    yield slot

    def rows(self, limit: int | None = None) -> list[Row]:
        """Return up to ``limit`` entries in matching order."""
        out: list[Row] = []
        if limit is not None and limit <= 0:
            return out
        for slot in self._slots():
            out.append(self._row(slot))
            if limit is not None and len(out) >= limit:
                break
        return out

    def tasks(self, limit: int | None = None) -> list[ReadyTask]:
        """Return up to ``limit`` ready tasks in matching order, as :class:`ReadyTask`."""
        out = []
        for key, wf, name, shape, prio, attempts, queued in self.rows(limit):
            workflow_id, owner = self.workflows[wf]
            out.append(
                ReadyTask(key, workflow_id, name, owner, prio, attempts + 1,
                          self.shapes[shape], queued)
            )
        return out

    def workflow_rows(self) -> list[int]:
        """Return the row ids of the workflows that have entries."""
        return list(self._per_workflow)

    def keys_of_workflow(self, wf: int) -> list[int]:
        """Return the keys of one workflow's entries (a scan unless it has none)."""
        if wf not in self._per_workflow:
            return []
        return [self._key[s] for s in self._slot.values() if self._wf[s] == wf]


def _column(typecode: str, values: list[Any]) -> array[Any]:
    """An array of ``values`` (a repeated one when they are all equal, as is common)."""
    first = values[0]
    if values.count(first) == len(values):
        return array(typecode, (first,)) * len(values)
    return array(typecode, values)


class Timers:
    """Tasks waiting only for their ``not_before`` time; a heap with lazy removal."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: object) -> bool:
        return key in self._due

    def set(self, key: int, not_before: float) -> None:
        """Wake ``key`` at ``not_before`` (replacing an earlier setting)."""
        self._due[key] = not_before
        heapq.heappush(self._heap, (not_before, key))

    def discard(self, key: int) -> None:
        """Forget ``key`` if it is waiting."""
        self._due.pop(key, None)

    def load(self, items: Iterable[tuple[int, float]]) -> None:
        """Replace the contents with (key, not_before) pairs."""
        self._due = dict(items)
        self._heap = [(t, k) for k, t in self._due.items()]
        heapq.heapify(self._heap)

    def next_time(self) -> float | None:
        """Return the earliest wake-up time, or None."""
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[int]:
        """Remove and return the keys whose time has come."""
        out = []
        while (t := self.next_time()) is not None and t <= now:
            _, key = heapq.heappop(self._heap)
            del self._due[key]
            out.append(key)
        return out
