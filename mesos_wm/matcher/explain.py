"""Why-pending: the aggregated causes of a (shape, signature) not being placed.

Worked out lazily, from the state a cycle ended in, and only for the groups someone asks
about.  Each cause is counted once per agent: "insufficient mem on 12 agents; rack EQ r2
failed on 3 agents".
"""

from __future__ import annotations

from mesos_wm.matcher._cycle import Cycle
from mesos_wm.matcher.cluster import ClusterView, SeenAgent
from mesos_wm.matcher.constraints import Constraint, Operator, field_value
from mesos_wm.matcher.request import MILLI, Shape, Signature
from mesos_wm.matcher.result import Failure

__all__ = [
    "admitted_agents",
    "explain_pending",
    "explain_unschedulable",
    "explain_window",
    "never_fits",
]


def _amount(milli: int) -> str:
    return f"{milli / MILLI:g}"


def _count(cycle: Cycle, bad: list[bool]) -> int:
    """Number of agents with at least one bad slot."""
    if cycle.slot_is_agent:
        return sum(bad)
    agent_of = cycle.slot_agent
    return len({agent_of[s] for s, flag in enumerate(bad) if flag})


def _constraint_failures(cycle: Cycle, c: Constraint) -> int:
    key = ("constraint", c)
    known = cycle.explained.get(key)
    if known is None:
        vals = cycle.values(c.field)
        verdict = {v: c.accepts(v) for v in set(vals)}
        known = cycle.explained[key] = sum(1 for v in vals if not verdict[v])
    return known


def _resource_failures(cycle: Cycle, name: str, need: int) -> int:
    key = ("resource", name, need)
    known = cycle.explained.get(key)
    if known is None:
        column = cycle.cols.get(name)
        known = len(cycle.agents) if column is None else _count(
            cycle, [x < need for x in column])
        cycle.explained[key] = known
    return known


def explain_pending(cycle: Cycle, shape: Shape, sig: Signature) -> tuple[Failure, ...]:
    """Why no offered agent took the shape at the end of the cycle."""
    if not cycle.pools:
        return (Failure("no-offers", "no offers"),)
    agent_of = cycle.slot_agent
    needs = [(name, -(-milli // MILLI) * MILLI if name in cycle.kind else milli)
             for name, milli in shape.items]
    found: list[Failure] = []
    if sig.pin is not None:
        slots = [s for s in range(len(cycle.pools))
                 if cycle.agents[agent_of[s]].agent_id == sig.pin]
        if not slots:
            return (Failure("agent", f"the workflow's agent {sig.pin} has no offer"),)
        agent = cycle.agents[agent_of[slots[0]]]
        for c in sig.static:
            if c.evaluate(agent) is not None:
                found.append(Failure("constraint", f"{c} failed", 1))
        for name, need in needs:
            column = cycle.cols.get(name)
            if all(column is None or column[s] < need for s in slots):
                found.append(Failure("resource", f"insufficient {name}", 1))
    else:
        slots = list(range(len(cycle.pools)))
        for c in sig.static:
            if bad := _constraint_failures(cycle, c):
                found.append(Failure("constraint", f"{c} failed", bad))
        for name, need in needs:
            if bad := _resource_failures(cycle, name, need):
                found.append(Failure("resource", f"insufficient {name}", bad))
    group = (cycle.group_state(sig.group)
             if sig.group is not None and sig.group in cycle.group_sigs else None)
    if group is not None:
        admitted = cycle.admitted_slots(sig.base)
        room = [s for s in slots if admitted[s]]
        for name, need in needs:
            column = cycle.cols[name]
            room = [s for s in room if column[s] >= need]
        for c in sig.dynamic:
            vals = cycle.values(c.field)
            if c.operator is Operator.GROUP_BY:
                group.candidates[c.field] = frozenset(
                    v for s in room if (v := vals[agent_of[s]]) is not None)
            verdict = {v: c.admits(v, group) for v in set(vals)}
            failing = {agent_of[s] for s in slots if not verdict[vals[agent_of[s]]]}
            if failing:
                found.append(Failure("constraint", f"{c} failed", len(failing)))
    if not found:
        found.append(Failure("resource", "no agent had room when it was tried"))
    return tuple(sorted(found, key=lambda f: (-f.agents, f.detail)))


def admitted_agents(cluster: ClusterView, sig: Signature) -> list[SeenAgent]:
    """The agents seen so far that pass the signature's static constraints and pin."""
    agents = cluster.agents()
    if sig.pin is not None:
        agents = [a for a in agents if a.agent_id == sig.pin]
    for c in sig.static:
        vals = [field_value(a.hostname, a.attributes, c.field) for a in agents]
        verdict = {v: c.accepts(v) for v in set(vals)}
        agents = [a for a, v in zip(agents, vals, strict=True) if verdict[v]]
    return agents


def never_fits(cluster: ClusterView, shape: Shape, sig: Signature,
               admitted: list[SeenAgent] | None = None) -> bool:
    """True when no agent seen so far could ever run the shape with its static constraints.

    A task pinned to an agent that was never seen is only waiting, not unschedulable.

    Args:
        cluster: the agents seen.
        shape: the resources.
        sig: the signature (its static constraints and pin count).
        admitted: :func:`admitted_agents` of ``sig``, when already known.
    """
    if not len(cluster) or (sig.pin is not None and cluster.get(sig.pin) is None):
        return False
    if not sig.static and sig.pin is None:
        return not cluster.fits_somewhere(shape.items)
    if admitted is None:
        admitted = admitted_agents(cluster, sig)
    return not cluster.fits_somewhere(shape.items, admitted)


def explain_unschedulable(cluster: ClusterView, shape: Shape, sig: Signature
                          ) -> tuple[Failure, ...]:
    """Why no agent seen so far could ever run the shape."""
    admitted = admitted_agents(cluster, sig.base)
    if not admitted:
        what = ", ".join(str(c) for c in sig.static) or f"agent {sig.pin}"
        return (Failure("unschedulable", f"no agent seen so far passes {what}"),)
    found = []
    for name, milli in shape.items:
        best = max(a.capacity.get(name, 0) for a in admitted)
        if best < milli:
            found.append(Failure(
                "unschedulable",
                f"needs {name} {_amount(milli)}, the largest agent seen has {_amount(best)}"))
    if not found:
        found.append(Failure(
            "unschedulable", f"no agent seen so far has {shape.describe()} at once"))
    return tuple(found)


def explain_window(window: int) -> tuple[Failure, ...]:
    """The cause for tasks the cycle did not reach."""
    return (Failure("window", f"not examined this cycle (scan window of {window} tasks)"),)
