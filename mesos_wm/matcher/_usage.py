"""Each owner's use of the DRF resources during one cycle, as plain float fields.

The walk adds every placement to its owner's usage.  One field per kind of
:data:`~mesos_wm.matcher.fairness.DRF_RESOURCES` (rather than a list) lets the compiled
build add a placement without boxing a number.  The amounts are thousandths, whole numbers
far below 2**53, so the float sums are exact in any order.
"""

from __future__ import annotations

from collections.abc import Mapping

from mesos_wm.matcher.fairness import DRF_RESOURCES

__all__ = ["Amounts", "Usage", "drf_amounts"]

Amounts = tuple[float, float, float, float]

assert len(DRF_RESOURCES) == 4, "Usage keeps one field per DRF resource"


def drf_amounts(amounts: Mapping[str, int], counted: Mapping[str, int]) -> Amounts:
    """``amounts`` of the DRF resources, in :data:`DRF_RESOURCES` order; 0 for a resource
    not in ``counted`` (the resources with a positive cluster total)."""
    a = [float(amounts.get(n, 0)) if n in counted else 0.0 for n in DRF_RESOURCES]
    return (a[0], a[1], a[2], a[3])


class Usage:
    """One owner's usage of the DRF resources (thousandths): running tasks plus the
    cycle's placements so far."""

    __slots__ = ("cpus", "disk", "gpus", "mem")

    def __init__(self, base: Amounts) -> None:
        self.cpus = base[0]
        self.mem = base[1]
        self.disk = base[2]
        self.gpus = base[3]

    def add(self, cpus: float, mem: float, disk: float, gpus: float) -> None:
        """Count more placed tasks."""
        self.cpus += cpus
        self.mem += mem
        self.disk += disk
        self.gpus += gpus

    def share(self, total: Amounts) -> float:
        """The dominant share: the largest ``usage / total`` over the resources with a
        positive ``total``."""
        most = 0.0
        if total[0] > 0:
            most = max(most, self.cpus / total[0])
        if total[1] > 0:
            most = max(most, self.mem / total[1])
        if total[2] > 0:
            most = max(most, self.disk / total[2])
        if total[3] > 0:
            most = max(most, self.gpus / total[3])
        return most
