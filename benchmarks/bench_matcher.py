"""Benchmark of the offer matcher (issue 5).

Workload: ready tasks with 10 priority levels, ~50 resource shapes, 3 % needing GPUs, 10 %
with constraints (EQ, LIKE, UNLIKE, UNIQUE, MAX_PER, GROUP_BY) and 8 owners, against one
offer from each of N heterogeneous agents (8-64 cpus, some with GPUs).  In the same run:

* ``naive``: a straightforward first-fit (priority order, nested loop over the offers),
  the baseline for speed and for the number of tasks placed;
* ``bfd``: a best-fit-decreasing packing of the same tasks, the reference for utilisation;
* the scaling sweep tasks x offers in {1e4, 1e5, 1e6} x {1e2, 1e3, 1e4};
* incremental cycles: 5 % of the tasks finish and 5 % arrive per cycle;
* when the matcher is compiled (see ``setup.py``), the headline cycle once more with the
  matcher interpreted, in a child process with ``MESOS_WM_PURE_PYTHON=1``.

Cycle time is ``Matcher.match`` on offers already parsed (the framework parses each offer
once, when it arrives); parsing and building the TaskInfo resources are timed separately.
The last line printed is one JSON object with the figures.

Run: ``python benchmarks/bench_matcher.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from bisect import bisect_left, insort
from typing import Any

import mesos_wm.matcher._walk
from mesos_wm._compiled import PURE_ENV, is_compiled
from mesos_wm.matcher import Constraint, Matcher, Offer, PendingIndex, RunningIndex, TaskRequest

SEED = 20240605
RACKS = [f"r{i}" for i in range(20)]
ZONES = ["z0", "z1", "z2", "z3"]
OWNERS = [f"user{i}" for i in range(8)]
OWNER_WEIGHTS = [30, 20, 15, 10, 10, 7, 5, 3]


# --------------------------------------------------------------------------- workload
def make_agents(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Agent descriptions: capacity and attributes (one offer each)."""
    agents = []
    for i in range(n):
        cpus = rng.choice([8, 12, 16, 24, 32, 48, 64])
        mem = cpus * rng.choice([2048, 4096, 8192])
        gpus = rng.choice([1, 2, 4, 8]) if rng.random() < 0.05 else 0
        agents.append({
            "id": f"agent-{i:05d}",
            "hostname": f"host{i:05d}.example.org",
            "cpus": float(cpus), "mem": float(mem), "disk": 500_000.0, "gpus": float(gpus),
            "ports": [(31000, 31999)],
            "rack": RACKS[i % len(RACKS)], "zone": ZONES[i % len(ZONES)],
            "kind": "highmem" if mem >= cpus * 8192 else "standard",
        })
    return agents


def offer_json(agent: dict[str, Any], free: dict[str, Any], serial: int) -> dict[str, Any]:
    """Mesos v1 Offer JSON for what is free on an agent."""
    role = {"role": "*"}
    resources = [
        {"name": n, "type": "SCALAR", "scalar": {"value": free[n]}, "allocation_info": role}
        for n in ("cpus", "mem", "disk", "gpus") if free[n] > 0
    ]
    if free["ports"]:
        resources.append({"name": "ports", "type": "RANGES", "allocation_info": role,
                          "ranges": {"range": [{"begin": b, "end": e} for b, e in free["ports"]]}})
    return {
        "id": {"value": f"offer-{serial}-{agent['id']}"},
        "framework_id": {"value": "fw"},
        "agent_id": {"value": agent["id"]},
        "hostname": agent["hostname"],
        "resources": resources,
        "attributes": [
            {"name": "rack", "type": "TEXT", "text": {"value": agent["rack"]}},
            {"name": "zone", "type": "TEXT", "text": {"value": agent["zone"]}},
            {"name": "kind", "type": "TEXT", "text": {"value": agent["kind"]}},
        ],
    }


def make_shapes(rng: random.Random) -> list[dict[str, float]]:
    """About 50 distinct resource shapes (the last 3 need GPUs)."""
    shapes: list[dict[str, float]] = []
    seen = set()
    while len(shapes) < 47:
        cpus = rng.choice([0.5, 1, 1, 2, 2, 4, 4, 8, 16])
        mem = cpus * rng.choice([512, 1024, 2048, 4096])
        shape: dict[str, float] = {"cpus": cpus, "mem": mem}
        if rng.random() < 0.3:
            shape["disk"] = rng.choice([1000, 5000, 20000])
        if rng.random() < 0.2:
            shape["ports"] = rng.choice([1, 2])
        key = tuple(sorted(shape.items()))
        if key not in seen:
            seen.add(key)
            shapes.append(shape)
    shapes += [{"cpus": 4, "mem": 16384, "gpus": 1}, {"cpus": 8, "mem": 32768, "gpus": 2},
               {"cpus": 2, "mem": 8192, "gpus": 1}]
    return shapes


def static_constraint(rng: random.Random) -> tuple[Constraint, ...]:
    """An attribute constraint (EQ, LIKE or UNLIKE)."""
    roll = rng.random()
    if roll < 0.4:
        return (Constraint.parse(["rack", "EQ", rng.choice(RACKS)]),)
    if roll < 0.7:
        return (Constraint.parse(["zone", "LIKE", "z[01]"]),)
    return (Constraint.parse(["kind", "UNLIKE", "highmem"]),)


def dynamic_constraint(rng: random.Random) -> tuple[Constraint, ...]:
    """A constraint over a group (UNIQUE, MAX_PER or GROUP_BY)."""
    roll = rng.random()
    if roll < 0.4:
        return (Constraint.parse(["hostname", "UNIQUE"]),)
    if roll < 0.8:
        return (Constraint.parse(["rack", "MAX_PER", "2"]),)
    return (Constraint.parse(["rack", "GROUP_BY"]),)


SWEEP = 20
# Enough timed cycles for the 99th percentile not to be simply the slowest one.
HEADLINE_RUNS = 120


def make_tasks(n: int, rng: random.Random, shapes: list[dict[str, float]],
               start: int = 0) -> list[TaskRequest]:
    """``n`` ready tasks with keys ``t<start>`` ... in submit order.

    7.5 % carry an attribute constraint; 2.5 % belong to parameter sweeps of 20 tasks of
    one shape and owner with a group constraint (UNIQUE, MAX_PER, GROUP_BY).
    """
    normal, gpu = shapes[:-3], shapes[-3:]
    tasks: list[TaskRequest] = []
    i = start
    while len(tasks) < n:
        shape = rng.choice(gpu) if rng.random() < 0.03 else rng.choice(normal)
        priority = min(9, int(rng.expovariate(0.5)))
        owner = rng.choices(OWNERS, OWNER_WEIGHTS)[0]
        roll = rng.random()
        if roll < 0.025 / SWEEP:
            constraints = dynamic_constraint(rng)
            for _ in range(min(SWEEP, n - len(tasks))):
                tasks.append(TaskRequest(f"t{i}", shape, priority=priority, owner=owner,
                                         submitted=float(i), constraints=constraints,
                                         group=f"sweep-{start}-{len(tasks) // SWEEP}"))
                i += 1
            continue
        constraints = static_constraint(rng) if roll < 0.075 + 0.025 / SWEEP else ()
        tasks.append(TaskRequest(f"t{i}", shape, priority=priority, owner=owner,
                                 submitted=float(i), constraints=constraints))
        i += 1
    return tasks


# --------------------------------------------------------------------------- baselines
def _accepts(task: TaskRequest, agent: dict[str, Any], groups: dict[str, dict[str, int]]
             ) -> bool:
    for c in task.constraints:
        value = agent["hostname"] if c.field == "hostname" else agent.get(c.field)
        if c.static:
            if not c.accepts(value):
                return False
            continue
        if value is None:
            return False
        counts = groups.setdefault(f"{task.group}/{c.field}", {})
        here = counts.get(value, 0)
        if c.operator == "UNIQUE" and here:
            return False
        if c.operator == "MAX_PER" and here >= int(c.value or 0):
            return False
        if c.operator == "GROUP_BY" and counts and here > min(counts.values()):
            return False
    return True


def _record(task: TaskRequest, agent: dict[str, Any], groups: dict[str, dict[str, int]]) -> None:
    for c in task.constraints:
        if not c.static:
            value = agent["hostname"] if c.field == "hostname" else agent[c.field]
            counts = groups.setdefault(f"{task.group}/{c.field}", {})
            counts[value] = counts.get(value, 0) + 1


def naive_first_fit(tasks: list[TaskRequest], agents: list[dict[str, Any]]
                    ) -> tuple[int, float]:
    """First-fit in priority order with a nested loop over the offers.

    Returns:
        (tasks placed, cpus placed).
    """
    rooms = [[a["cpus"], a["mem"], a["disk"], a["gpus"],
              sum(e - b + 1 for b, e in a["ports"])] for a in agents]
    groups: dict[str, dict[str, int]] = {}
    placed = 0
    cpus = 0.0
    for task in sorted(tasks, key=lambda t: (-t.priority, t.submitted)):
        r = task.resources
        c, m, d, g, p = (r.get("cpus", 0), r.get("mem", 0), r.get("disk", 0),
                         r.get("gpus", 0), r.get("ports", 0))
        constrained = bool(task.constraints)
        for agent, room in zip(agents, rooms, strict=True):
            if (room[0] >= c and room[1] >= m and room[2] >= d and room[3] >= g
                    and room[4] >= p
                    and (not constrained or _accepts(task, agent, groups))):
                room[0] -= c
                room[1] -= m
                room[2] -= d
                room[3] -= g
                room[4] -= p
                if constrained:
                    _record(task, agent, groups)
                placed += 1
                cpus += c
                break
    return placed, cpus


def best_fit_decreasing(tasks: list[TaskRequest], agents: list[dict[str, Any]]) -> float:
    """Best-fit-decreasing by cpus (then mem) of every task, ignoring priorities and the
    dynamic constraints; returns the cpus placed (a utilisation reference)."""
    free = [{"cpus": a["cpus"], "mem": a["mem"], "disk": a["disk"], "gpus": a["gpus"],
             "ports": float(sum(e - b + 1 for b, e in a["ports"]))} for a in agents]
    classes: dict[tuple[Any, ...], list[Any]] = {}
    for t in tasks:
        static = tuple(c for c in t.constraints if c.static)
        key = (tuple(sorted(t.resources.items())), static)
        entry = classes.setdefault(key, [dict(t.resources), static, 0])
        entry[2] += 1
    order = sorted(classes.values(),
                   key=lambda e: (-e[0].get("cpus", 0), -e[0].get("mem", 0)))
    by_cpus = sorted((room["cpus"], i) for i, room in enumerate(free))
    placed_cpus = 0.0
    for need, static, count in order:
        c_need = need.get("cpus", 0)
        start = 0
        while count:
            j = bisect_left(by_cpus, (c_need, -1), start)
            while j < len(by_cpus):
                i = by_cpus[j][1]
                room, agent = free[i], agents[i]
                if all(room.get(n, 0) >= v for n, v in need.items()) and all(
                        c.accepts(agent.get(c.field)) for c in static):
                    break
                j += 1
            if j == len(by_cpus):
                break
            k = min([count] + [int(room.get(n, 0) // v) for n, v in need.items() if v > 0])
            del by_cpus[j]
            for n, v in need.items():
                room[n] -= v * k
            insort(by_cpus, (room["cpus"], i))
            count -= k
            placed_cpus += k * c_need
    return placed_cpus


# --------------------------------------------------------------------------- measurement
def parse_offers(matcher: Matcher, agents: list[dict[str, Any]], serial: int = 0
                 ) -> tuple[list[Offer], float]:
    """Parse one offer per agent; returns the offers and the parse time in ms."""
    raw = [offer_json(a, {**a}, serial) for a in agents]
    t0 = time.perf_counter()
    offers = [matcher.parse_offer(o) for o in raw]
    return offers, (time.perf_counter() - t0) * 1000


class GcClock:
    """Time spent in the cyclic garbage collector (a ``gc.callbacks`` entry)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


def timed_cycles(matcher: Matcher, offers: list[Offer], index: PendingIndex, runs: int,
                 gc_ms: list[float] | None = None, free_ms: list[float] | None = None,
                 built_ms: list[float] | None = None) -> tuple[list[float], Any, float]:
    """Match ``runs`` times after one warm-up cycle (the matcher learns the agents and which
    shapes can ever fit them); returns the times, the last result and the warm-up time.

    A time is one ``match`` call, from the call to its return.  The collector runs as
    usual; ``gc_ms`` receives the part of each time spent in it.  The previous cycle's
    result is released before the clock starts (a framework drops it once it has
    launched the placements); ``free_ms`` receives how long that took.  ``built_ms``
    receives the time of the call plus building its ``Placement`` objects (read right
    after it), which is what a framework that launches them all pays.
    """
    gc.collect()
    t0 = time.perf_counter()
    result = matcher.match(offers, index)
    first = (time.perf_counter() - t0) * 1000
    times = []
    clock = GcClock()
    gc.callbacks.append(clock)
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            result = None
            if free_ms is not None:
                free_ms.append((time.perf_counter() - t0) * 1000)
            gc.collect()
            clock.total = 0.0
            t0 = time.perf_counter()
            result = matcher.match(offers, index)
            times.append((time.perf_counter() - t0) * 1000)
            if gc_ms is not None:
                gc_ms.append(clock.total * 1000)
            if built_ms is not None:
                len(result.placements)  # builds the Placement objects
                built_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        gc.callbacks.remove(clock)
    return times, result, first


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def headline(n_tasks: int, n_agents: int, runs: int, out: dict[str, Any]) -> None:
    rng = random.Random(SEED)
    agents = make_agents(n_agents, rng)
    shapes = make_shapes(rng)
    tasks = make_tasks(n_tasks, rng, shapes)
    index = PendingIndex()
    index.add_many(tasks)
    matcher = Matcher()
    offers, parse_ms = parse_offers(matcher, agents)
    gc_ms: list[float] = []
    free_ms: list[float] = []
    built_ms: list[float] = []
    times, result, first = timed_cycles(matcher, offers, index, runs, gc_ms, free_ms,
                                        built_ms)
    t0 = time.perf_counter()
    n_json = sum(len(p.resources()) for p in result.placements)
    json_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    reasons = [u.reason for u in result.unplaced]
    reasons_ms = (time.perf_counter() - t0) * 1000
    placed = len(result.placements)
    cpus = sum(p.shape.amount("cpus") for p in result.placements)
    total_cpus = sum(a["cpus"] for a in agents)
    print(f"matcher {n_tasks} x {n_agents}: first cycle {first:.1f} ms, "
          f"p50 {pct(times, .5):.1f} ms, "
          f"p99 {pct(times, .99):.1f} ms (of which garbage collection p50 "
          f"{statistics.median(gc_ms):.1f} ms), placed {placed}, util {cpus / total_cpus:.4f}, "
          f"unplaced groups {len(result.unplaced)}, parse {parse_ms:.1f} ms, "
          f"with the Placement objects built p50 {pct(built_ms, .5):.1f} ms, "
          f"p99 {pct(built_ms, .99):.1f} ms, "
          f"TaskInfo resources {json_ms:.1f} ms ({n_json}), reasons {reasons_ms:.1f} ms",
          file=sys.stderr)
    print(f"  e.g. why pending: {reasons[:3]}", file=sys.stderr)
    t0 = time.perf_counter()
    naive_placed, naive_cpus = naive_first_fit(tasks, agents)
    naive_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    bfd_cpus = best_fit_decreasing(tasks, agents)
    bfd_ms = (time.perf_counter() - t0) * 1000
    print(f"naive first-fit: {naive_ms:.0f} ms, placed {naive_placed}, "
          f"util {naive_cpus / total_cpus:.4f}; best-fit-decreasing: {bfd_ms:.0f} ms, "
          f"util {bfd_cpus / total_cpus:.4f}", file=sys.stderr)
    out.update({
        "tasks": n_tasks, "offers": n_agents, "timed_cycles": runs,
        "first_cycle_ms": round(first, 2),
        "p50_ms": round(pct(times, .5), 2), "p99_ms": round(pct(times, .99), 2),
        "gc_in_cycle_p50_ms": round(statistics.median(gc_ms), 2),
        "free_previous_result_p50_ms": round(statistics.median(free_ms), 2),
        "naive_ms": round(naive_ms, 1),
        "speedup_vs_naive": round(naive_ms / pct(times, .99), 1),
        "speedup_vs_naive_p50": round(naive_ms / pct(times, .5), 1),
        "placed": placed, "naive_placed": naive_placed,
        "placed_vs_naive": round(placed / max(1, naive_placed), 4),
        "util": round(cpus / total_cpus, 4), "bfd_util": round(bfd_cpus / total_cpus, 4),
        "util_gap_vs_bfd": round(max(0.0, (bfd_cpus - cpus) / bfd_cpus * 100), 3),
        "p50_ms_with_placements": round(pct(built_ms, .5), 2),
        "p99_ms_with_placements": round(pct(built_ms, .99), 2),
        "parse_offers_ms": round(parse_ms, 2),
        "taskinfo_resources_ms": round(json_ms, 2),
        "why_pending_ms": round(reasons_ms, 2),
    })


def sweep(task_counts: list[int], offer_counts: list[int], runs: int,
          out: dict[str, Any]) -> None:
    rng = random.Random(SEED + 1)
    shapes = make_shapes(rng)
    all_agents = make_agents(max(offer_counts), rng)
    tasks = make_tasks(max(task_counts), rng, shapes)
    table = []
    for n_tasks in task_counts:
        index = PendingIndex()
        index.add_many(tasks[:n_tasks])
        for n_agents in offer_counts:
            matcher = Matcher()
            offers, _ = parse_offers(matcher, all_agents[:n_agents])
            built: list[float] = []
            times, result, _ = timed_cycles(matcher, offers, index, runs, built_ms=built)
            p99 = pct(times, .99)
            row = {"tasks": n_tasks, "offers": n_agents, "p50_ms": round(pct(times, .5), 2),
                   "p99_ms": round(p99, 2), "p99_ms_with_placements": round(pct(built, .99), 2),
                   "placed": len(result.placements), "buckets": index.bucket_count()}
            table.append(row)
            print(f"sweep {n_tasks:>8} x {n_agents:>6}: p50 {row['p50_ms']:8.1f} ms  "
                  f"p99 {p99:8.1f} ms ({row['p99_ms_with_placements']:.1f} with the "
                  f"placements built)  placed {row['placed']:>7}  buckets {row['buckets']}",
                  file=sys.stderr)
            if n_tasks == 1_000_000 and n_agents == 10_000:
                out["p99_ms_1m_x_10k"] = round(p99, 1)
                out["p99_ms_1m_x_10k_with_placements"] = row["p99_ms_with_placements"]
        del index
    out["sweep"] = table


def incremental(n_tasks: int, n_agents: int, cycles: int, out: dict[str, Any]) -> None:
    rng = random.Random(SEED + 2)
    agents = make_agents(n_agents, rng)
    shapes = make_shapes(rng)
    serial = n_tasks
    index = PendingIndex()
    index.add_many(make_tasks(n_tasks, rng, shapes))
    running = RunningIndex()
    free = {a["id"]: {"cpus": a["cpus"], "mem": a["mem"], "disk": a["disk"],
                      "gpus": a["gpus"], "ports": list(a["ports"])} for a in agents}
    by_id = {a["id"]: a for a in agents}
    where: dict[str, tuple[str, TaskRequest, tuple[int, ...]]] = {}
    matcher = Matcher()
    match_ms, update_ms, parse_ms = [], [], []
    churn = n_tasks // 20
    for cycle in range(cycles):
        t0 = time.perf_counter()
        for key in rng.sample(sorted(where), min(churn, len(where))):
            agent_id, task, ports = where.pop(key)
            running.remove(key)
            room = free[agent_id]
            for n, v in task.resources.items():
                if n != "ports":
                    room[n] += v
            room["ports"] = list(room["ports"]) + [(p, p) for p in ports]
        fresh = make_tasks(churn, rng, shapes, start=serial)
        serial += churn
        t1 = time.perf_counter()
        index.add_many(fresh)
        update = time.perf_counter() - t1
        raw = [offer_json(by_id[i], f, cycle) for i, f in free.items()
               if f["cpus"] >= 0.5 or f["mem"] >= 512]
        t1 = time.perf_counter()
        offers = [matcher.parse_offer(o) for o in raw]
        parse_ms.append((time.perf_counter() - t1) * 1000)
        gc.collect()
        t1 = time.perf_counter()
        result = matcher.match(offers, index, running)
        len(result.placements)  # builds the Placement objects
        match_ms.append((time.perf_counter() - t1) * 1000)
        t1 = time.perf_counter()
        launched = []
        for p in result.placements:
            request = index.get(p.task_key)
            assert request is not None
            index.remove(p.task_key)
            running.add_placement(p, request)
            launched.append((p, request))
        result = None
        update += time.perf_counter() - t1
        update_ms.append(update * 1000)
        for p, task in launched:
            room = free[p.agent_id]
            for name, milli in p.shape.items:
                if name != "ports":
                    room[name] -= milli / 1000
            taken = set(p.ports)
            room["ports"] = _without(room["ports"], taken)
            where[p.task_key] = (p.agent_id, task, p.ports)
        del t0
    print(f"incremental {cycles} cycles ({n_tasks} tasks, {n_agents} agents, 5 % churn): "
          f"match (placements built) p50 {statistics.median(match_ms):.1f} ms "
          f"p99 {pct(match_ms, .99):.1f} ms; "
          f"index updates p50 {statistics.median(update_ms):.1f} ms; "
          f"parse p50 {statistics.median(parse_ms):.1f} ms; pending {len(index)}, "
          f"running {len(running)}", file=sys.stderr)
    out.update({
        "incremental_p50_ms": round(statistics.median(match_ms), 2),
        "incremental_p99_ms": round(pct(match_ms, .99), 2),
        "incremental_update_p50_ms": round(statistics.median(update_ms), 2),
        "incremental_parse_p50_ms": round(statistics.median(parse_ms), 2),
    })


def _without(spans: list[tuple[int, int]], taken: set[int]) -> list[tuple[int, int]]:
    if not taken:
        return spans
    out = []
    for b, e in spans:
        start = b
        for port in sorted(p for p in taken if b <= p <= e):
            if port > start:
                out.append((start, port - 1))
            start = port + 1
        if start <= e:
            out.append((start, e))
    return out


def cycle_only(n_tasks: int, n_agents: int, runs: int) -> dict[str, float]:
    """p50/p99 of the headline cycle alone (no baselines)."""
    rng = random.Random(SEED)
    agents = make_agents(n_agents, rng)
    tasks = make_tasks(n_tasks, rng, make_shapes(rng))
    index = PendingIndex()
    index.add_many(tasks)
    matcher = Matcher()
    offers, _ = parse_offers(matcher, agents)
    times = timed_cycles(matcher, offers, index, runs)[0]
    return {"p50_ms": round(pct(times, .5), 2), "p99_ms": round(pct(times, .99), 2)}


def interpreted_peer(n_tasks: int, n_agents: int, runs: int, out: dict[str, Any]) -> None:
    """The same headline cycle with the matcher interpreted (``MESOS_WM_PURE_PYTHON=1``),
    in a child process, when this one runs the compiled matcher."""
    if not out["compiled"]:
        return
    child = subprocess.run(
        [sys.executable, __file__, "--cycle-only", f"{n_tasks}x{n_agents}x{runs}"],
        env={**os.environ, PURE_ENV: "1"}, capture_output=True, text=True, check=True)
    peer = json.loads(child.stdout.splitlines()[-1])
    out["interpreted_p50_ms"] = peer["p50_ms"]
    out["interpreted_p99_ms"] = peer["p99_ms"]
    out["compiled_speedup_p50"] = round(peer["p50_ms"] / out["p50_ms"], 2)
    print(f"interpreted matcher, same cycle: p50 {peer['p50_ms']:.1f} ms, "
          f"p99 {peer['p99_ms']:.1f} ms", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--cycle-only", metavar="TASKSxOFFERSxRUNS",
                        help="time only the headline cycle (used for the interpreted peer)")
    args = parser.parse_args()
    if args.cycle_only:
        n_tasks, n_agents, runs = map(int, args.cycle_only.split("x"))
        print(json.dumps(cycle_only(n_tasks, n_agents, runs)))
        return
    out: dict[str, Any] = {"benchmark": "bench_matcher",
                           "compiled": is_compiled(mesos_wm.matcher._walk)}
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    if args.quick:
        headline(10_000, 100, 5, out)
        interpreted_peer(10_000, 100, 5, out)
        sweep([1_000, 10_000], [10, 100], 3, out)
        incremental(5_000, 100, 10, out)
    else:
        headline(100_000, 1_000, HEADLINE_RUNS, out)
        interpreted_peer(100_000, 1_000, HEADLINE_RUNS, out)
        sweep([10_000, 100_000, 1_000_000], [100, 1_000, 10_000], 5, out)
        incremental(100_000, 1_000, 40, out)
    out["total_s"] = round(time.perf_counter() - started, 1)
    out["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["cpus"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
