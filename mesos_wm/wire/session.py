"""The scheduler's subscription to a Mesos master as a sans-IO state machine.

Theory of operation
-------------------
A scheduler session is one logical subscription that survives many HTTP connections.  The
driver (``mesos_wm.drivers.scheduler``) moves bytes; this module decides.  Every change of
state goes through :data:`TRANSITIONS`, and anything the table does not list is a
:class:`~mesos_wm.errors.LocalProtocolError` (a driver bug), never a silent no-op.

* ``IDLE --START--> CONNECTING``: the driver POSTs SUBSCRIBE (:meth:`SchedulerSession.
  subscribe_call`) to :attr:`SchedulerSession.master_url`.
* ``CONNECTING --REDIRECTED--> CONNECTING``: a 307 names the leader; the next attempt goes
  there at once.  More than ``max_redirects`` in a row counts as a drop instead.
* ``CONNECTING --STREAM_OPENED--> SUBSCRIBING``: 200 with a ``Mesos-Stream-Id``.
* ``SUBSCRIBING --SUBSCRIBED--> SUBSCRIBED``: the first event; it carries the framework id
  (kept for every later resubscription) and the heartbeat interval.  Only now may calls be
  made (:meth:`SchedulerSession.require_subscribed`).
* ``* --DROPPED--> BACKING_OFF``: refused connection, 503, end of stream, malformed record,
  or the heartbeat watchdog (no event for ``5 * heartbeat_interval_seconds``).  The stream
  id is forgotten; the retry waits a capped exponential backoff with jitter drawn from the
  injected ``random.Random``.  If ``give_up_after`` seconds pass without a subscription
  the session fails instead.
* ``BACKING_OFF --RETRY--> CONNECTING``: resubscribe with the framework id.
* ``* --FAILED--> STOPPED``: a 4xx answer to SUBSCRIBE, an ERROR event, or giving up.
  ``* --STOP--> STOPPED``: the user stopped the driver.  STOPPED is final.

Time is always an argument (``now``, seconds on any monotonic clock); nothing here reads a
clock, sleeps or does I/O.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from mesos_wm.errors import LocalProtocolError, NotSubscribed, RemoteProtocolError
from mesos_wm.wire import scheduler_calls

__all__ = [
    "HEARTBEAT_MISSES",
    "TRANSITIONS",
    "Backoff",
    "SchedulerSession",
    "SessionInput",
    "SessionState",
    "resolve_redirect",
]

HEARTBEAT_MISSES = 5
SCHEDULER_PATH = "/api/v1/scheduler"


class SessionState(enum.Enum):
    """Where a scheduler session is (see the module docstring)."""

    IDLE = "idle"
    CONNECTING = "connecting"
    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    BACKING_OFF = "backing_off"
    STOPPED = "stopped"


class SessionInput(enum.Enum):
    """What can happen to a scheduler session."""

    START = "start"
    REDIRECTED = "redirected"
    STREAM_OPENED = "stream_opened"
    SUBSCRIBED = "subscribed"
    EVENT = "event"
    DROPPED = "dropped"
    RETRY = "retry"
    FAILED = "failed"
    STOP = "stop"


_S = SessionState
_I = SessionInput

TRANSITIONS: Mapping[tuple[SessionState, SessionInput], SessionState] = {
    (_S.IDLE, _I.START): _S.CONNECTING,
    (_S.CONNECTING, _I.REDIRECTED): _S.CONNECTING,
    (_S.CONNECTING, _I.STREAM_OPENED): _S.SUBSCRIBING,
    (_S.CONNECTING, _I.DROPPED): _S.BACKING_OFF,
    (_S.SUBSCRIBING, _I.SUBSCRIBED): _S.SUBSCRIBED,
    (_S.SUBSCRIBING, _I.DROPPED): _S.BACKING_OFF,
    (_S.SUBSCRIBED, _I.EVENT): _S.SUBSCRIBED,
    (_S.SUBSCRIBED, _I.DROPPED): _S.BACKING_OFF,
    (_S.BACKING_OFF, _I.RETRY): _S.CONNECTING,
    **{(state, _I.FAILED): _S.STOPPED for state in _S if state is not _S.STOPPED},
    **{(state, _I.STOP): _S.STOPPED for state in _S},
}


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter.

    The ``n``-th consecutive retry waits a random time in ``[cap / 2, cap]`` where
    ``cap = min(maximum, initial * multiplier ** n)``: never zero (no retry storms), and
    spread so that many schedulers do not return in step after a master failover.

    Attributes:
        initial: the cap of the first retry, in seconds.
        maximum: the largest cap, in seconds.
        multiplier: the growth of the cap per retry.
    """

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.multiplier < 1:
            raise ValueError(
                f"Backoff needs 0 < initial <= maximum and multiplier >= 1, got {self!r}"
            )

    def cap(self, attempt: int) -> float:
        """The upper bound of the wait before retry number ``attempt`` (0-based)."""
        exponent = min(attempt, 64)
        return float(min(self.maximum, self.initial * self.multiplier**exponent))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Draw the wait before retry number ``attempt`` (0-based).

        Args:
            attempt: how many retries came before this one.
            rng: the source of jitter (seeded in tests).

        Returns:
            Seconds to wait.
        """
        cap = self.cap(attempt)
        return rng.uniform(cap / 2, cap)


def resolve_redirect(location: str, current: str) -> str:
    """Turn a 307 ``Location`` into the base URL of the master it names.

    Mesos answers ``Location: //host:port/api/v1/scheduler`` (protocol-relative), so the
    scheme of the current master is kept unless the location gives one.

    Args:
        location: the ``Location`` header.
        current: the base URL the request went to (``scheme://host:port``).

    Returns:
        ``scheme://host:port`` of the redirect target.

    Raises:
        RemoteProtocolError: the location names no host or an unusable scheme.
    """
    target = urlsplit(urljoin(current + SCHEDULER_PATH, location.strip()))
    if target.scheme not in ("http", "https") or not target.netloc:
        raise RemoteProtocolError(f"cannot follow redirect to {location!r}")
    return f"{target.scheme}://{target.netloc}"


class SchedulerSession:
    """The decisions of one scheduler subscription, without I/O.

    Args:
        framework_info: the ``FrameworkInfo`` JSON to subscribe with; an ``id`` in it
            means resubscribing as that framework.
        rng: the source of backoff jitter.
        backoff: the retry policy.
        subscribe_timeout: seconds allowed from the start of a SUBSCRIBE until the
            SUBSCRIBED event, before the attempt counts as dropped.
        give_up_after: seconds without a subscription after which the session fails;
            ``None`` retries forever.
        max_redirects: consecutive 307s followed before backing off.
    """

    def __init__(
        self,
        framework_info: Mapping[str, Any],
        *,
        rng: random.Random,
        backoff: Backoff | None = None,
        subscribe_timeout: float = 30.0,
        give_up_after: float | None = None,
        max_redirects: int = 5,
    ) -> None:
        self._framework_info = dict(framework_info)
        self._rng = rng
        self._backoff = backoff or Backoff()
        self._subscribe_timeout = subscribe_timeout
        self._give_up_after = give_up_after
        self._max_redirects = max_redirects
        self.state = SessionState.IDLE
        self.master_url: str | None = None
        self.stream_id: str | None = None
        self.heartbeat_interval: float | None = None
        self.retry_at: float | None = None
        self.failure: str | None = None
        self.suppressed_roles: frozenset[str] = frozenset()
        self._attempts = 0
        self._redirects = 0
        self._attempt_started = 0.0
        self._last_activity = 0.0
        self._unsubscribed_since: float | None = None

    # -- reading ---------------------------------------------------------------------------

    @property
    def framework_id(self) -> str | None:
        """The framework id, once a master assigned one (or the one we started with)."""
        framework_id = self._framework_info.get("id")
        return str(framework_id["value"]) if framework_id else None

    @property
    def framework_info(self) -> dict[str, Any]:
        """The ``FrameworkInfo`` sent with the next SUBSCRIBE (with ``id`` once known)."""
        return dict(self._framework_info)

    @property
    def attempts(self) -> int:
        """Consecutive failed attempts since the last subscription."""
        return self._attempts

    def subscribe_call(self) -> dict[str, Any]:
        """Build the SUBSCRIBE call for the current attempt.

        Returns:
            The whole Call JSON, with the framework id when one is known and the roles the
            scheduler had suppressed.
        """
        return scheduler_calls.subscribe(
            self._framework_info, suppressed_roles=sorted(self.suppressed_roles)
        )

    def require_subscribed(self) -> tuple[str, str, str]:
        """Return what a call needs, or refuse it.

        Returns:
            ``(framework_id, stream_id, master_url)``.

        Raises:
            NotSubscribed: the session is not SUBSCRIBED (calls made now would be answered
                403 by the master, or go to no master at all).
        """
        if (
            self.state is not SessionState.SUBSCRIBED
            or self.stream_id is None
            or self.master_url is None
            or self.framework_id is None
        ):
            raise NotSubscribed(f"no active subscription (session is {self.state.value})")
        return self.framework_id, self.stream_id, self.master_url

    def watchdog_deadline(self) -> float | None:
        """When the current attempt or stream is declared dead if nothing arrives.

        Returns:
            A time on the caller's clock, or None when no stream is being read.
        """
        if self.state in (SessionState.CONNECTING, SessionState.SUBSCRIBING):
            return self._attempt_started + self._subscribe_timeout
        if self.state is SessionState.SUBSCRIBED and self.heartbeat_interval is not None:
            return self._last_activity + HEARTBEAT_MISSES * self.heartbeat_interval
        return None

    def read_timeout(self, now: float) -> float | None:
        """Seconds the driver may wait for the next bytes (never negative), or None."""
        deadline = self.watchdog_deadline()
        return None if deadline is None else max(0.0, deadline - now)

    def watchdog_expired(self, now: float) -> bool:
        """Whether the stream counts as dead at ``now``."""
        deadline = self.watchdog_deadline()
        return deadline is not None and now >= deadline

    # -- inputs ----------------------------------------------------------------------------

    def start(self, master_url: str, now: float) -> None:
        """Begin the first SUBSCRIBE attempt, to ``master_url``."""
        self._apply(SessionInput.START)
        self._begin_attempt(master_url, now)
        self._unsubscribed_since = now

    def retry(self, master_url: str, now: float) -> None:
        """Begin the next SUBSCRIBE attempt after a backoff (or a leader change)."""
        self._apply(SessionInput.RETRY)
        self._begin_attempt(master_url, now)

    def redirected(self, location: str, now: float) -> None:
        """A 307 answered SUBSCRIBE: retry at the location, or back off after too many.

        Raises:
            RemoteProtocolError: the location cannot be followed (the session backs off).
        """
        assert self.master_url is not None
        self._redirects += 1
        if self._redirects > self._max_redirects:
            self.dropped(now, f"more than {self._max_redirects} redirects in a row")
            return
        try:
            target = resolve_redirect(location, self.master_url)
        except RemoteProtocolError:
            self.dropped(now, f"bad redirect {location!r}")
            raise
        self._apply(SessionInput.REDIRECTED)
        self.master_url = target
        self._attempt_started = now

    def stream_opened(self, stream_id: str, now: float) -> None:
        """SUBSCRIBE was answered 200 with this ``Mesos-Stream-Id``.

        Raises:
            RemoteProtocolError: the stream id is empty (the driver drops the attempt).
        """
        if not stream_id:
            raise RemoteProtocolError("SUBSCRIBE response has no Mesos-Stream-Id header")
        self._apply(SessionInput.STREAM_OPENED)
        self.stream_id = stream_id
        self._last_activity = now

    def subscribed(self, framework_id: str, heartbeat_interval: float, now: float) -> bool:
        """The SUBSCRIBED event arrived.

        Args:
            framework_id: the id the master gave (the same one on resubscription).
            heartbeat_interval: ``heartbeat_interval_seconds`` from the event.
            now: the current time.

        Returns:
            True if this is a resubscription of a framework that already had its id.

        Raises:
            RemoteProtocolError: no SUBSCRIBED was expected (the driver drops the stream).
        """
        if self.state is not SessionState.SUBSCRIBING:
            raise RemoteProtocolError(f"unexpected SUBSCRIBED event while {self.state.value}")
        self._apply(SessionInput.SUBSCRIBED)
        resubscribed = self.framework_id is not None
        self._framework_info["id"] = {"value": framework_id}
        self.heartbeat_interval = heartbeat_interval if heartbeat_interval > 0 else None
        self._last_activity = now
        self._attempts = 0
        self._redirects = 0
        self._unsubscribed_since = None
        self.retry_at = None
        return resubscribed

    def event_received(self, now: float) -> None:
        """Any event other than SUBSCRIBED arrived on the stream.

        Raises:
            RemoteProtocolError: it came before SUBSCRIBED (the driver drops the stream).
        """
        if self.state is SessionState.SUBSCRIBING:
            raise RemoteProtocolError("the first event of a subscription must be SUBSCRIBED")
        self._apply(SessionInput.EVENT)
        self._last_activity = now

    def handled(self, now: float) -> None:
        """The driver finished delivering an event: time in the handler is not silence."""
        self._last_activity = max(self._last_activity, now)

    def dropped(self, now: float, reason: str) -> None:
        """The attempt or the stream failed in a way worth retrying.

        The session backs off (see :attr:`retry_at`) or, once ``give_up_after`` has passed
        without a subscription, fails.
        """
        if self.state is SessionState.STOPPED:
            return
        self.stream_id = None
        self.heartbeat_interval = None
        self._redirects = 0
        if self._unsubscribed_since is None:
            self._unsubscribed_since = now
        give_up = self._give_up_after
        if give_up is not None and now - self._unsubscribed_since >= give_up:
            self.failed(f"no subscription for {give_up:g}s; last error: {reason}")
            return
        self._apply(SessionInput.DROPPED)
        self.retry_at = now + self._backoff.delay(self._attempts, self._rng)
        self._attempts += 1

    def failed(self, reason: str) -> None:
        """The subscription cannot continue (4xx, ERROR event, gave up)."""
        if self.state is SessionState.STOPPED:
            return
        self._apply(SessionInput.FAILED)
        self.failure = reason
        self.stream_id = None

    def stop(self) -> None:
        """The user stopped the session; final."""
        self._apply(SessionInput.STOP)
        self.stream_id = None

    # -- bookkeeping the master needs on resubscription ---------------------------------------

    def update_framework_info(self, framework_info: Mapping[str, Any]) -> None:
        """Use a new ``FrameworkInfo`` (after UPDATE_FRAMEWORK), keeping the framework id."""
        framework_id = self._framework_info.get("id")
        self._framework_info = dict(framework_info)
        if framework_id is not None:
            self._framework_info["id"] = framework_id

    def note_suppressed(self, roles: Iterable[str]) -> None:
        """SUPPRESS was accepted for ``roles`` (empty = all the framework's roles)."""
        self.suppressed_roles |= self._roles_or_all(roles)

    def note_revived(self, roles: Iterable[str]) -> None:
        """REVIVE was accepted for ``roles`` (empty = all the framework's roles)."""
        self.suppressed_roles -= self._roles_or_all(roles)

    def _roles_or_all(self, roles: Iterable[str]) -> frozenset[str]:
        chosen = frozenset(roles)
        return chosen or frozenset(self._framework_info.get("roles", ()))

    def _begin_attempt(self, master_url: str, now: float) -> None:
        self.master_url = master_url
        self.stream_id = None
        self.retry_at = None
        self._attempt_started = now

    def _apply(self, event: SessionInput) -> None:
        try:
            self.state = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise LocalProtocolError(
                f"scheduler session cannot take {event.value!r} while {self.state.value}"
            ) from None
