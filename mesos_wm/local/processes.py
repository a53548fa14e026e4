"""Process helpers of the embedded agents: sandboxes, URI fetching, environment, signals.

The sandbox layout is Mesos's:
``<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>``
with ``stdout`` and ``stderr`` files in it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import stat
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

__all__ = [
    "command_argv",
    "fetch_uris",
    "format_duration",
    "kill_group",
    "sandbox_path",
    "spawn",
    "termination_message",
]

_UNITS = (
    ("weeks", 7 * 86400.0),
    ("days", 86400.0),
    ("hrs", 3600.0),
    ("mins", 60.0),
    ("secs", 1.0),
    ("ms", 1e-3),
    ("us", 1e-6),
    ("ns", 1e-9),
)


def format_duration(seconds: float) -> str:
    """Format a duration the way stout prints it (``5secs``, ``1mins``, ``500ms``)."""
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{seconds / size:g}{unit}"
    return "0ns"


def sandbox_path(
    work_dir: Path, agent_id: str, framework_id: str, executor_id: str, container_id: str
) -> Path:
    """Return (and create) a run's sandbox directory."""
    path = (
        work_dir
        / "slaves"
        / agent_id
        / "frameworks"
        / framework_id
        / "executors"
        / executor_id
        / "runs"
        / container_id
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def command_argv(command: Mapping[str, Any]) -> list[str]:
    """Return the argv of a CommandInfo: ``/bin/sh -c value`` or ``value`` + ``arguments``.

    Raises:
        ValueError: ``shell`` is false and there is no ``value``.
    """
    value = command.get("value", "")
    if command.get("shell", True):
        return ["/bin/sh", "-c", value]
    if not value:
        raise ValueError("CommandInfo.value is required when 'shell' is false")
    arguments = list(command.get("arguments", []))
    return [value, *arguments[1:]] if arguments else [value]


def command_env(command: Mapping[str, Any], extra: Mapping[str, str]) -> dict[str, str]:
    """Return the process environment: the agent's, then ``extra``, then the command's."""
    env = dict(os.environ)
    env.update(extra)
    for variable in command.get("environment", {}).get("variables", []):
        env[variable["name"]] = variable.get("value", "")
    return env


async def fetch_uris(uris: list[dict[str, Any]], sandbox: Path) -> None:
    """Fetch CommandInfo URIs into the sandbox (local paths, ``file://``, ``http(s)://``).

    Archives are extracted unless ``extract`` is false; ``executable`` sets the x bit.

    Raises:
        OSError: a URI could not be fetched (the message names it).
    """
    for uri in uris:
        value = uri["value"]
        parsed = urllib.parse.urlparse(value)
        name = uri.get("output_file") or Path(parsed.path).name or "download"
        target = sandbox / name
        if parsed.scheme in ("http", "https"):
            try:
                async with aiohttp.ClientSession() as session, session.get(value) as response:
                    if response.status != 200:
                        raise OSError(f"Failed to fetch '{value}': HTTP {response.status}")
                    target.write_bytes(await response.read())
            except aiohttp.ClientError as exc:
                raise OSError(f"Failed to fetch '{value}': {exc}") from exc
        elif parsed.scheme in ("", "file"):
            source = Path(urllib.parse.unquote(parsed.path))
            if not source.exists():
                raise OSError(f"Failed to fetch '{value}': no such file")
            await asyncio.to_thread(shutil.copyfile, source, target)
        else:
            raise OSError(f"Failed to fetch '{value}': unsupported scheme '{parsed.scheme}'")
        if uri.get("executable", False):
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        elif uri.get("extract", True) and _is_archive(name):
            await asyncio.to_thread(shutil.unpack_archive, str(target), str(sandbox))


def _is_archive(name: str) -> bool:
    return name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"))


async def spawn(
    argv: list[str], sandbox: Path, env: Mapping[str, str]
) -> asyncio.subprocess.Process:
    """Start a process in its own process group with stdout/stderr files in the sandbox.

    Raises:
        OSError: the program could not be started.
    """
    with open(sandbox / "stdout", "ab") as out, open(sandbox / "stderr", "ab") as err:
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=sandbox,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )


def kill_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group of ``process`` (ignored once it is gone)."""
    if process.returncode is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def termination_message(returncode: int) -> str:
    """Return the command executor's message for an exit (``Command exited with status 1``)."""
    if returncode >= 0:
        return f"Command exited with status {returncode}"
    try:
        name = signal.strsignal(-returncode) or f"signal {-returncode}"
    except ValueError:
        name = f"signal {-returncode}"
    return f"Command terminated with signal {name}"


def wait_status(returncode: int) -> int:
    """Return the ``waitpid`` status Mesos reports for a process's ``returncode``.

    An exit with code N is ``N << 8``; death by signal S is ``S`` (asyncio reports it as
    ``-S``).  FAILURE events carry this raw status, as ``ExitedExecutorMessage`` does.
    """
    return -returncode if returncode < 0 else (returncode & 0xFF) << 8
