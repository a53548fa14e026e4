"""The mutable state of one matching cycle: free resources per pool and per-shape cursors.

Theory of operation: the cycle flattens the offered agents into *slots* (one per pool) and
keeps the free amount of every resource a pending shape asks for in one column (a list
indexed by slot), in thousandths.  Each (shape, signature) met in the cycle gets a
:class:`Cursor` over the slots that pass the signature's static constraints, in strategy
order.  Free resources only shrink during a cycle and the dynamic constraints other than
GROUP_BY only get stricter, so a slot that cannot take a shape now never can later in the
same cycle: cursors only move forward, and a cursor that runs out is *dead* — every
remaining task of that shape and signature is unplaced without being looked at.

The cursor of a shape without constraints is the shape's *master*.  A constrained cursor
walks a subsequence of the master's order, so it first skips (by bisection on ranks)
everything before the master's position, which is known not to fit; a dynamic cursor shares
its static *lane* the same way.  Over a whole cycle that is about shapes x slots checks plus
one commit per placement, whatever the number of pending tasks.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from itertools import compress
from operator import and_
from typing import Any

from mesos_wm.matcher.constraints import Constraint, GroupCounts, Operator, field_value
from mesos_wm.matcher.fairness import share_increment
from mesos_wm.matcher.fitness import AgentView, Fitness, Strategy
from mesos_wm.matcher.offers import AgentCapacity, Pool
from mesos_wm.matcher.request import GPUS, MILLI, Shape, Signature, TaskRequest
from mesos_wm.matcher.result import Discrete, Placement
from mesos_wm.matcher.running import RunningIndex

NO_DISCRETE: Discrete = ()
_NO_SLOTS: list[Any] = []
_NO_LANES: dict[str, Any] = {}


def combo_key(shape: Shape, sig: Signature) -> int:
    """The key of (shape, signature) in a cycle's cursors (ints hash fastest)."""
    return (sig.index << 32) | shape.index
_new = tuple.__new__


class Cursor:
    """Where the next task of one (shape, signature) may go.

    ``fast`` cursors (bin packing, no dynamic constraint, no fitness) are advanced inline by
    the matcher and by :meth:`Cycle.walk`; the others through ``place``.
    """

    __slots__ = ("cands", "dead", "disc", "dyn", "fast", "group", "inc", "kind", "lane",
                 "lane_front", "lane_pos", "lanes", "master", "needs", "place", "pos", "rank_of",
                 "ranks", "shape", "sig", "skip", "tier2", "unschedulable")

    def __init__(self, shape: Shape, sig: Signature) -> None:
        self.shape = shape
        self.sig = sig
        self.needs: tuple[tuple[list[int], int], ...] = ()
        self.disc: tuple[tuple[str, int], ...] = ()
        self.cands: list[int] = _NO_SLOTS
        self.ranks: list[int] = _NO_SLOTS
        self.rank_of: list[int] = _NO_SLOTS
        self.tier2: list[int] | None = None
        self.pos = 0
        self.dead = False
        self.unschedulable = False
        self.fast = False
        self.kind = 0
        self.inc = 0.0
        self.dyn: tuple[Constraint, ...] = sig.dynamic
        self.group: GroupCounts | None = None
        self.lane: Cursor | None = None
        self.master: Cursor | None = None
        self.lanes: dict[str, list[int]] = _NO_LANES
        self.lane_pos: dict[str, int] = _NO_LANES
        self.lane_front: dict[str, int] = _NO_LANES
        self.place: Callable[[Cursor, str, bool], bool] = _never
        self.skip: list[int] | None = None


def _never(cursor: Cursor, key: str, grouped: bool) -> bool:
    return False


def skip_full(skip: list[int], pos: int) -> int:
    """The first position from ``pos`` on not known to be full, compressing the path.

    ``skip[p] != p`` marks position ``p`` of an order as full (no room for the smallest
    pending shape, so for none): ``skip[p]`` is a later position to look at instead.
    """
    top = skip[pos]
    while skip[top] != top:
        top = skip[top]
    while pos != top:
        pos, skip[pos] = skip[pos], top
    return top


class Cycle:
    """Free resources and cursors of one :meth:`Matcher.match` call."""

    def __init__(
        self,
        agents: list[AgentCapacity],
        shapes: list[Shape],
        *,
        strategy: Strategy,
        avoid_gpu: bool,
        running: RunningIndex,
        tasks: Mapping[str, tuple[TaskRequest, Any]],
        fitness: Fitness | None,
        fitness_window: int,
        never: Callable[[Shape, Signature], bool],
        drf_total: Mapping[str, int],
    ) -> None:
        self.agents = agents
        self.never = never
        self.drf_total = drf_total
        pools: list[Pool] = []
        slot_agent: list[int] = []
        for ai, agent in enumerate(agents):
            for pool in agent.pools:
                pools.append(pool)
                slot_agent.append(ai)
        self.pools = pools
        self.slot_agent = slot_agent
        self.slot_is_agent = all(len(agent.pools) == 1 for agent in agents)
        self.slot_owner = [agents[a] for a in slot_agent]
        self.kind: dict[str, str] = {}
        for pool in pools:
            if pool.ranges:
                for n in pool.ranges:
                    self.kind[n] = "ranges"
            if pool.sets:
                for n in pool.sets:
                    self.kind.setdefault(n, "set")
        names = {n for shape in shapes for n, _ in shape.items}
        self.cols: dict[str, list[int]] = {}
        for n in names:
            if n in self.kind:
                self.cols[n] = [p.count(n) * MILLI for p in pools]
            else:
                self.cols[n] = [p.scalars.get(n, 0) for p in pools]
        self.scale = {id(col): max(1, sum(col)) for col in self.cols.values()}
        self.free: list[dict[str, list[Any]] | None] = [None] * len(pools)
        gpu_agent = [False] * len(agents)
        for s, gpus in enumerate([p.scalars.get(GPUS, 0) for p in pools]):
            if gpus > 0:
                gpu_agent[slot_agent[s]] = True
        self.gpu = [gpu_agent[a] for a in slot_agent]
        self.any_gpu = any(self.gpu)
        self.strategy = strategy
        self.avoid_gpu = avoid_gpu and self.any_gpu
        self.running = running
        self.tasks = tasks
        self.fitness = fitness
        self.fitness_window = max(1, fitness_window)
        self.used = [False] * len(pools)
        self.placements: list[Placement] = []
        self.cursors: dict[int, Cursor] = {}
        self.groups: dict[str, GroupCounts] = {}
        self.group_fields: dict[str, set[str]] = {}
        self.group_sigs: dict[str, list[Signature]] = {}
        self._values: dict[str, list[str | None]] = {}
        self._static: dict[tuple[Signature, int], tuple[list[int], list[int]]] = {}
        self._admits: dict[Signature, list[bool]] = {}
        self.explained: dict[tuple[object, ...], int] = {}
        self._order_lanes: dict[tuple[int, str], tuple[
            dict[str, list[int]], dict[str, list[int]]]] = {}
        self._value_lanes: dict[tuple[Cursor, str], tuple[
            dict[str, list[int]], list[int], dict[str, int]]] = {}
        self.orders = self._orders()
        self.dead_cursor = Cursor(Shape(-1, ()), Signature(-1, (), None, None))
        self.dead_cursor.dead = True
        self.unschedulable_cursor = Cursor(self.dead_cursor.shape, self.dead_cursor.sig)
        self.unschedulable_cursor.dead = self.unschedulable_cursor.unschedulable = True
        self.front = [0, 0, 0]
        self.skips = [list(range(len(order) + 1)) for order, _ in self.orders]
        self.top: dict[str, int] = {}
        self._top_at = -1
        self._reach: dict[Shape, bool] = {}
        self.refresh_top()
        smallest = {n: min(self._need(n, s.amounts.get(n, 0)) for s in shapes) for n in names}
        self.floor = {n: m for n, m in sorted(smallest.items()) if m > 0}
        self.smallest = tuple((self.cols[n], m) for n, m in self.floor.items())

    def refresh_top(self) -> None:
        """Recompute the largest free amount per resource over all slots.

        Free amounts only shrink during a cycle, so :attr:`top` stays an upper bound until
        the next refresh: a shape needing more than it of any resource fits no slot.
        """
        placed = len(self.placements)
        if placed != self._top_at:
            self._top_at = placed
            self.top = {n: max(col, default=0) for n, col in self.cols.items()}
            self._reach.clear()

    def exhausted(self) -> bool:
        """True when no slot has room for even the smallest pending shape (the least of
        every resource all shapes ask for): every remaining task fails unexamined.

        Checked against :attr:`top` (refresh it first), then by moving the front of the
        plain order, which is shared with the cursors that walk that order.
        """
        top = self.top
        if any(top[n] < m for n, m in self.floor.items()):
            return True
        return self.advance_front(0) >= len(self.pools)

    def advance_front(self, kind: int) -> int:
        """Move the front of order ``kind`` past the slots where the smallest shape does
        not fit (they never will again this cycle); returns its position."""
        order = self.orders[kind][0]
        g = self.front[kind]
        smallest = self.smallest
        while g < len(order):
            s = order[g]
            for col, need in smallest:
                if col[s] < need:
                    break
            else:
                break
            g += 1
        self.front[kind] = g
        return g

    def out_of_reach(self, shape: Shape) -> bool:
        """True when no slot can have room for ``shape`` (checked against :attr:`top`)."""
        known = self._reach.get(shape)
        if known is None:
            top = self.top
            known = self._reach[shape] = any(
                self._need(n, m) > top[n] for n, m in shape.items)
        return known

    def _need(self, name: str, amount: int) -> int:
        return -(-amount // MILLI) * MILLI if name in self.kind else amount

    def _orders(self) -> list[tuple[list[int], list[int]]]:
        """Slot orders with their rank lists: plain, GPU slots last, GPU slots only.

        Both strategies start from the agents with the most free cpus (ties in agent id
        order): bin packing fills them one after the other, spread goes round robin.
        """
        cpus = [-p.scalars.get("cpus", 0) for p in self.pools]
        plain = sorted(range(len(self.pools)), key=cpus.__getitem__)
        gpu = self.gpu
        tiered = [s for s in plain if not gpu[s]] + [s for s in plain if gpu[s]]
        only = [s for s in plain if gpu[s]]
        out = []
        for order in (plain, tiered, only):
            rank = [0] * len(self.pools)
            for r, s in enumerate(order):
                rank[s] = r
            out.append((order, rank))
        return out

    def order_kind(self, shape: Shape) -> int:
        """Which of :attr:`orders` a shape walks: 2 GPU only, 1 GPU last, 0 plain."""
        if shape.gpu and self.any_gpu:
            return 2
        return 1 if self.avoid_gpu else 0

    def values(self, name: str) -> list[str | None]:
        """The value of field ``name`` per agent (not per slot)."""
        vals = self._values.get(name)
        if vals is None:
            vals = self._values[name] = [
                field_value(a.hostname, a.attributes, name) for a in self.agents]
        return vals

    def static_slots(self, sig: Signature, kind: int) -> tuple[list[int], list[int]]:
        """Slots of order ``kind`` that pass the static constraints and pin, with ranks."""
        known = self._static.get((sig, kind))
        if known is not None:
            return known
        order, rank = self.orders[kind]
        slots = order
        if sig.pin is not None or sig.static:
            ok = self.admitted_slots(sig)
            slots = list(compress(order, map(ok.__getitem__, order)))
        known = self._static[(sig, kind)] = (slots, list(map(rank.__getitem__, slots)))
        return known

    def admitted_slots(self, sig: Signature) -> list[bool]:
        """Per slot: does its agent pass the signature's static constraints and pin?"""
        known = self._admits.get(sig)
        if known is not None:
            return known
        agent_ok: list[bool] | None = None
        if sig.pin is not None:
            agent_ok = [a.agent_id == sig.pin for a in self.agents]
        for constraint in sig.static:
            vals = self.values(constraint.field)
            verdict = {v: constraint.accepts(v) for v in set(vals)}
            ok = map(verdict.__getitem__, vals)
            agent_ok = list(ok if agent_ok is None else map(and_, agent_ok, ok))
        if agent_ok is None:
            agent_ok = [True] * len(self.agents)
        if not self.slot_is_agent:
            agent_ok = list(map(agent_ok.__getitem__, self.slot_agent))
        self._admits[sig] = agent_ok
        return agent_ok

    def track_group(self, sig: Signature) -> None:
        """Count the placements of a dynamic signature's group from now on."""
        assert sig.group is not None
        self.group_sigs.setdefault(sig.group, []).append(sig)

    def group_state(self, group: str) -> GroupCounts:
        """Where the tasks of a tracked group run: running tasks, then this cycle's
        placements (made on first use)."""
        state = self.groups.get(group)
        if state is None:
            state = self.groups[group] = GroupCounts()
            fields = self.group_fields[group] = set()
            for sig in self.group_sigs[group]:
                for c in sig.dynamic:
                    if c.field not in fields:
                        fields.add(c.field)
                        state.counts[c.field] = self.running.group_counts(group, c.field)
        return state

    def cursor(self, shape: Shape, sig: Signature) -> Cursor:
        """The cursor of (shape, sig), made on first use."""
        ck = combo_key(shape, sig)
        cur = self.cursors.get(ck)
        if cur is not None:
            return cur
        if self.never(shape, sig):
            self.cursors[ck] = self.unschedulable_cursor
            return self.unschedulable_cursor
        if self.out_of_reach(shape) and self._settled(shape, sig):
            cursors = self.cursors
            top_ck = combo_key(shape, sig.master)
            if top_ck not in cursors:
                cursors[top_ck] = (self.unschedulable_cursor if self.never(shape, sig.master)
                                   else self.dead_cursor)
            for related in (sig.base, sig):
                cursors.setdefault(combo_key(shape, related), self.dead_cursor)
            return self.dead_cursor
        if sig.base is not sig:
            return self._dynamic_cursor(shape, sig)
        master = None
        if sig.master is not sig:
            master = self.cursor(shape, sig.master)
            if master.dead:
                self.cursors[ck] = self.dead_cursor
                return self.dead_cursor
        cur = self.cursors[ck] = Cursor(shape, sig)
        if master is not None:
            cur.needs, cur.disc, cur.inc = master.needs, master.disc, master.inc
        else:
            self._describe(cur, shape)
        kind = self.order_kind(shape)
        if self.fitness is None and self.strategy is Strategy.BINPACK:
            cur.fast = True
            cur.kind = kind
            cur.cands, cur.ranks = self.static_slots(sig, kind)
            cur.rank_of = self.orders[kind][1]
            cur.master = master
            if master is None and cur.cands is self.orders[kind][0]:
                cur.skip = self.skips[kind]
            cur.dead = not cur.cands or self.walk(cur) < 0
            return cur
        cands = [s for s in self.static_slots(sig, kind)[0] if self.room(cur, s)]
        if kind == 1:
            gpu = self.gpu
            cur.tier2 = [s for s in cands if gpu[s]] or None
            cands = [s for s in cands if not gpu[s]]
        cur.cands = cands
        cur.place = self._place_scored if self.fitness is not None else self._place_spread
        cur.dead = not cands and not cur.tier2
        return cur

    def _settled(self, shape: Shape, sig: Signature) -> bool:
        """For a shape out of reach: is the new cursor of (shape, sig) known to be dead
        without walking a live cursor it depends on?  (Walking it would mark that cursor
        dead too; skipping the walk must leave the cycle exactly as making the cursor.)"""
        cursors = self.cursors
        if sig.base is not sig:
            lane = cursors.get(combo_key(shape, sig.base))
            return lane.dead if lane is not None else self._settled(shape, sig.base)
        if sig.master is sig:
            return True
        master = cursors.get(combo_key(shape, sig.master))
        return master is None or master.dead

    def _describe(self, cur: Cursor, shape: Shape) -> None:
        needs = []
        disc = []
        for name, amount in shape.items:
            need = amount
            if name in self.kind:
                count = -(-amount // MILLI)
                disc.append((name, count))
                need = count * MILLI
            needs.append((self.cols[name], need))
        scale = self.scale
        needs.sort(key=lambda pair: -pair[1] / scale[id(pair[0])])
        cur.needs = tuple(needs)
        cur.disc = tuple(disc)
        cur.inc = share_increment(shape.items, self.drf_total)

    def _dynamic_cursor(self, shape: Shape, sig: Signature) -> Cursor:
        ck = combo_key(shape, sig)
        lane = self.cursor(shape, sig.base)
        if lane.unschedulable:
            self.cursors[ck] = lane
            return lane
        if lane.dead:
            self.cursors[ck] = self.dead_cursor
            return self.dead_cursor
        cur = self.cursors[ck] = Cursor(shape, sig)
        cur.lane = lane
        cur.needs = lane.needs
        cur.disc = lane.disc
        cur.inc = lane.inc
        assert sig.group is not None
        cur.group = self.group_state(sig.group)
        grouping = [c for c in sig.dynamic if c.operator is Operator.GROUP_BY]
        if lane.fast and not sig.groupby:
            cur.cands = lane.cands
            cur.pos = lane.pos
            cur.place = self._place_binpack_dynamic
        elif len(grouping) == 1:
            known = self._value_lanes.get((lane, grouping[0].field))
            if known is None and lane.skip is not None:
                shared, lane_ranks = self.order_lanes(lane.kind, grouping[0].field)
                ranks = self.orders[lane.kind][1]
                at = ranks[lane.cands[lane.pos]]
                known = self._value_lanes[(lane, grouping[0].field)] = (shared, ranks, {
                    v: bisect_left(r, at) for v, r in lane_ranks.items()})
            elif known is None:
                start = lane.pos if lane.fast else 0
                ordered = lane.cands[start:] + (lane.tier2 or [])
                vals = self.values(grouping[0].field)
                agent_of = self.slot_agent
                lanes: dict[str, list[int]] = {}
                for s in ordered:
                    value = vals[agent_of[s]]
                    if value is not None:
                        lanes.setdefault(value, []).append(s)
                ranks = [0] * len(self.pools)
                for r, s in enumerate(ordered):
                    ranks[s] = r
                known = self._value_lanes[(lane, grouping[0].field)] = (
                    lanes, ranks, dict.fromkeys(lanes, 0))
            cur.lanes, cur.ranks, cur.lane_front = known
            cur.lane_pos = dict.fromkeys(cur.lanes, 0)
            cur.place = self._place_group_by
        else:
            start = lane.pos if lane.fast else 0
            cur.cands = [s for s in lane.cands[start:] if self.room(cur, s)]
            cur.tier2 = [s for s in lane.tier2 or () if self.room(cur, s)] or None
            if lane.fast and self.order_kind(shape) == 1:
                gpu = self.gpu
                cur.tier2 = [s for s in cur.cands if gpu[s]] or None
                cur.cands = [s for s in cur.cands if not gpu[s]]
            cur.place = self._place_groupby if sig.groupby else lane.place
        cur.dead = lane.dead
        return cur

    def order_lanes(self, kind: int, name: str
                    ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """The slots of order ``kind`` split by the value of field ``name`` (in order, with
        their ranks); shared by the GROUP_BY cursors of every shape that walks the order."""
        known = self._order_lanes.get((kind, name))
        if known is None:
            order, rank = self.orders[kind]
            vals = self.values(name)
            agent_of = self.slot_agent
            lanes: dict[str, list[int]] = {}
            for s in order:
                value = vals[agent_of[s]]
                if value is not None:
                    lanes.setdefault(value, []).append(s)
            known = self._order_lanes[(kind, name)] = (lanes, {
                v: list(map(rank.__getitem__, slots)) for v, slots in lanes.items()})
        return known

    def room(self, cur: Cursor, s: int) -> bool:
        """True when slot ``s`` has room for one task of the cursor's shape."""
        return all(col[s] >= need for col, need in cur.needs)

    def walk(self, cur: Cursor) -> int:
        """Move a fast cursor to the first slot with room; -1 (and dead) when none."""
        pos = cur.pos
        master = cur.master
        if master is not None:
            if master.dead or self.walk(master) < 0:
                cur.dead = True
                return -1
            front = cur.rank_of[master.cands[master.pos]]
            if pos < len(cur.ranks) and cur.ranks[pos] < front:
                pos = bisect_left(cur.ranks, front, pos)
        else:
            order = self.orders[cur.kind][0]
            g = self.front[cur.kind]
            smallest = self.smallest
            while g < len(order):
                s = order[g]
                for col, need in smallest:
                    if col[s] < need:
                        break
                else:
                    break
                g += 1
            self.front[cur.kind] = g
            if pos < g and cur.cands is order:
                pos = g
            if cur.skip is not None:
                return self._walk_open(cur, pos)
        cands = cur.cands
        end = len(cands)
        needs = cur.needs
        first, least = needs[0] if needs else (_NO_SLOTS, 0)
        while pos < end:
            s = cands[pos]
            if not needs or first[s] >= least:
                for col, need in needs:
                    if col[s] < need:
                        break
                else:
                    cur.pos = pos
                    return s
            pos += 1
        cur.pos = pos
        cur.dead = True
        return -1

    def _walk_open(self, cur: Cursor, pos: int) -> int:
        """:meth:`walk` of a cursor over a whole order: full slots are skipped in runs."""
        order = cur.cands
        end = len(order)
        needs = cur.needs
        smallest = self.smallest
        skip = cur.skip
        assert skip is not None
        while pos < end:
            if skip[pos] != pos:
                pos = skip_full(skip, pos)
                continue
            s = order[pos]
            for col, need in needs:
                if col[s] < need:
                    break
            else:
                cur.pos = pos
                return s
            for col, need in smallest:
                if col[s] < need:
                    skip[pos] = pos + 1
                    break
            pos += 1
        cur.pos = pos
        cur.dead = True
        return -1

    def _fits(self, cur: Cursor, s: int) -> bool:
        for col, need in cur.needs:
            if col[s] < need:
                return False
        if cur.dyn:
            assert cur.group is not None
            a = self.slot_agent[s]
            for c in cur.dyn:
                if not c.admits(self.values(c.field)[a], cur.group):
                    return False
        return True

    def commit(self, cur: Cursor, s: int, key: str, grouped: bool) -> None:
        """Place task ``key`` of the cursor's shape on slot ``s``."""
        for col, need in cur.needs:
            col[s] -= need
        self.used[s] = True
        disc = self.take(s, cur.disc) if cur.disc else NO_DISCRETE
        self.placements.append(_new(Placement, (key, self.slot_owner[s], self.pools[s],
                                                cur.shape, disc)))
        group = cur.sig.group
        if group is None and grouped and self.group_sigs:
            group = self.tasks[key][0].group
        if group is not None and group in self.group_sigs:
            self.count_in_group(group, s)

    def count_in_group(self, group: str, s: int) -> None:
        """Count a task of ``group`` placed on slot ``s`` for the dynamic constraints."""
        counts = self.group_state(group).counts
        a = self.slot_agent[s]
        for name in self.group_fields[group]:
            value = self.values(name)[a]
            if value is not None:
                per = counts[name]
                per[value] = per.get(value, 0) + 1

    def take(self, s: int, disc: tuple[tuple[str, int], ...]) -> Discrete:
        """Choose port numbers (and set items) on slot ``s``, lowest first."""
        free = self.free[s]
        if free is None:
            pool = self.pools[s]
            free = self.free[s] = {}
            for n, spans in pool.ranges.items():
                free[n] = [x for b, e in reversed(spans) for x in (e, b)]
            for n, items in pool.sets.items():
                free[n] = list(reversed(items))
        if len(disc) == 1:
            name, count = disc[0]
            stack = free[name]
            if stack and self.kind[name] == "ranges":
                b = stack[-1]
                if b + count <= stack[-2]:
                    stack[-1] = b + count
                    return ((name, tuple(range(b, b + count))),)
        out = []
        for name, wanted in disc:
            stack = free[name]
            chosen: list[Any] = []
            count = wanted
            if self.kind[name] == "ranges":
                while count:
                    b, e = stack[-1], stack[-2]
                    step = min(count, e - b + 1)
                    chosen.extend(range(b, b + step))
                    count -= step
                    if b + step > e:
                        del stack[-2:]
                    else:
                        stack[-1] = b + step
            else:
                chosen = stack[-count:][::-1]
                del stack[-count:]
            out.append((name, tuple(chosen)))
        return tuple(out)

    def _place_binpack_dynamic(self, cur: Cursor, key: str, grouped: bool) -> bool:
        lane = cur.lane
        assert lane is not None
        if lane.dead or self.walk(lane) < 0:
            cur.dead = True
            return False
        cands = cur.cands
        end = len(cands)
        front = lane.pos
        pos = max(cur.pos, front)
        while pos < end:
            s = cands[pos]
            if not self.room(cur, s):
                if pos == front:
                    front += 1
            elif self._fits(cur, s):
                lane.pos = front
                cur.pos = pos
                self.commit(cur, s, key, grouped)
                return True
            pos += 1
        lane.pos = front
        cur.pos = pos
        cur.dead = True
        return False

    def _place_spread(self, cur: Cursor, key: str, grouped: bool) -> bool:
        while True:
            ring = cur.cands
            if not ring:
                if cur.tier2 is None:
                    cur.dead = True
                    return False
                cur.cands, cur.tier2, cur.pos = cur.tier2, None, 0
                continue
            pos = cur.pos if cur.pos < len(ring) else 0
            s = ring[pos]
            if self._fits(cur, s):
                self.commit(cur, s, key, grouped)
                cur.pos = pos + 1
                return True
            del ring[pos]
            cur.pos = pos

    def _place_scored(self, cur: Cursor, key: str, grouped: bool) -> bool:
        assert self.fitness is not None
        while True:
            cands = cur.cands
            pos = cur.pos
            found: list[int] = []
            i = pos
            while i < len(cands) and len(found) < self.fitness_window:
                s = cands[i]
                if self._fits(cur, s):
                    found.append(s)
                elif i == pos:
                    pos += 1
                i += 1
            cur.pos = pos
            if found:
                break
            if cur.tier2 is None:
                cur.dead = True
                return False
            cur.cands, cur.tier2, cur.pos = cur.tier2, None, 0
        task = self.tasks[key][0]
        best, best_score = found[0], float("-inf")
        for s in found:
            score = self.fitness.score(task, self.view(s))
            if score > best_score:
                best, best_score = s, score
        self.commit(cur, best, key, grouped)
        return True

    def _place_group_by(self, cur: Cursor, key: str, grouped: bool) -> bool:
        """GROUP_BY over one field: one lane of slots per value, each walked forward."""
        group = cur.group
        assert group is not None
        grouping = next(c for c in cur.dyn if c.operator is Operator.GROUP_BY)
        others = [c for c in cur.dyn if c is not grouping]
        agent_of = self.slot_agent
        live: list[str] = []
        needs = cur.needs
        lane_pos = cur.lane_pos
        front = cur.lane_front
        for value, slots in cur.lanes.items():
            shared = front[value]
            p = max(lane_pos[value], shared)
            while p < len(slots):
                s = slots[p]
                for col, need in needs:
                    if col[s] < need:
                        if p == shared:
                            shared += 1
                        break
                else:
                    if not others or all(
                            c.admits(self.values(c.field)[agent_of[s]], group) for c in others):
                        break
                p += 1
            front[value] = shared
            lane_pos[value] = p
            if p < len(slots):
                live.append(value)
        group.candidates[grouping.field] = frozenset(live)
        best = -1
        for value in live:
            s = cur.lanes[value][cur.lane_pos[value]]
            if (best < 0 or cur.ranks[s] < cur.ranks[best]) and grouping.admits(value, group):
                best = s
        if best < 0:
            cur.dead = True
            return False
        self.commit(cur, best, key, grouped)
        return True

    def _place_groupby(self, cur: Cursor, key: str, grouped: bool) -> bool:
        group = cur.group
        assert group is not None
        grouping = [c for c in cur.dyn if c.operator is Operator.GROUP_BY]
        others = [c for c in cur.dyn if c.operator is not Operator.GROUP_BY]
        agent_of = self.slot_agent
        fit: list[int] = []
        for tier in (cur.cands, cur.tier2 or []):
            tier[:] = [s for s in tier if self.room(cur, s)]
            fit += [s for s in tier if all(
                c.admits(self.values(c.field)[agent_of[s]], group) for c in others)]
        for c in grouping:
            vals = self.values(c.field)
            group.candidates[c.field] = frozenset(
                v for s in fit if (v := vals[agent_of[s]]) is not None)
        for s in fit:
            a = agent_of[s]
            if all(c.admits(self.values(c.field)[a], group) for c in grouping):
                self.commit(cur, s, key, grouped)
                return True
        cur.dead = True
        return False

    def view(self, s: int) -> AgentView:
        """A read-only view of slot ``s`` for fitness functions."""
        return AgentView(self.slot_owner[s], self.pools[s], self.cols, s)
