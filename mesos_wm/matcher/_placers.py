"""How the cursors that need more than a first fit place a task.

Spread goes round robin over its candidate slots, a fitness scores the next
``fitness_window`` candidates, and dynamic constraints (UNIQUE, CLUSTER, GROUP_BY,
MAX_PER) are checked against the cycle's group counts before a slot is taken; GROUP_BY over
one field walks one lane of slots per value.  Each function takes the cycle, the cursor
and the task's key, places the task and returns True, or marks the cursor dead and returns
False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mesos_wm.matcher._dynamic import admits_dynamic, spread_bound
from mesos_wm.matcher.constraints import GroupCounts

if TYPE_CHECKING:
    from mesos_wm.matcher._cycle import Cycle
    from mesos_wm.matcher._state import Cursor
    from mesos_wm.matcher.request import Check

_NO_COUNTS: Final[dict[str, int]] = {}
_NO_VALUES: Final[frozenset[str]] = frozenset()


def admits(cycle: Cycle, check: Check, a: int, group: GroupCounts) -> bool:
    """Does agent ``a`` pass one dynamic constraint, given where the group runs?"""
    operator, number, field = check
    return admits_dynamic(operator, number, cycle.values(field)[a],
                          group.counts.get(field, _NO_COUNTS),
                          group.candidates.get(field, _NO_VALUES))


def fits(cycle: Cycle, cur: Cursor, s: int) -> bool:
    """True when slot ``s`` has room for the cursor's shape and passes its dynamic constraints."""
    if not cur.needs.fit(s):
        return False
    if cur.checks:
        group = cur.group
        assert group is not None
        a = cycle.slot_agent[s]
        for check in cur.checks:
            if not admits(cycle, check, a, group):
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
    grouping = next(check for check in cur.checks if check[0] == "GROUP_BY")
    others = [check for check in cur.checks if check[0] != "GROUP_BY"]
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
            if not needs.fit(s):
                if p == shared:
                    shared += 1
            elif not others or all(
                    admits(cycle, check, agent_of[s], group) for check in others):
                break
            p += 1
        front[value] = shared
        lane_pos[value] = p
        if p < len(slots):
            live.append(value)
    _, number, field = grouping
    group.candidates[field] = frozenset(live)
    counts = group.counts.get(field, _NO_COUNTS)
    bound = spread_bound(number, counts, group.candidates[field])
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
    grouping = [check for check in cur.checks if check[0] == "GROUP_BY"]
    others = [check for check in cur.checks if check[0] != "GROUP_BY"]
    agent_of = cycle.slot_agent
    fit: list[int] = []
    for tier in (cur.cands, cur.tier2 or []):
        tier[:] = [s for s in tier if cycle.room(cur, s)]
        fit += [s for s in tier if all(
            admits(cycle, check, agent_of[s], group) for check in others)]
    for _, _, field in grouping:
        vals = cycle.values(field)
        group.candidates[field] = frozenset(
            v for s in fit if (v := vals[agent_of[s]]) is not None)
    for s in fit:
        a = agent_of[s]
        if all(admits(cycle, check, a, group) for check in grouping):
            cycle.commit(cur, s, key, grouped)
            return True
    cur.dead = True
    return False
