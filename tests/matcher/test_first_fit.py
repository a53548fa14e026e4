"""Bin packing is exactly first fit, however the cycle skips slots; and levels after the
cluster is full are settled with the right reasons without examining their tasks.

The oracle is a plain first-fit loop written here: tasks in submit order, agents with the
most free cpus first (ties by agent id), each task on the first agent with room.  The
matcher gets there through per-shape cursors, marks on full slots and look-ahead
windows; with one owner and one priority level the two must agree task for task.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.matcher import Matcher, TaskRequest
from mesos_wm.matcher._full import FullSlots
from mesos_wm.matcher._needs import Needs

from .builders import index_of, make_offer, offer, reasons, task


def first_fit(agents: list[tuple[str, int, int]], tasks: list[TaskRequest]
              ) -> dict[str, str]:
    """Reference placements: task key -> agent id (cpus and mem in thousandths)."""
    order = sorted(agents, key=lambda a: -a[1])
    free = {a: [c, m] for a, c, m in order}
    out = {}
    for t in tasks:
        need_c = round(t.resources.get("cpus", 0) * 1000)
        need_m = round(t.resources.get("mem", 0) * 1000)
        for agent_id, _, _ in order:
            room = free[agent_id]
            if room[0] >= need_c and room[1] >= need_m:
                room[0] -= need_c
                room[1] -= need_m
                out[t.key] = agent_id
                break
    return out


SHAPES = [(0.5, 256), (1, 512), (1, 2048), (2, 1024), (3, 4096), (4, 512), (8, 8192)]


@st.composite
def cluster_st(draw: st.DrawFn) -> tuple[list[tuple[str, int, int]], list[TaskRequest]]:
    agents = []
    for i in range(draw(st.integers(1, 12))):
        cpus = draw(st.sampled_from([1, 2, 4, 8, 12, 16]))
        mem = cpus * draw(st.sampled_from([512, 1024, 4096]))
        agents.append((f"a{i:02d}", cpus * 1000, mem * 1000))
    tasks = []
    for i in range(draw(st.integers(0, 80))):
        need_cpus, need_mem = draw(st.sampled_from(SHAPES))
        tasks.append(TaskRequest(f"t{i:03d}", {"cpus": need_cpus, "mem": need_mem},
                                 submitted=float(i)))
    return agents, tasks


@settings(max_examples=150, deadline=None)
@given(cluster_st())
def test_binpack_places_like_first_fit(case: tuple[list[tuple[str, int, int]],
                                                   list[TaskRequest]]) -> None:
    agents, tasks = case
    matcher = Matcher(drf_quantum=0)
    offers = [matcher.parse_offer(make_offer(c / 1000, m / 1000, agent=a, hostname=a))
              for a, c, m in agents]
    result = matcher.match(offers, index_of(tasks))
    assert {p.task_key: p.agent_id for p in result.placements} == first_fit(agents, tasks)
    assert [p.task_key for p in result.placements] == sorted(
        first_fit(agents, tasks), key=lambda k: int(k[1:]))


def test_levels_after_the_cluster_is_full_are_settled_unexamined() -> None:
    high = [task(f"h{i}", 2, 256, priority=2, submitted=i) for i in range(4)]
    low: list[Any] = [
        task("small", 1, 256, priority=1, submitted=10),
        task("huge", 64, 256, priority=1, submitted=11),
        task("rack", 1, 256, priority=0, submitted=12, constraints=[["rack", "EQ", "r2"]]),
        task("sweep", 1, 256, priority=0, submitted=13, group="g",
             constraints=[["rack", "GROUP_BY"]]),
    ]
    offers = [offer(4, 4096, agent="a", attributes={"rack": "r1"}),
              offer(4, 4096, agent="b", attributes={"rack": "r2"})]
    result = Matcher().match(offers, index_of(high + low))
    assert sorted(p.task_key for p in result.placements) == ["h0", "h1", "h2", "h3"]
    assert result.stats.examined == 4
    assert reasons(result) == {
        "small": "insufficient cpus on 2 agents",
        "huge": "needs cpus 64, the largest agent seen has 4",
        "rack": "insufficient cpus on 2 agents; rack EQ r2 failed on 1 agent",
        "sweep": "insufficient cpus on 2 agents",
    }
    assert {k for g in result.unplaced if g.unschedulable for k in g.task_keys} == {"huge"}


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 70).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.integers(0, max(n - 1, 0)), max_size=80),
    st.integers(0, n))))
def test_full_slots_find_the_first_unmarked_position(case: tuple[int, list[int], int]) -> None:
    n, marks, start = case
    full = FullSlots(n)
    for pos in marks if n else []:
        full.mark(pos)
    marked = set(marks) if n else set()
    expected = next((p for p in range(start, n) if p not in marked), n)
    assert full.next_open(start) == expected
    assert [full.marked[p] for p in range(n)] == [p in marked for p in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=0, max_size=6),
       st.lists(st.lists(st.integers(0, 12), min_size=6, max_size=6), min_size=3, max_size=3))
def test_needs_fit_and_take_every_pair_beyond_the_first_three(
        amounts: list[int], free: list[list[int]]) -> None:
    columns = [[free[s][i] for s in range(3)] for i in range(len(amounts))]
    needs = Needs(list(zip(columns, amounts, strict=True)), [0, 0, 0])
    for s in range(3):
        room = all(col[s] >= a for col, a in zip(columns, amounts, strict=True))
        assert needs.fit(s) == room
        if room:
            before = [col[s] for col in columns]
            needs.take(s)
            assert [col[s] for col in columns] == [
                b - a for b, a in zip(before, amounts, strict=True)]
