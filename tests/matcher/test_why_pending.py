"""Why-pending reasons and unschedulable detection; the running index and cluster view."""

from __future__ import annotations

import random

import pytest

from mesos_wm.matcher import ClusterView, Failure, Matcher, RunningIndex, TaskRequest
from mesos_wm.resources import scalar

from .builders import index_of, make_offer, offer, placed, reasons, task


def seen_matcher(**config: object) -> Matcher:
    """A matcher that has seen a large agent with rack r2 (so nothing below is unschedulable)."""
    matcher = Matcher(**config)  # type: ignore[arg-type]
    matcher.match([offer(64, 65536, gpus=4, agent="seen", attributes={"rack": "r2"})],
                  index_of([]))
    return matcher


def test_reasons_are_aggregated_per_cause_and_agent() -> None:
    offers = [offer(4, 1024, agent="a", attributes={"rack": "r1"}),
              offer(4, 4096, agent="b", attributes={"rack": "r1"}),
              offer(1, 8192, agent="c", attributes={"rack": "r2"})]
    tasks = [task("t", 2, 2048, constraints=[["rack", "EQ", "r2"]])]
    result = seen_matcher().match(offers, index_of(tasks))
    (group,) = result.unplaced
    assert group.failures == (
        Failure("constraint", "rack EQ r2 failed", 2),
        Failure("resource", "insufficient cpus", 1),
        Failure("resource", "insufficient mem", 1),
    )
    assert group.reason == (
        "rack EQ r2 failed on 2 agents; insufficient cpus on 1 agent; insufficient mem on 1 agent")
    assert result.reason_for("t") == group.reason
    assert result.reason_for("other") is None


def test_capacity_taken_by_this_cycles_placements_is_reported_as_insufficient() -> None:
    tasks = [task(f"t{i}", 2, 256, submitted=i) for i in range(3)]
    result = seen_matcher().match([offer(4, 4096, agent="a")], index_of(tasks))
    assert reasons(result) == {"t2": "insufficient cpus on 1 agent"}


def test_reasons_are_computed_once_per_shape_and_signature() -> None:
    tasks = [task(f"t{i}", 8, 256, owner=f"o{i % 3}", priority=i % 2) for i in range(6)]
    result = seen_matcher().match([offer(4, 4096, agent="a")], index_of(tasks))
    assert len(result.unplaced) == 6
    first = result.unplaced[0].failures
    assert all(g.failures is first for g in result.unplaced)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (task("cpu", 128), "needs cpus 128, the largest agent seen has 8"),
        (task("two", 8, 16384), "no agent seen so far has cpus:8;mem:16384 at once"),
        (task("gpu", gpus=1), "needs gpus 1, the largest agent seen has 0"),
        (task("rack", constraints=[["rack", "EQ", "r9"]]),
         "no agent seen so far passes rack EQ r9"),
        (task("port", ports=100), "needs ports 100, the largest agent seen has 11"),
    ],
)
def test_unschedulable_tasks_are_marked_with_the_reason(spec: object, reason: str) -> None:
    offers = [offer(8, 8192, agent="a", attributes={"rack": "r1"}, ports=[(1, 11)]),
              offer(2, 16384, agent="b", attributes={"rack": "r2"})]
    result = Matcher().match(offers, index_of([spec]))  # type: ignore[list-item]
    (group,) = result.unplaced
    assert group.unschedulable
    assert group.reason == reason


def test_unschedulable_tasks_become_schedulable_when_a_bigger_agent_appears() -> None:
    matcher = Matcher()
    pending = index_of([task("big", 16, 1024)])
    first = matcher.match([offer(8, 8192, agent="a")], pending)
    assert first.unplaced[0].unschedulable
    second = matcher.match([offer(32, 8192, agent="b")], pending)
    assert placed(second) == {"big": "b"}
    third = matcher.match([offer(8, 8192, agent="a")], pending)
    assert not third.unplaced[0].unschedulable
    matcher.cluster.forget("b")
    fourth = matcher.match([offer(8, 8192, agent="a")], pending)
    assert fourth.unplaced[0].unschedulable


def test_running_index_sums_usage_per_owner_agent_and_group() -> None:
    running = RunningIndex()
    running.add("t1", "a", resources={"cpus": 1.5, "mem": 100}, owner="ann", group="g",
                hostname="ha", attributes={"rack": "r1"})
    running.add("t2", "b", resources={"cpus": 1, "mem": 50}, owner="ann", group="g",
                hostname="hb", attributes={"rack": "r1"})
    running.add("t3", "b", resources={"cpus": 2}, owner="bob")
    assert running.owner_usage("ann") == {"cpus": 2.5, "mem": 150.0}
    assert running.group_counts("g", "rack") == {"r1": 2}
    assert running.group_counts("g", "hostname") == {"ha": 1, "hb": 1}
    assert dict(running.agent_usage_milli("b")) == {"cpus": 3000, "mem": 50000}
    running.add("t2", "a", resources={"cpus": 1}, owner="ann", group="g")
    assert running.group_agents("g") == {"a": 2}
    assert running.remove("t1") and running.remove("t2") and not running.remove("t1")
    assert running.owner_usage("ann") == {}
    assert running.group_agents("g") == {}
    assert len(running) == 1 and "t3" in running


def test_running_tasks_count_toward_agent_capacity() -> None:
    running = RunningIndex()
    running.add("r", "a", resources={"cpus": 6, "mem": 1024})
    cluster = ClusterView()
    matcher = Matcher(cluster=cluster)
    result = matcher.match([offer(2, 1024, agent="a")], index_of([task("t", 4, 256)]), running)
    assert cluster.capacity("a") == {"cpus": 8.0, "mem": 2048.0}
    assert cluster.total() == {"cpus": 8.0, "mem": 2048.0}
    assert not result.unplaced[0].unschedulable
    assert cluster.capacity("zzz") is None
    assert [a.agent_id for a in cluster.agents()] == ["a"]


def test_unplaced_keys_are_a_snapshot_of_the_match() -> None:
    pending = index_of([task(f"t{i}", 2, 256, submitted=i) for i in range(6)])
    result = Matcher().match([offer(4, 4096, agent="a")], pending)
    assert sorted(placed(result)) == ["t0", "t1"]
    for p in result.placements:
        pending.remove(p.task_key)
    pending.remove("t4")
    pending.add(task("t9", 2, 256, submitted=9))
    pending.add(task("t2b", 2, 256, submitted=2.5))
    assert [g.task_keys for g in result.unplaced] == [("t2", "t3", "t4", "t5")]


@pytest.mark.parametrize("seed", range(12))
def test_unplaced_read_after_later_cycles_and_changes_are_those_of_the_match(seed: int) -> None:
    rng = random.Random(seed)

    def new_task(i: int) -> TaskRequest:
        return task(f"t{i}", rng.choice([1, 2, 4]), 256, priority=rng.randrange(4),
                    owner=rng.choice(["ann", "bob"]), submitted=float(rng.randrange(40)))

    tasks = [new_task(i) for i in range(120)]
    offers = [offer(8, 8192, agent=f"a{a}") for a in range(4)]
    pending, twin = index_of(tasks), index_of(tasks)
    window = rng.choice([None, 15])
    result = Matcher(scan_window=window).match(offers, pending)
    expected = [(g.task_keys, g.reason) for g in Matcher(scan_window=window).match(
        offers, twin).unplaced]
    serial = 1000
    for _ in range(2):
        for key in rng.sample(list(pending), 30):
            pending.remove(key)
        for _ in range(30):
            serial += 1
            pending.add(new_task(serial))
        Matcher().match(offers, pending)
    assert [(g.task_keys, g.reason) for g in result.unplaced] == expected
    assert expected and any(g.task_keys[0] in pending for g in result.unplaced)


def test_shapes_out_of_reach_after_a_level_are_dropped_without_being_examined() -> None:
    high = [task(f"h{i}", 2, 256, priority=1, submitted=i) for i in range(4)]
    low = [task("big", 4, 256, submitted=9),
           task("big-r1", 4, 256, submitted=10, constraints=[["rack", "EQ", "r1"]]),
           task("big-g", 4, 256, submitted=11, group="g", constraints=[["rack", "GROUP_BY"]])]
    offers = [offer(4, 4096, agent="a", attributes={"rack": "r1"}),
              offer(4, 4096, agent="b", attributes={"rack": "r2"})]
    result = Matcher().match(offers, index_of(high + low))
    assert sorted(placed(result)) == ["h0", "h1", "h2", "h3"]
    assert result.stats.examined == 4
    assert result.stats.dead_shapes == 3
    assert reasons(result) == {
        "big": "insufficient cpus on 2 agents",
        "big-r1": "insufficient cpus on 2 agents; rack EQ r1 failed on 1 agent",
        "big-g": "insufficient cpus on 2 agents",
    }
    assert not any(g.unschedulable for g in result.unplaced)


def test_settled_levels_tell_unschedulable_shapes_from_merely_pending_ones() -> None:
    high = [task(f"h{i}", 2, 256, priority=1, submitted=i) for i in range(4)]
    low = [task("big", 4, 256, submitted=9),
           task("huge", 64, 256, submitted=10),
           task("nowhere", 1, 256, submitted=11, constraints=[["rack", "EQ", "r9"]]),
           task("big-again", 4, 256, submitted=12)]
    offers = [offer(4, 4096, agent="a", attributes={"rack": "r1"}),
              offer(4, 4096, agent="b", attributes={"rack": "r2"})]
    result = Matcher().match(offers, index_of(high + low))
    assert result.stats.examined == 4
    assert result.stats.dead_shapes == 3
    flags = {k: g.unschedulable for g in result.unplaced for k in g.task_keys}
    assert flags == {"big": False, "big-again": False, "huge": True, "nowhere": True}
    assert reasons(result)["nowhere"] == "no agent seen so far passes rack EQ r9"
    assert reasons(result)["big"] == "insufficient cpus on 2 agents"


def test_reasons_count_agents_when_pools_and_agents_differ_in_number() -> None:
    matcher = seen_matcher(roles=["*", "science"])
    two_pools = make_offer(2, 2048, agent="a", extra=[scalar("cpus", 2, "science"),
                                                      scalar("mem", 2048, "science")])
    no_pool = make_offer(4, 4096, agent="b", role="other")
    offers = [matcher.parse_offer(two_pools), matcher.parse_offer(no_pool)]
    result = matcher.match(offers, index_of([task("t", 3, 1024)]))
    assert reasons(result) == {"t": "insufficient cpus on 1 agent"}
