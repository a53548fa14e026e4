"""Offer-wait, staging and wall-time deadlines (pure).

* **offer wait** (``timeouts.offer_wait`` of a task): a QUEUED task that no offer took
  within it is given up (QUEUED -> ERROR, with the last why-pending reason).
* **staging** (``timeouts.staging``): an attempt that did not reach TASK_RUNNING within it
  after its launch intent is killed; the kill's TASK_KILLED carries the reason and the
  task's retry policy decides what follows.
* **wall time** (``wall_time``): an attempt RUNNING longer than it plus
  ``wall_time_margin`` is killed the same way (the executor enforces ``wall_time`` itself;
  this catches an executor that cannot).

:class:`Deadlines` is a heap with lazy deletion keyed by ``(kind, ident)``; the framework
sets and clears deadlines as tasks move and asks :meth:`Deadlines.pop_due` on its timer.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Hashable

__all__ = ["Deadlines", "Timeout", "describe"]


class Timeout(enum.Enum):
    """Which limit a deadline enforces."""

    OFFER_WAIT = "offer_wait"
    STAGING = "staging"
    WALL_TIME = "wall_time"


def describe(kind: Timeout, seconds: float) -> str:
    """A short reason for the history and ``mesos-wm why``."""
    if kind is Timeout.OFFER_WAIT:
        return f"offer wait timeout: not placed within {seconds:g}s"
    if kind is Timeout.STAGING:
        return f"staging timeout: not RUNNING within {seconds:g}s of its launch"
    return f"wall time exceeded: still running after {seconds:g}s"


class Deadlines:
    """Deadlines by ``(kind, ident)``; setting one again replaces it."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timeout, Hashable]] = []
        self._at: dict[tuple[Timeout, Hashable], tuple[float, float]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._at)

    def __contains__(self, item: object) -> bool:
        return item in self._at

    def set(self, kind: Timeout, ident: Hashable, deadline: float, limit: float) -> None:
        """Expire ``(kind, ident)`` at ``deadline``; ``limit`` is the configured seconds."""
        self._at[(kind, ident)] = (deadline, limit)
        heapq.heappush(self._heap, (deadline, next(self._seq), kind, ident))

    def clear(self, kind: Timeout, ident: Hashable) -> None:
        """Forget a deadline (no error if there is none)."""
        self._at.pop((kind, ident), None)

    def limit(self, kind: Timeout, ident: Hashable) -> float | None:
        """The configured seconds of a pending deadline, or None."""
        entry = self._at.get((kind, ident))
        return entry[1] if entry else None

    def next_deadline(self) -> float | None:
        """The earliest pending deadline, or None."""
        heap = self._heap
        while heap:
            deadline, _, kind, ident = heap[0]
            entry = self._at.get((kind, ident))
            if entry is not None and entry[0] == deadline:
                return deadline
            heapq.heappop(heap)
        return None

    def pop_due(self, now: float) -> list[tuple[Timeout, Hashable, float]]:
        """Remove and return the deadlines that passed: ``(kind, ident, limit)``."""
        out = []
        while (deadline := self.next_deadline()) is not None and deadline <= now:
            _, _, kind, ident = heapq.heappop(self._heap)
            _, limit = self._at.pop((kind, ident))
            out.append((kind, ident, limit))
        return out
