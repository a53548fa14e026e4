"""One owner's buckets in one priority level, ordered by the submit time of their next task.

Theory of operation: each live bucket of the level gets a :class:`Run`, which holds the
bucket's cursor, the position of its next task and that task's submit time; a
:class:`RunQueue` is a binary heap of the owner's runs, first the run whose next task was
submitted earliest (equal submit times by task key).  Runs are plain objects whose numeric
fields the compiled build stores unboxed, so moving a run's head and sifting the heap
allocate nothing.  Queueing a bucket reads only the bucket object itself (its head and
``first``); its keys are read once it is on top.  The heap is sifted here rather than
through :mod:`heapq`, whose generic comparisons would cost more than the sift.
"""

from __future__ import annotations

from mesos_wm.matcher._state import Cursor
from mesos_wm.matcher.index import Bucket

__all__ = ["Run", "RunQueue"]


class Run:
    """A bucket's place in the walk: ``bucket.keys[pos]`` is its next task, submitted at
    ``sub`` (the index is frozen during a cycle).  A run may be :meth:`reset` for another
    bucket once it has left its queue."""

    __slots__ = ("bucket", "cursor", "pos", "sub")

    bucket: Bucket
    cursor: Cursor
    pos: int
    sub: float

    def __init__(self, bucket: Bucket, cursor: Cursor) -> None:
        self.reset(bucket, cursor)

    def reset(self, bucket: Bucket, cursor: Cursor) -> None:
        """Start over at the head of ``bucket`` (it has a live task)."""
        self.bucket = bucket
        self.cursor = cursor
        self.pos = bucket.head
        self.sub = bucket.first

    def skip_dead(self) -> None:
        """Move ``pos`` past tombstones."""
        bucket = self.bucket
        dead = bucket.dead
        keys = bucket.keys
        pos = self.pos
        end = len(keys)
        while pos < end and keys[pos] in dead:
            pos += 1
        self.pos = pos


def _before(a: Run, b: Run) -> bool:
    """Is run ``a``'s next task before run ``b``'s (submit time, then key)?"""
    if a.sub != b.sub:
        return a.sub < b.sub
    return a.bucket.keys[a.pos] < b.bucket.keys[b.pos]


class RunQueue:
    """The live runs of one owner in one level; ``runs[0]`` has the earliest task."""

    __slots__ = ("runs",)

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        for i in range(len(runs) // 2 - 1, -1, -1):
            self._sift_down(i)

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
        sub = run.sub
        child = 2 * pos + 1
        while child < end:
            c = runs[child]
            right = child + 1
            if right < end:
                r = runs[right]
                if r.sub < c.sub or (r.sub == c.sub and _before(r, c)):
                    child = right
                    c = r
            if c.sub > sub or (c.sub == sub and not _before(c, run)):
                break
            runs[pos] = c
            pos = child
            child = 2 * pos + 1
        runs[pos] = run
