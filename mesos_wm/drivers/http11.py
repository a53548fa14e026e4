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
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ConnectFailed", "ConnectionBroke", "HttpClient", "HttpResponse"]

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


class ConnectFailed(OSError):
    """No connection to the server could be made (the cause is chained)."""


class ConnectionBroke(ConnectionError):
    """The connection closed, or sent something that is not HTTP, before the answer ended."""


@dataclass(frozen=True)
class HttpResponse:
    """A whole HTTP answer.

    Attributes:
        status: the status code.
        headers: header values by lower-case name (the last one wins when repeated).
        body: the body.
    """

    status: int
    headers: dict[str, str]
    body: bytes


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


class _Connection(asyncio.Protocol):
    """One keep-alive connection: writes requests (several in one write when they come
    in one turn of the loop), parses the answers in order as they arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.waiting: deque[asyncio.Future[HttpResponse]] = deque()
        self._out: list[bytes] = []
        self._buffer = bytearray()
        self._status = 0
        self._headers: dict[str, str] = {}
        self._length: int | None = None
        self._chunked = False
        self._until_close = False
        self._head_done = False

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.waiting:
            self.reusable = False
            self.close()
            return
        self._buffer += data
        try:
            self._parse()
        except ConnectionBroke as exc:
            self._finish_with(exc)

    def eof_received(self) -> bool | None:
        self._ended()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._ended(exc)

    # -- requests -------------------------------------------------------------------------

    def request(self, data: bytes) -> asyncio.Future[HttpResponse]:
        """Queue a request; it is written with the others queued in this turn of the loop."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[HttpResponse] = loop.create_future()
        self.waiting.append(answer)
        if not self._out:
            loop.call_soon(self._flush)
        self._out.append(data)
        return answer

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and self.transport is not None and not self.closed:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- parsing --------------------------------------------------------------------------

    def _parse(self) -> None:
        while self.waiting:
            if not self._head_done:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buffer) > MAX_HEAD:
                        raise ConnectionBroke("the response head is too long")
                    return
                self._read_head(bytes(self._buffer[:end]))
                del self._buffer[: end + 4]
                if self._status < 200:
                    self._head_done = False
                    continue
            if self._chunked:
                if not self._parse_chunks():
                    return
            elif self._length is not None:
                if len(self._buffer) < self._length:
                    return
                body = bytes(self._buffer[: self._length])
                del self._buffer[: self._length]
                self._done(body)
            else:
                if len(self._buffer) > MAX_BODY:
                    raise ConnectionBroke("the response body is too long")
                return
        if self._buffer:
            raise ConnectionBroke("data from the server that answers no request")

    def _read_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ConnectionBroke(f"not an HTTP/1.x response: {lines[0][:80]!r}")
        self._status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        self._headers = headers
        self._head_done = True
        self._length, self._chunked, self._until_close = None, False, False
        connection = headers.get("connection", "").lower()
        if connection == "close" or (parts[0] == "HTTP/1.0" and connection != "keep-alive"):
            self.reusable = False
        if self._status < 200:
            return
        if self._status in (204, 304):
            self._length = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = True
        elif "content-length" in headers:
            try:
                self._length = int(headers["content-length"])
            except ValueError as exc:
                raise ConnectionBroke("a malformed Content-Length") from exc
            if not 0 <= self._length <= MAX_BODY:
                raise ConnectionBroke(f"a Content-Length of {self._length}")
        else:
            self._until_close = True
            self.reusable = False

    def _parse_chunks(self) -> bool:
        """Take one whole chunked body off the buffer; False when more bytes are needed."""
        body = bytearray()
        pos = 0
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n", pos)
            if line_end < 0:
                return False
            size_text = bytes(buffer[pos:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise ConnectionBroke("a malformed chunk size") from exc
            if size == 0:
                if buffer[line_end:line_end + 4] == b"\r\n\r\n":
                    end = line_end + 4
                else:
                    trailer_end = buffer.find(b"\r\n\r\n", line_end + 2)
                    if trailer_end < 0:
                        return False
                    end = trailer_end + 4
                del buffer[:end]
                self._done(bytes(body))
                return True
            start = line_end + 2
            if len(buffer) < start + size + 2:
                return False
            body += buffer[start : start + size]
            if len(body) > MAX_BODY:
                raise ConnectionBroke("the response body is too long")
            pos = start + size + 2

    def _done(self, body: bytes) -> None:
        answer = self.waiting.popleft()
        self._head_done = False
        if not answer.done():
            answer.set_result(HttpResponse(self._status, self._headers, body))
        if not self.reusable:
            self._finish_with(ConnectionBroke(
                "the server closed the connection before answering (it ended the "
                "connection after an earlier answer)"))

    def _ended(self, exc: Exception | None = None) -> None:
        self.reusable = False
        if not self.waiting:
            return
        if self._until_close and self._head_done and exc is None:
            self._done(bytes(self._buffer))
            return
        reason = f": {exc}" if exc else ""
        self._finish_with(ConnectionBroke(f"the server closed the connection{reason}"))

    def _finish_with(self, exc: BaseException) -> None:
        self.reusable = False
        waiting, self.waiting = self.waiting, deque()
        for answer in waiting:
            if not answer.done():
                answer.set_exception(exc)
        self.close()


class _Pool:
    def __init__(self, in_flight: int) -> None:
        self.open: list[_Connection] = []
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

    async def _connection(self, origin: _Origin, pool: _Pool) -> _Connection:
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

    async def _connect(self, origin: _Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        tls: ssl.SSLContext | None = None
        if origin.scheme == "https":
            tls = self._ssl or ssl.create_default_context()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(
                    _Connection, origin.host, origin.port, ssl=tls,
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
