"""The embedded Mesos master: the pure core behind an aiohttp server, with its agents.

Usage::

    async with LocalMaster(agents=2, config=FAST) as master:
        print(master.url)          # http://127.0.0.1:<ephemeral port>
        ...                        # point a scheduler driver at master.url

:class:`LocalMaster` owns a :class:`~mesos_wm.local.state.MasterState` and carries out the
effects it returns: events go to the subscription streams, agent effects to the
:class:`~mesos_wm.local.agent.AgentRuntime` of real agents.  One timer task calls
:meth:`MasterState.tick` whenever the core's next deadline comes.  Faults are injected
through :attr:`LocalMaster.faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from mesos_wm.local import operator_api, scheduler_api
from mesos_wm.local.agent import AgentRuntime
from mesos_wm.local.collector import CollectorPace
from mesos_wm.local.config import AgentConfig, MasterConfig
from mesos_wm.local.effects import (
    AcknowledgeExecutor,
    CloseStream,
    Effect,
    KillTask,
    LaunchTasks,
    OperatorEvent,
    SendEvent,
    SendExecutorMessage,
    ShutdownExecutor,
    ShutdownFramework,
)
from mesos_wm.local.fast_http import FrontProtocol, serve_front
from mesos_wm.local.faults import Faults
from mesos_wm.local.http_util import EventStream
from mesos_wm.local.state import MasterState
from mesos_wm.wire.session import SCHEDULER_PATH

__all__ = ["LocalMaster", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalMaster:
    """An in-process Mesos master with agents, speaking the real v1 HTTP APIs.

    Args:
        host: the address to bind (loopback by default).
        port: the port (0 = an ephemeral port, see :attr:`port` after :meth:`start`).
        agents: how many default agents, or one :class:`AgentConfig` each.
        config: timings and limits (:data:`mesos_wm.local.config.FAST` for tests).
        work_dir: where agent sandboxes go (a temporary directory by default).
        allow_remote: required to bind an address other than loopback.
        clock: the time source (seconds since the epoch).
        seed: seeds the core's random source (ids, offer order) for reproducible runs.

    Raises:
        ValueError: a non-loopback ``host`` without ``allow_remote``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        agents: int | Sequence[AgentConfig] = 1,
        config: MasterConfig | None = None,
        work_dir: str | Path | None = None,
        allow_remote: bool = False,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to bind {host!r}: the embedded master has no access control "
                "beyond optional Basic auth; pass allow_remote=True (--allow-remote) to "
                "listen on a non-loopback address"
            )
        self.host = host
        self.requested_port = port
        self.config = config or MasterConfig()
        self.clock = clock
        self.agent_configs = (
            [AgentConfig() for _ in range(agents)] if isinstance(agents, int) else list(agents)
        )
        self.state = MasterState(self.config, random.Random(seed), clock())
        self.streams: dict[str, EventStream] = {}
        self.operator_streams: set[EventStream] = set()
        self.runtimes: dict[str, AgentRuntime] = {}
        self.faults = Faults(self)
        self.port = 0
        self._work_dir = Path(work_dir) if work_dir is not None else None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._runner: web.AppRunner | None = None
        self._front: asyncio.Server | None = None
        self._fast_connections: set[FrontProtocol] = set()
        self._collector = CollectorPace(self.config.gc_threshold)
        self._timer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` of the master."""
        return f"http://{self.host}:{self.port}"

    @property
    def work_dir(self) -> Path:
        """The agents' work directory (sandboxes live under ``slaves/``)."""
        if self._work_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="mesos-wm-local-")
            self._work_dir = Path(self._tempdir.name)
        return self._work_dir

    async def start(self) -> LocalMaster:
        """Bind, register the agents and start the timer.

        Returns:
            self, so ``master = await LocalMaster().start()`` works.

        Raises:
            OSError: the address could not be bound.
        """
        self._wake = asyncio.Event()
        self._collector.apply()
        app = self._build_app()
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        aiohttp_server = self._runner.server
        assert aiohttp_server is not None
        server, self._fast_connections = await serve_front(
            lambda request: scheduler_api.fast_scheduler_call(self, request), aiohttp_server,
            self.host, self.requested_port, max_body_size=self.config.max_body_size)
        self._front = server
        sockets: list[socket.socket] = list(server.sockets)
        self.port = sockets[0].getsockname()[1]
        self.state.set_address(self._advertised_ip(), self.port, self.config.hostname)
        for agent in self.agent_configs:
            await self.add_agent(agent)
        self._timer = asyncio.get_running_loop().create_task(self._run_timer())
        return self

    def _advertised_ip(self) -> str:
        if self.host in ("localhost", "", "0.0.0.0", "::"):
            return "127.0.0.1"
        return self.host

    async def stop(self) -> None:
        """Close every stream, kill every process and stop serving."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        for stream in list(self.streams.values()) + list(self.operator_streams):
            stream.close()
        for runtime in list(self.runtimes.values()):
            await runtime.stop()
        self.runtimes.clear()
        front, self._front = self._front, None
        if front is not None:
            front.close()
            for connection in list(self._fast_connections):
                if connection.transport is not None:
                    connection.transport.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if front is not None:
            await front.wait_closed()
        self._collector.restore()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    async def __aenter__(self) -> LocalMaster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def add_agent(self, agent: AgentConfig | None = None) -> str:
        """Register one more agent (and start its executor endpoint when it is real).

        Returns:
            The agent id.
        """
        agent = agent or AgentConfig()
        runtime: AgentRuntime | None = None
        port = self.port
        if not agent.simulated:
            runtime = AgentRuntime(self, "", self.work_dir)
            port = await runtime.start(self._advertised_ip())
        agent_id = self.state.add_agent(agent, self.clock(), port=port)
        if runtime is not None:
            runtime.agent_id = agent_id
            self.runtimes[agent_id] = runtime
        self._wake.set()
        return agent_id

    def flags(self) -> dict[str, str]:
        """The ``flags`` of ``/state``, as strings like a real master's."""
        config = self.config
        return {
            "hostname": config.hostname,
            "ip": self._advertised_ip(),
            "port": str(self.port),
            "allocation_interval": f"{config.allocation_interval:g}secs",
            "offer_timeout": f"{config.offer_timeout:g}secs" if config.offer_timeout else "",
            "authenticate_http_frameworks": "true" if config.credentials else "false",
            "work_dir": str(self.work_dir),
            "registry": "in_memory",
        }

    # -- HTTP ---------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body_size)

        async def scheduler(request: web.Request) -> web.StreamResponse:
            return await scheduler_api.scheduler_handler(self, request)

        async def operator(request: web.Request) -> web.StreamResponse:
            return await operator_api.operator_handler(self, request)

        async def legacy(request: web.Request) -> web.StreamResponse:
            return await operator_api.legacy_handler(self, request)

        async def metrics(request: web.Request) -> web.StreamResponse:
            return await operator_api.metrics_handler(self, request)

        app.router.add_route("*", SCHEDULER_PATH, scheduler)
        app.router.add_route("*", "/api/v1", operator)
        app.router.add_route("*", "/api/v1/", operator)
        for name in operator_api.LEGACY_PATHS:
            for prefix in ("", "/master"):
                app.router.add_get(f"{prefix}/{name}", legacy)
                app.router.add_get(f"{prefix}/{name}/", legacy)
        app.router.add_get("/metrics/snapshot", metrics)
        app.router.add_get("/metrics/snapshot/", metrics)
        return app

    # -- effects ------------------------------------------------------------------------

    def dispatch(self, effects: list[Effect]) -> None:
        """Carry out the core's effects in order, then wake the timer."""
        effects = effects + self.state.take_operator_events() if self.operator_streams else effects
        for effect in effects:
            if isinstance(effect, SendEvent):
                stream = self.streams.get(effect.stream_id)
                if stream is not None:
                    stream.put(effect.event)
            elif isinstance(effect, CloseStream):
                stream = self.streams.pop(effect.stream_id, None)
                if stream is not None:
                    stream.close()
            elif isinstance(effect, OperatorEvent):
                for operator_stream in self.operator_streams:
                    operator_stream.put(effect.event)
            else:
                self._agent_effect(effect)
        self._wake.set()

    def _agent_effect(self, effect: Effect) -> None:
        runtime = self.runtimes.get(getattr(effect, "agent_id", ""))
        if runtime is None:
            return
        if isinstance(effect, LaunchTasks):
            runtime.launch(effect)
        elif isinstance(effect, KillTask):
            runtime.kill(effect)
        elif isinstance(effect, ShutdownExecutor):
            runtime.shutdown_executor(effect.framework_id, effect.executor_id)
        elif isinstance(effect, ShutdownFramework):
            runtime.shutdown_framework(effect.framework_id)
        elif isinstance(effect, SendExecutorMessage):
            runtime.message(effect.framework_id, effect.executor_id, effect.data)
        elif isinstance(effect, AcknowledgeExecutor):
            runtime.acknowledged(
                effect.framework_id, effect.executor_id, effect.task_id, effect.uuid
            )

    async def _run_timer(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self.dispatch(self.state.tick(self.clock()))
            self._wake.clear()
            delay = min(max(self.state.next_deadline() - self.clock(), 0.0), 1.0)
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            handle = loop.call_later(delay, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                handle.cancel()

    # -- agent callbacks ----------------------------------------------------------------

    def executor_update(self, agent_id: str, framework_id: str, status: dict[str, Any]) -> None:
        """A status update from an executor (or the built-in command executor)."""
        self.dispatch(self.state.executor_update(agent_id, framework_id, status, self.clock()))

    def executor_subscribed(
        self,
        agent_id: str,
        framework_id: str,
        executor_id: str,
        launched: Iterable[str],
        unacknowledged: Iterable[str],
    ) -> None:
        """An executor (re)subscribed: tasks it was sent but does not know are dropped.

        Args:
            agent_id: the agent it subscribed to.
            framework_id: its framework.
            executor_id: the executor.
            launched: ids of the tasks the agent delivered to it.
            unacknowledged: ids of the ``unacknowledged_tasks`` it listed.
        """
        self.dispatch(
            self.state.executor_subscribed(
                agent_id,
                framework_id,
                executor_id,
                launched=launched,
                unacknowledged=unacknowledged,
                now=self.clock(),
            )
        )

    def executor_message(
        self, agent_id: str, framework_id: str, executor_id: str, data: str
    ) -> None:
        """A MESSAGE call from an executor, for its framework."""
        self.dispatch(self.state.executor_message(agent_id, framework_id, executor_id, data))

    def executor_terminated(
        self,
        agent_id: str,
        framework_id: str,
        executor_id: str,
        status: int | None,
        *,
        reason: str = "REASON_EXECUTOR_TERMINATED",
        message: str = "Executor terminated",
        killed: bool = False,
    ) -> None:
        """An executor process is gone: its unfinished tasks fail, the framework gets FAILURE.

        Args:
            agent_id: the agent that ran it.
            framework_id: its framework.
            executor_id: the executor.
            status: the wait status (``WEXITSTATUS << 8``, or the signal number), None
                when unknown.
            reason: reason of the agent's updates for the unfinished tasks.
            message: message of those updates.
            killed: whether the agent had shut the executor down; Mesos fails the
                unfinished tasks all the same, so this changes nothing.
        """
        self.dispatch(
            self.state.executor_terminated(
                agent_id,
                framework_id,
                executor_id,
                status,
                self.clock(),
                reason=reason,
                message=message,
                killed=killed,
            )
        )

    def spawn_background(self, coro: Any) -> None:
        """Run a coroutine on the master's loop without waiting for it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- helpers for tests --------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01
    ) -> Any:
        """Wait until ``predicate()`` is truthy and return its value.

        Raises:
            TimeoutError: it stayed falsy for ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)
