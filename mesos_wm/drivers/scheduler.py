"""The asyncio scheduler driver: a thin I/O loop around the sans-IO scheduler session.

Design
------
Events go to one ``handler`` coroutine, awaited in stream order, rather than out of an
async iterator.  The driver owns the subscription's life (redirects, backoff,
resubscription, heartbeat watchdog, leader changes) and keeps it running whatever the
application does; the application only reacts.  Awaiting the handler before reading the
next record gives backpressure, and an exception from the handler stops the driver and is
re-raised by :meth:`SchedulerDriver.join`, so errors are never swallowed.  Besides the
Mesos events (:mod:`mesos_wm.wire.scheduler_events`) the handler receives
:class:`Disconnected` when a subscription is lost; the next ``Subscribed`` tells it the
driver is back.

Calls made while not subscribed raise :class:`~mesos_wm.errors.NotSubscribed` at once.
They are not queued: while disconnected the master rescinds every offer, so a queued
ACCEPT or DECLINE would refer to dead offers, and a queued KILL or ACKNOWLEDGE is only
right if the application still wants it after it has reconciled.  The caller, who knows
the intent, decides (the framework layer records intent durably and replays it after
resubscribing).

Status updates are acknowledged explicitly with
:meth:`~mesos_wm.drivers.scheduler_api.SchedulerCalls.acknowledge`, after the application
has stored them; ``auto_acknowledge=True`` acknowledges each update that carries a uuid
once the handler returned without error.

Layout: this module holds the driver's construction, lifecycle and call sending; the
subscription loop and event delivery are :mod:`mesos_wm.drivers.scheduler_stream`, the
typed calls :mod:`mesos_wm.drivers.scheduler_api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import random
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from mesos_wm.drivers._waiting import wait_any
from mesos_wm.drivers.detector import MasterDetector, make_detector
from mesos_wm.drivers.events import Disconnected, Updates
from mesos_wm.drivers.http11 import HttpClient
from mesos_wm.drivers.scheduler_api import CallBuilder
from mesos_wm.drivers.scheduler_stream import (
    SCHEDULER_PATH,
    DriverEvent,
    EventHandler,
    SchedulerStream,
)
from mesos_wm.drivers.transport import (
    HttpOptions,
    basic_authorization,
    encode_call,
    error_for_status,
    translate_client_error,
)
from mesos_wm.errors import MesosWmError, NotSubscribed, TransportError
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.recordio import DEFAULT_MAX_RECORD_SIZE
from mesos_wm.wire.session import Backoff, SchedulerSession, SessionState

__all__ = [
    "CALL_CONNECTIONS",
    "CALL_PIPELINE",
    "SCHEDULER_PATH",
    "Disconnected",
    "DriverEvent",
    "EventHandler",
    "SchedulerDriver",
    "Updates",
]

CALL_CONNECTIONS = 16
"""Keep-alive connections the driver's calls use."""
CALL_PIPELINE = 4
"""Calls in flight on one connection at most (HTTP/1.1 pipelining, see
:mod:`mesos_wm.drivers.http11`): a busy framework keeps ``CALL_CONNECTIONS *
CALL_PIPELINE`` acknowledgements moving per turn of its event loop."""


class SchedulerDriver(SchedulerStream):
    """Subscribes a framework to the Mesos master and delivers its events.

    Args:
        master: ``http(s)://host:port``, ``host:port``, ``zk://...``, or a
            :class:`~mesos_wm.drivers.detector.MasterDetector`.
        framework_info: ``FrameworkInfo`` JSON (see
            :func:`mesos_wm.wire.scheduler_calls.framework_info`); ``user`` defaults to
            the current OS user; an ``id`` resubscribes as that framework.
        handler: awaited with every event, in order.
        principal: framework principal for HTTP Basic authentication (with ``secret``);
            also set as ``FrameworkInfo.principal`` when that is missing.
        secret: the principal's secret.
        ca_file: PEM CA certificates that verify an ``https`` master.
        verify: verify the master's certificate (default True).
        auto_acknowledge: acknowledge updates with a uuid after the handler returns.
        backoff: retry policy for resubscription and 503s.
        rng: source of backoff jitter.
        clock: monotonic clock in seconds (defaults to ``time.monotonic``).
        subscribe_timeout: seconds from SUBSCRIBE until SUBSCRIBED before retrying.
        give_up_after: seconds without a subscription before the driver fails with the
            last error; None retries forever.
        connect_timeout: seconds to connect to the master.
        call_timeout: seconds for a call's answer.
        call_retries: how often a call answered 503 is retried before raising NotLeader.
        max_record_size: the largest event accepted, in bytes.
        suppressed_roles: roles to subscribe with offers suppressed.
        tls: for ``zk://`` masters, reach the detected leader over https.
        batch_updates: hand UPDATE events that are already read from the stream back to
            back to the handler at once, as one :class:`~mesos_wm.drivers.events.Updates`
            (instead of one :class:`~mesos_wm.wire.scheduler_events.Update` each).

    Raises:
        ValueError: a ``secret`` without a ``principal``, or a master URL that cannot be
            parsed.
    """

    def __init__(
        self,
        master: str | MasterDetector,
        framework_info: Mapping[str, Any],
        handler: EventHandler,
        *,
        principal: str | None = None,
        secret: str | None = None,
        ca_file: str | None = None,
        verify: bool = True,
        auto_acknowledge: bool = False,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
        subscribe_timeout: float = 30.0,
        give_up_after: float | None = None,
        connect_timeout: float = 10.0,
        call_timeout: float = 30.0,
        call_retries: int = 3,
        max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
        suppressed_roles: Iterable[str] = (),
        tls: bool = False,
        batch_updates: bool = False,
    ) -> None:
        if secret is not None and principal is None:
            raise ValueError("a secret needs a principal (HTTP Basic authentication)")
        info = dict(framework_info)
        info.setdefault("user", getpass.getuser())
        if principal is not None:
            info.setdefault("principal", principal)
        self._detector = master if not isinstance(master, str) else make_detector(master, tls=tls)
        self._handler = handler
        self._options = HttpOptions(
            authorization=basic_authorization(principal, secret)
            if principal is not None and secret is not None
            else None,
            ca_file=ca_file,
            verify=verify,
            connect_timeout=connect_timeout,
            call_timeout=call_timeout,
        )
        self._rng = rng or random.Random()
        self._backoff = backoff or Backoff()
        self._session = SchedulerSession(
            info,
            rng=self._rng,
            backoff=self._backoff,
            subscribe_timeout=subscribe_timeout,
            give_up_after=give_up_after,
        )
        if suppressed_roles:
            self._session.note_suppressed(suppressed_roles)
        self._clock = clock or time.monotonic
        self._auto_acknowledge = auto_acknowledge
        self._batch_updates = batch_updates
        self._call_headers: dict[str, dict[str, str]] = {}
        self._call_retries = call_retries
        self._max_record_size = max_record_size
        self._stream_http: aiohttp.ClientSession | None = None
        self._calls_http: HttpClient | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._attempt_task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._last_error: MesosWmError | None = None
        self._in_handler = False
        self._interrupted: str | None = None
        self._wake = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._finished = asyncio.Event()
        self._leader = ""

    # -- state -----------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The session state (see :mod:`mesos_wm.wire.session`)."""
        return self._session.state

    @property
    def framework_id(self) -> str | None:
        """The framework id, once subscribed (or the one given in ``framework_info``)."""
        return self._session.framework_id

    @property
    def master_url(self) -> str | None:
        """The master of the current (or last) subscription attempt."""
        return self._session.master_url

    @property
    def framework_info(self) -> dict[str, Any]:
        """The ``FrameworkInfo`` used for the next SUBSCRIBE."""
        return self._session.framework_info

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start subscribing in the background; returns at once.

        Raises:
            RuntimeError: the driver was already started.
            ValueError: the TLS files cannot be loaded.
        """
        if self._run_task is not None:
            raise RuntimeError("SchedulerDriver.start() was already called")
        self._stream_http = self._options.new_session(limit=2)
        self._calls_http = self._options.new_client(limit=CALL_CONNECTIONS,
                                                    pipeline=CALL_PIPELINE)
        await self._detector.start()
        self._run_task = asyncio.create_task(self._run(), name="mesos-wm-scheduler-driver")

    async def wait_subscribed(self, timeout: float | None = None) -> str:
        """Wait until the driver is subscribed.

        Args:
            timeout: seconds to wait at most, or None.

        Returns:
            The framework id.

        Raises:
            TimeoutError: not subscribed within ``timeout``.
            MesosWmError: (or the handler's exception) the driver stopped with an error.
            NotSubscribed: the driver stopped without an error.
        """
        await wait_any(self._subscribed, self._finished, timeout=timeout)
        if self._session.state is SessionState.SUBSCRIBED and self.framework_id is not None:
            return self.framework_id
        if self._failure is not None:
            raise self._failure
        raise NotSubscribed("the driver stopped before subscribing")

    async def stop(self, *, teardown: bool = False) -> None:
        """Stop the driver; the framework stays registered until its failover timeout.

        Safe to call more than once.  Called while the handler is running (from the
        handler or from another task), it returns at once and the driver stops as soon as
        the handler returns; :meth:`join` waits for that.

        Args:
            teardown: first send TEARDOWN, so the master kills every task of the
                framework and forgets it (needs an active subscription).

        Raises:
            NotSubscribed: ``teardown`` was asked while not subscribed (the driver stops).
            MasterRejected, TransportError: TEARDOWN failed (the driver stops anyway).
        """
        try:
            if teardown:
                await self._send(scheduler_calls.teardown)
        finally:
            await self._shutdown()

    async def teardown(self) -> None:
        """TEARDOWN the framework and stop the driver (``stop(teardown=True)``)."""
        await self.stop(teardown=True)

    async def join(self) -> None:
        """Wait until the driver has stopped.

        Raises:
            MesosWmError: what stopped it: a 4xx to SUBSCRIBE (:class:`MasterRejected`,
                :class:`AuthenticationFailed`), an ERROR event (:class:`SubscriptionLost`),
                a certificate that failed verification (:class:`ConnectError`), or the
                last error once ``give_up_after`` passed.
            Exception: whatever the handler raised.
        """
        if self._run_task is None:
            raise RuntimeError("SchedulerDriver.join() before start()")
        await self._finished.wait()
        if self._failure is not None:
            raise self._failure

    async def __aenter__(self) -> SchedulerDriver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _shutdown(self) -> None:
        if self._session.state is not SessionState.STOPPED:
            self._session.stop()
        self._subscribed.clear()
        self._interrupt("driver stopped")
        task = self._run_task
        if task is None or self._in_handler or asyncio.current_task() is task:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    # -- calls -----------------------------------------------------------------------------

    async def call(self, build: CallBuilder) -> None:
        """Send a Call that the typed methods do not cover.

        Args:
            build: returns the whole Call JSON given the framework id, e.g.
                ``lambda fid: scheduler_calls.decline(fid, ["o-1"])``.

        Raises:
            NotSubscribed: no active subscription.
            MasterRejected: the master answered 4xx (its message says why).
            NotLeader: the master kept answering 503.
            TransportError: the master could not be reached.
        """
        await self._send(build)

    async def _send(self, build: CallBuilder) -> None:
        framework_id, stream_id, url = self._session.require_subscribed()
        assert self._calls_http is not None
        call = build(framework_id)
        data = encode_call(call)
        headers = self._call_headers.get(stream_id)
        if headers is None:
            headers = {**self._options.headers(), "Mesos-Stream-Id": stream_id}
            self._call_headers = {stream_id: headers}
        what = f"{call['type']} to {url}"
        for attempt in range(self._call_retries + 1):
            try:
                response = await self._calls_http.post(
                    url + SCHEDULER_PATH, data, headers, timeout=self._options.call_timeout
                )
            except (OSError, TimeoutError) as exc:
                raise translate_client_error(exc, what) from exc
            status, body = response.status, response.body
            location = response.headers.get("location")
            if status in (200, 202):
                return
            error = error_for_status(status, body, location)
            if status == 503 and attempt < self._call_retries:
                await asyncio.sleep(self._backoff.delay(attempt, self._rng))
                continue
            raise error
        raise TransportError(f"{what}: retries exhausted")  # pragma: no cover

    def _note_suppressed(self, roles: Iterable[str], suppressed: bool) -> None:
        if suppressed:
            self._session.note_suppressed(roles)
        else:
            self._session.note_revived(roles)

    def _note_framework_info(self, framework_info: Mapping[str, Any]) -> None:
        self._session.update_framework_info(framework_info)
