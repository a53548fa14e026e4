"""Process groups: escalation from SIGTERM to SIGKILL, no orphans, the crash watchdog."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mesos_wm.errors import ExecutorError
from mesos_wm.executor.process import ProcessGroup, ProcessGuard, group_alive
from tests.executor.helpers import live_members, pid_alive, read_pids

# A leader that forks a child; both ignore SIGTERM; the pids go to argv[1].
STUBBORN = textwrap.dedent(
    """
    import os, signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        while True:
            time.sleep(1)
    with open(sys.argv[1], "w") as f:
        f.write(f"{os.getpid()}\\n{child}\\n")
    while True:
        time.sleep(1)
    """
)


async def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().count("\n") >= 2):
        assert time.monotonic() < deadline, f"{path} was never written"
        await asyncio.sleep(0.02)


async def start(tmp_path: Path, argv: list[str], guard: ProcessGuard | None = None,
                grace: float = 0.3) -> ProcessGroup:
    return await ProcessGroup.start(
        argv, cwd=tmp_path, env={"PATH": os.environ["PATH"]}, stdout=tmp_path / "out",
        stderr=tmp_path / "err", grace_seconds=grace, guard=guard,
    )


async def test_exit_status_and_output_files(tmp_path: Path) -> None:
    group = await start(tmp_path, ["/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"])
    async with group:
        assert await group.wait() == 3
    assert (tmp_path / "out").read_text() == "hello\n"
    assert (tmp_path / "err").read_text() == "oops\n"
    assert group.pgid == group.pid
    assert not group.alive()


async def test_missing_program_is_an_executor_error(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="cannot start"):
        await start(tmp_path, ["/nonexistent/program"])


async def test_sigterm_is_enough_for_a_polite_group(tmp_path: Path) -> None:
    group = await start(tmp_path, ["sleep", "60"], grace=5.0)
    began = time.monotonic()
    await group.terminate()
    assert time.monotonic() - began < 2.0
    assert group.returncode == -signal.SIGTERM
    assert not group_alive(group.pgid)


async def test_escalates_to_sigkill_and_leaves_no_process(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    group = await start(tmp_path, [sys.executable, "-c", STUBBORN, str(pids_file)], grace=0.3)
    await wait_for_file(pids_file)
    leader, child = read_pids(pids_file)
    assert live_members(group.pgid) == sorted([leader, child])
    began = time.monotonic()
    await group.terminate()
    elapsed = time.monotonic() - began
    assert 0.3 <= elapsed < 5.0
    assert group.returncode == -signal.SIGKILL
    assert live_members(group.pgid) == []
    assert not pid_alive(child)


async def test_leftover_background_processes_are_ended_when_the_leader_exits(
    tmp_path: Path,
) -> None:
    pids_file = tmp_path / "pids"
    script = f"sleep 60 & echo $! > {pids_file}; exit 0"
    group = await start(tmp_path, ["/bin/sh", "-c", script])
    async with group:
        assert await group.wait() == 0
        background = read_pids(pids_file)[0]
        assert pid_alive(background)
    assert not pid_alive(background)
    assert live_members(group.pgid) == []


async def test_cancellation_ends_the_group(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"

    async def run() -> None:
        group = await start(tmp_path, [sys.executable, "-c", STUBBORN, str(pids_file)])
        async with group:
            await group.wait()

    task = asyncio.create_task(run())
    await wait_for_file(pids_file)
    leader, child = read_pids(pids_file)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not pid_alive(leader)
    assert not pid_alive(child)


def test_watchdog_kills_registered_groups_when_the_pipe_closes(tmp_path: Path) -> None:
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    guard = ProcessGuard()
    try:
        guard.add(proc.pid)
        guard.add(other.pid)
        guard.remove(other.pid)
        guard.close()
        assert proc.wait(timeout=5) == -signal.SIGKILL
        assert other.poll() is None
    finally:
        for p in (proc, other):
            p.kill()
            p.wait()


# An "executor" that starts a stubborn job through a guard, then dies by SIGKILL.
CRASHING_EXECUTOR = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from mesos_wm.executor.process import ProcessGroup, ProcessGuard

    async def main():
        tmp = Path(sys.argv[1])
        guard = ProcessGuard()
        await ProcessGroup.start(
            [sys.executable, "-c", sys.argv[2], str(tmp / "pids")], cwd=tmp,
            env=dict(os.environ), stdout=tmp / "out", stderr=tmp / "err",
            grace_seconds=1, guard=guard)
        while not (tmp / "pids").exists() or (tmp / "pids").read_text().count("\\n") < 2:
            await asyncio.sleep(0.02)
        print(guard.watchdog_pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


def test_a_crashed_executor_leaves_no_orphan(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_EXECUTOR, str(tmp_path), STUBBORN],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    watchdog = int(result.stdout.split()[0])
    leader, child = read_pids(tmp_path / "pids")
    deadline = time.monotonic() + 10
    while (pid_alive(leader) or pid_alive(child) or pid_alive(watchdog)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert not pid_alive(leader)
    assert not pid_alive(child)
    assert not pid_alive(watchdog)
    assert live_members(leader) == []
