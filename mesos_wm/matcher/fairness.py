"""Dominant resource fairness between owners (Ghodsi et al., NSDI 2011).

An owner's *dominant share* is the largest fraction of any resource kind of the cluster
that its tasks use (running ones plus those placed earlier in the cycle).  Within one
priority level the matcher always serves the owner with the smallest dominant share (ties
by owner name), taking that owner's tasks in submit order.  With ``quantum > 0`` an owner
keeps its turn until its share exceeds the next owner's by ``quantum``, which keeps
long runs of one owner cheap; ``quantum = 0`` is task-by-task DRF.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["DRF_RESOURCES", "dominant_share", "share_increment"]

DRF_RESOURCES: Final = ("cpus", "mem", "disk", "gpus")


def dominant_share(usage: Mapping[str, float], total: Mapping[str, float],
                   resources: Iterable[str] = DRF_RESOURCES) -> float:
    """The largest ``usage[r] / total[r]`` over ``resources`` with a positive total.

    Args:
        usage: what the owner uses (any unit, the same as ``total``).
        total: the cluster capacity seen so far.
        resources: the kinds that count (default cpus, mem, disk, gpus).

    Returns:
        The dominant share, 0.0 when nothing counts.
    """
    share = 0.0
    for name in resources:
        cap = total.get(name, 0)
        if cap > 0:
            share = max(share, usage.get(name, 0) / cap)
    return share


def share_increment(items: Iterable[tuple[str, int]], total: Mapping[str, int],
                    resources: Iterable[str] = DRF_RESOURCES) -> float:
    """An upper bound of how much one task of shape ``items`` raises a dominant share."""
    counted = set(resources)
    inc = 0.0
    for name, milli in items:
        cap = total.get(name, 0)
        if cap > 0 and name in counted:
            inc = max(inc, milli / cap)
    return inc
