"""One owner's buckets in one priority level, ordered by the submit time of their next task.

Theory of operation: a :class:`BucketQueue` is a binary heap kept in two parallel lists,
the submit time of each queued bucket's next task and the bucket's number.  Equal submit
times are ordered by the next task's key, read from the level's shared lists (``buckets``
and ``heads``, both indexed by bucket number), so the usual comparison is of two floats and
no tuple is built.  Everything is typed for the compiled build: the heap is sifted here
rather than through :mod:`heapq`, whose generic comparisons cost more than the sift.
"""

from __future__ import annotations

from mesos_wm.matcher.index import Bucket

__all__ = ["BucketQueue"]


class BucketQueue:
    """The live buckets of one owner in one level, first the one with the earliest task.

    Args:
        buckets: the level's buckets, by number.
        heads: per bucket number, the position of its next task in ``Bucket.keys``.
    """

    __slots__ = ("buckets", "heads", "ids", "subs")

    def __init__(self, buckets: list[Bucket], heads: list[int]) -> None:
        self.buckets = buckets
        self.heads = heads
        self.subs: list[float] = []
        self.ids: list[int] = []

    def __len__(self) -> int:
        return len(self.ids)

    def fill(self, first: int, end: int) -> None:
        """Queue buckets ``first`` ... ``end - 1`` (their heads are set)."""
        subs = self.subs
        ids = self.ids
        buckets = self.buckets
        heads = self.heads
        for bi in range(first, end):
            subs.append(buckets[bi].subs[heads[bi]])
            ids.append(bi)
        n = len(ids)
        for i in range(n // 2 - 1, -1, -1):
            self._sift_down(i)

    def first(self) -> int:
        """The number of the first bucket (the queue is not empty)."""
        return self.ids[0]

    def pop(self) -> None:
        """Unqueue the first bucket."""
        sub = self.subs.pop()
        bi = self.ids.pop()
        if self.ids:
            self.subs[0] = sub
            self.ids[0] = bi
            self._sift_down(0)

    def advance(self, sub: float) -> None:
        """The first bucket moved on to its next task, submitted at ``sub``."""
        self.subs[0] = sub
        self._sift_down(0)

    def queued(self) -> list[int]:
        """The numbers of every queued bucket (in no particular order)."""
        return list(self.ids)

    def _later(self, a: int, b: int) -> bool:
        """Is bucket ``a``'s next task after bucket ``b``'s (same submit time)?"""
        buckets = self.buckets
        heads = self.heads
        return buckets[a].keys[heads[a]] > buckets[b].keys[heads[b]]

    def _sift_down(self, pos: int) -> None:
        subs = self.subs
        ids = self.ids
        end = len(ids)
        sub = subs[pos]
        bi = ids[pos]
        child = 2 * pos + 1
        while child < end:
            right = child + 1
            if right < end:
                rs = subs[right]
                cs = subs[child]
                if rs < cs or (rs == cs and self._later(ids[child], ids[right])):
                    child = right
            cs = subs[child]
            if cs > sub or (cs == sub and self._later(ids[child], bi)):
                break
            subs[pos] = cs
            ids[pos] = ids[child]
            pos = child
            child = 2 * pos + 1
        subs[pos] = sub
        ids[pos] = bi
