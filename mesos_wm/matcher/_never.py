"""Which shapes and signatures fit no agent seen so far, remembered between cycles.

The verdict of a (shape, static signature) changes only when the cluster view does: a
positive one ("never fits") when any agent appears or grows (``ClusterView.version``), a
negative one only when an agent is forgotten (``ClusterView.removals``).
"""

from __future__ import annotations

from typing import Final

from mesos_wm.matcher.cluster import ClusterView, SeenAgent
from mesos_wm.matcher.explain import admitted_agents, never_fits
from mesos_wm.matcher.request import Shape, Signature

__all__ = ["NeverFits"]

_CACHE_LIMIT: Final = 100_000


class NeverFits:
    """The unschedulable verdicts of one matcher's cluster view."""

    def __init__(self, cluster: ClusterView) -> None:
        self.cluster = cluster
        self._verdicts: dict[tuple[Shape, Signature], tuple[int, int, bool]] = {}
        self._admitted: dict[Signature, tuple[int, list[SeenAgent]]] = {}

    def check(self, shape: Shape, sig: Signature) -> bool:
        """True when no agent seen so far could ever run ``shape`` under the static
        constraints and pin of ``sig``."""
        base = sig.base
        known = self._verdicts.get((shape, base))
        version = self.cluster.version
        if known is not None and (known[0] == version or (
                not known[2] and known[1] == self.cluster.removals)):
            return known[2]
        if len(self._verdicts) > _CACHE_LIMIT:
            self._verdicts.clear()
            self._admitted.clear()
        admitted = None
        if base.static or base.pin is not None:
            cached = self._admitted.get(base)
            if cached is None or cached[0] != version:
                cached = self._admitted[base] = (version, admitted_agents(self.cluster, base))
            admitted = cached[1]
        verdict = never_fits(self.cluster, shape, base, admitted)
        self._verdicts[(shape, base)] = (version, self.cluster.removals, verdict)
        return verdict
