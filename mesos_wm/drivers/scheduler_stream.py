"""The scheduler driver's subscription loop: SUBSCRIBE, the event stream, event delivery.

:class:`SchedulerStream` is the I/O loop of :class:`~mesos_wm.drivers.scheduler.SchedulerDriver`
around its sans-IO :class:`~mesos_wm.wire.session.SchedulerSession`: it finds the leader,
sends SUBSCRIBE (following redirects, backing off after errors), watches for a change of
leader, reads the RecordIO event stream under the heartbeat watchdog and awaits the handler
with each event (or :class:`~mesos_wm.drivers.events.Updates` of back-to-back updates), in
order.  The driver constructs every attribute it uses and adds the public lifecycle and
the calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from mesos_wm.drivers.detector import MasterDetector
from mesos_wm.drivers.events import Disconnected, Updates
from mesos_wm.drivers.http11 import HttpClient
from mesos_wm.drivers.scheduler_api import SchedulerCalls
from mesos_wm.drivers.transport import (
    HttpOptions,
    encode_call,
    error_for_status,
    is_certificate_error,
    read_chunk,
    translate_client_error,
)
from mesos_wm.errors import (
    HeartbeatTimeout,
    MesosWmError,
    NotLeader,
    RemoteProtocolError,
    SubscriptionLost,
    TransportError,
)
from mesos_wm.wire import scheduler_events
from mesos_wm.wire.recordio import RecordIODecoder
from mesos_wm.wire.scheduler_events import Error, SchedulerEvent, Subscribed, Update
from mesos_wm.wire.session import SCHEDULER_PATH, SchedulerSession, SessionState

__all__ = ["SCHEDULER_PATH", "DriverEvent", "EventHandler", "SchedulerStream"]

# The records keep the logger name of the driver's module, which users configure.
logger = logging.getLogger("mesos_wm.drivers.scheduler")



DriverEvent = SchedulerEvent | Disconnected | Updates
EventHandler = Callable[[DriverEvent], Awaitable[None]]


class SchedulerStream(SchedulerCalls):
    """The subscription loop of the scheduler driver; its attributes are set by the driver."""

    _session: SchedulerSession
    _detector: MasterDetector
    _handler: EventHandler
    _options: HttpOptions
    _clock: Callable[[], float]
    _auto_acknowledge: bool
    _batch_updates: bool
    _max_record_size: int
    _stream_http: aiohttp.ClientSession | None
    _calls_http: HttpClient | None
    _attempt_task: asyncio.Task[None] | None
    _failure: BaseException | None
    _last_error: MesosWmError | None
    _in_handler: bool
    _interrupted: str | None
    _wake: asyncio.Event
    _subscribed: asyncio.Event
    _finished: asyncio.Event
    _leader: str

    async def _run(self) -> None:
        session = self._session
        try:
            self._leader = await self._detector.leader()
            session.start(self._leader, self._clock())
            while session.state is not SessionState.STOPPED:
                if session.state is SessionState.BACKING_OFF:
                    await self._wait_to_retry()
                    continue
                self._interrupted = None
                self._attempt_task = asyncio.create_task(self._attempt())
                watch = asyncio.create_task(self._watch_leader(self._leader))
                try:
                    await asyncio.wait([self._attempt_task])
                finally:
                    watch.cancel()
                if not self._attempt_task.cancelled():
                    error = self._attempt_task.exception()
                    if error is not None:
                        raise error
                if self._interrupted and session.state is not SessionState.STOPPED:
                    await self._lost(SubscriptionLost(self._interrupted))
                    if session.state is SessionState.BACKING_OFF:
                        self._leader = await self._detector.leader()
                        session.retry(self._leader, self._clock())
        except asyncio.CancelledError:
            if self._attempt_task is not None:
                self._attempt_task.cancel()
            raise
        except Exception as exc:
            logger.exception("scheduler driver failed")
            self._fail(exc)
        finally:
            await self._close()

    async def _close(self) -> None:
        self._subscribed.clear()
        for http in (self._stream_http, self._calls_http):
            if http is not None:
                await http.close()
        await self._detector.close()
        self._finished.set()

    async def _watch_leader(self, leader: str) -> None:
        await self._detector.wait_changed(leader)
        self._interrupt(f"leading master changed from {leader}")

    def _interrupt(self, reason: str) -> None:
        self._interrupted = self._interrupted or reason
        self._wake.set()
        task = self._attempt_task
        if task is not None and not task.done() and not self._in_handler:
            task.cancel()

    async def _wait_to_retry(self) -> None:
        session = self._session
        assert session.retry_at is not None
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, session.retry_at - self._clock())):
                await self._wake.wait()
        if session.state is SessionState.BACKING_OFF:
            self._leader = await self._detector.leader()
            session.retry(self._leader, self._clock())

    async def _attempt(self) -> None:
        session = self._session
        url = session.master_url
        assert url is not None and self._stream_http is not None
        what = f"SUBSCRIBE to {url}"
        try:
            async with asyncio.timeout(session.read_timeout(self._clock())):
                response = await self._stream_http.post(
                    url + SCHEDULER_PATH,
                    data=encode_call(session.subscribe_call()),
                    headers=self._options.headers(),
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(
                        total=None, sock_connect=self._options.connect_timeout
                    ),
                )
        except TimeoutError:
            self._drop(TransportError(f"{what}: no answer"))
            return
        except (aiohttp.ClientError, OSError) as exc:
            error = translate_client_error(exc, what)
            error.__cause__ = exc
            if is_certificate_error(exc):
                self._fail(error)
            else:
                self._drop(error)
            return
        async with response:
            if await self._check_subscribe_status(response):
                await self._read_stream(response)

    async def _check_subscribe_status(self, response: aiohttp.ClientResponse) -> bool:
        session = self._session
        now = self._clock()
        if response.status == 307:
            location = response.headers.get("Location", "")
            logger.info("master %s redirects to %s", session.master_url, location)
            try:
                session.redirected(location, now)
            except RemoteProtocolError as exc:
                self._last_error = exc
            self._check_gave_up()
            return False
        if response.status != 200:
            body = b""
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with asyncio.timeout(self._options.call_timeout):
                    body = await response.read()
            error = error_for_status(response.status, body)
            if isinstance(error, NotLeader) or response.status >= 500:
                self._drop(error)
            else:
                self._fail(error)
            return False
        try:
            session.stream_opened(response.headers.get("Mesos-Stream-Id", ""), now)
        except RemoteProtocolError as exc:
            self._drop(exc)
            return False
        return True

    async def _read_stream(self, response: aiohttp.ClientResponse) -> None:
        session = self._session
        decoder = RecordIODecoder(self._max_record_size)
        try:
            while not self._should_leave_stream():
                chunk = await read_chunk(response, session.read_timeout(self._clock()))
                if not chunk:
                    cut = f" in the middle of a record ({decoder.pending()} bytes)"
                    raise SubscriptionLost(
                        "the master closed the event stream" + (cut if decoder.pending() else "")
                    )
                if not await self._dispatch_records(decoder.feed(chunk)):
                    return
        except (HeartbeatTimeout, SubscriptionLost, RemoteProtocolError) as exc:
            if isinstance(exc, HeartbeatTimeout) and session.state is SessionState.SUBSCRIBED:
                exc = HeartbeatTimeout(
                    f"no event from {session.master_url} for 5 heartbeat intervals "
                    f"({session.heartbeat_interval:g}s each)"
                )
            await self._lost(exc)

    async def _dispatch_records(self, records: list[bytes]) -> bool:
        """Parse and deliver records in order; False when the driver must leave the stream."""
        updates: list[Update] = []
        for record in records:
            try:
                event = scheduler_events.parse_event(record)
            except RemoteProtocolError:
                if updates:
                    await self._dispatch_updates(updates)
                raise
            if self._batch_updates and isinstance(event, Update):
                updates.append(event)
                continue
            if updates:
                await self._dispatch_updates(updates)
                updates = []
                if self._should_leave_stream():
                    return False
            await self._dispatch(event)
            if self._should_leave_stream():
                return False
        if updates:
            await self._dispatch_updates(updates)
        return not self._should_leave_stream()

    async def _dispatch_updates(self, updates: list[Update]) -> None:
        session = self._session
        session.event_received(self._clock())
        await self._deliver(Updates(tuple(updates)))
        if self._auto_acknowledge and self._failure is None:
            for event in updates:
                try:
                    await self.acknowledge(event)
                except MesosWmError as exc:
                    logger.warning("could not acknowledge update of task %s: %s",
                                   event.task_id, exc)
        session.handled(self._clock())

    def _should_leave_stream(self) -> bool:
        return self._session.state is SessionState.STOPPED or self._interrupted is not None

    async def _lost(self, error: MesosWmError) -> None:
        was_subscribed = self._session.state is SessionState.SUBSCRIBED
        self._drop(error)
        if was_subscribed and self._failure is None:
            await self._deliver(Disconnected(str(error)))

    def _drop(self, error: MesosWmError) -> None:
        logger.warning("%s", error)
        self._last_error = error
        self._subscribed.clear()
        self._session.dropped(self._clock(), str(error))
        self._check_gave_up()

    def _check_gave_up(self) -> None:
        session = self._session
        if session.state is SessionState.STOPPED and self._failure is None and session.failure:
            error = self._last_error
            self._failure = (
                type(error)(session.failure)
                if error is not None
                else (SubscriptionLost(session.failure))
            )

    async def _dispatch(self, event: SchedulerEvent) -> None:
        session = self._session
        now = self._clock()
        if isinstance(event, Subscribed):
            session.subscribed(event.framework_id, event.heartbeat_interval_seconds, now)
            logger.info("subscribed as framework %s to %s", event.framework_id, session.master_url)
            self._subscribed.set()
        elif isinstance(event, Error):
            self._fail(SubscriptionLost(f"the master sent ERROR: {event.message}"))
        else:
            session.event_received(now)
        await self._deliver(event)
        if self._auto_acknowledge and isinstance(event, Update) and self._failure is None:
            try:
                await self.acknowledge(event)
            except MesosWmError as exc:
                logger.warning("could not acknowledge update of task %s: %s", event.task_id, exc)
        session.handled(self._clock())

    async def _deliver(self, event: DriverEvent) -> None:
        self._in_handler = True
        try:
            await self._handler(event)
        except Exception as exc:
            logger.exception("the scheduler event handler raised on %s", type(event).__name__)
            self._fail(exc)
        finally:
            self._in_handler = False

    def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self._session.failed(str(error))
        self._subscribed.clear()
