"""``sftp://`` staging over SSH, Airavata's usual storage protocol (needs asyncssh).

URIs are ``sftp://user@host[:port]/absolute/path``.  The executor logs in with the
private keys given by ``--ssh-identity`` (or the SSH agent and ``~/.ssh`` defaults when
none is given) and checks the server against ``--ssh-known-hosts`` (default
``~/.ssh/known_hosts``); an unknown host key fails the transfer.  Downloads stream into
the size-bounded, checksumming sink; uploads go to a temporary name next to the
destination and are renamed into place.

asyncssh is an optional dependency (``pip install 'mesos_wm[sftp]'``); this module is only
imported when it is installed.
"""

from __future__ import annotations

import posixpath
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import asyncssh

from mesos_wm.errors import ExecutorError
from mesos_wm.executor.paths import redact_uri
from mesos_wm.executor.transfer import CHUNK_BYTES, DownloadSink

if TYPE_CHECKING:
    from mesos_wm.executor.context import TaskContext

DEFAULT_PORT = 22


def parse_sftp_uri(uri: str) -> tuple[str, int, str | None, str]:
    """Split an ``sftp://`` URI into host, port, user and absolute path.

    Raises:
        ExecutorError: not an sftp URI, no host, a password in it, or a relative path.
    """
    parts = urlsplit(uri)
    if parts.scheme.lower() != "sftp" or not parts.hostname:
        raise ExecutorError(f"{redact_uri(uri)!r} is not an sftp://host/path URI")
    if parts.password is not None:
        raise ExecutorError(
            f"{redact_uri(uri)!r} holds a password; use an SSH key (--ssh-identity)"
        )
    path = unquote(parts.path)
    if not path.startswith("/") or "\x00" in path:
        raise ExecutorError(f"{redact_uri(uri)!r} must name an absolute path")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise ExecutorError(f"{redact_uri(uri)!r} has an invalid port") from exc
    return parts.hostname, port, parts.username, posixpath.normpath(path)


class SftpTransport:
    """Fetch from and store to ``sftp://`` URIs with asyncssh."""

    schemes: tuple[str, ...] = ("sftp",)

    async def _connect(self, uri: str, context: TaskContext) -> asyncssh.SSHClientConnection:
        host, port, user, _ = parse_sftp_uri(uri)
        settings = context.settings
        options: dict[str, Any] = {"port": port}
        if user:
            options["username"] = user
        if settings.ssh_identity_files:
            options["client_keys"] = [str(p) for p in settings.ssh_identity_files]
            options["agent_path"] = None
        if settings.ssh_known_hosts is not None:
            options["known_hosts"] = str(settings.ssh_known_hosts)
        return await asyncssh.connect(
            host, connect_timeout=settings.http_connect_timeout, **options
        )

    async def fetch(self, uri: str, sink: DownloadSink, context: TaskContext) -> None:
        """Stream the remote file into ``sink``.

        Raises:
            ExecutorError: connection, authentication, host key or read failure.
        """
        path = parse_sftp_uri(uri)[3]
        try:
            async with (
                await self._connect(uri, context) as connection,
                connection.start_sftp_client() as sftp,
                sftp.open(path, "rb") as remote,
            ):
                attrs = await remote.stat()
                sink.check_declared_size(attrs.size)
                while chunk := await remote.read(CHUNK_BYTES):
                    sink.write(cast(bytes, chunk))
        except (asyncssh.Error, OSError) as exc:
            message = f"sftp fetch of {redact_uri(uri)} failed: {_describe(exc)}"
            raise ExecutorError(message) from exc

    async def store(self, source: Path, uri: str, context: TaskContext) -> None:
        """Upload ``source`` to the remote path, creating its directories.

        Raises:
            ExecutorError: connection, authentication, host key or write failure.
        """
        path = parse_sftp_uri(uri)[3]
        directory, name = posixpath.split(path)
        temporary = posixpath.join(directory, f".{name}.{secrets.token_hex(4)}.partial")
        try:
            async with (
                await self._connect(uri, context) as connection,
                connection.start_sftp_client() as sftp,
            ):
                await sftp.makedirs(directory, exist_ok=True)
                try:
                    await sftp.put(str(source), temporary)
                    await sftp.posix_rename(temporary, path)
                except BaseException:
                    try:
                        await sftp.remove(temporary)
                    except (asyncssh.Error, OSError):
                        pass
                    raise
        except (asyncssh.Error, OSError) as exc:
            message = f"sftp store to {redact_uri(uri)} failed: {_describe(exc)}"
            raise ExecutorError(message) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.Error):
        return f"{type(exc).__name__}: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"
