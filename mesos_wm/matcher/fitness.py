"""Placement strategies and the fitness plug-in interface.

The :class:`Strategy` decides the order in which agents are tried:

* ``binpack`` (default) tries the fullest agents first and keeps placing on one agent until
  the next task no longer fits, so load is consolidated and large agents stay free for
  large tasks;
* ``spread`` tries the emptiest agents first and moves on after every task (round robin),
  so load is balanced.

A :class:`Fitness` refines that choice: for every task the matcher looks at the next
``fitness_window`` agents (in strategy order) that can take it and picks the one with the
highest :meth:`Fitness.score` (ties go to the earlier agent).  Scoring costs one call per
candidate per task, so a fitness makes matching slower; the built-in strategies alone need
no scoring at all.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from mesos_wm.matcher.offers import AgentCapacity, Pool
from mesos_wm.matcher.request import MILLI, TaskRequest

__all__ = ["AgentView", "BinPackingFitness", "Fitness", "SpreadFitness", "Strategy"]


class Strategy(enum.StrEnum):
    """The order agents are tried in."""

    BINPACK = "binpack"
    SPREAD = "spread"


class AgentView:
    """One agent's pool during a cycle, as a :class:`Fitness` sees it.

    Attributes:
        agent: the agent (id, hostname, attributes, offers).
        pool: the role's resources as offered at the start of the cycle.
    """

    __slots__ = ("_columns", "_slot", "agent", "pool")

    def __init__(self, agent: AgentCapacity, pool: Pool, columns: Mapping[str, list[int]],
                 slot: int) -> None:
        self.agent = agent
        self.pool = pool
        self._columns = columns
        self._slot = slot

    @property
    def agent_id(self) -> str:
        """The agent's id."""
        return self.agent.agent_id

    @property
    def hostname(self) -> str:
        """The agent's hostname."""
        return self.agent.hostname

    @property
    def attributes(self) -> Mapping[str, str]:
        """The agent's attributes as text."""
        return self.agent.attributes

    def offered(self, name: str) -> float:
        """The amount of ``name`` offered at the start of the cycle (counts for ranges)."""
        if name in self.pool.scalars:
            return self.pool.scalars[name] / MILLI
        return float(self.pool.count(name))

    def free(self, name: str) -> float:
        """The amount of ``name`` still free now, after this cycle's placements so far."""
        column = self._columns.get(name)
        if column is None:
            return self.offered(name)
        return column[self._slot] / MILLI


@runtime_checkable
class Fitness(Protocol):
    """Rates how good an agent is for a task (Fenzo's ``VMTaskFitnessCalculator``)."""

    def score(self, task: TaskRequest, agent: AgentView) -> float:
        """Return a score in [0, 1]; higher is better.

        Args:
            task: the task to place.
            agent: a candidate that has room for it and passes its constraints.

        Returns:
            The fitness; the matcher picks the candidate with the highest.
        """
        ...


def _used_fraction_after(task: TaskRequest, agent: AgentView) -> float:
    fractions = []
    for name in ("cpus", "mem"):
        offered = agent.offered(name)
        if offered > 0:
            left = agent.free(name) - float(task.resources.get(name, 0.0))
            fractions.append(1.0 - max(left, 0.0) / offered)
    return sum(fractions) / len(fractions) if fractions else 0.0


class BinPackingFitness:
    """Prefer the agent that is fullest after placing the task (cpus and mem)."""

    def score(self, task: TaskRequest, agent: AgentView) -> float:
        """The mean used fraction of cpus and mem after placing ``task``."""
        return _used_fraction_after(task, agent)


class SpreadFitness:
    """Prefer the agent that is emptiest after placing the task (cpus and mem)."""

    def score(self, task: TaskRequest, agent: AgentView) -> float:
        """One minus the mean used fraction of cpus and mem after placing ``task``."""
        return 1.0 - _used_fraction_after(task, agent)
