"""Leader detection through ZooKeeper, the way Mesos masters elect one (kazoo).

Every master contending for leadership holds an ephemeral sequential znode
``<path>/json.info_<seq>`` whose data is its ``MasterInfo`` as JSON.  The leader is the
master with the **lowest sequence number**; when it dies its znode vanishes and the next
one leads.

Theory of operation: kazoo runs its own threads; this module never blocks the event loop.
A background task reads the children of ``<path>`` in a worker thread, registering a
one-shot kazoo watch, picks the lowest ``json.info_`` child, reads its ``MasterInfo``,
publishes the leader's base URL, then sleeps until the watch (or a lost ZooKeeper
session) fires and reads again.  ZooKeeper errors are retried with a short capped delay;
while ZooKeeper is unreachable the last known leader stays published, so a driver keeps
talking to it (its own heartbeat watchdog notices if that master is gone too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from mesos_wm.drivers.master import ZooKeeperMaster, address_from_master_info, format_base_url
from mesos_wm.errors import ConnectError

__all__ = ["LEADER_PREFIX", "ZooKeeperDetector", "election_order"]

logger = logging.getLogger(__name__)

LEADER_PREFIX = "json.info_"


def election_order(children: list[str]) -> list[str]:
    """Order the election znodes of the masters, leader first.

    Args:
        children: child names of the Mesos znode (other names are ignored).

    Returns:
        The ``json.info_<seq>`` names sorted by sequence number.
    """
    ranked: list[tuple[int, str]] = []
    for name in children:
        suffix = name[len(LEADER_PREFIX) :]
        if name.startswith(LEADER_PREFIX) and suffix.isdigit():
            ranked.append((int(suffix), name))
    return [name for _, name in sorted(ranked)]


class ZooKeeperDetector:
    """Detects the leading Mesos master from ZooKeeper and watches for changes.

    Args:
        master: the parsed ``zk://`` URL.
        scheme: ``http`` or ``https`` for the detected masters.
        prefer_ip: use ``MasterInfo.address.ip`` before the hostname.
        operation_timeout: seconds one ZooKeeper request may take before it is retried.
        retry_delay: the longest wait between retries after a ZooKeeper error.
        client: an existing (not started) ``KazooClient``, for callers that configure
            their own (TLS to ZooKeeper, SASL); by default one is built from ``master``.
    """

    def __init__(
        self,
        master: ZooKeeperMaster,
        *,
        scheme: str = "http",
        prefer_ip: bool = False,
        operation_timeout: float = 10.0,
        retry_delay: float = 2.0,
        client: KazooClient | None = None,
    ) -> None:
        self._master = master
        self._scheme = scheme
        self._prefer_ip = prefer_ip
        self._operation_timeout = operation_timeout
        self._retry_delay = retry_delay
        self._client = client or KazooClient(
            hosts=master.hosts,
            auth_data=master.auth_data or None,
            connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": retry_delay},
        )
        self._leader: str | None = None
        self._condition = asyncio.Condition()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def current(self) -> str | None:
        """The leader published last, or None when no master is registered."""
        return self._leader

    async def start(self) -> None:
        """Connect to ZooKeeper in the background and begin watching.

        Raises:
            ConnectError: kazoo refused to start (bad host list).
        """
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._client.add_listener(self._on_state)
        try:
            self._client.start_async()
        except (KazooException, ValueError) as exc:
            raise ConnectError(f"cannot start ZooKeeper client for {self._master.hosts}") from exc
        self._task = asyncio.create_task(self._watch(), name="mesos-wm-zookeeper-detector")

    async def close(self) -> None:
        """Stop watching and close the ZooKeeper session; idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._client.remove_listener(self._on_state)
        await asyncio.to_thread(self._stop_client)
        async with self._condition:
            self._condition.notify_all()

    async def leader(self) -> str:
        """Return the leader's base URL, waiting until a master is registered."""
        async with self._condition:
            await self._condition.wait_for(lambda: self._leader is not None)
            assert self._leader is not None
            return self._leader

    async def wait_changed(self, current: str) -> None:
        """Return once the published leader differs from ``current``."""
        async with self._condition:
            await self._condition.wait_for(lambda: self._leader != current)

    def _stop_client(self) -> None:
        with contextlib.suppress(KazooException):
            self._client.stop()
        with contextlib.suppress(KazooException):
            self._client.close()

    def _on_state(self, state: str) -> None:
        if state in (KazooState.LOST, KazooState.CONNECTED):
            self._notify_threadsafe()

    def _notify_threadsafe(self, _event: object = None) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wakeup.set)

    async def _watch(self) -> None:
        failures = 0
        while True:
            self._wakeup.clear()
            try:
                leader = await asyncio.to_thread(self._read_leader)
            except (KazooException, KazooTimeoutError) as exc:
                failures += 1
                delay = min(self._retry_delay, 0.05 * 2**failures)
                logger.warning(
                    "ZooKeeper %s: %s; retrying in %.2fs", self._master.hosts, exc, delay
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            await self._publish(leader)
            await self._wakeup.wait()

    async def _publish(self, leader: str | None) -> None:
        async with self._condition:
            if leader != self._leader:
                logger.info("leading Mesos master: %s (was %s)", leader, self._leader)
                self._leader = leader
                self._condition.notify_all()

    def _read_leader(self) -> str | None:
        path = self._master.path
        timeout = self._operation_timeout
        try:
            children = self._client.get_children_async(path, self._notify_threadsafe).get(
                timeout=timeout
            )
        except NoNodeError:
            if self._client.exists_async(path, self._notify_threadsafe).get(timeout=timeout):
                self._notify_threadsafe()
            return None
        for name in election_order(list(children)):
            try:
                data, _stat = self._client.get_async(f"{path}/{name}").get(timeout=timeout)
            except NoNodeError:
                continue
            return self._base_url(name, data)
        return None

    def _base_url(self, name: str, data: bytes) -> str | None:
        try:
            info: Any = json.loads(data.decode("utf-8"))
            host, port = address_from_master_info(info, prefer_ip=self._prefer_ip)
        except (ValueError, UnicodeDecodeError, AttributeError) as exc:
            logger.error("ignoring election znode %s with bad MasterInfo: %s", name, exc)
            return None
        return format_base_url(self._scheme, host, port)
