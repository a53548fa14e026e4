"""Driver-level events: what the drivers tell handlers besides the Mesos events."""

from __future__ import annotations

from dataclasses import dataclass

from mesos_wm.wire.scheduler_events import Update

__all__ = ["Disconnected", "Updates"]


@dataclass(frozen=True)
class Disconnected:
    """The subscription was lost; the driver resubscribes unless it is stopping.

    Attributes:
        reason: what happened (stream ended, heartbeat missed, leader changed, ...).
    """

    reason: str


@dataclass(frozen=True)
class Updates:
    """UPDATE events that arrived back to back, handed over at once (only to a scheduler
    driver made with ``batch_updates=True``), so the handler can store them together.

    Attributes:
        updates: the updates, in stream order (at least one).
    """

    updates: tuple[Update, ...]
