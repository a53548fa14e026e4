"""What the framework has learned about the cluster: every agent seen and its capacity.

Offers only show what is free, so an agent's capacity is estimated as the largest
"offered + used by our running tasks" observed so far.  The sum over agents is the cluster
total that dominant shares are computed against, and a task whose shape fits no agent seen
so far (with its static constraints) is reported *unschedulable* rather than pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mesos_wm.matcher.offers import AgentCapacity
from mesos_wm.matcher.request import MILLI
from mesos_wm.matcher.running import RunningIndex

__all__ = ["ClusterView", "SeenAgent"]


class SeenAgent:
    """An agent as remembered: hostname, attributes and largest observed capacity.

    ``capacity`` maps resource names to thousandths; range and set resources count
    ``1000`` per value (so ``ports`` is comparable with a task's port count).
    """

    __slots__ = ("agent_id", "attributes", "capacity", "hostname", "last")

    def __init__(self, agent_id: str, hostname: str, attributes: Mapping[str, str]) -> None:
        self.agent_id = agent_id
        self.hostname = hostname
        self.attributes = attributes
        self.capacity: dict[str, int] = {}
        self.last: tuple[object, int] | None = None


def observed_capacity(agent: AgentCapacity, used: Mapping[str, int]) -> dict[str, int]:
    """Offered plus used amounts of one agent, in thousandths (discrete: 1000 per value)."""
    pools = agent.pools
    if len(pools) == 1:
        total = dict(pools[0].scalars)
    else:
        total = {}
        for pool in pools:
            for n, m in pool.scalars.items():
                total[n] = total.get(n, 0) + m
    for pool in pools:
        for n in (*pool.ranges, *pool.sets):
            total[n] = total.get(n, 0) + pool.count(n) * MILLI
    for n, m in used.items():
        total[n] = total.get(n, 0) + m
    return total


class ClusterView:
    """Agents seen so far; updated by the matcher from every cycle's offers.

    Attributes:
        version: increases whenever an agent appears, grows or is forgotten.
        removals: increases whenever an agent is forgotten.
    """

    def __init__(self) -> None:
        self._agents: dict[str, SeenAgent] = {}
        self._total: dict[str, int] = {}
        self.version = 0
        self.removals = 0

    def __len__(self) -> int:
        return len(self._agents)

    def observe(self, agents: Iterable[AgentCapacity], running: RunningIndex | None = None
                ) -> None:
        """Learn from one cycle's combined offers.

        Args:
            agents: the offered agents.
            running: the framework's running tasks, whose resources count toward capacity.
        """
        stamp = running.version if running is not None else -1
        for agent in agents:
            seen = self._agents.get(agent.agent_id)
            if seen is not None and seen.last is not None and seen.last[0] is agent.pools and (
                    seen.last[1] == stamp):
                continue
            used = running.agent_usage_milli(agent.agent_id) if running is not None else {}
            if seen is None:
                seen = self._agents[agent.agent_id] = SeenAgent(
                    agent.agent_id, agent.hostname, agent.attributes)
                self.version += 1
            elif seen.attributes is not agent.attributes and (
                    seen.attributes != agent.attributes or seen.hostname != agent.hostname):
                seen.hostname, seen.attributes = agent.hostname, agent.attributes
                self.version += 1
            seen.last = (agent.pools, stamp)
            cap = seen.capacity
            for name, milli in observed_capacity(agent, used).items():
                old = cap.get(name, 0)
                if milli > old:
                    cap[name] = milli
                    self._total[name] = self._total.get(name, 0) + milli - old
                    self.version += 1

    def forget(self, agent_id: str) -> bool:
        """Drop an agent (removed from the cluster).  Returns True when it was known."""
        seen = self._agents.pop(agent_id, None)
        if seen is None:
            return False
        for name, milli in seen.capacity.items():
            self._total[name] -= milli
        self.version += 1
        self.removals += 1
        return True

    def total(self) -> dict[str, float]:
        """The estimated cluster capacity per resource."""
        return {n: m / MILLI for n, m in self._total.items() if m}

    def total_milli(self) -> Mapping[str, int]:
        """Like :meth:`total`, in thousandths (do not modify)."""
        return self._total

    def capacity(self, agent_id: str) -> dict[str, float] | None:
        """The estimated capacity of one agent, or None if never seen."""
        seen = self._agents.get(agent_id)
        return None if seen is None else {n: m / MILLI for n, m in seen.capacity.items()}

    def agents(self) -> list[SeenAgent]:
        """Every agent seen, sorted by id."""
        return [self._agents[a] for a in sorted(self._agents)]

    def get(self, agent_id: str) -> SeenAgent | None:
        """The remembered agent, or None."""
        return self._agents.get(agent_id)

    def fits_somewhere(self, items: tuple[tuple[str, int], ...],
                       agents: Iterable[SeenAgent] | None = None) -> bool:
        """Tell whether any agent seen (or any of ``agents``) could ever hold ``items``."""
        for seen in self._agents.values() if agents is None else agents:
            cap = seen.capacity
            if all(cap.get(n, 0) >= m for n, m in items):
                return True
        return False
