"""The executor's task bookkeeping: LAUNCH, KILL and SHUTDOWN in, status reports out.

Theory of operation.  :class:`ExecutorRunner` is driven by the executor events the driver
delivers and answers with :class:`StatusReport` values that the driver turns into UPDATE
calls (adding uuids and resending until acknowledged).  It owns no socket, so it is
tested by feeding it events.

Per task::

    LAUNCH ──► decode TaskSpec ──bad──► TASK_ERROR (REASON_TASK_INVALID)
                   │ ok
                   ▼
             TASK_STARTING ──► TASK_RUNNING (+ progress messages) ──► handler outcome
                                     │ KILL / SHUTDOWN                 FINISHED/FAILED/ERROR
                                     ▼
                           cancel handler (its process groups get SIGTERM, grace, SIGKILL)
                                     ▼
                                TASK_KILLED

Every terminal report carries the attempt's TaskResult (protobuf bytes) in ``data``.  A
task whose terminal report went out is forgotten; a KILL for an unknown task is ignored
(the agent answers kills of tasks it never handed over).  SHUTDOWN kills every task with a
grace period that fits inside the executor's shutdown grace period, reports them, and then
sets :attr:`ExecutorRunner.finished`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from mesos_wm.errors import MesosWmError
from mesos_wm.executor.context import ExecutorSettings, JobBoard, TaskContext
from mesos_wm.executor.execute import execute, fill_result
from mesos_wm.executor.outcome import Outcome, TaskOutcome, invalid
from mesos_wm.executor.paths import PathEscapeError
from mesos_wm.executor.process import ProcessGuard
from mesos_wm.executor.registry import HandlerRegistry, type_name
from mesos_wm.executor.transfer import TransportRegistry
from mesos_wm.ids import decode_bytes
from mesos_wm.proto.taskspec_pb2 import TaskResult, TaskSpec
from mesos_wm.wire.executor_events import (
    Error,
    ExecutorEvent,
    Kill,
    Launch,
    LaunchGroup,
    Shutdown,
    Subscribed,
)
from mesos_wm.wire.states import Reason, TaskState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusReport:
    """A status update for the driver to send.

    Attributes:
        task_id: the Mesos task id.
        state: the new state.
        message: human-readable detail.
        reason: a Mesos reason, if one fits.
        data: ``TaskResult`` bytes on terminal updates.
    """

    task_id: str
    state: TaskState
    message: str | None = None
    reason: Reason | None = None
    data: bytes | None = None


StatusSender = Callable[[StatusReport], Awaitable[None]]


@dataclass
class _Attempt:
    task_id: str
    spec: TaskSpec
    context: TaskContext | None = None
    task: asyncio.Task[None] | None = None
    kill_message: str | None = None
    started: float = field(default_factory=time.time)


def decode_spec(task_info: Mapping[str, Any]) -> TaskSpec:
    """Decode the TaskSpec carried in ``TaskInfo.data``.

    Raises:
        ValueError: ``data`` is missing, not base64, or not a TaskSpec (the message says
            which).
    """
    text = task_info.get("data")
    if not text:
        raise ValueError("TaskInfo.data is empty: no TaskSpec to run")
    try:
        raw = decode_bytes(text)
    except Exception as exc:
        raise ValueError(f"TaskInfo.data is not base64: {exc}") from exc
    spec = TaskSpec()
    try:
        spec.ParseFromString(raw)
    except DecodeError as exc:
        raise ValueError(f"TaskInfo.data is not a TaskSpec: {exc}") from exc
    if not spec.task_id or not spec.workflow_id:
        raise ValueError("the TaskSpec has no task_id or no workflow_id")
    return spec


class ExecutorRunner:
    """Runs the tasks of one executor.

    Args:
        settings: directories and limits.
        send: delivers status reports (the driver's update call).
        registry: handlers by task type (default: built-ins plus installed plug-ins).
        transports: file transports (default: file, http(s), plus installed plug-ins).
        guard: the crash watchdog of the executor's process groups.
        shutdown_grace_seconds: ``MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD``: all tasks must be
            ended and reported within it after SHUTDOWN.
    """

    def __init__(
        self,
        settings: ExecutorSettings,
        send: StatusSender,
        *,
        registry: HandlerRegistry | None = None,
        transports: TransportRegistry | None = None,
        guard: ProcessGuard | None = None,
        shutdown_grace_seconds: float = 5.0,
    ) -> None:
        self.settings = settings
        self._send = send
        self._registry = registry if registry is not None else HandlerRegistry()
        self._transports = transports if transports is not None else TransportRegistry.default()
        self._guard = guard
        self._jobs = JobBoard()
        self._attempts: dict[str, _Attempt] = {}
        self._shutdown_grace = shutdown_grace_seconds
        self.shutting_down = False
        self.finished = asyncio.Event()

    @property
    def active_task_ids(self) -> list[str]:
        """Tasks launched and not yet reported terminal."""
        return list(self._attempts)

    async def handle(self, event: ExecutorEvent | object) -> None:
        """Act on one executor event (unknown kinds are ignored)."""
        if isinstance(event, Subscribed):
            log.info("subscribed to agent %s", event.agent_info.get("id", {}).get("value", "?"))
        elif isinstance(event, Launch):
            await self.launch(event.task)
        elif isinstance(event, LaunchGroup):
            for task in event.task_group.get("tasks", []):
                await self.launch(task)
        elif isinstance(event, Kill):
            self.kill(event.task_id, event.grace_period_seconds)
        elif isinstance(event, Shutdown):
            await self.shutdown()
        elif isinstance(event, Error):
            log.error("the agent sent ERROR: %s", event.message)

    async def launch(self, task_info: Mapping[str, Any]) -> None:
        """Start a task; a TaskInfo that cannot be run is answered with TASK_ERROR."""
        task_id = str(task_info.get("task_id", {}).get("value", ""))
        if not task_id:
            log.error("LAUNCH without a task id ignored")
            return
        if task_id in self._attempts:
            log.warning("task %s is already running; duplicate LAUNCH ignored", task_id)
            return
        if self.shutting_down:
            await self._report(
                StatusReport(task_id, TaskState.KILLED, "the executor is shutting down")
            )
            return
        try:
            spec = decode_spec(task_info)
        except ValueError as exc:
            log.warning("task %s: %s", task_id, exc)
            result = TaskResult(message=str(exc))
            await self._report(
                StatusReport(
                    task_id, TaskState.ERROR, str(exc), Reason.TASK_INVALID,
                    result.SerializeToString(),
                )
            )
            return
        attempt = _Attempt(task_id, spec)
        self._attempts[task_id] = attempt
        attempt.task = asyncio.create_task(self._run(attempt), name=f"task {task_id}")

    def kill(self, task_id: str, grace_seconds: float | None = None, message: str = "") -> bool:
        """Kill a running task: cancel its handler, ending its processes within the grace.

        Args:
            task_id: the task.
            grace_seconds: SIGTERM-to-SIGKILL delay (the KILL's kill policy); None uses
                the spec's, else the executor default.
            message: what the TASK_KILLED update says.

        Returns:
            True if the task was running and is now being killed.
        """
        attempt = self._attempts.get(task_id)
        if attempt is None or attempt.task is None:
            log.info("KILL for unknown or finished task %s ignored", task_id)
            return False
        if attempt.kill_message is not None:
            return True
        attempt.kill_message = message or "killed by the scheduler"
        if attempt.context is not None and grace_seconds is not None:
            attempt.context.kill_grace_seconds = max(0.0, grace_seconds)
        attempt.task.cancel()
        return True

    async def shutdown(self) -> None:
        """Kill every task within the shutdown grace period, then set :attr:`finished`."""
        if self.shutting_down:
            await self.finished.wait()
            return
        self.shutting_down = True
        grace = max(0.0, self._shutdown_grace * 0.5)
        tasks = [a.task for a in self._attempts.values() if a.task is not None]
        for task_id, attempt in list(self._attempts.items()):
            spec_grace = attempt.spec.kill_grace_period_seconds or grace
            self.kill(task_id, min(spec_grace, grace), "the executor is shutting down")
        if tasks:
            await asyncio.wait(tasks, timeout=max(0.5, self._shutdown_grace * 0.9))
        self.finished.set()

    async def _progress(self, attempt: _Attempt, message: str) -> None:
        if attempt.kill_message is None:
            await self._report(StatusReport(attempt.task_id, TaskState.RUNNING, message))

    async def _run(self, attempt: _Attempt) -> None:
        spec = attempt.spec
        outcome: TaskOutcome | None = None
        try:
            await self._report(
                StatusReport(attempt.task_id, TaskState.STARTING, f"{type_name(spec)} starting")
            )
            try:
                attempt.context = TaskContext.for_spec(
                    spec,
                    self.settings,
                    jobs=self._jobs,
                    guard=self._guard,
                    transports=self._transports,
                    report=lambda message: self._progress(attempt, message),
                    logger=logging.getLogger(f"mesos_wm.executor.task.{type_name(spec)}"),
                )
            except PathEscapeError as exc:
                outcome = invalid(str(exc))
            else:
                await self._report(StatusReport(attempt.task_id, TaskState.RUNNING))
                outcome = await execute(spec, attempt.context, self._registry)
        except asyncio.CancelledError:
            outcome = TaskOutcome(Outcome.KILLED, attempt.kill_message or "killed")
        finally:
            del self._attempts[attempt.task_id]
        if outcome is None:
            return
        if not outcome.result.finished_at:
            fill_result(outcome, spec, attempt.started, time.time())
        report = StatusReport(
            attempt.task_id,
            outcome.state.task_state,
            outcome.message or None,
            outcome.reason,
            outcome.result.SerializeToString(),
        )
        await self._report(report)

    async def _report(self, report: StatusReport) -> None:
        log.info(
            "task %s: %s%s", report.task_id, report.state.value,
            f" ({report.message})" if report.message else "",
        )
        try:
            await self._send(report)
        except MesosWmError as exc:
            log.warning("could not send %s of task %s: %s", report.state.value, report.task_id, exc)
