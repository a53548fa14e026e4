"""What a matching cycle returns: placements, unplaced tasks with reasons, unused offers.

Nothing here raises for a task that did not fit: that is an :class:`Unplaced` entry whose
:attr:`Unplaced.reason` says why ("insufficient mem on 12 agents; rack EQ r2 failed on 3
agents").  Reasons are worked out on first access from the state the cycle ended in, so a
cycle that leaves 100,000 tasks pending does not format 100,000 strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from mesos_wm.matcher.offers import AgentCapacity, Pool, merge_ranges
from mesos_wm.matcher.request import MILLI, Shape

__all__ = ["Failure", "Launch", "MatchResult", "MatchStats", "Placement", "Unplaced"]

Discrete = tuple[tuple[str, tuple[Any, ...]], ...]
T = TypeVar("T")


class Placement:
    """One task placed on one agent, with everything needed for its ``TaskInfo``.

    A plain class rather than a named tuple: the compiled matcher makes one for every
    placement, and a native constructor costs a fraction of a tuple subclass's.  Two
    placements are equal when all their fields are.

    Attributes:
        task_key: the task's key.
        agent: the agent (hostname, attributes, all its offers).
        pool: the role (and reservation) the resources come from.
        shape: the scalar amounts the task gets.
        discrete: ``(name, values)`` for range and set resources: the port numbers chosen.
    """

    __slots__ = ("agent", "discrete", "pool", "shape", "task_key")

    def __init__(self, task_key: str, agent: AgentCapacity, pool: Pool, shape: Shape,
                 discrete: Discrete) -> None:
        self.task_key = task_key
        self.agent = agent
        self.pool = pool
        self.shape = shape
        self.discrete = discrete

    def _fields(self) -> tuple[str, AgentCapacity, Pool, Shape, Discrete]:
        return (self.task_key, self.agent, self.pool, self.shape, self.discrete)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Placement) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((self.task_key, self.agent.agent_id, self.discrete))

    def __repr__(self) -> str:
        return (f"Placement({self.task_key!r} on {self.agent.hostname or self.agent_id}, "
                f"{self.shape.describe()}, role {self.pool.role!r})")

    @property
    def agent_id(self) -> str:
        """The agent's id."""
        return self.agent.agent_id

    @property
    def hostname(self) -> str:
        """The agent's hostname."""
        return self.agent.hostname

    @property
    def offer_ids(self) -> tuple[str, ...]:
        """The offers whose resources the task uses (accept them together)."""
        return self.pool.offer_ids

    @property
    def role(self) -> str:
        """The role the resources are allocated to."""
        return self.pool.role

    @property
    def ports(self) -> tuple[int, ...]:
        """The port numbers chosen for the task (empty when it asked for none)."""
        for name, values in self.discrete:
            if name == "ports":
                return tuple(values)
        return ()

    def resources(self) -> list[dict[str, Any]]:
        """The Mesos ``Resource`` list for ``TaskInfo.resources``.

        Returns:
            Scalars, then the chosen ranges and set items, each with
            ``allocation_info.role`` (and the pool's reservations, if any).
        """
        chosen = dict(self.discrete)
        out = [self.pool.resource(n, m / MILLI) for n, m in self.shape.items if n not in chosen]
        for name, values in self.discrete:
            if name in self.pool.ranges:
                out.append(self.pool.resource(name, merge_ranges((v, v) for v in values)))
            else:
                out.append(self.pool.resource(name, tuple(values)))
        return out


class Launch(NamedTuple):
    """Placements on one agent, to send as one ACCEPT with one LAUNCH operation."""

    agent_id: str
    offer_ids: tuple[str, ...]
    placements: tuple[Placement, ...]


@dataclass(frozen=True)
class Failure:
    """One aggregated cause of a task staying pending.

    Attributes:
        kind: ``resource``, ``constraint``, ``agent`` (pinned agent not offered),
            ``no-offers``, ``window`` (not examined this cycle) or ``unschedulable``.
        detail: e.g. ``insufficient mem`` or ``rack EQ r2 failed``.
        agents: on how many agents it happened (0 when that does not apply).
    """

    kind: str
    detail: str
    agents: int = 0

    def __str__(self) -> str:
        if not self.agents:
            return self.detail
        return f"{self.detail} on {self.agents} agent{'s' if self.agents != 1 else ''}"


Snapshot = tuple[list[str], int, int, set[str]]


class Unplaced:
    """Pending tasks that share one reason (same priority, owner, shape and signature).

    Attributes:
        priority, owner, shape: what the tasks have in common.
        unschedulable: True when no agent seen so far could ever run them.
    """

    __slots__ = ("_explain", "_failures", "_keys", "_snapshot", "owner", "priority", "shape",
                 "unschedulable")

    def __init__(self, snapshot: Snapshot, *, priority: int, owner: str, shape: Shape,
                 unschedulable: bool, explain: Callable[[], tuple[Failure, ...]]) -> None:
        self._snapshot = snapshot
        self._keys: tuple[str, ...] | None = None
        self.priority = priority
        self.owner = owner
        self.shape = shape
        self.unschedulable = unschedulable
        self._explain = explain
        self._failures: tuple[Failure, ...] | None = None

    @property
    def task_keys(self) -> tuple[str, ...]:
        """The tasks, in submit order."""
        if self._keys is None:
            keys, start, end, dead = self._snapshot
            part = keys[start:end]
            self._keys = tuple(k for k in part if k not in dead) if dead else tuple(part)
        return self._keys

    @property
    def failures(self) -> tuple[Failure, ...]:
        """The causes, most frequent first."""
        if self._failures is None:
            self._failures = self._explain()
        return self._failures

    @property
    def reason(self) -> str:
        """The causes as one line, for ``mesos-wm why``."""
        return "; ".join(str(f) for f in self.failures) or "not placed"

    def __repr__(self) -> str:
        return f"Unplaced({len(self.task_keys)} tasks, {self.shape.describe()})"


@dataclass(frozen=True)
class MatchStats:
    """Counters of one cycle, for metrics and benchmarks."""

    agents: int = 0
    pools: int = 0
    buckets: int = 0
    examined: int = 0
    placed: int = 0
    dead_shapes: int = 0
    window_reached: bool = False


class _OnFirstUse(Generic[T]):
    """A list given as it is or as the function that builds it, called once when needed."""

    __slots__ = ("_source", "_value")

    def __init__(self, given: list[T] | Callable[[], list[T]]) -> None:
        self._value = given if isinstance(given, list) else None
        self._source = None if isinstance(given, list) else given

    def get(self) -> list[T]:
        if self._value is None:
            assert self._source is not None
            self._value = self._source()
            self._source = None
        return self._value


class MatchResult:
    """The outcome of :meth:`Matcher.match`.

    Both :attr:`placements` and :attr:`unplaced` are built on first access from what the
    cycle logged, so deciding is all a cycle pays for (``stats.placed`` counts the
    placements without building them).

    Attributes:
        unused_offers: offers nothing was placed on (decline them).
        stats: counters.
    """

    __slots__ = ("_placements", "_unplaced", "stats", "unused_offers")

    def __init__(self, placements: list[Placement] | Callable[[], list[Placement]],
                 unplaced: list[Unplaced] | Callable[[], list[Unplaced]],
                 unused_offers: list[str], stats: MatchStats | None = None) -> None:
        self.unused_offers = unused_offers
        self.stats = stats if stats is not None else MatchStats()
        self._placements = _OnFirstUse(placements)
        self._unplaced = _OnFirstUse(unplaced)

    @property
    def placements(self) -> list[Placement]:
        """The placements, in the order they were decided (built on first access)."""
        return self._placements.get()

    @property
    def unplaced(self) -> list[Unplaced]:
        """Every pending task not placed, grouped by reason (built on first access)."""
        return self._unplaced.get()

    def launches(self) -> list[Launch]:
        """Placements grouped by agent (agents in first-placement order)."""
        by_agent: dict[str, list[Placement]] = {}
        for p in self.placements:
            by_agent.setdefault(p.agent_id, []).append(p)
        out = []
        for agent_id, group in by_agent.items():
            ids: dict[str, None] = {}
            for p in group:
                ids.update(dict.fromkeys(p.offer_ids))
            out.append(Launch(agent_id, tuple(ids), tuple(group)))
        return out

    def iter_unplaced(self) -> Iterator[tuple[str, Unplaced]]:
        """Every unplaced task key with its :class:`Unplaced` group."""
        for group in self.unplaced:
            for key in group.task_keys:
                yield key, group

    def reason_for(self, key: str) -> str | None:
        """Why ``key`` was not placed (None when it was placed or was not pending)."""
        for group in self.unplaced:
            if key in group.task_keys:
                return group.reason
        return None
