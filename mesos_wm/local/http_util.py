"""Transport rules shared by the embedded master's and agents' endpoints (aiohttp).

The checks of ``src/master/http.cpp`` and ``src/slave/http.cpp`` in their order: method
(405), ``Content-Type`` (400 when missing, 415 when not exactly ``application/json``),
body JSON (400), JSON-to-protobuf conversion (400), and for streaming calls ``Accept``
(406).  Also HTTP Basic authentication (401 with ``WWW-Authenticate``) and RecordIO
event streams.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from mesos_wm.local import schema
from mesos_wm.wire import recordio

__all__ = [
    "APPLICATION_JSON",
    "EventStream",
    "accepts_json",
    "bad_request",
    "basic_principal",
    "encode_event",
    "read_call",
]

APPLICATION_JSON = "application/json"
APPLICATION_PROTOBUF = "application/x-protobuf"


def bad_request(message: str) -> web.Response:
    """Return a 400 with Mesos's plain-text message."""
    return web.Response(status=400, text=message)


def method_not_allowed(method: str) -> web.Response:
    """Return Mesos's 405 (only POST is allowed)."""
    return web.Response(
        status=405,
        text=f"Expecting one of {{ 'POST' }}, but received '{method}'",
        headers={"Allow": "POST"},
    )


async def read_call(
    request: web.Request, message: str, label: str
) -> dict[str, Any] | web.Response:
    """Check method and content type, parse the JSON body and convert it like Mesos.

    Args:
        request: the incoming request.
        message: the schema name (``"scheduler.Call"``, ``"executor.Call"``).
        label: how Mesos names the message in its error (``"Call"``).

    Returns:
        The call as a dict, or the error response to send.
    """
    if request.method != "POST":
        return method_not_allowed(request.method)
    content_type = request.headers.get("Content-Type")
    if content_type is None:
        return bad_request("Expecting 'Content-Type' to be present")
    if content_type != APPLICATION_JSON:
        return web.Response(
            status=415,
            text=f"Expecting 'Content-Type' of {APPLICATION_JSON} or {APPLICATION_PROTOBUF}"
            if content_type != APPLICATION_PROTOBUF
            else "This embedded master accepts only 'application/json' bodies",
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return bad_request(f"Failed to parse body into JSON: {exc}")
    error = schema.check(message, body)
    if error is not None:
        return bad_request(f"Failed to convert JSON into {label} protobuf: {error}")
    assert isinstance(body, dict)
    return body


def accepts_json(request: web.Request) -> bool:
    """Tell whether the ``Accept`` header allows JSON (absent means anything)."""
    header = request.headers.get("Accept")
    if header is None or not header.strip():
        return True
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        quality = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media in (APPLICATION_JSON, "application/*", "*/*"):
            return True
    return False


def not_acceptable() -> web.Response:
    """Return Mesos's 406 for an unsatisfiable ``Accept``."""
    return web.Response(
        status=406,
        text=f"Expecting 'Accept' to allow '{APPLICATION_PROTOBUF}' or '{APPLICATION_JSON}'",
    )


def basic_principal(
    request: web.Request, credentials: Mapping[str, str] | None
) -> tuple[str | None, web.Response | None]:
    """Authenticate HTTP Basic credentials when ``credentials`` are configured.

    Returns:
        ``(principal, None)`` on success (principal None when authentication is off), or
        ``(None, 401 response)``.
    """
    if not credentials:
        return None, None
    unauthorized = web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="mesos"'})
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None, unauthorized
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, unauthorized
    principal, sep, secret = decoded.partition(":")
    expected = credentials.get(principal)
    if not sep or expected is None or not hmac.compare_digest(expected, secret):
        return None, unauthorized
    return principal, None


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Return one RecordIO-framed JSON event."""
    return recordio.encode(_COMPACT.encode(event).encode())


class EventStream:
    """The sending side of one streaming response: a queue drained by its handler.

    ``put`` never blocks (events are produced by the synchronous core); ``close`` ends
    the response after the events already queued.
    """

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False

    def put(self, event: Mapping[str, Any]) -> None:
        """Queue an event (ignored after :meth:`close`)."""
        if not self.closed:
            self._queue.put_nowait(encode_event(event))

    def close(self) -> None:
        """End the stream after what is queued."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def pump(self, response: web.StreamResponse) -> None:
        """Write queued events to ``response`` until the stream is closed.

        Raises:
            ConnectionResetError: the peer went away.
        """
        while True:
            data = await self._queue.get()
            if data is None:
                return
            chunks = [data]
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    await response.write(b"".join(chunks))
                    return
                chunks.append(more)
            await response.write(b"".join(chunks))
