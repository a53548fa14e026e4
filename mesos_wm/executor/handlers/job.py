"""JOB_SUBMISSION and COMMAND: run a command as a child process group and judge its exit.

JOB_SUBMISSION runs in the workflow's working directory, writes ``logs/<task>.stdout`` and
``logs/<task>.stderr``, and is recorded on the executor's job board so MONITORING and
OUTPUT_FETCHING can follow it.  COMMAND is a plain command without Airavata semantics: it
runs in the sandbox and writes ``<sandbox>/<task>.stdout``/``.stderr`` like the Mesos command
executor.  Both end their whole process group when the leader exits, when the handler is
cancelled (KILL, SHUTDOWN, wall time), or when anything else goes wrong.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from mesos_wm.executor.context import JobRecord, TaskContext
from mesos_wm.executor.handlers.env_setup import ensure_directory
from mesos_wm.executor.outcome import Outcome, TaskOutcome, failed, finished, invalid
from mesos_wm.executor.paths import safe_name
from mesos_wm.executor.process import ProcessGroup
from mesos_wm.executor.transfer import sha256_file
from mesos_wm.proto.taskspec_pb2 import OutputFile, TaskResult, TaskSpec

STDERR_TAIL_BYTES = 1024
MAX_LISTED_OUTPUTS = 100


def command_argv(spec: TaskSpec) -> list[str] | TaskOutcome:
    """The argv to execute: ``command.argv`` as is, or ``/bin/sh -c command.shell``."""
    argv = list(spec.command.argv)
    shell = spec.command.shell
    if argv and shell:
        return invalid("command has both argv and shell; give exactly one")
    if shell:
        return ["/bin/sh", "-c", shell]
    if not argv or not argv[0]:
        return invalid("command is empty")
    if any("\x00" in part for part in argv):
        return invalid("command argv holds a NUL byte")
    return argv


def job_environment(spec: TaskSpec, context: TaskContext) -> dict[str, str] | TaskOutcome:
    """The job's environment: the executor's (secrets removed), identifiers, then the spec's."""
    env = context.settings.job_base_env()
    env.update(
        MESOS_SANDBOX=str(context.sandbox),
        MESOS_WM_WORKFLOW_ID=spec.workflow_id,
        MESOS_WM_TASK_ID=spec.task_id,
        MESOS_WM_ATTEMPT=str(spec.attempt),
        MESOS_WM_WORKDIR=str(context.workdir),
    )
    for name, value in spec.env.items():
        if not name or "=" in name or "\x00" in name or "\x00" in value:
            return invalid(f"env variable name {name!r} or its value is not valid")
        env[name] = value
    return env


def tail(path: Path, limit: int = STDERR_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a file, decoded leniently and stripped ('' if absent)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - limit))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace").strip()
    return ("…" + text) if size > limit else text


def list_outputs(workdir: Path, paths: list[Path], include_outputs: bool) -> list[OutputFile]:
    """Describe ``paths`` and, if asked, every file in ``workdir/outputs`` (blocking)."""
    outputs_dir = workdir / "outputs"
    files = list(paths)
    if include_outputs and outputs_dir.is_dir() and not outputs_dir.is_symlink():
        files += sorted(p for p in outputs_dir.rglob("*") if p.is_file() and not p.is_symlink())
    described = []
    for path in files[:MAX_LISTED_OUTPUTS]:
        try:
            relative = path.relative_to(workdir).as_posix()
        except ValueError:
            relative = path.name
        if path.is_file():
            described.append(
                OutputFile(path=relative, size_bytes=path.stat().st_size, sha256=sha256_file(path))
            )
    return described


def judge(returncode: int, stderr: Path) -> TaskOutcome:
    """Turn an exit status into an outcome: 0 finished; else failed with the stderr tail."""
    result = TaskResult()
    if returncode == 0:
        result.exit_code = 0
        return finished("exit code 0", result)
    if returncode < 0:
        result.signal = -returncode
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        head = f"killed by {name}"
    else:
        result.exit_code = returncode
        head = f"exit code {returncode}"
    stderr_tail = tail(stderr)
    return failed(f"{head}: {stderr_tail}" if stderr_tail else head, result=result)


async def run_command(
    spec: TaskSpec, context: TaskContext, *, cwd: Path, log_dir: Path, record_job: bool
) -> TaskOutcome:
    """Run the spec's command in ``cwd`` with logs in ``log_dir`` and judge its exit.

    The process group is ended (SIGTERM, ``context.kill_grace_seconds``, SIGKILL) however
    this coroutine ends; when it is cancelled, the cancellation propagates after that.
    """
    argv = command_argv(spec)
    if isinstance(argv, TaskOutcome):
        return argv
    env = job_environment(spec, context)
    if isinstance(env, TaskOutcome):
        return env
    name = safe_name(spec.task_id)
    stdout, stderr = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    context.logger.info(
        "starting %s in %s (environment: %s)", argv[0], cwd, ", ".join(sorted(spec.env)) or "-"
    )
    group = await ProcessGroup.start(
        argv,
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=stderr,
        grace_seconds=context.kill_grace_seconds,
        guard=context.guard,
    )
    record = JobRecord(spec.task_id, group.started_at, stdout, stderr, group)
    if record_job:
        context.jobs.started(record)
    started = time.monotonic()
    outcome = TaskOutcome(Outcome.KILLED, "killed")
    try:
        returncode = await group.wait()
        outcome = judge(returncode, stderr)
    finally:
        await asyncio.shield(group.terminate(context.kill_grace_seconds))
        outcome.result.run_seconds = time.monotonic() - started
        if record_job:
            context.jobs.ended(spec.task_id, outcome)
    listed = await asyncio.to_thread(list_outputs, cwd, [stdout, stderr], record_job)
    outcome.result.outputs.extend(listed)
    return outcome


async def job_submission(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Run the application of the workflow in its working directory.

    Returns:
        FINISHED for exit code 0; FAILED with the exit code (or signal) and the tail of
        stderr; ERROR for an invalid command or environment.

    Raises:
        ExecutorError: the command could not be started (the runner reports FAILED).
    """
    mode = context.settings.default_directory_mode
    ensure_directory(context.workdir, context.sandbox, mode)
    ensure_directory(context.workdir / "logs", context.workdir, mode)
    return await run_command(
        spec, context, cwd=context.workdir, log_dir=context.workdir / "logs", record_job=True
    )


async def command(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Run a plain command in the sandbox (see the module docstring)."""
    return await run_command(
        spec, context, cwd=context.sandbox, log_dir=context.sandbox, record_job=False
    )
