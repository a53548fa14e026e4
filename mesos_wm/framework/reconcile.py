"""Which attempts to reconcile with Mesos, and when (pure).

The queue is the framework's memory; reconciliation makes Mesos tell it the truth about
every attempt the queue holds as alive (LAUNCHING, STAGING, STARTING, RUNNING):

* **after every (re)subscription**, explicitly, every such attempt with its agent: a
  launch whose ACCEPT never reached the master comes back as lost (``TASK_LOST``, or
  ``TASK_GONE``/``TASK_UNKNOWN`` for partition-aware frameworks) and is relaunched as a
  new attempt; a task that finished while we were away comes back with its final state;
* **periodically** (``reconcile_interval``), explicitly for the alive attempts that were
  launched more than ``reconcile_grace`` ago (an ACCEPT still on its way must not be
  declared lost), followed by one implicit reconciliation, which makes the master report
  every task it knows for us, so a task the queue does not know is found and killed.

Answers are ordinary status updates without a uuid; the queue applies them like any
other, and never moves a task backwards.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from mesos_wm.queue.records import ActiveAttempt

__all__ = ["Reconciler"]

Batch = list[tuple[str, str | None]]


class Reconciler:
    """Plans explicit and implicit reconciliation.

    Args:
        interval: seconds between periodic reconciliations.
        grace: attempts launched less than this long ago are left out of periodic rounds.
        batch: task ids per RECONCILE call.
    """

    def __init__(self, interval: float, grace: float, batch: int) -> None:
        self.interval = interval
        self.grace = grace
        self.batch = batch
        self.last = -math.inf

    def plan(
        self,
        attempts: Iterable[ActiveAttempt],
        now: float,
        *,
        launched_at: Mapping[str, float] | None = None,
        everything: bool = False,
    ) -> list[Batch]:
        """The explicit RECONCILE batches of one round.

        Args:
            attempts: the queue's alive attempts.
            now: the current time.
            launched_at: when this process recorded launch intents, by Mesos task id
                (attempts not in it were launched before this process started).
            everything: a round after a (re)subscription: no attempt is left out.

        Returns:
            ``(mesos task id, agent id or None)`` lists of at most ``batch`` items.
        """
        recent = launched_at or {}
        chosen: Batch = []
        for attempt in attempts:
            started = recent.get(attempt.mesos_task_id)
            if not everything and started is not None and now - started < self.grace:
                continue
            chosen.append((attempt.mesos_task_id, attempt.agent_id))
        return [chosen[i:i + self.batch] for i in range(0, len(chosen), self.batch)]

    def due(self, now: float) -> bool:
        """Tell whether a periodic round is due."""
        return now - self.last >= self.interval

    def done(self, now: float) -> None:
        """Record that a round (periodic or after subscribing) was sent."""
        self.last = now

    def next_deadline(self) -> float:
        """When the next periodic round is due."""
        return self.last + self.interval
