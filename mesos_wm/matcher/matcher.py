"""The matcher: one synchronous call from offers and pending tasks to placements.

Theory of operation: :meth:`Matcher.match` combines the offers per agent, learns agent
capacities (:class:`ClusterView`), and walks the :class:`PendingIndex` level by level,
highest priority first.  Within a level, owners take turns by dominant resource fairness;
within an owner, tasks go in submit order, merged across the owner's buckets with a heap
keyed by each bucket's first task.  A task is offered to the cursor of its (shape,
signature) (see ``_cycle``); when the cursor dies the whole bucket leaves the heap as
unplaced, so an unplaceable task never blocks the tasks behind it.  Buckets whose shape
fits no agent seen so far are reported unschedulable before the walk.  The walk stops
after ``scan_window`` tasks were examined; the rest stay pending "not examined".

Nothing is mutated outside the cycle except the matcher's :class:`ClusterView`, so equal
inputs (and an equal history of offers) give equal results.
"""

from __future__ import annotations

import math
import sys
from bisect import insort
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

from mesos_wm.matcher._cycle import NO_DISCRETE, Cursor, Cycle
from mesos_wm.matcher.cluster import ClusterView, SeenAgent
from mesos_wm.matcher.explain import (
    admitted_agents,
    explain_pending,
    explain_unschedulable,
    explain_window,
    never_fits,
)
from mesos_wm.matcher.fairness import DRF_RESOURCES
from mesos_wm.matcher.fitness import Fitness, Strategy
from mesos_wm.matcher.index import Bucket, PendingIndex
from mesos_wm.matcher.offers import AgentCapacity, Offer
from mesos_wm.matcher.request import Shape, Signature
from mesos_wm.matcher.result import (
    Failure,
    MatchResult,
    MatchStats,
    Placement,
    Snapshot,
    Unplaced,
)
from mesos_wm.matcher.running import RunningIndex

__all__ = ["Matcher"]

_EPSILON = 1e-12
_new = tuple.__new__
_CACHE_LIMIT = 100_000
_DROP = 6


class Matcher:
    """Places pending tasks onto offers; holds only configuration and the cluster view.

    Args:
        strategy: ``"binpack"`` (default) or ``"spread"`` (see :class:`Strategy`).
        fitness: optional :class:`Fitness` that picks among the next ``fitness_window``
            candidate agents of each task.
        fitness_window: how many candidates a fitness scores per task.
        avoid_gpu_agents: tasks that need no GPU use GPU agents only when no other agent
            has room for them.
        scan_window: at most this many tasks are examined per cycle (None: no limit).
        drf_quantum: how far (in dominant share) an owner may run ahead of the next owner
            before yielding its turn; 0 is strict task-by-task DRF.
        roles: the framework's roles, used by :meth:`parse_offer` (None: every role).
        cluster: the view of agents seen so far (a new one by default).

    Raises:
        ValueError: an unknown strategy or a negative window or quantum.
    """

    def __init__(
        self,
        *,
        strategy: Strategy | str = Strategy.BINPACK,
        fitness: Fitness | None = None,
        fitness_window: int = 8,
        avoid_gpu_agents: bool = True,
        scan_window: int | None = 250_000,
        drf_quantum: float = 0.002,
        roles: Iterable[str] | None = None,
        cluster: ClusterView | None = None,
    ) -> None:
        try:
            self.strategy = Strategy(strategy)
        except ValueError:
            known = ", ".join(s.value for s in Strategy)
            raise ValueError(f"unknown strategy {strategy!r}; use one of {known}") from None
        if scan_window is not None and scan_window < 1:
            raise ValueError("scan_window must be at least 1 (or None for no limit)")
        if drf_quantum < 0 or fitness_window < 1:
            raise ValueError("drf_quantum must be >= 0 and fitness_window >= 1")
        self.fitness = fitness
        self.fitness_window = fitness_window
        self.avoid_gpu_agents = avoid_gpu_agents
        self.scan_window = scan_window
        self.drf_quantum = drf_quantum
        self.roles = None if roles is None else frozenset(roles)
        self.cluster = cluster if cluster is not None else ClusterView()
        self._never: dict[tuple[Shape, Signature], tuple[int, int, bool]] = {}
        self._admitted: dict[Signature, tuple[int, list[SeenAgent]]] = {}

    def parse_offer(self, offer: Mapping[str, Any]) -> Offer:
        """Parse Mesos ``Offer`` JSON keeping the matcher's roles (see :meth:`Offer.from_json`).

        Raises:
            ValueError: a malformed offer.
        """
        return Offer.from_json(offer, self.roles)

    def _unschedulable(self, shape: Shape, sig: Signature) -> bool:
        base = sig.base
        known = self._never.get((shape, base))
        version = self.cluster.version
        removals = self.cluster.removals
        if known is not None and (known[0] == version or (
                not known[2] and known[1] == removals)):
            return known[2]
        if len(self._never) > _CACHE_LIMIT:
            self._never.clear()
            self._admitted.clear()
        admitted = None
        if base.static or base.pin is not None:
            cached = self._admitted.get(base)
            if cached is None or cached[0] != version:
                cached = self._admitted[base] = (version, admitted_agents(self.cluster, base))
            admitted = cached[1]
        verdict = never_fits(self.cluster, shape, base, admitted)
        self._never[(shape, base)] = (version, removals, verdict)
        return verdict

    def match(
        self,
        offers: Iterable[Offer],
        pending: PendingIndex,
        running: RunningIndex | None = None,
    ) -> MatchResult:
        """Match one cycle: decide which pending tasks go on which offers.

        Args:
            offers: every offer currently held (parsed with :meth:`parse_offer`).
            pending: the ready tasks; not modified (remove placed tasks yourself).
            running: the framework's running tasks (owner usage, group placements).

        Returns:
            Placements in decision order, unplaced tasks grouped with lazy reasons, and
            the offers nothing was placed on.
        """
        offers = list(offers)
        running = running if running is not None else RunningIndex()
        agents = AgentCapacity.combine(offers)
        self.cluster.observe(agents, running)
        total = self.cluster.total_milli()
        drf_total = {n: total[n] for n in DRF_RESOURCES if total.get(n, 0) > 0}
        cycle = Cycle(agents, pending.shapes(), strategy=self.strategy,
                      avoid_gpu=self.avoid_gpu_agents, running=running, tasks=pending._tasks,
                      fitness=self.fitness, fitness_window=self.fitness_window,
                      never=self._unschedulable, drf_total=drf_total)
        for sig in pending.group_signatures():
            cycle.track_group(sig)
        walk = _Walk(self, cycle, running, drf_total)
        walk.run(pending.levels())
        used_ids = {i for s, used in enumerate(cycle.used) if used
                    for i in cycle.pools[s].offer_ids}
        unused = list(dict.fromkeys(o.offer_id for o in offers if o.offer_id not in used_ids))
        stats = MatchStats(
            agents=len(agents), pools=len(cycle.pools), buckets=pending.bucket_count(),
            examined=walk.examined, placed=len(cycle.placements),
            dead_shapes=sum(1 for c in cycle.cursors.values() if c.dead),
            window_reached=walk.window_reached)
        return MatchResult(cycle.placements, partial(walk.unplaced, walk.drops), unused, stats)


class _Walk:
    """The fairness walk of one cycle over the index's levels."""

    def __init__(self, matcher: Matcher, cycle: Cycle, running: RunningIndex,
                 total: Mapping[str, int]) -> None:
        self.matcher = matcher
        self.cycle = cycle
        self.running = running
        self.window = matcher.scan_window if matcher.scan_window is not None else sys.maxsize
        self.examined = 0
        self.window_reached = False
        self.drops: list[Any] = []
        self.total = total
        self.usage: dict[str, dict[str, int]] = {}
        self._explained: dict[tuple[Shape, Signature], tuple[Failure, ...]] = {}

    def explained(self, how: Callable[[Any, Shape, Signature], tuple[Failure, ...]],
                  state: object, shape: Shape, sig: Signature) -> tuple[Failure, ...]:
        known = self._explained.get((shape, sig))
        if known is None:
            known = self._explained[(shape, sig)] = how(state, shape, sig)
        return known

    def share(self, owner: str) -> float:
        usage = self.usage.get(owner)
        if usage is None:
            base = self.running.owner_usage_milli(owner)
            usage = self.usage[owner] = {n: base.get(n, 0) for n in self.total}
        return max((usage[n] / t for n, t in self.total.items()), default=0.0)

    def cursor(self, b: Bucket) -> Cursor:
        return self.cycle.cursor(b.shape, b.sig)

    def unplaced(self, drops: list[Any]) -> list[Unplaced]:
        """Build the Unplaced groups of the buckets dropped during the walk.

        ``drops`` is flat (no tuple per bucket to keep during the cycle): bucket, keys,
        start, end, tombstones and whether the scan window stopped it, for each bucket.
        Sorted by priority (highest first), owner and first task key, so that the order
        does not depend on the order tasks were added to the index.
        """
        out = []
        cluster = self.matcher.cluster
        for i in range(0, len(drops), _DROP):
            b, keys, start, end, dead, window = drops[i:i + _DROP]
            snapshot: Snapshot = (keys, start, end, dead)
            cur = self.cycle.cursors.get(b.ck)
            if window and (cur is None or not cur.dead):
                explain = partial(explain_window, self.window)
                unschedulable = False
            elif cur is not None and cur.unschedulable:
                explain = partial(self.explained, explain_unschedulable, cluster, b.shape, b.sig)
                unschedulable = True
            else:
                explain = partial(self.explained, explain_pending, self.cycle, b.shape, b.sig)
                unschedulable = False
            group = Unplaced(snapshot, priority=b.priority, owner=b.owner, shape=b.shape,
                             unschedulable=unschedulable, explain=explain)
            if group.task_keys:
                out.append(group)
        out.sort(key=lambda g: (-g.priority, g.owner, g.task_keys[0]))
        return out

    def run(self, levels: list[tuple[int, list[tuple[str, list[Bucket]]]]]) -> None:
        for priority_index, (_, owners) in enumerate(levels):
            if self.examined >= self.window:
                for _, rest in levels[priority_index:]:
                    for _, buckets in rest:
                        for b in buckets:
                            self.drops += (b, *b.snapshot(b.head), True)
                break
            self.level(owners)

    def level(self, owners: list[tuple[str, list[Bucket]]]) -> None:
        cycle = self.cycle
        cycle.refresh_top()
        cursors = cycle.cursors
        drops = self.drops
        sb: list[Bucket] = []
        sc: list[Cursor] = []
        sp: list[int] = []
        state = (sb, sc, sp)
        heap: list[tuple[float, str, list[float], dict[float, Any]]] = []
        get = cursors.get
        make = self.cursor
        for owner, buckets in owners:
            ties: dict[float, Any] = {}
            curs = [get(b.ck) or make(b) for b in buckets]
            live = []
            for b, cur in zip(buckets, curs, strict=True):
                if cur.dead:
                    b.shared = True
                    drops += (b, b.keys, b.head, len(b.keys), b.dead, False)
                else:
                    live.append(b)
                    sc.append(cur)
            if not live:
                continue
            first = len(sb)
            sb += live
            heads = [b.head for b in live]
            sp += heads
            fheap = [b.subs[h] for b, h in zip(live, heads, strict=True)]
            ties = dict(zip(fheap, range(first, len(sb)), strict=True))
            if len(ties) == len(fheap):
                heapify(fheap)
            else:
                fheap = []
                ties = {}
                for bi in range(first, len(sb)):
                    b = sb[bi]
                    _push((fheap, ties), state, b.subs[b.head], b.keys[b.head], bi)
            heap.append((self.share(owner), owner, fheap, ties))
        heapify(heap)
        quantum = self.matcher.drf_quantum
        left = self.window - self.examined
        walk = cycle.walk
        take = cycle.take
        groups = cycle.groups
        placements_append = cycle.placements.append
        used = cycle.used
        slot_owner = cycle.slot_owner
        pools = cycle.pools
        while heap and left > 0:
            share, owner, fheap, ties = heap[0]
            if len(heap) > 1:
                nxt = heap[1] if len(heap) == 2 or heap[1] < heap[2] else heap[2]
                budget = nxt[0] + quantum - share
            else:
                budget = math.inf
            tally: list[Bucket] = []
            while fheap and left > 0:
                sub = fheap[0]
                t = ties[sub]
                bi = t if t.__class__ is int else t[0][1]
                b = sb[bi]
                cur = sc[bi]
                pos = sp[bi]
                keys = b.keys
                if cur.dead:
                    _pop(fheap, ties)
                    b.shared = True
                    drops += (b, keys, pos, len(keys), b.dead, False)
                    continue
                left -= 1
                key = keys[pos]
                if cur.fast:
                    cands = cur.cands
                    p = cur.pos
                    s = cands[p]
                    needs = cur.needs
                    for col, need in needs:
                        if col[s] < need:
                            s = -1
                            if cur.master is None:
                                end = min(p + 5, len(cands))
                                p += 1
                                while p < end:
                                    s = cands[p]
                                    for col2, need2 in needs:
                                        if col2[s] < need2:
                                            s = -1
                                            break
                                    else:
                                        break
                                    p += 1
                            else:
                                p += 1
                            cur.pos = p
                            if s < 0:
                                s = walk(cur)
                            break
                    if s < 0:
                        _pop(fheap, ties)
                        b.shared = True
                        drops += (b, keys, pos, len(keys), b.dead, False)
                        continue
                    for col, need in needs:
                        col[s] -= need
                    used[s] = True
                    placements_append(_new(Placement, (
                        key, slot_owner[s], pools[s], cur.shape,
                        take(s, cur.disc) if cur.disc else NO_DISCRETE)))
                    if b.grouped and groups:
                        group = cycle.tasks[key][0].group
                        if group in groups:
                            cycle.count_in_group(group, s)
                elif not cur.place(cur, key, b.grouped > 0):
                    _pop(fheap, ties)
                    b.shared = True
                    drops += (b, keys, pos, len(keys), b.dead, False)
                    continue
                pos += 1
                if b.dead:
                    dead = b.dead
                    while pos < len(keys) and keys[pos] in dead:
                        pos += 1
                sp[bi] = pos
                if pos < len(keys):
                    nsub = b.subs[pos]
                    if nsub != sub or t.__class__ is not int:
                        if t.__class__ is int and nsub not in ties:
                            del ties[sub]
                            ties[nsub] = bi
                            heapreplace(fheap, nsub)
                        else:
                            _pop(fheap, ties)
                            _push((fheap, ties), state, nsub, keys[pos], bi)
                elif t.__class__ is int:
                    del ties[sub]
                    heappop(fheap)
                else:
                    _pop(fheap, ties)
                tally.append(b)
                budget -= cur.inc
                if budget <= _EPSILON:
                    break
            usage = self.usage[owner]
            for b in tally:
                for name, milli in b.shape.items:
                    if name in usage:
                        usage[name] += milli
            if fheap and left > 0:
                heapreplace(heap, (self.share(owner), owner, fheap, ties))
            else:
                heappop(heap)
                self._drop_rest(fheap, ties, state)
        for _, _, fheap, ties in heap:
            self._drop_rest(fheap, ties, state)
        self.examined = self.window - left
        if left <= 0:
            self.window_reached = True

    def _drop_rest(self, fheap: list[float], ties: dict[float, Any],
                   state: tuple[list[Bucket], list[Cursor], list[int]]) -> None:
        sb, _, sp = state
        for sub in fheap:
            t = ties[sub]
            for bi in ((t,) if t.__class__ is int else [e[1] for e in t]):
                b = sb[bi]
                self.drops += (b, *b.snapshot(sp[bi]), True)


def _push(queue: tuple[list[float], dict[float, Any]],
          state: tuple[list[Bucket], list[Cursor], list[int]], sub: float, key: str,
          bi: int) -> None:
    """Queue bucket ``bi`` whose next task is (sub, key); equal subs are ordered by key.

    A queue is a heap of distinct submit times and, per time, the bucket index or (when
    several buckets' next tasks share it) a list of (key, bucket index) sorted by key, so
    that the heap compares floats, not tuples.
    """
    fheap, ties = queue
    t = ties.get(sub)
    if t is None:
        ties[sub] = bi
        heappush(fheap, sub)
    elif t.__class__ is int:
        ties[sub] = sorted([(state[0][t].keys[state[2][t]], t), (key, bi)])
    else:
        insort(t, (key, bi))


def _pop(fheap: list[float], ties: dict[float, Any]) -> None:
    """Unqueue the first bucket (the one with the smallest (sub, key))."""
    sub = fheap[0]
    t = ties[sub]
    if t.__class__ is not int:
        del t[0]
        if len(t) > 1:
            return
        if t:
            ties[sub] = t[0][1]
            return
    del ties[sub]
    heappop(fheap)
