"""What a handler gets besides its spec: directories, limits, logging, the executor's jobs.

One :class:`ExecutorSettings` is built when the executor starts; one :class:`TaskContext`
per attempt.  Handlers read everything from the context and never from the process
environment, so they can be run directly in tests with a temporary sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mesos_wm.executor.outcome import TaskOutcome
from mesos_wm.executor.paths import confine, safe_name
from mesos_wm.executor.process import ProcessGroup, ProcessGuard
from mesos_wm.executor.transfer import TransportRegistry
from mesos_wm.proto.taskspec_pb2 import TaskSpec

#: Environment variables that are never passed to jobs nor written to a log.
SECRET_ENV_NAMES = frozenset(
    {"MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "MESOS_WM_SECRET", "LIBPROCESS_SSL_KEY_FILE"}
)

GiB = 1024**3


@dataclass(frozen=True)
class ExecutorSettings:
    """Limits and directories of one executor process.

    Attributes:
        sandbox: the executor's sandbox (``MESOS_SANDBOX``); working directories live in it.
        storage_roots: directories ``file://`` sources and destinations must lie in.
        max_download_bytes: hard cap for one staged input, whatever the spec says.
        default_kill_grace_seconds: SIGTERM-to-SIGKILL delay when neither the spec nor
            the KILL's kill policy gives one.
        default_directory_mode: permission bits of the working directory layout.
        default_output_fetch_period: seconds between copies for OUTPUT_FETCHING and between
            progress reports for MONITORING.
        http_connect_timeout: seconds to establish an HTTP connection.
        http_read_timeout: seconds without a byte before a download is abandoned.
        base_env: the environment jobs start from (secrets removed); ``None`` = the
            executor's own environment.
        ssh_identity_files: private keys for ``sftp://`` staging (empty: the SSH agent
            and ``~/.ssh`` defaults).
        ssh_known_hosts: the known_hosts file ``sftp://`` servers are checked against
            (None: ``~/.ssh/known_hosts``).
    """

    sandbox: Path
    storage_roots: tuple[Path, ...] = ()
    max_download_bytes: int = 10 * GiB
    default_kill_grace_seconds: float = 3.0
    default_directory_mode: int = 0o750
    default_output_fetch_period: float = 30.0
    http_connect_timeout: float = 30.0
    http_read_timeout: float = 300.0
    base_env: Mapping[str, str] | None = None
    ssh_identity_files: tuple[Path, ...] = ()
    ssh_known_hosts: Path | None = None

    def job_base_env(self) -> dict[str, str]:
        """The environment every job starts from, without any secret variable."""
        source = os.environ if self.base_env is None else self.base_env
        return {k: v for k, v in source.items() if k not in SECRET_ENV_NAMES}


@dataclass
class JobRecord:
    """A JOB_SUBMISSION run by this executor, for MONITORING and OUTPUT_FETCHING.

    Attributes:
        task_id: the job's task id.
        started_at: POSIX time it started.
        stdout: path of its standard output file.
        stderr: path of its standard error file.
        group: its process group while it runs.
        outcome: how it ended, once it has.
    """

    task_id: str
    started_at: float
    stdout: Path
    stderr: Path
    group: ProcessGroup | None = None
    outcome: TaskOutcome | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class JobBoard:
    """The jobs of one executor (one workflow), running and finished."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobRecord] = {}
        self._changed = asyncio.Event()

    def started(self, record: JobRecord) -> None:
        """Record a job that has just started."""
        self._jobs[record.task_id] = record
        self._changed.set()
        self._changed = asyncio.Event()

    def ended(self, task_id: str, outcome: TaskOutcome) -> None:
        """Record how a job ended."""
        record = self._jobs.get(task_id)
        if record is not None:
            record.outcome = outcome
            record.group = None
            record.done.set()

    def get(self, task_id: str) -> JobRecord | None:
        """The job of that task id, if this executor ran it."""
        return self._jobs.get(task_id)

    def all(self) -> list[JobRecord]:
        """Every job, oldest first."""
        return list(self._jobs.values())

    def running(self) -> list[JobRecord]:
        """The jobs that have not ended yet."""
        return [job for job in self._jobs.values() if not job.done.is_set()]

    async def wait_for(self, task_id: str | None, timeout: float | None) -> JobRecord | None:
        """Wait until the job ``task_id`` (or, with None, any running job) is known.

        Args:
            task_id: the job to wait for; None means the newest running job.
            timeout: seconds to wait at most; None waits forever.

        Returns:
            the job, or None when none appeared in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if task_id:
                found = self.get(task_id)
            else:
                running = self.running()
                found = running[-1] if running else None
            if found is not None:
                return found
            changed = self._changed
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return None


Reporter = Callable[[str], Awaitable[None]]


async def _no_report(message: str) -> None:
    return None


@dataclass
class TaskContext:
    """Everything one attempt of a handler may use.

    Attributes:
        settings: the executor's settings.
        workdir: the workflow's working directory (it may not exist yet).
        logger: the logger to write to; never give it secrets.
        jobs: the executor's job board.
        guard: registers process groups with the crash watchdog (None in some tests).
        transports: moves files to and from URIs.
        report: sends a progress message as a TASK_RUNNING update.
        kill_grace_seconds: the grace period used when the attempt's processes are ended;
            the runner sets it from the KILL's kill policy before cancelling the handler.
    """

    settings: ExecutorSettings
    workdir: Path
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    jobs: JobBoard = field(default_factory=JobBoard)
    guard: ProcessGuard | None = None
    transports: TransportRegistry = field(default_factory=TransportRegistry.default)
    report: Reporter = _no_report
    kill_grace_seconds: float = 3.0

    @property
    def sandbox(self) -> Path:
        """The executor's sandbox directory."""
        return self.settings.sandbox

    @classmethod
    def for_spec(
        cls,
        spec: TaskSpec,
        settings: ExecutorSettings,
        *,
        jobs: JobBoard | None = None,
        guard: ProcessGuard | None = None,
        transports: TransportRegistry | None = None,
        report: Reporter | None = None,
        logger: logging.Logger | None = None,
    ) -> TaskContext:
        """Build the context of one attempt.

        Args:
            spec: the task's spec; names the working directory and the grace period.
            settings: the executor's settings.
            jobs: the executor's job board (a new one when None).
            guard: the executor's process guard.
            transports: the executor's transports (the default set when None).
            report: the progress reporter (progress is dropped when None).
            logger: defaults to ``mesos_wm.executor.task``.

        Returns:
            the context.

        Raises:
            PathEscapeError: the spec's working directory would lie outside the sandbox.
        """
        name = spec.working_directory or safe_name(spec.workflow_id, "workflow")
        workdir = confine(settings.sandbox, name, "working_directory")
        grace = spec.kill_grace_period_seconds or settings.default_kill_grace_seconds
        return cls(
            settings=settings,
            workdir=workdir,
            logger=logger or logging.getLogger("mesos_wm.executor.task"),
            jobs=jobs if jobs is not None else JobBoard(),
            guard=guard,
            transports=transports if transports is not None else TransportRegistry.default(),
            report=report or _no_report,
            kill_grace_seconds=grace,
        )
