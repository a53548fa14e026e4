"""``mesos-wm run``: submit workflow files and run the framework (the main job).

Exit status: 0 when every workflow completed (or, without ``--until-idle``, after a clean
stop by SIGINT/SIGTERM); 1 when a workflow failed or was cancelled, or the queue refused;
2 for a bad workflow file, queue URL, master URL or option; 3 when the master cannot be
reached (or is lost for longer than ``--give-up-after``); 4 when the master refuses the
framework (authentication failure or another 4xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mesos_wm.cli.progress import Progress, problem_lines, summary_table
from mesos_wm.cli.queue_commands import QUEUE_ENV
from mesos_wm.errors import (
    AuthenticationFailed,
    MasterRejected,
    MesosWmError,
    QueueError,
    SpecError,
    TransportError,
)
from mesos_wm.framework import Framework, FrameworkConfig
from mesos_wm.queue import DEFAULT_URL, TaskQueue, Workflow, load_file, parse_duration

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_REJECTED", "EXIT_UNREACHABLE", "run"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_REJECTED = 4
MASTER_ENV = "MESOS_WM_MASTER"
DEFAULT_LOCAL_RESOURCES = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"

log = logging.getLogger("mesos_wm.cli")


class RunError(click.ClickException):
    """A failure of ``mesos-wm run`` with its exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]


def _duration(value: str, option: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise RunError(f"{option}: {exc}", EXIT_BAD_INPUT) from exc


def _load(files: tuple[str, ...]) -> list[Workflow]:
    workflows: list[Workflow] = []
    problems = []
    for path in files:
        try:
            workflows += load_file(path)
        except SpecError as exc:
            problems.append(str(exc))
    if problems:
        raise RunError("invalid workflow file:\n" + "\n".join(problems), EXIT_BAD_INPUT)
    return workflows


def _check_master(master: str) -> None:
    if master == "local":
        return
    from mesos_wm.drivers.master import parse_master

    try:
        parse_master(master)
    except ValueError as exc:
        raise RunError(f"bad master URL: {exc}", EXIT_BAD_INPUT) from exc


def _secret(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read the secret file {path}: {exc}", EXIT_BAD_INPUT) from exc


def _storage_roots(given: tuple[str, ...], files: tuple[str, ...]) -> tuple[Path, ...]:
    roots = [Path(p) for p in given]
    if not roots:
        roots = [Path.cwd()] + [Path(f).resolve().parent for f in files]
    resolved = []
    for root in roots:
        path = root.resolve()
        if not path.is_dir():
            raise RunError(f"--storage-root {root}: not a directory", EXIT_BAD_INPUT)
        resolved.append(path)
    return tuple(dict.fromkeys(resolved))


def _open_queue(url: str) -> TaskQueue:
    try:
        return TaskQueue.open(url)
    except ValueError as exc:
        raise RunError(f"bad queue URL: {exc}", EXIT_BAD_INPUT) from exc
    except MesosWmError as exc:
        raise RunError(f"cannot open the queue {url}: {exc}", EXIT_FAILED) from exc


def _submit(queue: TaskQueue, workflows: list[Workflow], out: Progress) -> list[str]:
    try:
        results = queue.submit_many(workflows)
    except SpecError as exc:
        raise RunError(f"invalid workflow: {exc}", EXIT_BAD_INPUT) from exc
    except QueueError as exc:
        raise RunError(str(exc), EXIT_FAILED) from exc
    for r in results:
        what = "submitted" if r.created else "already in the queue (unchanged)"
        out.line(f"workflow {r.workflow_id} {what}: {r.state.value}")
    return [r.workflow_id for r in results]


def _failure(exc: BaseException, master: str) -> RunError:
    if isinstance(exc, AuthenticationFailed):
        return RunError(f"authentication with the master failed: {exc.message}", EXIT_REJECTED)
    if isinstance(exc, MasterRejected):
        return RunError(f"the master refused the framework: {exc}", EXIT_REJECTED)
    if isinstance(exc, TransportError):
        return RunError(f"cannot reach the Mesos master {master}: {exc}", EXIT_UNREACHABLE)
    if isinstance(exc, QueueError):
        return RunError(f"the queue failed: {exc}", EXIT_FAILED)
    return RunError(f"the framework stopped: {exc}", EXIT_FAILED)


async def _local_master(agents: int, resources: str) -> LocalMaster:
    from mesos_wm.local import AgentConfig, LocalMaster, MasterConfig

    master = LocalMaster(agents=[AgentConfig(resources=resources) for _ in range(agents)],
                         config=MasterConfig(allocation_interval=0.25))
    await master.start()
    return master


async def _executors_gone(master: LocalMaster, timeout: float) -> None:
    """Give the embedded agents' executors time to exit after their SHUTDOWN."""
    deadline = asyncio.get_running_loop().time() + timeout

    def alive() -> bool:
        return any(e.process is not None and e.process.returncode is None
                   for runtime in master.runtimes.values() for e in runtime.executors.values())

    while alive() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)


async def _show_progress(framework: Framework, out: Progress, pending: int) -> None:
    while True:
        stats = framework.stats
        alive = len(framework.rt.alive)
        done = stats.finished + stats.failed
        elapsed = max(framework.rt.clock() - stats.started_at, 1e-9)
        out.status(f"tasks: {framework.waiting()} waiting, {alive} running, "
                   f"{stats.finished} finished, {stats.failed} failed · "
                   f"{done / elapsed:.1f} tasks/s")
        await asyncio.sleep(0.25)


async def _run(queue: TaskQueue, master_arg: str, config: FrameworkConfig, *, ids: list[str],
               until_idle: bool, out: Progress, local: tuple[int, str]) -> bool:
    local_master = await _local_master(*local) if master_arg == "local" else None
    framework = Framework(queue=queue, master=local_master or master_arg, config=config,
                          on_status=out.event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    display = asyncio.ensure_future(_show_progress(framework, out, len(ids)))
    try:
        await framework.start()
        where = local_master.url if local_master else master_arg
        waiting = asyncio.ensure_future(framework.wait_subscribed())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([waiting, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not waiting.done():
            waiting.cancel()
            return False
        framework_id = waiting.result()
        out.line(f"framework {framework_id} subscribed to "
                 f"{'the embedded master at ' if local_master else ''}{where}")
        work = asyncio.ensure_future(
            framework.run_until_idle(ids or None) if until_idle else framework.join())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([work, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not work.done():
            work.cancel()
            out.line("stopping (signal)")
            with contextlib.suppress(asyncio.CancelledError):
                await work
            return False
        completed = work.result()
        return bool(completed) if until_idle else True
    finally:
        display.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await display
        out.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await framework.stop()
        if local_master is not None:
            await _executors_gone(local_master, config.executor_shutdown_grace + 1)
            await local_master.stop()


@click.command("run")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--master", default="local", envvar=MASTER_ENV, show_default=True,
              metavar="local|URL",
              help="'local' starts an embedded Mesos master with agents for this run; "
                   "otherwise http(s)://HOST:PORT, HOST:PORT or zk://HOSTS/PATH of a real "
                   f"cluster (env {MASTER_ENV}).")
@click.option("--queue", "queue_url", envvar=QUEUE_ENV, default=DEFAULT_URL, show_default=True,
              metavar="URL",
              help=f"The queue: sqlite:///path.db or postgresql://user@host/db (env {QUEUE_ENV}).")
@click.option("--role", "roles", multiple=True, metavar="ROLE",
              help="Subscribe with this role (repeatable; default '*').")
@click.option("--principal", help="Framework principal (also for HTTP Basic authentication).")
@click.option("--secret-file", type=click.Path(dir_okay=False),
              help="File holding the principal's secret (HTTP Basic authentication).")
@click.option("--ca-file", type=click.Path(dir_okay=False, exists=True),
              help="PEM CA certificates that verify an https:// master.")
@click.option("--storage-root", "storage_roots", multiple=True, metavar="DIR",
              help="A directory file:// staging may read and write (repeatable). Default: "
                   "the current directory and the directories of the workflow files.")
@click.option("--until-idle", is_flag=True,
              help="Exit once every workflow in the queue has settled: status 0 only if "
                   "all of them (those in FILES, when given) completed.")
@click.option("--name", default="mesos_wm", show_default=True, help="The framework's name.")
@click.option("--failover-timeout", default="7d", show_default=True, metavar="DURATION",
              help="How long Mesos keeps the tasks running while the framework is away.")
@click.option("--give-up-after", default="60s", show_default=True, metavar="DURATION",
              help="Fail when the master cannot be reached for this long (0: retry forever).")
@click.option("--executor-python", metavar="PATH",
              help="The Python interpreter the agents start the mesos_wm executor with "
                   "(it must have mesos_wm installed on every agent). Default: this "
                   "command's own interpreter, right for --master local and for clusters "
                   "with mesos_wm installed at the same path everywhere.")
@click.option("--command-executor", is_flag=True,
              help="Run plain COMMAND tasks with Mesos's command executor (own sandbox).")
@click.option("--local-agents", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Agents of the embedded master (--master local).")
@click.option("--local-resources", default=DEFAULT_LOCAL_RESOURCES, show_default=True,
              help="Resources of each embedded agent.")
@click.option("--progress/--no-progress", default=None,
              help="Live progress line (default: when stdout is a terminal).")
def run(*, files: tuple[str, ...], master: str, queue_url: str, roles: tuple[str, ...],
        principal: str | None, secret_file: str | None, ca_file: str | None,
        storage_roots: tuple[str, ...], until_idle: bool, name: str, failover_timeout: str,
        give_up_after: str, executor_python: str | None, command_executor: bool,
        local_agents: int, local_resources: str, progress: bool | None) -> None:
    """Submit the workflows in FILES and run the framework until they are done.

    Each workflow file (YAML or JSON) is checked first; nothing is submitted if any is
    invalid.  Submitting a workflow already in the queue with the same content changes
    nothing, so running the same command again is harmless.  The framework then
    subscribes to the master, launches the mesos_wm executor on the agents, and drives
    the queue: with --until-idle it exits when every workflow has settled and prints a
    summary table; without it, it runs until SIGINT or SIGTERM.  If it is killed it can
    simply be started again: it resubscribes with the same framework id and carries on.

    Exit status: 0 all completed; 1 a workflow failed or the queue refused; 2 bad file,
    URL or option; 3 master unreachable; 4 master refused the framework (e.g. 401).
    """
    out = Progress(live=progress)
    workflows = _load(files)
    _check_master(master)
    if secret_file is not None and principal is None:
        raise RunError("--secret-file needs --principal", EXIT_BAD_INPUT)
    try:
        config = FrameworkConfig(
            name=name, roles=roles or ("*",), principal=principal, secret=_secret(secret_file),
            ca_file=ca_file, failover_timeout=_duration(failover_timeout, "--failover-timeout"),
            give_up_after=_duration(give_up_after, "--give-up-after") or None,
            storage_roots=_storage_roots(storage_roots, files),
            python=executor_python or sys.executable,
            command_executor=command_executor,
            executor_environment={"PYTHONUNBUFFERED": "1"},
        )
    except ValueError as exc:
        raise RunError(str(exc), EXIT_BAD_INPUT) from exc
    if master == "local":
        try:
            from mesos_wm.resources import parse_resource_string

            parse_resource_string(local_resources)
        except ValueError as exc:
            raise RunError(f"--local-resources: {exc}", EXIT_BAD_INPUT) from exc
    queue = _open_queue(queue_url)
    try:
        ids = _submit(queue, workflows, out)
        try:
            completed = asyncio.run(_run(queue, master, config, ids=ids, until_idle=until_idle,
                                         out=out, local=(local_agents, local_resources)))
        except MesosWmError as exc:
            raise _failure(exc, master) from exc
        if until_idle:
            records = [queue.get_workflow(w, tasks=False) for w in ids] if ids else \
                queue.list_workflows(limit=10_000)
            click.echo("")
            click.echo(summary_table(records) if records else "no workflows in the queue")
            for record in records:
                if record.state.value != "COMPLETED":
                    for line in problem_lines(queue.get_workflow(record.workflow_id).tasks):
                        click.echo(line)
            if not completed:
                raise RunError("not every workflow completed", EXIT_FAILED)
    finally:
        queue.close()
