"""When to decline offers for how long, and when to SUPPRESS and REVIVE (pure).

Theory of operation
-------------------
The framework is **busy** while tasks wait to be placed, and for ``suppress_after``
seconds after the last time one did; otherwise it is **idle**.

* Offers (or the rest of an accepted offer) are refused for ``refuse_seconds`` while busy,
  so that free resources come back soon, and for ``refuse_seconds_idle`` when idle, so an
  idle framework does not make the master re-offer every allocation interval.
* An idle framework SUPPRESSes offers altogether.
* When work arrives while offers are suppressed or held back by filters we set, the
  framework REVIVEs, which clears every filter, so new work does not wait for a filter to
  expire.  REVIVE is rate-limited to one per ``revive_interval``; a REVIVE that is due
  but limited is sent as soon as the interval has passed
  (:meth:`OfferPolicy.next_deadline`).
* After a (re)subscription the master knows nothing about our filters but keeps the
  suppressed roles the driver subscribed with, so :meth:`OfferPolicy.subscribed` keeps the
  suppression flag and forgets the filters.

Nothing here does I/O: the framework asks, then makes the calls and reports back with
:meth:`OfferPolicy.suppressed_now` and :meth:`OfferPolicy.revived_now`.
"""

from __future__ import annotations

import enum
import math

from mesos_wm.framework.config import FrameworkConfig

__all__ = ["OfferAction", "OfferPolicy"]


class OfferAction(enum.Enum):
    """What to do about the offer stream now."""

    NOTHING = "nothing"
    SUPPRESS = "suppress"
    REVIVE = "revive"


class OfferPolicy:
    """Decline filters, suppression and rate-limited revival.

    Args:
        config: the intervals (``refuse_seconds``, ``refuse_seconds_idle``,
            ``suppress_after``, ``revive_interval``).
        now: the current time.
    """

    def __init__(self, config: FrameworkConfig, now: float) -> None:
        self.config = config
        self.suppressed = False
        self.filtered = False
        self.filtered_long = False
        self.last_busy = now
        self.last_revive = -math.inf
        self.revive_wanted = False

    def busy(self, now: float, waiting: int) -> bool:
        """Tell whether tasks wait, or waited less than ``suppress_after`` ago."""
        if waiting > 0:
            self.last_busy = now
            return True
        return now - self.last_busy < self.config.suppress_after

    def refuse_seconds(self, now: float, waiting: int) -> float:
        """``Filters.refuse_seconds`` for declining offers (or the rest of accepted ones).

        Args:
            now: the current time.
            waiting: tasks still waiting to be placed after this cycle.

        Returns:
            The short filter while busy, the long one when idle.
        """
        self.filtered = True
        if self.busy(now, waiting):
            return self.config.refuse_seconds
        self.filtered_long = True
        return self.config.refuse_seconds_idle

    def work_arrived(self) -> None:
        """Note that tasks became ready; a REVIVE follows if offers are held back."""
        if self.suppressed or self.filtered:
            self.revive_wanted = True

    def decide(self, now: float, waiting: int) -> OfferAction:
        """What to do about the offer stream now.

        Args:
            now: the current time.
            waiting: tasks waiting to be placed.

        Returns:
            REVIVE when work waits and offers are held back (and the rate limit allows),
            SUPPRESS when idle, NOTHING otherwise.
        """
        if waiting > 0 and (self.suppressed or self.filtered_long):
            self.revive_wanted = True
        if self.revive_wanted:
            if waiting == 0:
                self.revive_wanted = False
            elif now - self.last_revive >= self.config.revive_interval:
                return OfferAction.REVIVE
            return OfferAction.NOTHING
        if not self.suppressed and not self.busy(now, waiting):
            return OfferAction.SUPPRESS
        return OfferAction.NOTHING

    def revived_now(self, now: float) -> None:
        """Record that a REVIVE was sent (filters cleared, suppression lifted)."""
        self.last_revive = now
        self.last_busy = now
        self.suppressed = False
        self.filtered = False
        self.filtered_long = False
        self.revive_wanted = False

    def revive_failed(self, now: float) -> None:
        """Record that a REVIVE could not be sent: it is still wanted, and tried again
        after ``revive_interval`` (not at once, over and over, while the master fails)."""
        self.last_revive = now

    def suppressed_now(self) -> None:
        """Record that a SUPPRESS was sent."""
        self.suppressed = True

    def subscribed(self, now: float) -> None:
        """A new subscription: the master has no filters of ours any more."""
        self.filtered = False
        self.filtered_long = False
        self.last_busy = now

    def next_deadline(self, now: float) -> float | None:
        """When :meth:`decide` may answer differently without new input (None: never)."""
        if self.revive_wanted:
            return max(now, self.last_revive + self.config.revive_interval)
        if not self.suppressed:
            return self.last_busy + self.config.suppress_after
        return None
