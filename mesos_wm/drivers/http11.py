"""A lean keep-alive HTTP/1.1 client for the scheduler driver's calls (asyncio protocols).

Why
---
A framework under load sends thousands of small calls a second (two ACKNOWLEDGEs per
task), each a POST of a few hundred bytes answered ``202 Accepted`` with no body.  aiohttp's
client spends several times more CPU per such request than the bytes need (request and
response objects, payload writers, a task per body write, cookie and redirect machinery),
and on a busy framework that CPU is taken from the event loop that also commits and
matches.  This client does only what the calls need: one ``transport.write`` per request
and an incremental response parser in ``data_received``.

Scope
-----
``POST`` with a body of bytes, the whole answer read into memory.  At most ``limit``
connections per origin (``scheme://host:port``), kept alive and reused.  With
``pipeline`` > 1, once every connection is open and busy, a request is queued on the
least busy one (HTTP/1.1 pipelining: at most ``pipeline`` requests in flight on it,
answered in order), and the requests queued on a connection in one turn of the event loop
go out in one write.  So a burst of small calls costs a few system calls instead of one
each, and a busy event loop, which reads answers only between its long steps, still keeps
``limit * pipeline`` calls moving per step instead of ``limit``.  Bodies framed by
``Content-Length``, ``chunked``, or the end of the connection (which ends the
connection's pipeline: the requests behind that answer fail with :class:`ConnectionBroke`,
as every request in flight does when a connection breaks).  TLS with the
:class:`~mesos_wm.drivers.transport.HttpOptions` context (CA file, client certificate,
verification switch).  Redirects are not followed: the caller sees the 307 and its
``Location`` (the driver decides, as Mesos asks).

Errors
------
Failing to connect (refused, unresolvable, TLS handshake or certificate, connect timeout)
raises :class:`ConnectFailed` (an ``OSError``) with the cause chained; no answer within
``timeout`` raises ``TimeoutError``; a connection that breaks or sends something that is not
HTTP/1.x raises :class:`ConnectionBroke`.  The drivers turn these into the mesos_wm tree with
:func:`~mesos_wm.drivers.transport.translate_client_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from mesos_wm.drivers.http11_connection import ConnectionBroke, HttpConnection, HttpResponse

__all__ = ["ConnectFailed", "ConnectionBroke", "HttpClient", "HttpResponse"]


class ConnectFailed(OSError):
    """No connection to the server could be made (the cause is chained)."""


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int
    path: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _parse_url(url: str) -> _Origin:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Origin(parts.scheme, parts.hostname, port, path)


class _Pool:
    def __init__(self, in_flight: int) -> None:
        self.open: list[HttpConnection] = []
        self.connecting = 0
        self.changed = asyncio.Event()
        self.slots = asyncio.Semaphore(in_flight)


class HttpClient:
    """Keep-alive HTTP/1.1 POSTs (see the module docstring).

    Args:
        ssl_context: the TLS context for ``https`` URLs (None: the system default).
        limit: connections per origin at most.
        pipeline: requests in flight on one connection at most (1: no pipelining); more
            requests than ``limit * pipeline`` wait.
        connect_timeout: seconds to connect (and finish the TLS handshake).

    Raises:
        ValueError: ``limit`` or ``pipeline`` is not positive.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        *,
        limit: int = 16,
        pipeline: int = 1,
        connect_timeout: float = 10.0,
    ) -> None:
        if limit < 1 or pipeline < 1:
            raise ValueError(f"limit and pipeline must be at least 1, got {limit}, {pipeline}")
        self._ssl = ssl_context
        self._limit = limit
        self._pipeline = pipeline
        self._connect_timeout = connect_timeout
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._urls: dict[str, _Origin] = {}
        self._closed = False

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> HttpResponse:
        """POST ``body`` to ``url`` and read the whole answer.

        Args:
            url: ``http(s)://host:port/path``.
            body: the request body (sent with its ``Content-Length``).
            headers: more request headers (``Host`` and ``Content-Length`` are added).
            timeout: seconds for the whole exchange, waiting for a connection included.

        Returns:
            The answer, whatever its status.

        Raises:
            ValueError: ``url`` is not an http(s) URL.
            RuntimeError: the client is closed.
            ConnectFailed: no connection could be made.
            TimeoutError: no whole answer within ``timeout``.
            ConnectionBroke: the connection broke or the answer is not HTTP/1.x.
        """
        if self._closed:
            raise RuntimeError("the HTTP client is closed")
        origin = self._urls.get(url)
        if origin is None:
            origin = self._urls[url] = _parse_url(url)
        pool = self._pools.get(origin.key)
        if pool is None:
            pool = self._pools[origin.key] = _Pool(self._limit * self._pipeline)
        head = [f"POST {origin.path} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
                f"Content-Length: {len(body)}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers.items()]
        head.append("\r\n")
        data = "".join(head).encode("latin-1") + body
        async with asyncio.timeout(timeout):
            async with pool.slots:
                connection = await self._connection(origin, pool)
                try:
                    response = await connection.request(data)
                except BaseException:
                    connection.close()
                    raise
                if not connection.reusable or self._closed:
                    connection.close()
                return response

    async def _connection(self, origin: _Origin, pool: _Pool) -> HttpConnection:
        """The least busy open connection if it is idle, or a new one while fewer than
        ``limit`` are open, or else the least busy one (pipelining)."""
        while True:
            usable = [c for c in pool.open if not c.closed and c.reusable]
            if len(usable) != len(pool.open):
                for connection in pool.open:
                    if connection not in usable:
                        connection.close()
                pool.open = usable
            best = min(usable, key=lambda c: len(c.waiting)) if usable else None
            if best is not None and not best.waiting:
                return best
            if len(usable) + pool.connecting < self._limit:
                break
            if best is not None:
                return best
            pool.changed.clear()
            await pool.changed.wait()
        pool.connecting += 1
        try:
            connection = await self._connect(origin)
        finally:
            pool.connecting -= 1
            pool.changed.set()
        if self._closed:
            connection.close()
            raise RuntimeError("the HTTP client is closed")
        pool.open.append(connection)
        return connection

    async def _connect(self, origin: _Origin) -> HttpConnection:
        loop = asyncio.get_running_loop()
        tls: ssl.SSLContext | None = None
        if origin.scheme == "https":
            tls = self._ssl or ssl.create_default_context()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(
                    HttpConnection, origin.host, origin.port, ssl=tls,
                    server_hostname=origin.host if tls is not None else None)
        except TimeoutError as exc:
            raise ConnectFailed(
                f"no connection to {origin.host}:{origin.port} within "
                f"{self._connect_timeout:g}s") from exc
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        return protocol

    async def close(self) -> None:
        """Close every connection; later :meth:`post` calls raise RuntimeError."""
        self._closed = True
        for pool in self._pools.values():
            for connection in pool.open:
                connection.close()
            pool.open.clear()
            pool.changed.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)
