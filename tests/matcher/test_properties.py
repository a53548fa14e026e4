"""Property tests: whatever the offers and tasks, placements fit their offers, ports are
unique and offered, constraints hold, GPU agents are only used when nothing else has room,
and matching is deterministic.

The resource oracle is :class:`mesos_wm.resources.ResourceSet`, written independently of
the matcher's own fixed-point columns.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesos_wm.matcher import (
    BinPackingFitness,
    Constraint,
    GroupCounts,
    Matcher,
    MatchResult,
    Offer,
    RunningIndex,
    SpreadFitness,
    TaskRequest,
    field_value,
)
from mesos_wm.resources import ResourceSet

from .builders import index_of, make_offer

RACKS = ["r0", "r1", "r2"]
CONSTRAINTS = [
    ["rack", "EQ", "r1"], ["rack", "LIKE", "r[01]"], ["rack", "UNLIKE", "r0"],
    ["hostname", "UNIQUE"], ["rack", "MAX_PER", "2"], ["rack", "CLUSTER"],
    ["rack", "GROUP_BY"], ["rack", "GROUP_BY", "2"], ["zone", "EQ", "z1"],
]


@st.composite
def offers_st(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for a in range(draw(st.integers(0, 5))):
        attrs: dict[str, str | float] = {"rack": draw(st.sampled_from(RACKS))}
        if draw(st.booleans()):
            attrs["zone"] = "z1"
        for j in range(draw(st.integers(1, 2))):
            lo = 1000 + 20 * j + draw(st.integers(0, 10))
            spans = [(lo, lo + draw(st.integers(0, 3)))] if draw(st.booleans()) else []
            if spans and draw(st.booleans()):
                spans.append((lo + 6, lo + 6 + draw(st.integers(0, 2))))
            out.append(make_offer(
                draw(st.sampled_from([0.5, 1, 2, 3.5, 8])),
                draw(st.sampled_from([0, 256, 1024, 4096])),
                gpus=draw(st.sampled_from([0, 0, 1, 2])), ports=spans, attributes=attrs,
                role=draw(st.sampled_from(["*", "*", "science"])), agent=f"a{a}",
                hostname=f"h{a}"))
    return out


@st.composite
def tasks_st(draw: st.DrawFn) -> list[TaskRequest]:
    tasks = []
    for i in range(draw(st.integers(0, 25))):
        resources: dict[str, float] = {"cpus": draw(st.sampled_from([0.1, 0.5, 1, 2, 4]))}
        if draw(st.booleans()):
            resources["mem"] = draw(st.sampled_from([64, 256, 1024]))
        if draw(st.integers(0, 3)) == 0:
            resources["ports"] = draw(st.integers(1, 3))
        if draw(st.integers(0, 5)) == 0:
            resources["gpus"] = 1
        specs = draw(st.lists(st.sampled_from(CONSTRAINTS), max_size=2))
        tasks.append(TaskRequest(
            f"t{i}", resources, priority=draw(st.integers(0, 2)),
            owner=draw(st.sampled_from(["ann", "bob"])), submitted=float(draw(st.integers(0, 5))),
            constraints=tuple(Constraint.parse(c) for c in specs),
            group=draw(st.sampled_from([None, "g1", "g2"])),
            colocate_with_agent=draw(st.sampled_from([None] * 6 + ["a0", "a9"]))))
    return tasks


@st.composite
def running_st(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    return [(f"r{i}", f"a{draw(st.integers(0, 4))}", draw(st.sampled_from(["g1", "g2"])))
            for i in range(draw(st.integers(0, 4)))]


config_st = st.fixed_dictionaries({
    "strategy": st.sampled_from(["binpack", "spread"]),
    "avoid_gpu_agents": st.booleans(),
    "drf_quantum": st.sampled_from([0.0, 0.002, 0.5]),
    "scan_window": st.sampled_from([None, 3, 1000]),
    "roles": st.sampled_from([None, ["*"], ["*", "science"]]),
    "fitness": st.sampled_from([None, None, BinPackingFitness(), SpreadFitness()]),
    "fitness_window": st.sampled_from([1, 3]),
})


def agent_of(raw_offers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["agent_id"]["value"]: o for o in raw_offers}


def run_case(raw: list[dict[str, Any]], tasks: list[TaskRequest], running_spec: list[Any],
             config: dict[str, Any]) -> tuple[MatchResult, RunningIndex, list[Offer]]:
    matcher = Matcher(**config)
    offers = [matcher.parse_offer(o) for o in raw]
    running = RunningIndex()
    attrs = {o["agent_id"]["value"]: o for o in raw}
    for key, agent, group in running_spec:
        info = attrs.get(agent)
        rack = info["attributes"][0]["text"]["value"] if info else "r0"
        running.add(key, agent, group=group, hostname=f"h{agent[1:]}", attributes={"rack": rack})
    return matcher.match(offers, index_of(tasks), running), running, offers


def fits(pool_free: dict[str, float], need: dict[str, float]) -> bool:
    return all(pool_free.get(n, 0) >= v - 1e-9 for n, v in need.items() if v)


class Replay:
    """Free resources per (agent, role) and group placements, replayed in decision order."""

    def __init__(self, offers: list[Offer], running: RunningIndex, tasks: list[TaskRequest]):
        self.free: dict[tuple[str, str], dict[str, float]] = {}
        self.attrs: dict[str, tuple[str, dict[str, str]]] = {}
        for o in offers:
            self.attrs[o.agent_id] = (o.hostname, dict(o.attributes))
            for pool in o.pools:
                free = self.free.setdefault((o.agent_id, pool.role), {})
                for n, m in pool.scalars.items():
                    free[n] = free.get(n, 0) + m / 1000
                for n in (*pool.ranges, *pool.sets):
                    free[n] = free.get(n, 0) + pool.count(n)
        self.counts: dict[str, dict[str, Counter[str]]] = {}
        self.running = running
        self.fields = {c.field for t in tasks for c in t.constraints} | {"rack", "hostname"}
        for group in ("g1", "g2"):
            for name in self.fields:
                self.counts.setdefault(group, {})[name] = Counter(
                    running.group_counts(group, name))

    def value(self, agent: str, name: str) -> str | None:
        hostname, attributes = self.attrs[agent]
        return field_value(hostname, attributes, name)

    def admitted(self, task: TaskRequest, agent: str, candidates: dict[str, frozenset[str]],
                 skip_group_by: bool = False) -> bool:
        if task.colocate_with_agent is not None and agent != task.colocate_with_agent:
            return False
        counts = GroupCounts(
            {n: dict(c) for n, c in self.counts.get(task.group or "", {}).items()}, candidates)
        for c in task.constraints:
            if c.static:
                if not c.accepts(self.value(agent, c.field)):
                    return False
            elif task.group is not None and not (skip_group_by and c.operator == "GROUP_BY"):
                if not c.admits(self.value(agent, c.field), counts):
                    return False
        return True

    def slots_with_room(self, task: TaskRequest) -> list[tuple[str, str]]:
        return [k for k, free in self.free.items() if fits(free, dict(task.resources))]

    def place(self, task: TaskRequest, agent: str, role: str) -> None:
        free = self.free[(agent, role)]
        for n, v in task.resources.items():
            free[n] = free.get(n, 0) - (-(-v // 1) if n in ("ports",) else v)
        if task.group is not None:
            for name in self.fields:
                value = self.value(agent, name)
                if value is not None:
                    self.counts.setdefault(task.group, {}).setdefault(name, Counter())[value] += 1


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offers_st(), tasks_st(), running_st(), config_st)
def test_placements_respect_offers_ports_constraints_and_gpu_avoidance(
        raw: list[dict[str, Any]], tasks: list[TaskRequest], running_spec: list[Any],
        config: dict[str, Any]) -> None:
    result, running, offers = run_case(raw, tasks, running_spec, config)
    by_key = {t.key: t for t in tasks}
    roles = config["roles"]

    placed_keys = [p.task_key for p in result.placements]
    unplaced_keys = [k for g in result.unplaced for k in g.task_keys]
    assert len(placed_keys) == len(set(placed_keys))
    assert sorted(placed_keys + unplaced_keys) == sorted(by_key)
    assert all(g.reason for g in result.unplaced)

    raw_by_agent: dict[str, list[dict[str, Any]]] = {}
    for o in raw:
        raw_by_agent.setdefault(o["agent_id"]["value"], []).append(o)
    used: dict[tuple[str, str], ResourceSet] = {}
    ports: dict[str, list[int]] = {}
    for p in result.placements:
        resources = p.resources()
        assert {r["allocation_info"]["role"] for r in resources} == {p.role}
        assert roles is None or p.role in roles
        agent_offers = {o["id"]["value"] for o in raw_by_agent[p.agent_id]}
        assert set(p.offer_ids) <= agent_offers
        key = (p.agent_id, p.role)
        used[key] = used.get(key, ResourceSet()) + ResourceSet.from_json(resources)
        ports.setdefault(p.agent_id, []).extend(p.ports)
        assert len(p.ports) == int(by_key[p.task_key].resources.get("ports", 0))
    for (agent, role), total in used.items():
        offered = ResourceSet.from_json(
            [r for o in raw_by_agent[agent] for r in o["resources"]], roles=[role])
        assert offered.contains(total), (agent, role, str(offered), str(total))
    for agent_ports in ports.values():
        assert len(agent_ports) == len(set(agent_ports))
    used_offers = {i for p in result.placements for i in p.offer_ids}
    assert not used_offers & set(result.unused_offers)
    assert used_offers | set(result.unused_offers) == {o["id"]["value"] for o in raw}

    replay = Replay(offers, running, tasks)
    for p in result.placements:
        t = by_key[p.task_key]
        if t.colocate_with_agent is not None:
            assert p.agent_id == t.colocate_with_agent
        candidates: dict[str, frozenset[str]] = {}
        if any(c.operator == "GROUP_BY" for c in t.constraints):
            room = [a for a, role in replay.slots_with_room(t)
                    if replay.admitted(t, a, {}, skip_group_by=True)]
            candidates = {c.field: frozenset(v for a in room if (v := replay.value(a, c.field)))
                          for c in t.constraints if c.operator == "GROUP_BY"}
        assert replay.admitted(t, p.agent_id, candidates), (t, p.agent_id)
        gpu_agent = any(p2.scalars.get("gpus", 0) for o in offers if o.agent_id == p.agent_id
                        for p2 in o.pools)
        if config["avoid_gpu_agents"] and gpu_agent and "gpus" not in t.resources:
            others = [a for a, role in replay.slots_with_room(t)
                      if replay.admitted(t, a, candidates) and not any(
                          p2.scalars.get("gpus", 0) for o in offers if o.agent_id == a
                          for p2 in o.pools)]
            assert not others, (t.key, p.agent_id, others)
        replay.place(t, p.agent_id, p.role)


@settings(max_examples=60, deadline=None)
@given(offers_st(), tasks_st(), running_st(), config_st)
def test_matching_is_deterministic(raw: list[dict[str, Any]], tasks: list[TaskRequest],
                                   running_spec: list[Any], config: dict[str, Any]) -> None:
    first, _, _ = run_case(raw, tasks, running_spec, config)
    second, _, _ = run_case(raw, list(reversed(tasks)), running_spec, config)
    assert [(p.task_key, p.agent_id, p.role, p.discrete) for p in first.placements] == [
        (p.task_key, p.agent_id, p.role, p.discrete) for p in second.placements]
    assert [(g.task_keys, g.reason) for g in first.unplaced] == [
        (g.task_keys, g.reason) for g in second.unplaced]
