"""A lean HTTP/1.1 front for the embedded master's port: plain calls fast, the rest to aiohttp.

Why
---
A busy framework sends the master two ACKNOWLEDGEs per task, each a small POST answered
``202 Accepted`` with no body.  aiohttp spends more CPU on the request and response
objects of such a call than the master spends on the call itself.  This front parses
each request head itself and hands requests of the fast kind to a synchronous handler;
the answers to every request that arrived in one read go out in one write.

Scope
-----
The fast path takes only ``POST`` requests on HTTP/1.1 with a ``Content-Length`` body of
at most ``max_body_size`` bytes, no ``Transfer-Encoding``, no ``Expect`` and no
``Connection`` header, whose handler gives an answer.  At the first request that is not
of that kind — a GET, a SUBSCRIBE (a chunked stream), a malformed call whose error
aiohttp words, a call during a 503 period, authentication, anything unusual — the
connection, with every byte not yet handled, is handed to aiohttp's request handler for
good, after the fast answers already given.  So every answer except the fast ones is
aiohttp's, as before; the fast ones carry the same status line and ``Content-Length``,
``Content-Type`` (when there is a body), ``Date`` and ``Server`` headers.
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp.http import SERVER_SOFTWARE

__all__ = ["FastHandler", "FastRequest", "FrontProtocol", "serve_front"]

_MAX_HEAD = 64 * 1024
_REFUSED = frozenset({"transfer-encoding", "expect", "connection", "upgrade"})


@dataclass(frozen=True, slots=True)
class FastRequest:
    """A request the fast path may answer.

    Attributes:
        path: the request target (path and query).
        headers: header values by lower-case name.
        body: the body.
    """

    path: str
    headers: dict[str, str]
    body: bytes


FastHandler = Callable[[FastRequest], tuple[int, str | None] | None]
"""Answers a request with ``(status, text)`` (text None: no body), or None to leave it,
and the rest of its connection, to aiohttp.  It must not answer a request it cannot
finish synchronously, and must leave no side effect when it returns None."""


class _Date:
    """The ``Date`` header value, formatted once a second."""

    def __init__(self) -> None:
        self.second = -1
        self.text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self.second:
            self.second = second
            self.text = email.utils.formatdate(second, usegmt=True)
        return self.text


_DATE = _Date()


def _response(status: int, text: str | None) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    if text is None:
        return (f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nDate: {_DATE.now()}\r\n"
                f"Server: {SERVER_SOFTWARE}\r\n\r\n").encode("latin-1")
    body = text.encode("utf-8")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nDate: {_DATE.now()}\r\n"
            f"Server: {SERVER_SOFTWARE}\r\n\r\n").encode("latin-1") + body


class FrontProtocol(asyncio.Protocol):
    """One connection of the front (see the module docstring).

    Args:
        handler: the fast path's handler.
        fallback: makes aiohttp's protocol for a connection handed over.
        max_body_size: larger bodies go to aiohttp (which answers 413).
        connections: the set of open fast connections (kept up to date, for closing).
    """

    def __init__(self, handler: FastHandler, fallback: Callable[[], asyncio.Protocol],
                 max_body_size: int, connections: set[FrontProtocol]) -> None:
        self._handler = handler
        self._fallback = fallback
        self._max_body = max_body_size
        self._connections = connections
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)

    def eof_received(self) -> bool | None:
        return False

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        answers: list[bytes] = []
        while True:
            request, length = self._next_request()
            if length == 0:
                break
            answer = self._handler(request) if request is not None else None
            if answer is None:
                self._hand_over(answers)
                return
            del self._buffer[:length]
            answers.append(_response(*answer))
        if answers and self.transport is not None:
            self.transport.write(answers[0] if len(answers) == 1 else b"".join(answers))
        if len(self._buffer) > _MAX_HEAD + self._max_body:
            self._hand_over([])

    def _next_request(self) -> tuple[FastRequest | None, int]:
        """The next whole request and its length in the buffer; length 0 when it is not
        whole yet; request None when it is not for the fast path."""
        slow = (None, -1)
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return slow if len(buffer) > _MAX_HEAD else (None, 0)
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[0] != "POST" or parts[2] != "HTTP/1.1":
            return slow
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            name = name.lower()
            if not sep or name != name.strip() or name in headers or name in _REFUSED:
                return slow
            headers[name] = value.strip()
        length_text = headers.get("content-length", "")
        if not length_text.isdigit() or int(length_text) > self._max_body:
            return slow
        total = end + 4 + int(length_text)
        if len(buffer) < total:
            return None, 0
        return FastRequest(parts[1], headers, bytes(buffer[end + 4 : total])), total

    def _hand_over(self, answers: list[bytes]) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if answers:
            transport.write(b"".join(answers))
        self._connections.discard(self)
        protocol = self._fallback()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        rest, self._buffer = bytes(self._buffer), bytearray()
        if rest:
            protocol.data_received(rest)


async def serve_front(
    handler: FastHandler,
    fallback: Callable[[], asyncio.Protocol],
    host: str,
    port: int,
    *,
    max_body_size: int,
) -> tuple[asyncio.Server, set[FrontProtocol]]:
    """Listen on ``host:port`` with the front.

    Args:
        handler: the fast path's handler.
        fallback: aiohttp's protocol factory (``AppRunner.server``).
        host: the address to bind.
        port: the port (0: an ephemeral one).
        max_body_size: the largest body the fast path reads.

    Returns:
        The listening server and the set of connections still on the fast path (close
        them when stopping; aiohttp closes the ones handed to it).

    Raises:
        OSError: the address could not be bound.
    """
    connections: set[FrontProtocol] = set()
    server = await asyncio.get_running_loop().create_server(
        lambda: FrontProtocol(handler, fallback, max_body_size, connections),
        host, port, reuse_address=True)
    return server, connections
