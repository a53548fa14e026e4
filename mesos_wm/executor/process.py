"""Child process groups: start a job in its own group, wait for it, end it without orphans.

Theory of operation.  Every command the executor runs is started with
``start_new_session=True``, so the command and everything it forks share one process group
whose id is the command's pid.  Ending a task means ending that group:

1. ``SIGTERM`` to the group, so every process can clean up;
2. wait up to the grace period for the group to empty;
3. ``SIGKILL`` to the group, and wait for the leader to be reaped and the group to empty.

The same sequence runs when a job's leader exits on its own but left processes behind in
its group, when the wall time expires, and when the handler is cancelled (KILL, SHUTDOWN).
A :class:`ProcessGuard` records the live groups in a watchdog process so that even a
SIGKILL of the executor itself does not leave them running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from mesos_wm.errors import ExecutorError

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
_WATCHDOG_SCRIPT = Path(__file__).with_name("watchdog.py")
_AFTER_SIGKILL_SECONDS = 5.0


def _live_member_in_proc(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` is alive.

    Zombies do not count where ``/proc`` tells them apart: an orphan that has died stays a
    zombie until init gets round to reaping it, which can take seconds in a container.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if os.path.isdir("/proc/self"):
        return _live_member_in_proc(pgid)
    return True


class ProcessGuard:
    """Keeps the watchdog (:mod:`mesos_wm.executor.watchdog`) informed of live groups.

    The watchdog is started lazily, on the first :meth:`add`.  Closing the guard (or the
    executor dying) makes the watchdog SIGKILL every group still registered.
    """

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._proc: subprocess.Popen[bytes] | None = None

    def _write(self, line: str) -> None:
        if self._proc is None:
            self._proc = subprocess.Popen(
                [self._python, "-I", str(_WATCHDOG_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            log.warning("the process watchdog is gone: %s", exc)

    def add(self, pgid: int) -> None:
        """Register a live process group."""
        self._write(f"+{pgid}")

    def remove(self, pgid: int) -> None:
        """Forget a group that has ended."""
        if self._proc is not None:
            self._write(f"-{pgid}")

    @property
    def watchdog_pid(self) -> int | None:
        """The watchdog's pid, once it runs."""
        return None if self._proc is None else self._proc.pid

    def close(self) -> None:
        """Close the pipe (the watchdog kills what is left) and reap the watchdog."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ProcessGroup:
    """One started command and its process group.

    Use as ``async with await ProcessGroup.start(...) as group:``; leaving the block (by
    return, exception or cancellation) ends whatever is left of the group with
    :meth:`terminate` and the grace period given at start.
    """

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        grace_seconds: float,
        guard: ProcessGuard | None,
    ) -> None:
        self._proc = proc
        self.pid = proc.pid
        self.pgid = proc.pid
        self.grace_seconds = grace_seconds
        self.started_at = time.time()
        self.term_signal_sent = False
        self._guard = guard

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: Path,
        stderr: Path,
        grace_seconds: float,
        guard: ProcessGuard | None = None,
    ) -> ProcessGroup:
        """Start ``argv`` as the leader of a new session and process group.

        Args:
            argv: the program and its arguments (no shell is involved).
            cwd: the working directory.
            env: the complete environment.
            stdout: file that receives standard output (created or truncated).
            stderr: file that receives standard error (created or truncated).
            grace_seconds: SIGTERM-to-SIGKILL delay used when the group is ended.
            guard: registers the group with the crash watchdog.

        Returns:
            the running group.

        Raises:
            ExecutorError: the program could not be started (not found, not executable,
                bad working directory).  No process is left behind.
        """
        if not argv:
            raise ExecutorError("empty command")
        try:
            with open(stdout, "wb") as out, open(stderr, "wb") as err:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    close_fds=True,
                )
        except OSError as exc:
            raise ExecutorError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from exc
        if guard is not None:
            guard.add(proc.pid)
        return cls(proc, grace_seconds, guard)

    @property
    def returncode(self) -> int | None:
        """The leader's exit status (negative: killed by that signal), None while running."""
        return self._proc.returncode

    async def wait(self) -> int:
        """Wait for the group leader to exit and return its status."""
        return await self._proc.wait()

    def alive(self) -> bool:
        """True while any process of the group exists."""
        return group_alive(self.pgid)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    async def _wait_empty(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.returncode is not None and not self.alive():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_SECONDS)

    async def terminate(self, grace_seconds: float | None = None) -> None:
        """End every process of the group: SIGTERM, wait up to the grace, SIGKILL.

        Safe to call more than once and after the group has ended.  Returns when the leader
        has been reaped and the group is empty (or, in the unlikely case a process cannot
        be killed, after a final bounded wait).

        Args:
            grace_seconds: overrides the grace period given at start.
        """
        grace = self.grace_seconds if grace_seconds is None else grace_seconds
        try:
            if self.alive():
                self.term_signal_sent = True
                self._signal(signal.SIGTERM)
                if not await self._wait_empty(max(grace, 0.0)):
                    log.info("process group %d outlived its %.1fs grace: SIGKILL", self.pgid, grace)
                    self._signal(signal.SIGKILL)
            if not await self._wait_empty(_AFTER_SIGKILL_SECONDS):
                log.warning("process group %d is still not empty after SIGKILL", self.pgid)
        finally:
            if self._proc.returncode is not None and self._guard is not None:
                self._guard.remove(self.pgid)
                self._guard = None

    async def __aenter__(self) -> ProcessGroup:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.terminate())
