"""ENV_SETUP: create the workflow's working directory with inputs/, outputs/ and logs/."""

from __future__ import annotations

import os
from pathlib import Path

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.outcome import TaskOutcome, finished, invalid
from mesos_wm.executor.paths import PathEscapeError, confine, is_within
from mesos_wm.proto.taskspec_pb2 import TaskSpec

LAYOUT = ("inputs", "outputs", "logs")


def ensure_directory(path: Path, root: Path, mode: int, *, reset_mode: bool = False) -> None:
    """Create ``path`` (and its parents below ``root``) with permission bits ``mode``.

    Args:
        path: the directory, below ``root``.
        root: the directory it must stay in.
        mode: permission bits of a directory that gets created.
        reset_mode: also set ``mode`` on a directory that already exists.

    Raises:
        PathEscapeError: ``path`` is, or would resolve to, a place outside ``root``.
        OSError: the directory cannot be created, or a non-directory is in the way.
    """
    relative = path.relative_to(root).as_posix()
    confine(root, relative, "directory")
    existed = path.is_dir()
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    if not is_within(path, root):
        raise PathEscapeError(f"directory {relative!r} leads outside its directory")
    if reset_mode or not existed:
        os.chmod(path, mode)


def ensure_layout(workdir: Path, sandbox: Path, mode: int) -> None:
    """Create the working directory and its standard subdirectories.

    Args:
        workdir: the working directory (inside ``sandbox``).
        sandbox: the executor's sandbox.
        mode: permission bits for every directory created.

    Raises:
        PathEscapeError: a directory (e.g. a planted symlink) leads out of the sandbox.
        OSError: a directory cannot be created.
    """
    ensure_directory(workdir, sandbox, mode, reset_mode=True)
    for name in LAYOUT:
        ensure_directory(workdir / name, workdir, mode, reset_mode=True)


async def env_setup(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Create ``<working directory>/{inputs,outputs,logs}`` with the spec's permissions.

    Idempotent: an existing layout is kept and its permissions are set again.

    Args:
        spec: ``directory_mode`` (0 = the executor default, 0o750).
        context: supplies the sandbox and working directory.

    Returns:
        FINISHED, ERROR for an invalid mode or an escaping path, FAILED when the file
        system refuses.
    """
    mode = spec.directory_mode or context.settings.default_directory_mode
    if mode > 0o7777:
        return invalid(f"directory_mode {mode:o} is not a permission mode")
    if mode & 0o700 != 0o700:
        return invalid(f"directory_mode {mode:o} would lock the executor out (needs u+rwx)")
    ensure_layout(context.workdir, context.sandbox, mode)
    return finished(f"working directory {context.workdir.name} ready (mode {mode:o})")
