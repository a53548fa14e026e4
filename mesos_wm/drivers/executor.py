"""The asyncio executor driver: subscribes to the agent and keeps status updates reliable.

Theory of operation: the driver reads its identity from the ``MESOS_*`` environment
(:class:`~mesos_wm.drivers.executor_env.ExecutorEnvironment`), POSTs SUBSCRIBE to
``/api/v1/executor`` on the agent and hands every event to ``handler``, in order, as the
scheduler driver does.  It keeps two ledgers the agent relies on:

* **unacknowledged tasks**: every task received in LAUNCH/LAUNCH_GROUP until an update of
  it is ACKNOWLEDGED (the agent drops STAGING tasks a resubscribing executor does not list);
* **unacknowledged updates**: every UPDATE sent, by uuid, until ACKNOWLEDGED.

Both go into every SUBSCRIBE, so after a reconnection the agent replays what was lost.
When the connection to the agent breaks, an executor of a framework without
checkpointing stops (the agent is gone, and so will its tasks be); with checkpointing it
retries, waiting a random time up to ``MESOS_SUBSCRIPTION_BACKOFF_MAX`` between attempts,
for at most ``MESOS_RECOVERY_TIMEOUT``.  An :meth:`ExecutorDriver.update` made while
disconnected is kept in the ledger and delivered by the next SUBSCRIBE (never dropped);
:meth:`ExecutorDriver.message`, being unreliable by definition, raises
:class:`~mesos_wm.errors.NotSubscribed` instead.

SHUTDOWN is delivered to the handler like any event: the application kills its tasks,
sends their terminal updates and then calls :meth:`ExecutorDriver.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

import aiohttp

from mesos_wm.drivers._waiting import wait_any
from mesos_wm.drivers.events import Disconnected
from mesos_wm.drivers.executor_env import ExecutorEnvironment
from mesos_wm.drivers.transport import (
    HttpOptions,
    encode_call,
    error_for_status,
    is_certificate_error,
    read_chunk,
    translate_client_error,
)
from mesos_wm.errors import (
    MasterRejected,
    NotLeader,
    NotSubscribed,
    RemoteProtocolError,
    SubscriptionLost,
    TransportError,
)
from mesos_wm.ids import decode_uuid, encode_uuid, new_uuid
from mesos_wm.wire import executor_calls, executor_events
from mesos_wm.wire.executor_events import (
    Acknowledged,
    Error,
    ExecutorEvent,
    Launch,
    LaunchGroup,
    Subscribed,
)
from mesos_wm.wire.recordio import DEFAULT_MAX_RECORD_SIZE, RecordIODecoder
from mesos_wm.wire.states import Source, TaskState

__all__ = ["EXECUTOR_PATH", "ExecutorDriver", "ExecutorDriverEvent", "ExecutorHandler"]

logger = logging.getLogger(__name__)

EXECUTOR_PATH = "/api/v1/executor"

ExecutorDriverEvent = ExecutorEvent | Disconnected
ExecutorHandler = Callable[[ExecutorDriverEvent], Awaitable[None]]


class ExecutorDriver:
    """Connects an executor to its agent.

    Args:
        handler: awaited with every event, in order (and :class:`Disconnected`).
        environment: the executor's environment (default: read ``os.environ``).
        rng: source of the random resubscription waits.
        clock: monotonic clock in seconds (default ``time.monotonic``).
        wall_clock: seconds since the epoch for status timestamps (default ``time.time``).
        subscribe_timeout: seconds the first subscription may take, retrying, before the
            driver gives up (the agent's ``--executor_registration_timeout`` is 1 min).
        connect_timeout: seconds to connect to the agent.
        call_timeout: seconds for a call's answer.
        max_record_size: the largest event accepted, in bytes.

    Raises:
        ValueError: the environment is incomplete or malformed.
    """

    def __init__(
        self,
        handler: ExecutorHandler,
        *,
        environment: ExecutorEnvironment | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        subscribe_timeout: float = 60.0,
        connect_timeout: float = 10.0,
        call_timeout: float = 30.0,
        max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
    ) -> None:
        self.environment = environment or ExecutorEnvironment.from_environ()
        env = self.environment
        self._handler = handler
        self._options = HttpOptions(
            authorization=f"Bearer {env.authentication_token}"
            if env.authentication_token
            else None,
            ca_file=env.ca_file,
            connect_timeout=connect_timeout,
            call_timeout=call_timeout,
        )
        self._rng = rng or random.Random()
        self._clock = clock or time.monotonic
        self._wall_clock = wall_clock or time.time
        self._subscribe_timeout = subscribe_timeout
        self._max_record_size = max_record_size
        self._tasks: dict[str, dict[str, Any]] = {}
        self._updates: dict[bytes, dict[str, Any]] = {}
        self._subscribed_info: Subscribed | None = None
        self._connected = False
        self._stopping = False
        self._in_handler = False
        self._failure: BaseException | None = None
        self._http: aiohttp.ClientSession | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._finished = asyncio.Event()

    # -- state -----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a subscription to the agent is active."""
        return self._connected

    @property
    def subscribed_info(self) -> Subscribed | None:
        """The last SUBSCRIBED event (executor, framework and agent info)."""
        return self._subscribed_info

    @property
    def unacknowledged_tasks(self) -> Mapping[str, Mapping[str, Any]]:
        """Tasks launched with no acknowledged update yet, by task id (read-only)."""
        return MappingProxyType(self._tasks)

    @property
    def unacknowledged_updates(self) -> Mapping[bytes, Mapping[str, Any]]:
        """``TaskStatus`` of updates not yet acknowledged, by uuid (read-only)."""
        return MappingProxyType(self._updates)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start subscribing in the background; returns at once.

        Raises:
            RuntimeError: already started.
            ValueError: the TLS CA file cannot be loaded.
        """
        if self._run_task is not None:
            raise RuntimeError("ExecutorDriver.start() was already called")
        self._http = self._options.new_session(limit=8)
        self._run_task = asyncio.create_task(self._run(), name="mesos-wm-executor-driver")

    async def wait_subscribed(self, timeout: float | None = None) -> Subscribed:
        """Wait for the subscription.

        Returns:
            The SUBSCRIBED event.

        Raises:
            TimeoutError: not subscribed within ``timeout``.
            MesosWmError: (or the handler's exception) the driver stopped with an error.
            NotSubscribed: the driver stopped without an error.
        """
        await wait_any(self._subscribed, self._finished, timeout=timeout)
        if self._connected and self._subscribed_info is not None:
            return self._subscribed_info
        if self._failure is not None:
            raise self._failure
        raise NotSubscribed("the executor driver stopped before subscribing")

    async def stop(self) -> None:
        """Stop the driver (close the subscription); safe from the handler and repeatable."""
        self._stopping = True
        self._connected = False
        self._wake.set()
        task = self._run_task
        if task is None or task is asyncio.current_task() or self._in_handler:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    async def join(self) -> None:
        """Wait until the driver stops.

        Raises:
            SubscriptionLost: the agent went away (without checkpointing, or past the
                recovery timeout), or sent ERROR.
            MesosWmError: the agent refused the subscription (4xx) or TLS failed.
            Exception: whatever the handler raised.
        """
        if self._run_task is None:
            raise RuntimeError("ExecutorDriver.join() before start()")
        await self._finished.wait()
        if self._failure is not None:
            raise self._failure

    # -- calls -----------------------------------------------------------------------------

    async def update(self, status: Mapping[str, Any]) -> bytes:
        """Send a task status update reliably.

        A fresh 16-byte uuid, ``source: SOURCE_EXECUTOR``, the executor id and a
        timestamp are filled in unless present.  The update stays in the ledger until the
        agent ACKNOWLEDGES it; if the agent cannot be reached now it goes out with the
        next SUBSCRIBE.

        Args:
            status: a ``TaskStatus`` (see :func:`mesos_wm.wire.executor_calls.task_status`).

        Returns:
            The uuid of the update.

        Raises:
            LocalProtocolError: TASK_STAGING, or a uuid that is not 16 bytes.
            NotSubscribed: the driver is stopped, or not subscribed while the framework
                does not checkpoint (the update could never be delivered).
            MasterRejected: the agent answered 4xx (the update is dropped from the ledger,
                since the agent would refuse it again).
        """
        full = dict(status)
        full.setdefault("uuid", encode_uuid(new_uuid()))
        full.setdefault("source", Source.EXECUTOR.value)
        full.setdefault("executor_id", {"value": self.environment.executor_id})
        full.setdefault("timestamp", self._wall_clock())
        call = executor_calls.update(
            self.environment.framework_id, self.environment.executor_id, full
        )
        uuid = decode_uuid(full["uuid"])
        if self._stopping or self._finished.is_set():
            raise NotSubscribed("the executor driver is stopped")
        if not self._connected and not self.environment.checkpoint:
            raise NotSubscribed(
                "not subscribed to the agent, and the framework does not checkpoint"
            )
        self._updates[uuid] = full
        if self._connected:
            try:
                await self._post(call)
            except MasterRejected:
                self._updates.pop(uuid, None)
                raise
            except TransportError as exc:
                logger.warning("UPDATE %s kept for resubscription: %s", full["task_id"], exc)
        return uuid

    async def send_status(
        self,
        task_id: str,
        state: str | TaskState,
        *,
        message: str | None = None,
        reason: str | None = None,
        data: bytes | None = None,
        healthy: bool | None = None,
    ) -> bytes:
        """Build a ``TaskStatus`` and :meth:`update` it; same errors.

        Returns:
            The uuid of the update.
        """
        status = executor_calls.task_status(
            task_id=task_id,
            state=state,
            message=message,
            reason=reason,
            data=data,
            healthy=healthy,
            agent_id=self.environment.agent_id,
            executor_id=self.environment.executor_id,
        )
        return await self.update(status)

    async def message(self, data: bytes) -> None:
        """Send bytes to the scheduler (unreliable).

        Raises:
            NotSubscribed: no active subscription.
            MasterRejected, TransportError: the agent refused or could not be reached.
        """
        if not self._connected:
            raise NotSubscribed("not subscribed to the agent")
        env = self.environment
        await self._post(executor_calls.message(env.framework_id, env.executor_id, data))

    async def heartbeat(self) -> None:
        """Send a HEARTBEAT call (Mesos 1.9+), e.g. to keep proxies from closing idle links.

        Raises:
            NotSubscribed: no active subscription.
            MasterRejected, TransportError: the agent refused or could not be reached.
        """
        if not self._connected:
            raise NotSubscribed("not subscribed to the agent")
        env = self.environment
        await self._post(executor_calls.heartbeat(env.framework_id, env.executor_id))

    async def _post(self, call: Mapping[str, Any]) -> None:
        assert self._http is not None
        url = self.environment.agent_url + EXECUTOR_PATH
        try:
            async with self._http.post(
                url,
                data=encode_call(call),
                headers=self._options.headers(),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=self._options.call_timeout, sock_connect=self._options.connect_timeout
                ),
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise translate_client_error(exc, f"{call['type']} to {url}") from exc
        if status not in (200, 202):
            raise error_for_status(status, body)

    # -- the loop --------------------------------------------------------------------------

    async def _run(self) -> None:
        env = self.environment
        started = self._clock()
        ever_subscribed = False
        disconnected_at: float | None = None
        try:
            while not self._stopping:
                reason = await self._subscribe_once()
                if self._stopping or self._failure is not None:
                    break
                was_connected, self._connected = self._connected, False
                self._subscribed.clear()
                ever_subscribed = ever_subscribed or was_connected
                now = self._clock()
                if was_connected:
                    disconnected_at = now
                    await self._deliver(Disconnected(reason))
                    if self._failure is not None:
                        break
                if ever_subscribed and not env.checkpoint:
                    self._failure = SubscriptionLost(
                        f"lost the agent ({reason}); the framework does not checkpoint"
                    )
                    break
                limit, since = (
                    (env.recovery_timeout, disconnected_at)
                    if disconnected_at is not None
                    else (self._subscribe_timeout, started)
                )
                if now - since >= limit:
                    self._failure = SubscriptionLost(
                        f"could not subscribe to the agent within {limit:g}s: {reason}"
                    )
                    break
                await self._sleep(self._rng.uniform(0, env.subscription_backoff_max))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("executor driver failed")
            self._failure = self._failure or exc
        finally:
            self._connected = False
            self._subscribed.clear()
            if self._http is not None:
                await self._http.close()
            self._finished.set()

    async def _sleep(self, delay: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def _subscribe_once(self) -> str:
        """One SUBSCRIBE and its stream; returns why it ended (sets ``_failure`` if fatal)."""
        assert self._http is not None
        env = self.environment
        url = env.agent_url + EXECUTOR_PATH
        call = executor_calls.subscribe(
            env.framework_id,
            env.executor_id,
            unacknowledged_tasks=list(self._tasks.values()),
            unacknowledged_updates=list(self._updates.values()),
        )
        try:
            response = await self._http.post(
                url,
                data=encode_call(call),
                headers=self._options.headers(),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self._options.connect_timeout
                ),
            )
        except (aiohttp.ClientError, OSError) as exc:
            error = translate_client_error(exc, f"SUBSCRIBE to {url}")
            if is_certificate_error(exc):
                self._failure = error
            return str(error)
        async with response:
            if response.status != 200:
                body = await response.read()
                rejected = error_for_status(response.status, body)
                if not isinstance(rejected, NotLeader) and response.status < 500:
                    self._failure = rejected
                return str(rejected)
            return await self._read_stream(response)

    async def _read_stream(self, response: aiohttp.ClientResponse) -> str:
        decoder = RecordIODecoder(self._max_record_size)
        try:
            while not self._stopping and self._failure is None:
                chunk = await read_chunk(response, None)
                if not chunk:
                    return "the agent closed the event stream"
                for record in decoder.feed(chunk):
                    await self._dispatch(executor_events.parse_event(record))
                    if self._stopping or self._failure is not None:
                        break
        except (SubscriptionLost, RemoteProtocolError) as exc:
            return str(exc)
        return "stopped"

    async def _dispatch(self, event: ExecutorEvent) -> None:
        if isinstance(event, Subscribed):
            self._subscribed_info = event
            self._connected = True
            self._subscribed.set()
        elif not self._connected:
            raise RemoteProtocolError("the first executor event must be SUBSCRIBED")
        elif isinstance(event, Launch):
            self._tasks[str(event.task.task_id.value)] = event.task.to_dict()
        elif isinstance(event, LaunchGroup):
            for task in event.task_group.get("tasks", []):
                self._tasks[str(task.task_id.value)] = task.to_dict()
        elif isinstance(event, Acknowledged):
            self._updates.pop(event.uuid, None)
            self._tasks.pop(event.task_id, None)
        elif isinstance(event, Error):
            self._failure = SubscriptionLost(f"the agent sent ERROR: {event.message}")
        await self._deliver(event)

    async def _deliver(self, event: ExecutorDriverEvent) -> None:
        self._in_handler = True
        try:
            await self._handler(event)
        except Exception as exc:
            logger.exception("the executor event handler raised on %s", type(event).__name__)
            if self._failure is None:
                self._failure = exc
        finally:
            self._in_handler = False
