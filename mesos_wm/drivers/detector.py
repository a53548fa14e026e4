"""Master detection: who is the leading master right now, and when does that change.

A :class:`MasterDetector` hands the scheduler driver the base URL of the leader
(``http://host:port``) and wakes it when the leader changes, so a driver subscribed to a
master that lost the election moves to the new leader at once instead of waiting for its
heartbeat watchdog.  :class:`StaticDetector` serves a fixed URL (redirects are followed by
the driver itself); :class:`~mesos_wm.drivers.zookeeper.ZooKeeperDetector` watches the
masters' election znodes.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from mesos_wm.drivers.master import HttpMaster, MasterUrl, parse_master

__all__ = ["MasterDetector", "StaticDetector", "make_detector"]


@runtime_checkable
class MasterDetector(Protocol):
    """Finds the leading master.  Implementations are used from one event loop."""

    async def start(self) -> None:
        """Begin detecting (connect to ZooKeeper, ...).  Returns without waiting for a leader."""

    async def close(self) -> None:
        """Stop detecting and release every resource; idempotent."""

    async def leader(self) -> str:
        """Return the leader's base URL, waiting until one is known."""

    async def wait_changed(self, current: str) -> None:
        """Return once the detected leader is no longer ``current`` (never, if it stays)."""


class StaticDetector:
    """A detector for a master given by URL: the leader is always that URL.

    Args:
        base_url: ``scheme://host:port`` of the master.
    """

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._closed = asyncio.Event()

    @property
    def base_url(self) -> str:
        """The configured master URL."""
        return self._base_url

    async def start(self) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Wake any :meth:`wait_changed` so it can return."""
        self._closed.set()

    async def leader(self) -> str:
        """Return the configured URL."""
        return self._base_url

    async def wait_changed(self, current: str) -> None:
        """Return at once if ``current`` is not the configured URL, else when closed."""
        if current != self._base_url:
            return
        await self._closed.wait()


def make_detector(
    master: str | MasterUrl, *, tls: bool = False, prefer_ip: bool = False
) -> MasterDetector:
    """Build the detector for a master URL.

    Args:
        master: a URL string (see :func:`~mesos_wm.drivers.master.parse_master`) or a
            parsed :data:`~mesos_wm.drivers.master.MasterUrl`.
        tls: for ZooKeeper URLs, reach the detected masters over ``https``.
        prefer_ip: for ZooKeeper URLs, prefer ``MasterInfo.address.ip`` to the hostname.

    Returns:
        A detector, not yet started.

    Raises:
        ValueError: the URL cannot be parsed.
    """
    parsed = parse_master(master) if isinstance(master, str) else master
    if isinstance(parsed, HttpMaster):
        return StaticDetector(parsed.base_url)
    from mesos_wm.drivers.zookeeper import ZooKeeperDetector

    return ZooKeeperDetector(parsed, scheme="https" if tls else "http", prefer_ip=prefer_ip)
