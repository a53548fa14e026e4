"""How the cursors that need more than a first fit place a task.

Spread goes round robin over its candidate slots, a fitness scores the next
``fitness_window`` candidates, and dynamic constraints (UNIQUE, CLUSTER, GROUP_BY,
MAX_PER) are checked against the cycle's group counts before a slot is taken; GROUP_BY over
one field walks one lane of slots per value.  Each function takes the cycle, the cursor
and the task's key, places the task and returns True, or marks the cursor dead and returns
False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesos_wm.matcher.constraints import Operator

if TYPE_CHECKING:
    from mesos_wm.matcher._cycle import Cycle
    from mesos_wm.matcher._state import Cursor


def fits(cycle: Cycle, cur: Cursor, s: int) -> bool:
    """True when slot ``s`` has room for the cursor's shape and passes its dynamic constraints."""
    for col, need in cur.needs:
        if col[s] < need:
            return False
    if cur.dyn:
        assert cur.group is not None
        a = cycle.slot_agent[s]
        for c in cur.dyn:
            if not c.admits(cycle.values(c.field)[a], cur.group):
                return False
    return True


def place_binpack_dynamic(cycle: Cycle, cur: Cursor, key: str, grouped: bool) -> bool:
    """First fit along the static lane, checking the dynamic constraints (not GROUP_BY)."""
    lane = cur.lane
    assert lane is not None
    if lane.dead or cycle.walk(lane) < 0:
        cur.dead = True
        return False
    cands = cur.cands
    end = len(cands)
    front = lane.pos
    pos = max(cur.pos, front)
    while pos < end:
        s = cands[pos]
        if not cycle.room(cur, s):
            if pos == front:
                front += 1
        elif fits(cycle, cur, s):
            lane.pos = front
            cur.pos = pos
            cycle.commit(cur, s, key, grouped)
            return True
        pos += 1
    lane.pos = front
    cur.pos = pos
    cur.dead = True
    return False


def place_spread(cycle: Cycle, cur: Cursor, key: str, grouped: bool) -> bool:
    """Round robin over the candidate slots; GPU slots only when the others are full."""
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
        if fits(cycle, cur, s):
            cycle.commit(cur, s, key, grouped)
            cur.pos = pos + 1
            return True
        del ring[pos]
        cur.pos = pos


def place_scored(cycle: Cycle, cur: Cursor, key: str, grouped: bool) -> bool:
    """The best-scored of the next ``fitness_window`` candidate slots."""
    assert cycle.fitness is not None
    while True:
        cands = cur.cands
        pos = cur.pos
        found: list[int] = []
        i = pos
        while i < len(cands) and len(found) < cycle.fitness_window:
            s = cands[i]
            if fits(cycle, cur, s):
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
    task = cycle.tasks[key][0]
    best, best_score = found[0], float("-inf")
    for s in found:
        score = cycle.fitness.score(task, cycle.view(s))
        if score > best_score:
            best, best_score = s, score
    cycle.commit(cur, best, key, grouped)
    return True


def place_group_by(cycle: Cycle, cur: Cursor, key: str, grouped: bool) -> bool:
    """GROUP_BY over one field: one lane of slots per value, each walked forward."""
    group = cur.group
    assert group is not None
    grouping = next(c for c in cur.dyn if c.operator is Operator.GROUP_BY)
    others = [c for c in cur.dyn if c is not grouping]
    agent_of = cycle.slot_agent
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
                        c.admits(cycle.values(c.field)[agent_of[s]], group) for c in others):
                    break
            p += 1
        front[value] = shared
        lane_pos[value] = p
        if p < len(slots):
            live.append(value)
    group.candidates[grouping.field] = frozenset(live)
    bound = grouping.spread_bound(group)
    counts = group.counts.get(grouping.field, {})
    ranks = cur.ranks
    best = -1
    for value in live:
        s = cur.lanes[value][lane_pos[value]]
        if (best < 0 or ranks[s] < ranks[best]) and (
                bound is None or counts.get(value, 0) <= bound):
            best = s
    if best < 0:
        cur.dead = True
        return False
    cycle.commit(cur, best, key, grouped)
    return True


def place_groupby(cycle: Cycle, cur: Cursor, key: str, grouped: bool) -> bool:
    """GROUP_BY over several fields: every candidate slot is looked at, every time."""
    group = cur.group
    assert group is not None
    grouping = [c for c in cur.dyn if c.operator is Operator.GROUP_BY]
    others = [c for c in cur.dyn if c.operator is not Operator.GROUP_BY]
    agent_of = cycle.slot_agent
    fit: list[int] = []
    for tier in (cur.cands, cur.tier2 or []):
        tier[:] = [s for s in tier if cycle.room(cur, s)]
        fit += [s for s in tier if all(
            c.admits(cycle.values(c.field)[agent_of[s]], group) for c in others)]
    for c in grouping:
        vals = cycle.values(c.field)
        group.candidates[c.field] = frozenset(
            v for s in fit if (v := vals[agent_of[s]]) is not None)
    for s in fit:
        a = agent_of[s]
        if all(c.admits(cycle.values(c.field)[a], group) for c in grouping):
            cycle.commit(cur, s, key, grouped)
            return True
    cur.dead = True
    return False
