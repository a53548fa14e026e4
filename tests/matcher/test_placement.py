"""Where tasks go: strategies, ports, roles, GPUs, co-location, constraints, offers used."""

from __future__ import annotations

import pytest

from mesos_wm.matcher import (
    AgentView,
    Matcher,
    Offer,
    Placement,
    RunningIndex,
    TaskRequest,
)
from mesos_wm.resources import scalar

from .builders import index_of, make_offer, offer, placed, reasons, run, task


def test_binpack_fills_one_agent_before_the_next_largest_first() -> None:
    small, big = offer(4, 4096, agent="small"), offer(8, 8192, agent="big")
    idle = offer(4, 4096, agent="z-idle")
    result = run([small, idle, big], [task(f"t{i}", 2, 512, submitted=i) for i in range(6)])
    assert [p.agent_id for p in result.placements] == ["big"] * 4 + ["small"] * 2
    assert result.unused_offers == [idle.offer_id]


def test_spread_goes_round_robin_from_the_emptiest() -> None:
    offers = [offer(4, 4096, agent="a"), offer(8, 8192, agent="b"), offer(6, 6144, agent="c")]
    tasks = [task(f"t{i}", 1, 512, submitted=i) for i in range(4)]
    result = run(offers, tasks, strategy="spread")
    assert [p.agent_id for p in result.placements] == ["b", "c", "a", "b"]


def test_unknown_strategy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="use one of binpack, spread"):
        Matcher(strategy="random")


def test_ports_are_chosen_from_the_offered_ranges() -> None:
    o = offer(8, 8192, ports=[(31000, 31002), (31005, 31005)], agent="a")
    tasks = [task(f"t{i}", ports=2, submitted=i) for i in range(3)]
    result = run([o], tasks)
    first, second = result.placements
    assert first.ports == (31000, 31001)
    assert second.ports == (31002, 31005)
    assert second.resources() == [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
         "allocation_info": {"role": "*"}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 128.0},
         "allocation_info": {"role": "*"}},
        {"name": "ports", "type": "RANGES", "allocation_info": {"role": "*"},
         "ranges": {"range": [{"begin": 31002, "end": 31002}, {"begin": 31005, "end": 31005}]}},
    ]
    assert reasons(result) == {"t2": "insufficient ports on 1 agent"}


def test_placements_built_after_the_index_changed_are_those_decided() -> None:
    offers = [offer(4, 4096, ports=[(31000, 31009)], agent="a"), offer(2, 2048, agent="b")]
    tasks = [task(f"t{i}", 1, 512, ports=i % 2, submitted=i) for i in range(8)]
    index = index_of(tasks)
    result = Matcher().match(offers, index)
    assert result.stats.placed == 6
    for key in ("t0", "t1", "t2", "t3", "t4", "t6", "t7"):
        index.remove(key)
    index.add(task("late", 1, 512, ports=1, submitted=-1))
    assert [(p.task_key, p.agent_id, p.ports) for p in result.placements] == [
        ("t0", "a", ()), ("t1", "a", (31000,)), ("t2", "a", ()), ("t3", "a", (31001,)),
        ("t4", "b", ()), ("t6", "b", ()),
    ]
    assert result.placements is result.placements
    p = result.placements[1]
    twin = Placement(p.task_key, p.agent, p.pool, p.shape, p.discrete)
    assert twin is not p and twin == p and hash(twin) == hash(p)
    assert p != result.placements[3] and p != ("t1", p.agent, p.pool, p.shape, p.discrete)


def test_set_resources_are_handed_out_by_item() -> None:
    raw = make_offer(4, 1024, agent="a", extra=[
        {"name": "cores", "type": "SET", "set": {"item": ["c3", "c1", "c2"]},
         "allocation_info": {"role": "*"}}])
    tasks = [TaskRequest("t1", {"cpus": 1, "cores": 2}), TaskRequest("t2", {"cpus": 1, "cores": 1},
                                                                  submitted=1)]
    result = run([Offer.from_json(raw)], tasks)
    assert [p.discrete for p in result.placements] == [
        (("cores", ("c1", "c2")),), (("cores", ("c3",)),)]
    assert result.placements[0].resources()[-1] == {
        "name": "cores", "type": "SET", "set": {"item": ["c1", "c2"]},
        "allocation_info": {"role": "*"}}


def test_ports_and_items_of_one_slot_are_never_handed_out_twice() -> None:
    raw = make_offer(8, 8192, agent="a", ports=[(31000, 31001), (31010, 31012)], extra=[
        {"name": "cores", "type": "SET", "set": {"item": ["c1", "c2", "c3"]},
         "allocation_info": {"role": "*"}}])
    tasks = [TaskRequest("t1", {"cpus": 1, "ports": 2}, submitted=1),
             TaskRequest("t2", {"cpus": 1, "ports": 1, "cores": 1}, submitted=2),
             TaskRequest("t3", {"cpus": 1, "ports": 1}, submitted=3),
             TaskRequest("t4", {"cpus": 1, "ports": 1, "cores": 2}, submitted=4)]
    result = run([Offer.from_json(raw)], tasks)
    assert [p.discrete for p in result.placements] == [
        (("ports", (31000, 31001)),),
        (("cores", ("c1",)), ("ports", (31010,))),
        (("ports", (31011,)),),
        (("cores", ("c2", "c3")), ("ports", (31012,))),
    ]


def test_only_the_frameworks_roles_are_used_and_a_task_takes_one_role() -> None:
    matcher = Matcher(roles=["science"])
    mixed = make_offer(8, 8192, agent="a", offer_id="o-star")
    science = make_offer(2, 2048, agent="a", role="science", offer_id="o-sci")
    offers = [matcher.parse_offer(mixed), matcher.parse_offer(science)]
    result = matcher.match(offers, index_of([task("fits", 2, 1024), task("big", 3, 1024)]))
    (p,) = result.placements
    assert (p.task_key, p.role, p.offer_ids) == ("fits", "science", ("o-sci",))
    assert {r["allocation_info"]["role"] for r in p.resources()} == {"science"}
    assert result.unused_offers == ["o-star"]
    assert reasons(result) == {"big": "needs cpus 3, the largest agent seen has 2"}


def test_a_task_never_mixes_roles() -> None:
    raw = make_offer(2, 2048, agent="a", extra=[scalar("cpus", 2, "science"),
                                                scalar("mem", 2048, "science")])
    result = run([Offer.from_json(raw)], [task("t", 3, 1024)])
    assert result.placements == []


def test_several_offers_of_one_agent_are_combined() -> None:
    offers = [offer(1, 512, agent="a", offer_id="o1"), offer(1, 512, agent="a", offer_id="o2")]
    result = run(offers, [task("t", 2, 1024)])
    (p,) = result.placements
    assert p.offer_ids == ("o1", "o2")
    (launch,) = result.launches()
    assert launch.agent_id == "a" and launch.offer_ids == ("o1", "o2")


def test_gpu_tasks_only_go_to_gpu_agents_and_others_avoid_them() -> None:
    gpu = offer(16, 8192, gpus=1, agent="gpu")
    cpu = offer(8, 8192, agent="cpu")
    tasks = [task("plain", 1, 512), task("cuda", 1, 512, gpus=1, submitted=1)]
    assert placed(run([gpu, cpu], tasks)) == {"plain": "cpu", "cuda": "gpu"}
    assert placed(run([gpu, cpu], tasks, avoid_gpu_agents=False))["plain"] == "gpu"


def test_gpu_agents_take_other_tasks_when_nothing_else_fits() -> None:
    gpu = offer(4, 4096, gpus=1, agent="gpu")
    cpu = offer(1, 1024, agent="cpu")
    tasks = [task(f"t{i}", 1, 512, submitted=i) for i in range(3)]
    result = run([gpu, cpu], tasks)
    assert [p.agent_id for p in result.placements] == ["cpu", "gpu", "gpu"]
    matcher = Matcher()
    matcher.match([gpu, cpu], index_of([]))
    cuda = matcher.match([cpu], index_of([task("cuda", gpus=1)]))
    assert reasons(cuda) == {"cuda": "insufficient gpus on 1 agent"}
    assert reasons(run([cpu], [task("cuda", gpus=1)])) == {
        "cuda": "needs gpus 1, the largest agent seen has 0"}


def test_spread_also_keeps_gpu_agents_for_last() -> None:
    gpu = offer(8, 8192, gpus=1, agent="gpu")
    cpu = offer(2, 2048, agent="cpu")
    tasks = [task(f"t{i}", 1, 512, submitted=i) for i in range(3)]
    result = run([gpu, cpu], tasks, strategy="spread")
    assert [p.agent_id for p in result.placements] == ["cpu", "cpu", "gpu"]


def test_colocated_tasks_go_to_their_workflows_agent() -> None:
    offers = [offer(8, 8192, agent="a"), offer(1, 1024, agent="b")]
    assert placed(run(offers, [task("t", colocate="b")])) == {"t": "b"}
    matcher = Matcher()
    matcher.match([offer(4, 4096, agent="b")], index_of([]))
    result = matcher.match(offers, index_of([task("t", 2, colocate="b")]))
    assert reasons(result) == {"t": "insufficient cpus on 1 agent"}
    assert not result.unplaced[0].unschedulable
    result = run(offers, [task("t", 2, colocate="b")])
    assert reasons(result) == {"t": "needs cpus 2, the largest agent seen has 1"}
    assert result.unplaced[0].unschedulable
    result = run(offers, [task("t", colocate="c")])
    assert reasons(result) == {"t": "the workflow's agent c has no offer"}
    assert not result.unplaced[0].unschedulable


def rack_offers() -> list[Offer]:
    return [offer(4, 4096, agent=f"a{i}", hostname=f"node-{i}",
                  attributes={"rack": f"r{i % 2}", "zone": "z1" if i < 2 else "z2"})
            for i in range(4)]


@pytest.mark.parametrize(
    ("constraint", "allowed"),
    [
        (["rack", "EQ", "r1"], {"a1", "a3"}),
        (["rack", "IS", "r0"], {"a0", "a2"}),
        (["hostname", "LIKE", "node-[23]"], {"a2", "a3"}),
        (["hostname", "UNLIKE", "node-[0-2]"], {"a3"}),
        (["zone", "LIKE", "z2"], {"a2", "a3"}),
        (["rack", "CLUSTER", "r0"], {"a0", "a2"}),
        (["missing", "UNLIKE", "x"], {"a0", "a1", "a2", "a3"}),
    ],
)
def test_static_constraints(constraint: list[object], allowed: set[str]) -> None:
    tasks = [task(f"t{i}", 1, 256, constraints=[constraint], submitted=i) for i in range(16)]
    result = run(rack_offers(), tasks, strategy="spread")
    assert set(placed(result).values()) == allowed
    assert len(result.placements) == 4 * len(allowed)


def test_unique_hostname_within_a_group() -> None:
    tasks = [task(f"t{i}", constraints=[["hostname", "UNIQUE"]], group="g", submitted=i)
             for i in range(5)]
    result = run(rack_offers(), tasks)
    assert sorted(placed(result).values()) == ["a0", "a1", "a2", "a3"]
    assert reasons(result) == {"t4": "hostname UNIQUE failed on 4 agents"}
    other = [task("x", constraints=[["hostname", "UNIQUE"]], group="other")]
    assert len(run(rack_offers(), tasks + other).placements) == 5


def test_unique_counts_running_tasks_of_the_group() -> None:
    running = RunningIndex()
    running.add("old", "a0", group="g", hostname="node-0")
    running.add("old2", "a2", group="g", hostname="node-2")
    tasks = [task(f"t{i}", constraints=[["hostname", "UNIQUE"]], group="g", submitted=i)
             for i in range(3)]
    result = run(rack_offers(), tasks, running)
    assert sorted(placed(result).values()) == ["a1", "a3"]


def test_cluster_without_value_keeps_the_group_together() -> None:
    tasks = [task(f"t{i}", 3, 256, constraints=[["rack", "CLUSTER"]], group="g", submitted=i)
             for i in range(3)]
    assert set(placed(run(rack_offers(), tasks)).values()) == {"a0", "a2"}
    running = RunningIndex()
    running.add("old", "a3", group="g", attributes={"rack": "r1"})
    assert set(placed(run(rack_offers(), tasks, running)).values()) == {"a1", "a3"}


def test_group_by_spreads_evenly_over_the_values() -> None:
    tasks = [task(f"t{i}", 1, 256, constraints=[["rack", "GROUP_BY"]], group="g", submitted=i)
             for i in range(6)]
    result = run(rack_offers(), tasks)
    racks = [p.agent.attributes["rack"] for p in result.placements]
    assert racks.count("r0") == racks.count("r1") == 3
    running = RunningIndex()
    running.add("old1", "a0", group="g", attributes={"rack": "r0"})
    running.add("old2", "a2", group="g", attributes={"rack": "r0"})
    result = run(rack_offers(), tasks[:2], running)
    assert [p.agent.attributes["rack"] for p in result.placements] == ["r1", "r1"]


def test_group_by_with_a_count_waits_for_unseen_values() -> None:
    offers = [o for o in rack_offers() if o.attributes["rack"] == "r0"]
    tasks = [task(f"t{i}", constraints=[["rack", "GROUP_BY", "2"]], group="g", submitted=i)
             for i in range(2)]
    result = run(offers, tasks)
    assert len(result.placements) == 1
    assert reasons(result) == {"t1": "rack GROUP_BY 2 failed on 2 agents"}


def test_max_per_caps_tasks_per_value() -> None:
    tasks = [task(f"t{i}", 1, 256, constraints=[["rack", "MAX_PER", "2"]], group="g",
                  submitted=i) for i in range(5)]
    result = run(rack_offers(), tasks)
    racks = [p.agent.attributes["rack"] for p in result.placements]
    assert sorted(racks) == ["r0", "r0", "r1", "r1"]
    assert reasons(result) == {"t4": "rack MAX_PER 2 failed on 4 agents"}


def test_ungrouped_dynamic_constraints_only_count_the_task_itself() -> None:
    tasks = [task(f"t{i}", constraints=[["hostname", "UNIQUE"]], submitted=i) for i in range(3)]
    result = run([offer(8, 8192, agent="a")], tasks)
    assert len(result.placements) == 3


def test_tasks_of_a_group_without_constraints_count_for_those_with() -> None:
    tasks = [task("free", 1, 256, group="g"),
             task("uniq", 1, 256, constraints=[["hostname", "UNIQUE"]], group="g",
                  submitted=1)]
    result = run([offer(8, 8192, agent="a"), offer(8, 8192, agent="b")], tasks)
    assert placed(result)["free"] != placed(result)["uniq"]


def test_unused_offers_and_launches() -> None:
    offers = [offer(4, 4096, agent="a", offer_id="oa"), offer(4, 4096, agent="b",
                                                            offer_id="ob"),
              offer(1, 64, agent="c", offer_id="oc")]
    result = run(offers, [task("t1", 3, 1024), task("t2", 1, 1024, submitted=1),
                          task("t3", 2, 1024, submitted=2)])
    assert placed(result) == {"t1": "a", "t2": "a", "t3": "b"}
    assert result.unused_offers == ["oc"]
    launches = result.launches()
    assert [(launch.agent_id, launch.offer_ids, [p.task_key for p in launch.placements])
            for launch in launches] == [("a", ("oa",), ["t1", "t2"]), ("b", ("ob",), ["t3"])]


class PreferHost:
    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.calls = 0

    def score(self, task: TaskRequest, agent: AgentView) -> float:
        self.calls += 1
        assert agent.free("cpus") <= agent.offered("cpus")
        return 1.0 if agent.hostname == self.hostname else 0.0


def test_a_fitness_picks_among_the_candidates() -> None:
    offers = [offer(4, 4096, agent=f"a{i}", hostname=f"h{i}") for i in range(4)]
    fitness = PreferHost("h2")
    result = run(offers, [task("t", 1, 512)], fitness=fitness)
    assert placed(result) == {"t": "a2"}
    assert fitness.calls == 4
    narrow = PreferHost("h3")
    assert placed(run(offers, [task("t", 1, 512)], fitness=narrow, fitness_window=2))[
        "t"] in {"a0", "a1"}


def test_matching_is_deterministic() -> None:
    def once() -> list[tuple[str, str, tuple[int, ...]]]:
        offers = [offer(4, 4096, agent=f"a{i}", ports=[(100 * i, 100 * i + 9)],
                        attributes={"rack": f"r{i % 3}"}) for i in range(6)]
        tasks = [task(f"t{i}", 1 + i % 3, 256 * (1 + i % 4), ports=i % 2, owner=f"o{i % 3}",
                      priority=i % 2, submitted=i % 5,
                      constraints=[["rack", "UNLIKE", "r2"]] if i % 7 == 0 else [])
                 for i in range(40)]
        return [(p.task_key, p.agent_id, p.ports) for p in run(offers, tasks).placements]

    assert once() == once()


def test_no_offers_leaves_everything_pending() -> None:
    result = run([], [task("t")])
    assert reasons(result) == {"t": "no offers"}
    assert result.stats.placed == 0
