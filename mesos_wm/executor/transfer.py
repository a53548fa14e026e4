"""Moving bytes in and out of the working directory: ``file://``, ``http(s)://``, plug-ins.

A :class:`Transport` knows one or more URI schemes.  Fetching writes into a
:class:`DownloadSink`, which enforces the size limit, computes the SHA-256 while the bytes
go by, writes to a temporary file next to the destination and only renames it into place
when everything checked out; on any failure the partial file is removed.  Storing copies a
local file to a destination URI the same way (temporary name, then rename).

``sftp://`` (Airavata's usual storage protocol) is built in when asyncssh is installed
(:mod:`mesos_wm.executor.sftp`).  Further schemes (SCP, S3, ...) are plug-ins: an object
with ``schemes``, ``fetch`` and ``store`` registered under the entry-point group
``mesos_wm.transports`` (see docs/executor.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp

from mesos_wm.errors import ExecutorError
from mesos_wm.executor.paths import file_uri_path, redact_uri

if TYPE_CHECKING:
    from mesos_wm.executor.context import TaskContext

CHUNK_BYTES = 1024 * 1024
TRANSPORT_GROUP = "mesos_wm.transports"


class DownloadTooLarge(ExecutorError):
    """A download went past its size limit."""


class UnsupportedScheme(ExecutorError):
    """No transport handles the scheme of a URI."""


class ChecksumMismatch(ExecutorError):
    """Staged bytes do not have the SHA-256 the spec asked for."""


def sha256_file(path: Path) -> str:
    """Return the lowercase hex SHA-256 of a file (blocking; run it in a thread)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class DownloadSink:
    """A size-bounded, checksummed, all-or-nothing file writer.

    Use as ``with DownloadSink(dest, limit, sha256) as sink: ... sink.write(chunk) ...``;
    on a clean exit :meth:`commit` is called, which verifies the checksum and renames the
    temporary file to ``dest``; on an exception the temporary file is removed and ``dest``
    is left as it was.

    Args:
        destination: the final path (its directory must exist).
        limit: maximum number of bytes; None for no limit.
        sha256: expected lowercase hex digest; empty for no check.
        label: how to name the source in error messages (already redacted).
    """

    def __init__(
        self, destination: Path, limit: int | None, sha256: str = "", label: str = ""
    ) -> None:
        self.destination = destination
        self.limit = limit
        self.expected = sha256.lower()
        self.label = label or destination.name
        self.size = 0
        self._digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
        )
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")

    def check_declared_size(self, size: int | None) -> None:
        """Refuse early when the peer announces more bytes than the limit allows.

        Raises:
            DownloadTooLarge: ``size`` exceeds the limit.
        """
        if size is not None and self.limit is not None and size > self.limit:
            raise DownloadTooLarge(
                f"{self.label} is {size} bytes, more than the limit of {self.limit} bytes"
            )

    def write(self, chunk: bytes) -> None:
        """Append a chunk.

        Raises:
            DownloadTooLarge: the limit is exceeded (nothing is kept).
        """
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise DownloadTooLarge(f"{self.label} exceeds the limit of {self.limit} bytes")
        self._digest.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes written so far."""
        return self._digest.hexdigest()

    def commit(self) -> None:
        """Verify the checksum and move the file into place.

        Raises:
            ChecksumMismatch: the digest differs from the expected one.
        """
        self._file.close()
        if self.expected and self.sha256 != self.expected:
            raise ChecksumMismatch(
                f"{self.label}: sha256 is {self.sha256}, expected {self.expected}"
            )
        os.replace(self._tmp, self.destination)

    def abort(self) -> None:
        """Remove the temporary file."""
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> DownloadSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


@runtime_checkable
class Transport(Protocol):
    """A way to move files to and from URIs of some schemes.

    Attributes:
        schemes: the URI schemes handled, lowercase (``("sftp", "scp")``).
    """

    schemes: tuple[str, ...]

    async def fetch(self, uri: str, sink: DownloadSink, context: TaskContext) -> None:
        """Write the bytes at ``uri`` into ``sink`` (which enforces size and checksum).

        Raises:
            ExecutorError: the transfer failed; the message must not contain credentials.
        """

    async def store(self, source: Path, uri: str, context: TaskContext) -> None:
        """Copy the local file ``source`` to the destination ``uri`` (a file, not a dir).

        Raises:
            ExecutorError: the transfer failed.
        """


async def _copy_into(source: Path, sink: DownloadSink) -> None:
    loop = asyncio.get_running_loop()
    with open(source, "rb") as f:
        sink.check_declared_size(os.fstat(f.fileno()).st_size)
        while chunk := await loop.run_in_executor(None, f.read, CHUNK_BYTES):
            await loop.run_in_executor(None, sink.write, chunk)


class FileTransport:
    """``file://`` URIs, confined to the executor's storage roots."""

    schemes: tuple[str, ...] = ("file",)

    async def fetch(self, uri: str, sink: DownloadSink, context: TaskContext) -> None:
        path = file_uri_path(uri, context.settings.storage_roots, "source")
        if not path.is_file():
            raise ExecutorError(f"source {uri!r} is not a readable file")
        try:
            await _copy_into(path, sink)
        except OSError as exc:
            raise ExecutorError(f"cannot read {uri!r}: {exc.strerror or exc}") from exc

    async def store(self, source: Path, uri: str, context: TaskContext) -> None:
        path = file_uri_path(uri, context.settings.storage_roots, "destination_uri")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with DownloadSink(path, None, label=uri) as sink:
                await _copy_into(source, sink)
        except OSError as exc:
            raise ExecutorError(f"cannot write {uri!r}: {exc.strerror or exc}") from exc


class HttpTransport:
    """``http://`` and ``https://`` downloads, streamed with aiohttp."""

    schemes: tuple[str, ...] = ("http", "https")

    async def fetch(self, uri: str, sink: DownloadSink, context: TaskContext) -> None:
        label = redact_uri(uri)
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=context.settings.http_connect_timeout,
            sock_read=context.settings.http_read_timeout,
        )
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(uri) as response,
            ):
                if response.status != 200:
                    raise ExecutorError(f"GET {label} answered HTTP {response.status}")
                sink.check_declared_size(response.content_length)
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    sink.write(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ExecutorError(f"GET {label} failed: {type(exc).__name__}: {exc}") from exc

    async def store(self, source: Path, uri: str, context: TaskContext) -> None:
        raise ExecutorError(f"storing to {redact_uri(uri)} is not supported over HTTP")


def _optional_transports() -> list[Transport]:
    try:
        from mesos_wm.executor.sftp import SftpTransport
    except ImportError:
        return []
    return [SftpTransport()]


class TransportRegistry:
    """Transports by URI scheme: the built-in ones plus plug-ins."""

    def __init__(self, transports: Iterable[Transport] = ()) -> None:
        self._by_scheme: dict[str, Transport] = {}
        for transport in transports:
            self.register(transport)

    @classmethod
    def default(cls, load_plugins: bool = True) -> TransportRegistry:
        """The built-in transports, plus those of the ``mesos_wm.transports`` group.

        A plug-in entry point names a class (instantiated without arguments) or an
        instance.  Plug-ins cannot replace ``file``, ``http`` or ``https``, nor ``sftp``
        when asyncssh is installed (then the built-in :mod:`mesos_wm.executor.sftp` has it).
        """
        registry = cls([FileTransport(), HttpTransport(), *_optional_transports()])
        if load_plugins:
            for ep in entry_points(group=TRANSPORT_GROUP):
                loaded = ep.load()
                transport = loaded() if isinstance(loaded, type) else loaded
                if not isinstance(transport, Transport):
                    raise ExecutorError(f"entry point {ep.name!r} is not a Transport")
                for scheme in transport.schemes:
                    if scheme not in registry._by_scheme:
                        registry._by_scheme[scheme] = transport
        return registry

    def register(self, transport: Transport) -> None:
        """Handle ``transport.schemes`` with ``transport`` (replacing earlier ones)."""
        for scheme in transport.schemes:
            self._by_scheme[scheme.lower()] = transport

    def for_uri(self, uri: str) -> Transport:
        """The transport for ``uri``'s scheme.

        Raises:
            UnsupportedScheme: no transport knows the scheme.
        """
        scheme = urlsplit(uri).scheme.lower()
        transport = self._by_scheme.get(scheme)
        if transport is None:
            known = ", ".join(sorted(self._by_scheme))
            raise UnsupportedScheme(
                f"no transport for {redact_uri(uri)!r} (scheme {scheme!r}; known: {known})"
            )
        return transport
