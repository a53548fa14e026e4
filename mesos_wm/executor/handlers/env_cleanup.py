"""ENV_CLEANUP: remove the workflow's working directory, and nothing outside the sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from pathlib import Path

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.outcome import TaskOutcome, failed, finished, invalid
from mesos_wm.executor.paths import is_within
from mesos_wm.proto.taskspec_pb2 import TaskSpec


def _owner_rwx(path: str) -> None:
    mode = os.lstat(path).st_mode
    if stat.S_ISDIR(mode) and mode & stat.S_IRWXU != stat.S_IRWXU:
        os.chmod(path, mode | stat.S_IRWXU)


def remove_tree(path: Path) -> None:
    """Remove a directory tree without following symlinks, fixing permissions on the way.

    A job may leave read-only directories behind; every directory gets ``u+rwx`` first.
    """
    _owner_rwx(str(path))
    for dirpath, dirnames, _files in os.walk(path):
        for name in dirnames:
            _owner_rwx(os.path.join(dirpath, name))
    shutil.rmtree(path)


async def env_cleanup(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Remove the working directory.

    A working directory that is a symbolic link loses only the link.  Jobs of the workflow
    still running make the cleanup fail rather than pull the ground from under them.

    Returns:
        FINISHED (also when there was nothing to remove); FAILED while a job runs; ERROR if
        the working directory is the sandbox itself or lies outside it.
    """
    workdir, sandbox = context.workdir, context.sandbox
    if workdir.is_symlink():
        workdir.unlink()
        return finished(f"removed the link {workdir.name}")
    if not is_within(workdir, sandbox) or workdir.resolve() == sandbox.resolve():
        return invalid(f"refusing to remove {workdir}: not a directory inside the sandbox")
    running = context.jobs.running()
    if running:
        names = ", ".join(job.task_id for job in running)
        return failed(f"jobs still running in the working directory: {names}")
    if not workdir.exists():
        return finished(f"working directory {workdir.name} was already gone")
    await asyncio.to_thread(remove_tree, workdir)
    return finished(f"removed working directory {workdir.name}")
