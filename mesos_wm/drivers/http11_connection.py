"""One keep-alive HTTP/1.1 client connection: requests out, answers parsed in order.

The protocol under :class:`~mesos_wm.drivers.http11.HttpClient` (see that module for the
scope): requests queued in one turn of the event loop go out in one write, and answers
(framed by ``Content-Length``, ``chunked`` or the end of the connection, after any 1xx)
resolve the requests' futures in order.  A connection that breaks, or answers with
``Connection: close`` or a body that runs to the end, fails the requests still waiting
on it with :class:`ConnectionBroke`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

__all__ = ["MAX_BODY", "MAX_HEAD", "ConnectionBroke", "HttpConnection", "HttpResponse"]

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


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


class HttpConnection(asyncio.Protocol):
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
