"""Offer allocation, a small version of Mesos's hierarchical DRF allocator. Pure.

Theory of operation: each round visits the agents in a random order (the injected
``random.Random``), and offers all of an agent's available resources to one
``(framework, role)`` client: the eligible client with the lowest dominant share (its
allocated resources over the cluster's total, per resource kind) goes first, ties broken
by framework registration order.  A client is eligible for an agent when its framework is
connected and active, the role is not suppressed, no unexpired refuse filter of that role
covers the agent's available resources, and, for agents with GPUs, the framework has the
GPU_RESOURCES capability.  Like Mesos, an agent offers nothing unless at least 0.01 cpus
or 32 MB of memory are free (``--min_allocatable_resources``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mesos_wm.local.model import Agent, Framework
from mesos_wm.resources import ResourceSet

__all__ = ["Allocation", "allocatable", "allocate", "dominant_share"]

MIN_CPUS = 0.01
MIN_MEM = 32.0


@dataclass(frozen=True)
class Allocation:
    """All available resources of ``agent`` go to ``framework`` for ``role``."""

    framework: Framework
    role: str
    agent: Agent
    resources: ResourceSet


def allocatable(resources: ResourceSet) -> bool:
    """Tell whether ``resources`` are worth an offer (Mesos's minimum allocatable)."""
    return (
        resources.scalars.get("cpus", 0.0) >= MIN_CPUS
        or resources.scalars.get("mem", 0.0) >= MIN_MEM
    )


def dominant_share(allocated: ResourceSet, totals: dict[str, float]) -> float:
    """Return the largest fraction of any scalar resource kind held by ``allocated``."""
    share = 0.0
    for name, value in allocated.scalars.items():
        total = totals.get(name, 0.0)
        if total > 0:
            share = max(share, value / total)
    return share


def _filtered(
    framework: Framework, role: str, agent: Agent, available: ResourceSet, now: float
) -> bool:
    refuse = framework.filters.get((agent.agent_id, role))
    if refuse is None:
        return False
    if now >= refuse.until:
        del framework.filters[(agent.agent_id, role)]
        return False
    return refuse.resources.contains(available)


def allocate(
    agents: Iterable[Agent], frameworks: Sequence[Framework], now: float, rng: random.Random
) -> list[Allocation]:
    """Decide one allocation round.

    Args:
        agents: every registered agent.
        frameworks: every framework, in registration order.
        now: the current time (expires refuse filters).
        rng: orders the agents.

    Returns:
        The allocations, at most one per agent.  Nothing is changed except that expired
        filters are dropped; the caller turns allocations into offers.
    """
    clients = [
        (framework, role)
        for framework in frameworks
        if framework.connected and framework.active
        for role in framework.roles
        if role not in framework.suppressed
    ]
    if not clients:
        return []
    live = [agent for agent in agents if agent.active]
    totals: dict[str, float] = {}
    for agent in live:
        for name, value in agent.total.scalars.items():
            totals[name] = totals.get(name, 0.0) + value
    shares = {id(fw): dominant_share(fw.allocated, totals) for fw, _ in clients}
    order = {id(fw): index for index, (fw, _) in enumerate(clients)}
    rng.shuffle(live)
    result: list[Allocation] = []
    for agent in live:
        available = agent.available()
        if not allocatable(available):
            continue
        has_gpus = agent.total.scalars.get("gpus", 0.0) > 0
        ranked = sorted(clients, key=lambda c: (shares[id(c[0])], order[id(c[0])]))
        for framework, role in ranked:
            if has_gpus and not framework.has("GPU_RESOURCES"):
                continue
            if _filtered(framework, role, agent, available, now):
                continue
            result.append(Allocation(framework, role, agent, available))
            for name, value in available.scalars.items():
                total = totals.get(name, 0.0)
                if total > 0:
                    shares[id(framework)] = max(
                        shares[id(framework)],
                        (framework.allocated.scalars.get(name, 0.0) + value) / total,
                    )
            break
    return result
