"""Path confinement: every path a task spec names must stay inside a directory we allow.

A spec names paths relative to the workflow's working directory (``inputs/in.dat``), glob
patterns for outputs, and ``file://`` URIs for shared storage.  Each is checked twice: the
text must not be absolute or contain ``..``, and the path, once every symbolic link in it is
resolved, must still lie inside the allowed root.  The second check is what defeats a
symlink planted in the working directory (``inputs -> /etc``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from mesos_wm.errors import ExecutorError

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class PathEscapeError(ExecutorError):
    """A path from a task spec points outside the directories the task may use."""


def safe_name(text: str, default: str = "task") -> str:
    """Turn an identifier (task id, workflow id) into one harmless file name component.

    Args:
        text: any string.
        default: used when nothing usable is left.

    Returns:
        ``text`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``; never
        empty, never ``.`` or ``..``.
    """
    name = _UNSAFE_NAME_CHARS.sub("_", text)[:200]
    if name.strip(".") == "":
        return default
    return name


def check_relative(text: str, what: str = "path") -> PurePosixPath:
    """Check that ``text`` is a relative path that does not climb with ``..``.

    Args:
        text: the path as written in the spec.
        what: names the spec field in the error message.

    Returns:
        the path, normalised (``a//b/./c`` becomes ``a/b/c``).

    Raises:
        PathEscapeError: ``text`` is empty, absolute, holds a NUL byte or a ``..`` part.
    """
    if not text or "\x00" in text:
        raise PathEscapeError(f"{what} {text!r} is empty or holds a NUL byte")
    pure = PurePosixPath(text)
    if pure.is_absolute() or text.startswith("~"):
        raise PathEscapeError(f"{what} {text!r} must be relative")
    if ".." in pure.parts:
        raise PathEscapeError(f"{what} {text!r} must not contain '..'")
    if pure.parts in ((), (".",)):
        raise PathEscapeError(f"{what} {text!r} names the directory itself")
    return pure


def is_within(path: Path, root: Path) -> bool:
    """True when ``path``, with every symlink resolved, lies inside ``root`` (or is it)."""
    resolved = path.resolve(strict=False)
    return resolved == root.resolve(strict=False) or resolved.is_relative_to(
        root.resolve(strict=False)
    )


def confine(root: Path, relative: str, what: str = "path") -> Path:
    """Join ``relative`` to ``root`` and check the result cannot leave ``root``.

    Args:
        root: the directory the path must stay in (e.g. the working directory).
        relative: a relative path from the spec.
        what: names the spec field in the error message.

    Returns:
        ``root / relative`` (not resolved, so the caller sees the name it asked for).

    Raises:
        PathEscapeError: the text is unsafe (see :func:`check_relative`) or a symlink on the
            way leads outside ``root``.
    """
    pure = check_relative(relative, what)
    path = root.joinpath(*pure.parts)
    if not is_within(path, root):
        raise PathEscapeError(f"{what} {relative!r} leads outside its directory")
    return path


def file_uri_path(uri: str, roots: Iterable[Path], what: str = "uri") -> Path:
    """Map a ``file://`` URI onto a path inside one of the storage roots.

    Args:
        uri: ``file:///abs/path`` or ``file://localhost/abs/path``.
        roots: the storage roots the executor was configured with.
        what: names the spec field in the error message.

    Returns:
        the absolute path the URI names.

    Raises:
        PathEscapeError: the URI is not a local ``file://`` URI, contains ``..``, or does
            not lie (after resolving symlinks) inside any storage root.
    """
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise PathEscapeError(f"{what} {uri!r} is not a local file:// URI")
    text = unquote(parts.path)
    if "\x00" in text or not text.startswith("/"):
        raise PathEscapeError(f"{what} {uri!r} must name an absolute path")
    if ".." in PurePosixPath(text).parts:
        raise PathEscapeError(f"{what} {uri!r} must not contain '..'")
    path = Path(text)
    root_list = list(roots)
    if not root_list:
        raise PathEscapeError(
            f"{what} {uri!r}: no storage root is configured, so file:// URIs are refused "
            "(start the executor with --storage-root DIR)"
        )
    if not any(is_within(path, root) for root in root_list):
        raise PathEscapeError(f"{what} {uri!r} is outside the configured storage roots")
    return path


def redact_uri(uri: str) -> str:
    """Return ``uri`` without user information or query string, safe to log."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return "<unparsable uri>"
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"
    netloc = f"***@{host}" if parts.username or parts.password else host
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"
