"""HTTP plumbing shared by the scheduler and executor drivers.

Event streams and the executor's calls use aiohttp; the scheduler's calls use the lean
client of :mod:`mesos_wm.drivers.http11`.

This is the one place where the clients' exceptions are turned into the mesos_wm tree:
connection failures become :class:`~mesos_wm.errors.ConnectError`, a stream that breaks
becomes :class:`~mesos_wm.errors.SubscriptionLost`, silence past the watchdog becomes
:class:`~mesos_wm.errors.HeartbeatTimeout`, and HTTP statuses become
:class:`~mesos_wm.errors.MasterRejected` / :class:`~mesos_wm.errors.AuthenticationFailed` /
:class:`~mesos_wm.errors.NotLeader`.  Protocol decisions stay in :mod:`mesos_wm.wire`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from mesos_wm.drivers.http11 import ConnectFailed, HttpClient
from mesos_wm.errors import (
    AuthenticationFailed,
    ConnectError,
    HeartbeatTimeout,
    MasterRejected,
    MesosWmError,
    NotLeader,
    SubscriptionLost,
    TransportError,
)

__all__ = [
    "JSON",
    "HttpOptions",
    "basic_authorization",
    "encode_call",
    "error_for_status",
    "is_certificate_error",
    "read_chunk",
    "translate_client_error",
]

JSON = "application/json"
MAX_ERROR_BODY = 4096


@dataclass(frozen=True)
class HttpOptions:
    """How to reach a Mesos endpoint.

    Attributes:
        authorization: the ``Authorization`` header value (Basic or Bearer), or None.
        ca_file: a PEM file of CA certificates to verify ``https`` servers against,
            instead of the system's.
        verify: verify server certificates (turn off only for throw-away test clusters).
        cert_file: a PEM client certificate, for masters that require one.
        key_file: the key of ``cert_file`` (when not inside it).
        connect_timeout: seconds to establish a TCP/TLS connection.
        call_timeout: seconds for a whole non-streaming call.
    """

    authorization: str | None = None
    ca_file: str | None = None
    verify: bool = True
    cert_file: str | None = None
    key_file: str | None = None
    connect_timeout: float = 10.0
    call_timeout: float = 30.0

    def ssl_context(self) -> ssl.SSLContext:
        """Build the TLS context used for ``https`` URLs.

        Raises:
            ValueError: a CA or certificate file cannot be loaded.
        """
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.cert_file is not None:
                context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"cannot load TLS files ({self.ca_file}, {self.cert_file}): {exc}"
            ) from exc
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def headers(self) -> dict[str, str]:
        """The headers every request carries."""
        headers = {"Content-Type": JSON, "Accept": JSON}
        if self.authorization is not None:
            headers["Authorization"] = self.authorization
        return headers

    def new_client(self, *, limit: int = 16, pipeline: int = 1) -> HttpClient:
        """Create the lean keep-alive client the scheduler driver's calls use (``limit``
        connections, at most ``pipeline`` requests in flight on each)."""
        return HttpClient(self.ssl_context(), limit=limit, pipeline=pipeline,
                          connect_timeout=self.connect_timeout)

    def new_session(self, *, limit: int = 10) -> aiohttp.ClientSession:
        """Create a keep-alive HTTP client session with these options (call from a loop)."""
        connector = aiohttp.TCPConnector(ssl=self.ssl_context(), limit=limit)
        return aiohttp.ClientSession(connector=connector, json_serialize=json.dumps)


def basic_authorization(principal: str, secret: str) -> str:
    """Build an HTTP Basic ``Authorization`` value from a Mesos principal and secret."""
    token = base64.b64encode(f"{principal}:{secret}".encode()).decode("ascii")
    return f"Basic {token}"


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def encode_call(call: Mapping[str, Any]) -> bytes:
    """Serialise a call for the wire (compact JSON, UTF-8)."""
    return _COMPACT.encode(call).encode("utf-8")


def error_for_status(status: int, body: bytes, location: str | None = None) -> MesosWmError:
    """Map a non-success HTTP answer from a master or agent to an exception.

    Args:
        status: the HTTP status code.
        body: the response body (Mesos puts the reason there, as plain text).
        location: the ``Location`` header of a 307.

    Returns:
        :class:`AuthenticationFailed` (401), :class:`NotLeader` (307/503),
        :class:`MasterRejected` (other 4xx) or :class:`TransportError` (anything else).
    """
    message = body[:MAX_ERROR_BODY].decode("utf-8", errors="replace").strip()
    if status == 401:
        return AuthenticationFailed(status, message or "authentication required")
    if status == 307:
        return NotLeader(f"not the leading master; redirected to {location!r}")
    if status == 503:
        return NotLeader(f"master unavailable (503): {message or 'no leader elected yet'}")
    if 400 <= status < 500:
        return MasterRejected(status, message)
    return TransportError(f"unexpected HTTP {status}: {message}")


def is_certificate_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a failed TLS certificate verification."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__
    return False


def translate_client_error(exc: BaseException, what: str) -> TransportError:
    """Map an aiohttp/OS error to the mesos_wm tree (raise the result ``from exc``).

    Args:
        exc: the error aiohttp raised.
        what: what was being done, for the message (``"SUBSCRIBE to http://m:5050"``).

    Returns:
        :class:`ConnectError` for connection problems (including TLS), else
        :class:`SubscriptionLost` for a connection that broke during the exchange.
    """
    if is_certificate_error(exc):
        return ConnectError(f"{what}: TLS certificate verification failed: {exc}")
    if isinstance(
        exc,
        aiohttp.ClientConnectorError
        | aiohttp.ClientSSLError
        | aiohttp.ConnectionTimeoutError
        | ConnectFailed,
    ):
        return ConnectError(f"{what}: cannot connect: {exc}")
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return TransportError(f"{what}: timed out")
    return SubscriptionLost(f"{what}: connection broke: {exc or type(exc).__name__}")


async def read_chunk(response: aiohttp.ClientResponse, timeout: float | None) -> bytes:
    """Read whatever bytes of a streaming response are available next.

    Args:
        response: the open SUBSCRIBE response.
        timeout: seconds to wait at most (the watchdog), or None.

    Returns:
        Some bytes, or ``b""`` when the stream ended cleanly.

    Raises:
        HeartbeatTimeout: nothing arrived within ``timeout``.
        SubscriptionLost: the connection broke.
    """
    try:
        async with asyncio.timeout(timeout):
            return await response.content.readany()
    except TimeoutError as exc:
        raise HeartbeatTimeout(f"no bytes from {response.url} for {timeout:.3g}s") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise SubscriptionLost(f"stream from {response.url} broke: {exc}") from exc
