"""Cursors of one matching cycle: where the next task of each shape and signature may go.

Theory of operation: each (shape, signature) met in the cycle gets a :class:`Cursor` over
the slots that pass the signature's static constraints, in strategy order (see
``_state``).  Free resources only shrink during a cycle and the dynamic constraints other
than GROUP_BY only get stricter, so a slot that cannot take a shape now never can later in
the same cycle: cursors only move forward, and a cursor that runs out is *dead* — every
remaining task of that shape and signature is unplaced without being looked at.

The cursor of a shape without constraints is the shape's *master*; it walks a whole order
and skips the runs of full slots.  A constrained cursor walks a subsequence of the master's
order, so it first skips (by bisection on ranks) everything before the master's position,
which is known not to fit; a dynamic cursor shares its static *lane* the same way.  Over a
whole cycle that is about shapes x slots checks plus one commit per placement, whatever the
number of pending tasks.  Cursors that need more than a first fit (spread, a fitness,
dynamic constraints) place through the strategies of ``_placers``.
"""

from __future__ import annotations

from itertools import chain

from mesos_wm.matcher._needs import Needs
from mesos_wm.matcher._placers import (
    place_binpack_dynamic,
    place_group_by,
    place_groupby,
    place_scored,
    place_spread,
)
from mesos_wm.matcher._state import (
    Cursor,
    CycleState,
    combo_key,
    first_at_least,
)
from mesos_wm.matcher._usage import drf_amounts
from mesos_wm.matcher.fairness import share_increment
from mesos_wm.matcher.request import MILLI, Shape, Signature

__all__ = ["Cursor", "Cycle"]


class Cycle(CycleState):
    """Free resources and cursors of one :meth:`Matcher.match` call."""

    def cursor(self, shape: Shape, sig: Signature) -> Cursor:
        """The cursor of (shape, sig), made on first use."""
        ck = combo_key(shape, sig)
        cur = self.cursors.get(ck)
        if cur is not None:
            return cur
        if self.never.check(shape, sig):
            self.cursors[ck] = self.unschedulable_cursor
            return self.unschedulable_cursor
        if self.out_of_reach(shape) and self._settled(shape, sig):
            cursors = self.cursors
            top_ck = combo_key(shape, sig.master)
            if top_ck not in cursors:
                cursors[top_ck] = (self.unschedulable_cursor if self.never.check(shape, sig.master)
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
            cur.needs, cur.disc = master.needs, master.disc
            cur.inc, cur.drf = master.inc, master.drf
        else:
            self._describe(cur, shape)
        kind = self.order_kind(shape)
        if self.first_fit:
            cur.fast = True
            cur.kind = kind
            cur.cands, cur.ranks = self.static_slots(sig, kind)
            cur.rank_of = self.orders[kind][1]
            cur.master = master
            if master is None and cur.cands is self.orders[kind][0]:
                cur.full = self.full_slots(kind)
            cur.dead = not cur.cands or self.walk(cur) < 0
            return cur
        cands = [s for s in self.static_slots(sig, kind)[0] if self.room(cur, s)]
        if kind == 1:
            gpu = self.gpu
            cur.tier2 = [s for s in cands if gpu[s]] or None
            cands = [s for s in cands if not gpu[s]]
        cur.cands = cands
        cur.place = place_scored if self.fitness is not None else place_spread
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
        cur.needs = Needs(needs, self.zero)
        cur.disc = tuple(disc)
        cur.inc = share_increment(shape.items, self.drf_total)
        cur.drf = drf_amounts(shape.amounts, self.drf_total)

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
        cur.drf = lane.drf
        assert sig.group is not None
        cur.group = self.group_state(sig.group)
        grouping = [field for op, _, field in sig.checks if op == "GROUP_BY"]
        if lane.fast and not sig.groupby:
            cur.cands = lane.cands
            cur.pos = lane.pos
            cur.place = place_binpack_dynamic
        elif len(grouping) == 1:
            known = self._value_lanes.get((lane, grouping[0]))
            if known is None and lane.full is not None:
                shared, lane_ranks = self.order_lanes(lane.kind, grouping[0])
                ranks = self.orders[lane.kind][1]
                at = ranks[lane.cands[lane.pos]]
                known = self._value_lanes[(lane, grouping[0])] = (shared, ranks, {
                    v: first_at_least(r, at, 0) for v, r in lane_ranks.items()})
            elif known is None:
                start = lane.pos if lane.fast else 0
                ordered = lane.cands[start:] + (lane.tier2 or [])
                lanes = self.split_by_value(ordered, grouping[0])
                ranks = [0] * len(self.pools)
                for r, s in enumerate(ordered):
                    ranks[s] = r
                known = self._value_lanes[(lane, grouping[0])] = (
                    lanes, ranks, dict.fromkeys(lanes, 0))
            cur.lanes, cur.ranks, cur.lane_front = known
            cur.lane_pos = dict.fromkeys(cur.lanes, 0)
            cur.place = place_group_by
        else:
            start = lane.pos if lane.fast else 0
            cur.cands = [s for s in lane.cands[start:] if self.room(cur, s)]
            cur.tier2 = [s for s in lane.tier2 or () if self.room(cur, s)] or None
            if lane.fast and self.order_kind(shape) == 1:
                gpu = self.gpu
                cur.tier2 = [s for s in cur.cands if gpu[s]] or None
                cur.cands = [s for s in cur.cands if not gpu[s]]
            cur.place = place_groupby if sig.groupby else lane.place
        cur.dead = lane.dead
        return cur

    def static_slots(self, sig: Signature, kind: int) -> tuple[list[int], list[int]]:
        """Slots of order ``kind`` that pass the static constraints and pin, with ranks.

        A single selective constraint (``rack EQ r1``) gathers the slots of the values it
        accepts from :meth:`order_lanes` instead of filtering the whole order.
        """
        known = self._static.get((sig, kind))
        if known is not None:
            return known
        order, rank = self.orders[kind]
        slots = order
        if sig.pin is None and len(sig.static) == 1 and not sig.accepts(0, None):
            lane_ranks = self.order_lanes(kind, sig.static[0].field)[1]
            good = [r for v, r in lane_ranks.items() if sig.accepts(0, v)]
            if sum(map(len, good)) * 4 < len(order):
                ranks = sorted(chain.from_iterable(good))
                known = self._static[(sig, kind)] = ([order[r] for r in ranks], ranks)
                return known
        if sig.pin is not None or sig.static:
            ok = self.admitted_slots(sig)
            slots = [s for s in order if ok[s]]
        ranks = self.positions[:len(order)] if slots is order else [rank[s] for s in slots]
        known = self._static[(sig, kind)] = (slots, ranks)
        return known

    def admitted_slots(self, sig: Signature) -> list[bool]:
        """Per slot: does its agent pass the signature's static constraints and pin?"""
        known = self._admits.get(sig)
        if known is not None:
            return known
        agent_ok: list[bool] | None = None
        if sig.pin is not None:
            agent_ok = [a.agent_id == sig.pin for a in self.agents]
        for i, constraint in enumerate(sig.static):
            vals = self.values(constraint.field)
            verdict = {v: sig.accepts(i, v) for v in set(vals)}
            if agent_ok is None:
                agent_ok = [verdict[v] for v in vals]
            else:
                agent_ok = [verdict[v] and ok for v, ok in zip(vals, agent_ok, strict=True)]
        if agent_ok is None:
            agent_ok = [True] * len(self.agents)
        if not self.slot_is_agent:
            agent_ok = [agent_ok[a] for a in self.slot_agent]
        self._admits[sig] = agent_ok
        return agent_ok


    def order_lanes(self, kind: int, name: str
                    ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """The slots of order ``kind`` split by the value of field ``name`` (in order, with
        their ranks); shared by the GROUP_BY cursors of every shape that walks the order."""
        known = self._order_lanes.get((kind, name))
        if known is None:
            order, rank = self.orders[kind]
            lanes = self.split_by_value(order, name)
            known = self._order_lanes[(kind, name)] = (lanes, {
                v: [rank[s] for s in slots] for v, slots in lanes.items()})
        return known


    def room(self, cur: Cursor, s: int) -> bool:
        """True when slot ``s`` has room for one task of the cursor's shape."""
        return cur.needs.fit(s)

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
                pos = first_at_least(cur.ranks, front, pos)
        else:
            order = self.orders[cur.kind][0]
            g = self.advance_front(cur.kind)
            if pos < g and cur.cands is order:
                pos = g
            if cur.full is not None:
                return self._walk_open(cur, pos)
        cands = cur.cands
        end = len(cands)
        needs = cur.needs
        while pos < end:
            s = cands[pos]
            if needs.fit(s):
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
        full = cur.full
        assert full is not None
        marked = full.marked
        while pos < end:
            if marked[pos]:
                pos = full.next_open(pos)
                continue
            s = order[pos]
            if needs.fit(s):
                cur.pos = pos
                return s
            if not smallest.fit(s):
                full.mark(pos)
            pos += 1
        cur.pos = pos
        cur.dead = True
        return -1
