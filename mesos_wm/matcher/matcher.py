"""The matcher: one synchronous call from offers and pending tasks to placements.

Theory of operation: :meth:`Matcher.match` combines the offers per agent, learns agent
capacities (:class:`ClusterView`), sets up the cycle's free resources (``_cycle``) and
walks the :class:`PendingIndex` level by level, highest priority first, owners in turn by
dominant resource fairness, each owner's tasks in submit order (``_walk``).  Buckets whose
shape fits no agent seen so far are reported unschedulable.  The walk stops after
``scan_window`` tasks were examined; the rest stay pending "not examined".

Nothing is mutated outside the cycle except the matcher's :class:`ClusterView`, so equal
inputs (and an equal history of offers) give equal results.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from mesos_wm.matcher._cycle import Cycle
from mesos_wm.matcher._never import NeverFits
from mesos_wm.matcher._walk import Walk
from mesos_wm.matcher.cluster import ClusterView
from mesos_wm.matcher.fairness import DRF_RESOURCES
from mesos_wm.matcher.fitness import Fitness, Strategy
from mesos_wm.matcher.index import PendingIndex
from mesos_wm.matcher.offers import AgentCapacity, Offer
from mesos_wm.matcher.result import MatchResult, MatchStats
from mesos_wm.matcher.running import RunningIndex

__all__ = ["Matcher"]


class Matcher:
    """Places pending tasks onto offers; holds only configuration and the cluster view.

    Args:
        strategy: ``"binpack"`` (default) or ``"spread"`` (see :class:`Strategy`).
        fitness: optional :class:`Fitness` that picks among the next ``fitness_window``
            candidate agents of each task.
        fitness_window: how many candidates a fitness scores per task.
        avoid_gpu_agents: tasks that need no GPU use GPU agents only when no other agent
            has room for them.
        scan_window: at most this many tasks are examined per cycle (None: no limit).
        drf_quantum: how far (in dominant share) an owner may run ahead of the next owner
            before yielding its turn; 0 is strict task-by-task DRF.
        roles: the framework's roles, used by :meth:`parse_offer` (None: every role).
        cluster: the view of agents seen so far (a new one by default).

    Raises:
        ValueError: an unknown strategy or a negative window or quantum.
    """

    def __init__(
        self,
        *,
        strategy: Strategy | str = Strategy.BINPACK,
        fitness: Fitness | None = None,
        fitness_window: int = 8,
        avoid_gpu_agents: bool = True,
        scan_window: int | None = 250_000,
        drf_quantum: float = 0.002,
        roles: Iterable[str] | None = None,
        cluster: ClusterView | None = None,
    ) -> None:
        try:
            self.strategy = Strategy(strategy)
        except ValueError:
            known = ", ".join(s.value for s in Strategy)
            raise ValueError(f"unknown strategy {strategy!r}; use one of {known}") from None
        if scan_window is not None and scan_window < 1:
            raise ValueError("scan_window must be at least 1 (or None for no limit)")
        if drf_quantum < 0 or fitness_window < 1:
            raise ValueError("drf_quantum must be >= 0 and fitness_window >= 1")
        self.fitness = fitness
        self.fitness_window = fitness_window
        self.avoid_gpu_agents = avoid_gpu_agents
        self.scan_window = scan_window
        self.drf_quantum = drf_quantum
        self.roles = None if roles is None else frozenset(roles)
        self.cluster = cluster if cluster is not None else ClusterView()
        self._never = NeverFits(self.cluster)

    def parse_offer(self, offer: Mapping[str, Any]) -> Offer:
        """Parse Mesos ``Offer`` JSON keeping the matcher's roles (see :meth:`Offer.from_json`).

        Raises:
            ValueError: a malformed offer.
        """
        return Offer.from_json(offer, self.roles)

    def match(
        self,
        offers: Iterable[Offer],
        pending: PendingIndex,
        running: RunningIndex | None = None,
    ) -> MatchResult:
        """Match one cycle: decide which pending tasks go on which offers.

        Args:
            offers: every offer currently held (parsed with :meth:`parse_offer`).
            pending: the ready tasks; not modified (remove placed tasks yourself).
            running: the framework's running tasks (owner usage, group placements).

        Returns:
            Placements in decision order, unplaced tasks grouped with lazy reasons, and
            the offers nothing was placed on.
        """
        offers = list(offers)
        running = running if running is not None else RunningIndex()
        agents = AgentCapacity.combine(offers)
        self.cluster.observe(agents, running)
        total = self.cluster.total_milli()
        drf_total = {n: total[n] for n in DRF_RESOURCES if total.get(n, 0) > 0}
        cycle = Cycle(agents, pending.shapes(), strategy=self.strategy,
                      avoid_gpu=self.avoid_gpu_agents, running=running, tasks=pending._tasks,
                      fitness=self.fitness, fitness_window=self.fitness_window,
                      never=self._never, drf_total=drf_total,
                      group_sigs=pending.group_signatures())
        window = self.scan_window if self.scan_window is not None else sys.maxsize
        walk = Walk(cycle, self.cluster, running, total=drf_total, window=window,
                    quantum=self.drf_quantum, log=pending.freeze())
        walk.run(pending.levels())
        used_ids = {i for pool in cycle.used_pools() for i in pool.offer_ids}
        unused = list(dict.fromkeys(o.offer_id for o in offers if o.offer_id not in used_ids))
        stats = MatchStats(
            agents=len(agents), pools=len(cycle.pools), buckets=pending.bucket_count(),
            examined=walk.examined, placed=len(cycle.placed_keys),
            dead_shapes=walk.dead_shapes(pending.combos()),
            window_reached=walk.window_reached)
        return MatchResult(cycle.placements, walk.unplaced, unused, stats)
