"""Port numbers and set items of one matching cycle, handed out lowest first.

Theory of operation: a pool's ranges are merged, ascending inclusive pairs and are never
changed (see ``offers.Pool``).  What a cycle has taken from them is a few numbers per slot
and range resource (:class:`RangeProgress`), so choosing ports allocates nothing but the
chosen numbers, however many slots are used, and after a slot's first placement its next
ones do not read the offered ranges again.
Set items are rarer and kept as a per-slot list of the items left, made on first use.
"""

from __future__ import annotations

from typing import Any

from mesos_wm.matcher.offers import Pool
from mesos_wm.matcher.result import Discrete

__all__ = ["DiscreteFree"]


class RangeProgress:
    """One range resource on every slot: the index of the slot's lowest range that still
    has free values (``at``), the lowest free value in it (``low``, -1 while that range is
    untouched) and that range's end (``high``, kept while ``low`` is not -1)."""

    __slots__ = ("at", "high", "low")

    def __init__(self, slots: int) -> None:
        self.at = [0] * slots
        self.low = [-1] * slots
        self.high = [0] * slots


class DiscreteFree:
    """What is left of every slot's range and set resources during one cycle."""

    __slots__ = ("pools", "ranges", "sets")

    def __init__(self, pools: list[Pool]) -> None:
        self.pools = pools
        self.ranges: dict[str, RangeProgress] = {}
        self.sets: dict[str, list[list[str] | None]] = {}

    def take_run(self, s: int, name: str, count: int) -> int:
        """Take ``count`` consecutive values of range resource ``name`` on slot ``s`` from
        its lowest free range when that range keeps at least one more; returns the first,
        or -1 with nothing taken (:meth:`take` then chooses)."""
        progress = self._progress(name)
        first = progress.low[s]
        if first < 0:
            spans = self.pools[s].ranges.get(name)
            if spans is None:
                return -1
            i = progress.at[s]
            if i >= len(spans):
                return -1
            first = spans[i][0]
            progress.high[s] = spans[i][1]
        if first + count > progress.high[s]:
            return -1
        progress.low[s] = first + count
        return first

    def take(self, s: int, disc: tuple[tuple[str, int], ...]) -> Discrete:
        """Take ``count`` values of each (name, count) of ``disc`` on slot ``s``, lowest
        first (the slot has them: its columns were checked)."""
        out: list[tuple[str, tuple[Any, ...]]] = []
        for name, wanted in disc:
            if name in self.pools[s].ranges:
                out.append((name, self._take_ranges(s, name, wanted)))
            else:
                out.append((name, self._take_items(s, name, wanted)))
        return tuple(out)

    def _progress(self, name: str) -> RangeProgress:
        progress = self.ranges.get(name)
        if progress is None:
            progress = self.ranges[name] = RangeProgress(len(self.pools))
        return progress

    def _take_ranges(self, s: int, name: str, wanted: int) -> tuple[int, ...]:
        progress = self._progress(name)
        spans = self.pools[s].ranges[name]
        i = progress.at[s]
        b = progress.low[s]
        chosen: list[int] = []
        while wanted:
            e = spans[i][1]
            if b < 0:
                b = spans[i][0]
            step = min(wanted, e - b + 1)
            chosen.extend(range(b, b + step))
            wanted -= step
            b += step
            if b > e:
                i += 1
                b = -1
        progress.at[s] = i
        progress.low[s] = b
        if b >= 0:
            progress.high[s] = spans[i][1]
        return tuple(chosen)

    def _take_items(self, s: int, name: str, wanted: int) -> tuple[str, ...]:
        per_slot = self.sets.get(name)
        if per_slot is None:
            per_slot = self.sets[name] = [None] * len(self.pools)
        items = per_slot[s]
        if items is None:
            items = per_slot[s] = list(self.pools[s].sets[name])
        chosen = tuple(items[:wanted])
        del items[:wanted]
        return chosen
