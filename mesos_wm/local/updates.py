"""Reliable task status-update streams, as the Mesos agent's status update manager keeps them.

Theory of operation: every task has one stream.  Updates enter it in the order the
executor sent them; only the head of the stream is *in flight* (forwarded to the
framework).  The framework's ACKNOWLEDGE of the head's uuid pops it and forwards the next
update at once.  While the head is unacknowledged it is resent after ``initial`` seconds,
the interval doubling up to ``maximum`` (Mesos: 10 s to 10 min).  An update whose uuid was
already received (an executor resending after a resubscription) is not queued again, but
is still reported as stored so the executor gets its ACKNOWLEDGED.  After the terminal
update is acknowledged the stream is finished.

Pure: time comes in as ``now``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mesos_wm.wire.states import is_terminal

__all__ = ["UpdateStream"]


@dataclass(eq=False)
class UpdateStream:
    """The status updates of one task that still wait for the framework's acknowledgement.

    Attributes:
        framework_id: the task's framework.
        task_id: the task.
        pending: TaskStatus dicts (each with a base64 ``uuid``), head = in flight.
        retry_at: when the head is resent next (None = nothing in flight).
        interval: the current resend interval.
        finished: the terminal update was acknowledged.
    """

    framework_id: str
    task_id: str
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    retry_at: float | None = None
    interval: float = 0.0
    finished: bool = False

    @property
    def head(self) -> dict[str, Any] | None:
        """The update in flight, if any."""
        return self.pending[0] if self.pending else None

    def add(self, status: dict[str, Any], now: float, initial: float) -> bool:
        """Queue an update from the executor.

        Args:
            status: a TaskStatus with ``uuid``.
            now: the current time.
            initial: the first resend interval.

        Returns:
            True when the update became the head and must be forwarded now.
        """
        uuid = status["uuid"]
        if uuid in self.seen or self.finished:
            return False
        self.seen.add(uuid)
        self.pending.append(status)
        if len(self.pending) == 1:
            self.interval = initial
            self.retry_at = now + initial
            return True
        return False

    def acknowledge(
        self, uuid: str, now: float, initial: float
    ) -> tuple[bool, dict[str, Any] | None]:
        """Apply the framework's acknowledgement.

        Args:
            uuid: base64 uuid from the ACKNOWLEDGE call.
            now: the current time.
            initial: the first resend interval.

        Returns:
            ``(matched, next)``: whether the uuid was the head's, and the update to forward
            next (None when the stream is empty or finished).
        """
        head = self.head
        if head is None or head["uuid"] != uuid:
            return False, None
        self.pending.popleft()
        if is_terminal(head["state"]):
            self.finished = True
            self.pending.clear()
        if not self.pending:
            self.retry_at = None
            return True, None
        self.interval = initial
        self.retry_at = now + initial
        return True, self.pending[0]

    def due(self, now: float) -> bool:
        """Tell whether the head must be resent now."""
        return self.retry_at is not None and now >= self.retry_at

    def resend(self, now: float, maximum: float) -> dict[str, Any] | None:
        """Return the head for resending and schedule the next retry (doubling, capped)."""
        head = self.head
        if head is None:
            self.retry_at = None
            return None
        self.interval = min(self.interval * 2, maximum)
        self.retry_at = now + self.interval
        return head

    def flush(self, now: float, initial: float) -> dict[str, Any] | None:
        """Return the head to resend at once (framework resubscribed), resetting the backoff."""
        head = self.head
        if head is not None:
            self.interval = initial
            self.retry_at = now + initial
        return head
