"""JOB_SUBMISSION and COMMAND with real subprocesses."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.outcome import WALL_TIME_REASON, Outcome
from mesos_wm.executor.registry import HandlerRegistry
from tests.executor.helpers import live_members, make_spec, pid_alive, read_pids

MakeContext = Callable[..., TaskContext]
REGISTRY = HandlerRegistry(plugins={})

STUBBORN = textwrap.dedent(
    """
    import os, signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        while True:
            time.sleep(1)
    with open("pids", "w") as f:
        f.write(f"{os.getpid()}\\n{child}\\n")
    while True:
        time.sleep(1)
    """
)


async def wait_for_pids(path: Path) -> list[int]:
    deadline = time.monotonic() + 10
    while not (path.exists() and path.read_text().count("\n") >= 2):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    return read_pids(path)


async def test_job_runs_in_the_workdir_with_env_and_logs(
    sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec(
        "JOB_SUBMISSION",
        task_id="run",
        argv=["/bin/sh", "-c", 'pwd; echo "$OMP_NUM_THREADS $MESOS_WM_TASK_ID"; echo warn >&2'],
        env={"OMP_NUM_THREADS": "2"},
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FINISHED, outcome.message
    workdir = sandbox / "wf-1"
    stdout = (workdir / "logs" / "run.stdout").read_text().splitlines()
    assert stdout == [str(workdir), "2 run"]
    assert (workdir / "logs" / "run.stderr").read_text() == "warn\n"
    assert outcome.result.HasField("exit_code")
    assert outcome.result.exit_code == 0
    assert {o.path for o in outcome.result.outputs} >= {"logs/run.stdout", "logs/run.stderr"}
    assert outcome.result.run_seconds > 0


async def test_secrets_of_the_executor_environment_do_not_reach_the_job(
    sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec("JOB_SUBMISSION", shell="env", task_id="env")
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.ok
    env = (sandbox / "wf-1" / "logs" / "env.stdout").read_text()
    assert "MESOS_EXECUTOR_AUTHENTICATION_TOKEN" not in env
    assert "s3cr3t" not in env
    assert "PATH=/usr/bin:/bin" in env


async def test_non_zero_exit_fails_with_the_stderr_tail(make_context: MakeContext) -> None:
    script = "import sys; sys.stderr.write('x' * 5000 + 'the real error'); sys.exit(7)"
    spec = make_spec("JOB_SUBMISSION", argv=[sys.executable, "-c", script])
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert outcome.message.startswith("exit code 7: …")
    assert outcome.message.endswith("the real error")
    assert len(outcome.message) < 1200
    assert outcome.result.exit_code == 7
    assert not outcome.result.HasField("signal")


async def test_death_by_signal_is_reported(make_context: MakeContext) -> None:
    spec = make_spec("JOB_SUBMISSION", shell="kill -SEGV $$")
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "SIGSEGV" in outcome.message
    assert outcome.result.signal == signal.SIGSEGV
    assert not outcome.result.HasField("exit_code")


async def test_missing_program_fails(make_context: MakeContext) -> None:
    spec = make_spec("JOB_SUBMISSION", argv=["/no/such/program"])
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "cannot start" in outcome.message


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"argv": ["a"], "shell": "b"},
        {"argv": ["true"], "env": {"A=B": "x"}},
    ],
)
async def test_invalid_commands_are_errors(make_context: MakeContext, fields: dict) -> None:
    spec = make_spec("JOB_SUBMISSION", **fields)
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.ERROR


async def test_wall_time_kills_the_whole_group(sandbox: Path, make_context: MakeContext) -> None:
    spec = make_spec(
        "JOB_SUBMISSION",
        argv=[sys.executable, "-c", STUBBORN],
        wall_time_seconds=1.0,
        kill_grace_period_seconds=0.2,
    )
    context = make_context(spec)
    task = asyncio.create_task(execute(spec, context, REGISTRY))
    leader, child = await wait_for_pids(sandbox / "wf-1" / "pids")
    outcome = await task
    assert outcome.state is Outcome.FAILED
    assert outcome.reason is WALL_TIME_REASON
    assert "wall time of 1s expired" in outcome.message
    assert not pid_alive(leader)
    assert not pid_alive(child)
    assert live_members(leader) == []
    [job] = context.jobs.all()
    assert job.done.is_set()


async def test_cancelling_the_handler_ends_the_job(
    sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec("JOB_SUBMISSION", argv=[sys.executable, "-c", STUBBORN])
    context = make_context(spec)
    context.kill_grace_seconds = 0.2
    task = asyncio.create_task(execute(spec, context, REGISTRY))
    leader, child = await wait_for_pids(sandbox / "wf-1" / "pids")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not pid_alive(leader)
    assert not pid_alive(child)
    assert context.jobs.all()[0].outcome is not None


async def test_command_runs_in_the_sandbox(sandbox: Path, make_context: MakeContext) -> None:
    spec = make_spec("COMMAND", shell="echo done; pwd", task_id="note")
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.ok, outcome.message
    assert (sandbox / "note.stdout").read_text() == f"done\n{sandbox}\n"
    assert not (sandbox / "wf-1").exists()
