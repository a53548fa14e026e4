"""The executor process: the driver, the runner and the process guard, wired together.

``python -m mesos_wm.executor`` and ``mesos-wm executor`` both end up in
:func:`run_executor`.  The agent starts the process with the ``MESOS_*`` environment; the
process subscribes, runs the tasks it is given, and exits after SHUTDOWN, after SIGTERM,
or when it loses an agent it cannot recover.  Whatever the way out, every task still
running is killed first (SIGTERM, grace, SIGKILL) and the crash watchdog is closed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterable
from pathlib import Path

from mesos_wm.drivers.executor import ExecutorDriver, ExecutorDriverEvent
from mesos_wm.drivers.executor_env import ExecutorEnvironment
from mesos_wm.drivers.scheduler import Disconnected
from mesos_wm.errors import MesosWmError
from mesos_wm.executor.context import ExecutorSettings, GiB
from mesos_wm.executor.process import ProcessGuard
from mesos_wm.executor.runner import ExecutorRunner, StatusReport

log = logging.getLogger("mesos_wm.executor")

STORAGE_ROOTS_ENV = "MESOS_WM_STORAGE_ROOTS"


def storage_roots_from(options: Iterable[str], environ: dict[str, str]) -> tuple[Path, ...]:
    """The storage roots: ``--storage-root`` options plus ``MESOS_WM_STORAGE_ROOTS``.

    Raises:
        ValueError: a root is not an absolute path to an existing directory.
    """
    texts = list(options) + [p for p in environ.get(STORAGE_ROOTS_ENV, "").split(os.pathsep) if p]
    roots = []
    for text in texts:
        path = Path(text)
        if not path.is_absolute() or not path.is_dir():
            raise ValueError(f"storage root {text!r} must be an absolute path to a directory")
        roots.append(path.resolve())
    return tuple(dict.fromkeys(roots))


def settings_from(
    environment: ExecutorEnvironment,
    *,
    storage_roots: tuple[Path, ...] = (),
    max_download_bytes: int = 10 * GiB,
    kill_grace_seconds: float = 3.0,
    ssh_identity_files: tuple[Path, ...] = (),
    ssh_known_hosts: Path | None = None,
) -> ExecutorSettings:
    """Executor settings from the agent's environment and the command-line options."""
    sandbox = Path(environment.sandbox or environment.directory or os.getcwd()).resolve()
    return ExecutorSettings(
        sandbox=sandbox,
        storage_roots=storage_roots,
        max_download_bytes=max_download_bytes,
        default_kill_grace_seconds=kill_grace_seconds,
        ssh_identity_files=ssh_identity_files,
        ssh_known_hosts=ssh_known_hosts,
    )


async def run_executor(
    environment: ExecutorEnvironment, settings: ExecutorSettings
) -> int:
    """Run the executor until it is shut down or loses its agent.

    Args:
        environment: what the agent passed in ``MESOS_*`` variables.
        settings: directories and limits.

    Returns:
        the process exit status: 0 after SHUTDOWN or SIGTERM, 1 when the agent was lost
        or refused the subscription.
    """
    guard = ProcessGuard()
    driver: ExecutorDriver | None = None

    async def send(report: StatusReport) -> None:
        assert driver is not None
        await driver.send_status(
            report.task_id,
            report.state,
            message=report.message,
            reason=report.reason.value if report.reason else None,
            data=report.data,
        )

    runner = ExecutorRunner(
        settings,
        send,
        guard=guard,
        shutdown_grace_seconds=environment.shutdown_grace_period,
    )

    async def handle(event: ExecutorDriverEvent) -> None:
        assert driver is not None
        if isinstance(event, Disconnected):
            log.warning("disconnected from the agent: %s", event.reason)
            return
        await runner.handle(event)
        if runner.finished.is_set():
            await driver.stop()

    async def on_sigterm() -> None:
        log.info("SIGTERM: shutting down")
        await runner.shutdown()
        assert driver is not None
        await driver.stop()

    driver = ExecutorDriver(handle, environment=environment)
    loop = asyncio.get_running_loop()
    background: set[asyncio.Task[None]] = set()

    def sigterm() -> None:
        task = loop.create_task(on_sigterm())
        background.add(task)
        task.add_done_callback(background.discard)

    loop.add_signal_handler(signal.SIGTERM, sigterm)
    status = 0
    try:
        await driver.start()
        await driver.join()
    except MesosWmError as exc:
        log.error("executor stops: %s", exc)
        status = 1
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        if not runner.finished.is_set():
            await runner.shutdown()
        for task in list(background):
            await task
        guard.close()
    log.info("executor %s exits with status %d", environment.executor_id, status)
    return status
