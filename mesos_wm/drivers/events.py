"""Driver-level events: what the drivers tell handlers besides the Mesos events."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Disconnected"]


@dataclass(frozen=True)
class Disconnected:
    """The subscription was lost; the driver resubscribes unless it is stopping.

    Attributes:
        reason: what happened (stream ended, heartbeat missed, leader changed, ...).
    """

    reason: str
