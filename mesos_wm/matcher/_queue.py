"""One owner's buckets in one priority level, ordered by the submit time of their next task.

Theory of operation: each live bucket of the level gets a :class:`Run`, which holds the
bucket's cursor, the position of its next task and that task's submit time; a
:class:`RunQueue` is a binary heap of the owner's runs, first the run whose next task was
submitted earliest (equal submit times by task key).  Runs are plain objects whose numeric
fields the compiled build stores unboxed, so moving a run's head and sifting the heap
allocate nothing; the heap is sifted here rather than through :mod:`heapq`, whose generic
comparisons would cost more than the sift.
"""

from __future__ import annotations

from mesos_wm.matcher._state import Cursor
from mesos_wm.matcher.index import Bucket

__all__ = ["Run", "RunQueue"]


class Run:
    """A bucket's place in the walk: ``keys[pos]`` is its next task, submitted at ``sub``.

    ``keys``, ``subs`` and ``dead`` are the bucket's (the index is frozen during a
    cycle); ``end`` is ``len(keys)``.  A run may be :meth:`reset` for another bucket once
    it has left its queue.
    """

    __slots__ = ("bucket", "cursor", "dead", "end", "keys", "pos", "sub", "subs")

    def __init__(self, bucket: Bucket, cursor: Cursor) -> None:
        self.bucket = bucket
        self.cursor = cursor
        self.keys = bucket.keys
        self.subs = bucket.subs
        self.dead = bucket.dead
        self.pos = bucket.head
        self.end = len(self.keys)
        self.sub = self.subs[self.pos]

    def reset(self, bucket: Bucket, cursor: Cursor) -> None:
        """Start over at the head of ``bucket`` (it has a live task)."""
        self.bucket = bucket
        self.cursor = cursor
        self.keys = bucket.keys
        self.subs = bucket.subs
        self.dead = bucket.dead
        self.pos = bucket.head
        self.end = len(self.keys)
        self.sub = self.subs[self.pos]

    def skip_dead(self) -> None:
        """Move ``pos`` past tombstones."""
        dead = self.dead
        keys = self.keys
        pos = self.pos
        end = self.end
        while pos < end and keys[pos] in dead:
            pos += 1
        self.pos = pos


def _before(a: Run, b: Run) -> bool:
    """Is run ``a``'s next task before run ``b``'s (submit time, then key)?"""
    if a.sub != b.sub:
        return a.sub < b.sub
    return a.keys[a.pos] < b.keys[b.pos]


class RunQueue:
    """The live runs of one owner in one level, first the one with the earliest task."""

    __slots__ = ("runs",)

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        for i in range(len(runs) // 2 - 1, -1, -1):
            self._sift_down(i)

    def __len__(self) -> int:
        return len(self.runs)

    def first(self) -> Run:
        """The run with the earliest next task (the queue is not empty)."""
        return self.runs[0]

    def pop(self) -> Run:
        """Unqueue and return the first run."""
        runs = self.runs
        first = runs[0]
        last = runs.pop()
        if runs:
            runs[0] = last
            self._sift_down(0)
        return first

    def moved(self) -> None:
        """The first run moved on to its next task (``pos`` and ``sub`` are updated)."""
        self._sift_down(0)

    def _sift_down(self, pos: int) -> None:
        runs = self.runs
        end = len(runs)
        run = runs[pos]
        child = 2 * pos + 1
        while child < end:
            c = runs[child]
            right = child + 1
            if right < end:
                r = runs[right]
                if _before(r, c):
                    child = right
                    c = r
            if not _before(c, run):
                break
            runs[pos] = c
            pos = child
            child = 2 * pos + 1
        runs[pos] = run
