"""The cyclic garbage collector's pace while a framework or the embedded master runs.

Both allocate several container objects per status update (events, status fields,
outcomes, futures) while they keep every task they know in memory.  With Python's default
first-generation threshold (700 allocations) the collector runs some hundred times a
second and, every few seconds, walks the whole heap: on a 20,000-task run that was 11 %
of the framework's CPU and 13 % of the master's.  Their garbage is nearly all freed by
reference counting anyway, so :class:`CollectorPace` raises the threshold while they run
(``FrameworkConfig.gc_threshold``, ``MasterConfig.gc_threshold``) and puts the previous
one back when they stop.
"""

from __future__ import annotations

import gc

__all__ = ["CollectorPace"]


class CollectorPace:
    """Raises the collector's first-generation threshold and later restores it.

    Args:
        threshold: the first-generation threshold to use (None: leave it alone).
    """

    def __init__(self, threshold: int | None) -> None:
        self.threshold = threshold
        self._previous: tuple[int, int, int] | None = None

    def apply(self) -> None:
        """Use ``threshold`` if it is higher than the current one."""
        if self.threshold is None or self._previous is not None:
            return
        current = gc.get_threshold()
        if current[0] == 0 or current[0] >= self.threshold:
            return
        self._previous = current
        gc.set_threshold(self.threshold, current[1], current[2])

    def restore(self) -> None:
        """Put back the threshold :meth:`apply` replaced (unless someone changed it since)."""
        if self._previous is None:
            return
        if gc.get_threshold()[0] == self.threshold:
            gc.set_threshold(*self._previous)
        self._previous = None
