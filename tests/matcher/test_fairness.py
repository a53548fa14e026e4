"""Order of placement: priority, dominant resource fairness, submit order, no head-of-line
blocking."""

from __future__ import annotations

import random

import pytest

from mesos_wm.matcher import Matcher, RunningIndex, TaskRequest, dominant_share
from mesos_wm.matcher._usage import Usage, drf_amounts

from .builders import index_of, offer, placed, run, task


def test_higher_priority_wins_even_when_submitted_later() -> None:
    tasks = [task("low", 2, 1024, priority=1, submitted=1),
             task("high", 2, 1024, priority=9, submitted=2)]
    result = run([offer(2, 2048, agent="a")], tasks)
    assert placed(result) == {"high": "a"}


def test_submit_order_within_an_owner_across_shapes() -> None:
    tasks = [task("c", 1, 300, submitted=3), task("a", 2, 100, submitted=1),
             task("b", 1, 200, submitted=2), task("d", 2, 100, submitted=3),
             task("e", 1, 300, submitted=3)]
    result = run([offer(16, 16384, agent="a")], tasks)
    assert [p.task_key for p in result.placements] == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("seed", range(20))
def test_the_walks_usage_counts_shares_like_dominant_share(seed: int) -> None:
    rng = random.Random(seed)
    names = ("cpus", "mem", "disk", "gpus")
    total = {n: rng.randrange(1, 10**9) for n in names if rng.random() < 0.8}
    base = {n: rng.randrange(0, 10**6) for n in names if rng.random() < 0.7}
    usage = Usage(drf_amounts(base, total))
    expected = {n: float(base.get(n, 0)) for n in names}
    for _ in range(50):
        added = {n: rng.randrange(0, 10**5) for n in names}
        amounts = drf_amounts(added, total)
        usage.add(*amounts)
        for n in names:
            expected[n] += added[n]
    totals = drf_amounts(total, total)
    assert usage.share(totals) == dominant_share(expected, total)
    assert drf_amounts(added, total) == tuple(
        float(added[n]) if n in total else 0.0 for n in names)


def test_the_drf_paper_example() -> None:
    """Ghodsi et al.: 9 cpus, 18 GB; A's tasks <1 cpu, 4 GB>, B's <3 cpus, 1 GB>."""
    tasks = [task(f"a{i}", 1, 4096, owner="A", submitted=i) for i in range(6)]
    tasks += [task(f"b{i}", 3, 1024, owner="B", submitted=i) for i in range(6)]
    result = run([offer(9, 18432, agent="x")], tasks, drf_quantum=0)
    assert [p.task_key for p in result.placements] == ["a0", "b0", "a1", "b1", "a2"]
    total = {"cpus": 9.0, "mem": 18432.0}
    a_use = {"cpus": 3.0, "mem": 3 * 4096.0}
    b_use = {"cpus": 6.0, "mem": 2 * 1024.0}
    assert dominant_share(a_use, total) == pytest.approx(2 / 3)
    assert dominant_share(b_use, total) == pytest.approx(2 / 3)


def reference_drf(tasks: list[TaskRequest], capacity: dict[str, float],
                  usage: dict[str, dict[str, float]]) -> list[str]:
    """Task-by-task DRF on one agent: lowest (share, owner) first, submit order within."""
    free = dict(capacity)
    queues: dict[str, list[TaskRequest]] = {}
    for t in sorted(tasks, key=lambda t: (t.submitted, t.key)):
        queues.setdefault(t.owner, []).append(t)
    order = []
    total = {n: capacity[n] + sum(u.get(n, 0) for u in usage.values()) for n in capacity}
    while queues:
        owner = min(queues, key=lambda o: (dominant_share(usage.get(o, {}), total), o))
        t = queues[owner].pop(0)
        if all(free.get(n, 0) >= v for n, v in t.resources.items()):
            for n, v in t.resources.items():
                free[n] -= v
                usage.setdefault(owner, {})[n] = usage.get(owner, {}).get(n, 0) + v
            order.append(t.key)
        if not queues[owner]:
            del queues[owner]
    return order


@pytest.mark.parametrize("seed", range(6))
def test_drf_order_matches_a_reference(seed: int) -> None:
    rng = random.Random(seed)
    owners = ["ann", "bob", "cyd"]
    tasks = [task(f"t{i}", rng.choice([1, 2, 3]), rng.choice([512, 1024, 3072]),
                  owner=rng.choice(owners), submitted=i) for i in range(40)]
    running = RunningIndex()
    usage: dict[str, dict[str, float]] = {}
    for i, owner in enumerate(owners[:seed % 3]):
        running.add(f"r{i}", "x", resources={"cpus": 2, "mem": 1024}, owner=owner)
        usage[owner] = {"cpus": 2.0, "mem": 1024.0}
    cap = {"cpus": 24.0, "mem": 24576.0}
    expected = reference_drf(tasks, cap, usage)
    result = run([offer(24, 24576, agent="x")], tasks, running, drf_quantum=0)
    assert [p.task_key for p in result.placements] == expected
    assert len(expected) >= 8


def test_drf_quantum_lets_an_owner_run_ahead_by_at_most_the_quantum() -> None:
    tasks = [task(f"{o}{i}", 1, 128, owner=o, submitted=i) for o in "ab" for i in range(50)]
    order = [p.task_key[0] for p in run([offer(100, 100 * 128, agent="x")], tasks,
                                        drf_quantum=0.05).placements]
    ahead = max(abs(order[:n].count("a") - order[:n].count("b")) for n in range(len(order)))
    assert 2 <= ahead <= 6
    strict = [p.task_key[0] for p in run([offer(100, 100 * 128, agent="x")], tasks,
                                         drf_quantum=0).placements]
    assert strict[:6] == ["a", "b", "a", "b", "a", "b"]


def test_running_usage_counts_for_fairness() -> None:
    running = RunningIndex()
    running.add("old", "x", resources={"cpus": 4, "mem": 512}, owner="alice")
    tasks = [task(f"a{i}", owner="alice", submitted=i) for i in range(4)]
    tasks += [task(f"b{i}", owner="bob", submitted=i) for i in range(4)]
    result = run([offer(4, 4096, agent="x")], tasks, running, drf_quantum=0)
    assert [p.task_key for p in result.placements] == ["b0", "b1", "b2", "b3"]


def test_an_unplaceable_task_does_not_block_its_owners_others() -> None:
    matcher = Matcher()
    matcher.match([offer(16, 16384, agent="big")], index_of([]))
    tasks = [task("huge", 16, 16384, owner="cook", submitted=0)]
    tasks += [task(f"small{i}", 1, 512, owner="cook", submitted=1 + i) for i in range(3)]
    result = matcher.match([offer(4, 4096, agent="small")], index_of(tasks))
    assert sorted(placed(result)) == ["small0", "small1", "small2"]
    (group,) = result.unplaced
    assert group.task_keys == ("huge",) and not group.unschedulable


def test_an_unschedulable_task_does_not_block_anyone() -> None:
    tasks = [task("never", 64, 1024, priority=9)] + [
        task(f"t{i}", 1, 256, submitted=i) for i in range(3)]
    result = run([offer(4, 4096, agent="a")], tasks)
    assert len(result.placements) == 3
    (group,) = result.unplaced
    assert group.unschedulable and group.task_keys == ("never",)


def test_scan_window_bounds_the_work_per_cycle() -> None:
    tasks = [task(f"t{i}", submitted=i) for i in range(10)]
    result = run([offer(64, 65536, agent="a")], tasks, scan_window=4)
    assert [p.task_key for p in result.placements] == ["t0", "t1", "t2", "t3"]
    assert result.stats.window_reached and result.stats.examined == 4
    assert {g.reason for g in result.unplaced} == {
        "not examined this cycle (scan window of 4 tasks)"}
    assert sorted(k for g in result.unplaced for k in g.task_keys) == [
        f"t{i}" for i in range(4, 10)]


def test_scan_window_spans_levels() -> None:
    tasks = [task(f"p{p}-{i}", priority=p, submitted=i) for p in range(3) for i in range(3)]
    result = run([offer(64, 65536, agent="a")], tasks, scan_window=5)
    assert [p.task_key for p in result.placements] == ["p2-0", "p2-1", "p2-2", "p1-0", "p1-1"]
    assert sorted(k for g in result.unplaced for k in g.task_keys) == [
        "p0-0", "p0-1", "p0-2", "p1-2"]
