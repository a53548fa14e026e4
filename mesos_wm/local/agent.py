"""A real agent of the embedded cluster: runs command tasks and custom executors.

Theory of operation: the master core decides, this runtime does.  It receives the core's
agent effects (launch, kill, shutdown, message, acknowledged) and reports what happens to
processes back through :meth:`LocalMaster.executor_update` and
:meth:`LocalMaster.executor_terminated`, which feed the core.

* Command tasks run under a built-in command executor: TASK_STARTING, the command
  (``/bin/sh -c`` or argv) in its own process group and sandbox with ``stdout``/``stderr``
  files, TASK_RUNNING, then TASK_FINISHED or TASK_FAILED with ``Command exited with
  status N``.  KILL: TASK_KILLING (for TASK_KILLING_STATE frameworks), SIGTERM to the
  group, the kill policy's grace period, SIGKILL, TASK_KILLED.
* Custom executors are spawned from ``ExecutorInfo.command`` with the full ``MESOS_*``
  environment; they talk to this agent's ``/api/v1/executor``
  (:mod:`mesos_wm.local.executor_api`).  Tasks wait until the executor subscribes;
  an executor that does not subscribe within the registration timeout is killed.
  SHUTDOWN gives it the shutdown grace period, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mesos_wm.ids import encode_uuid, new_uuid
from mesos_wm.local import messages as msg
from mesos_wm.local import processes
from mesos_wm.local.effects import KillTask, LaunchTasks
from mesos_wm.local.http_util import EventStream

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["AgentRuntime", "CommandTask", "ExecutorProcess"]

JsonDict = dict[str, Any]


@dataclass(eq=False)
class CommandTask:
    """A task run by the built-in command (or default) executor."""

    framework_id: str
    task_id: str
    executor_id: str
    info: JsonDict
    framework_info: JsonDict
    sandbox: Path
    process: asyncio.subprocess.Process | None = None
    killed: bool = False
    runner: asyncio.Task[None] | None = None


@dataclass(eq=False)
class ExecutorProcess:
    """A custom executor process and its connection to this agent."""

    framework_id: str
    executor_id: str
    info: JsonDict
    framework_info: JsonDict
    sandbox: Path
    container_id: str
    token: str
    process: asyncio.subprocess.Process | None = None
    stream: EventStream | None = None
    subscribed: bool = False
    queued: list[JsonDict] = field(default_factory=list)
    shutting_down: bool = False
    reported: bool = False
    pending: tuple[str, str] | None = None
    """Why the agent destroyed the container (reason, message), like pendingTermination."""
    default_tasks: set[str] = field(default_factory=set)
    launched: set[str] = field(default_factory=set)
    watcher: asyncio.Task[None] | None = None


def _task_ids(event: JsonDict) -> list[str]:
    """The ids of the tasks a LAUNCH or LAUNCH_GROUP executor event carries."""
    if event["type"] == "LAUNCH":
        tasks = [event["launch"]["task"]]
    else:
        tasks = event["launch_group"]["task_group"]["tasks"]
    return [task["task_id"]["value"] for task in tasks]


class AgentRuntime:
    """One real agent: its executor endpoint, processes and sandboxes.

    Args:
        master: the embedded master that owns the core.
        agent_id: the id the core gave this agent.
        work_dir: the root of the sandboxes.
    """

    def __init__(self, master: LocalMaster, agent_id: str, work_dir: Path) -> None:
        self.master = master
        self.agent_id = agent_id
        self.work_dir = work_dir
        self.host = "127.0.0.1"
        self.port = 0
        self.commands: dict[tuple[str, str], CommandTask] = {}
        self.executors: dict[tuple[str, str], ExecutorProcess] = {}
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, host: str) -> int:
        """Serve ``/api/v1/executor`` on an ephemeral port of ``host``; return the port."""
        from mesos_wm.local.executor_api import build_agent_app

        self.host = host
        self._runner = web.AppRunner(build_agent_app(self), handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self._spawn(self._heartbeats())
        return self.port

    async def stop(self) -> None:
        """Kill every process and stop serving."""
        for task in list(self.commands.values()):
            if task.process is not None:
                processes.kill_group(task.process, signal.SIGKILL)
        for executor in list(self.executors.values()):
            executor.reported = True
            if executor.stream is not None:
                executor.stream.close()
            if executor.process is not None:
                processes.kill_group(executor.process, signal.SIGKILL)
        for pending in list(self._tasks):
            pending.cancel()
        for pending in list(self._tasks):
            with contextlib.suppress(BaseException):
                await pending
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def endpoint(self) -> str:
        """``ip:port`` of the executor endpoint (``MESOS_AGENT_ENDPOINT``)."""
        return f"{self.host}:{self.port}"

    # -- status reporting ---------------------------------------------------------------

    def _update(
        self,
        framework_id: str,
        task_id: str,
        executor_id: str,
        state: str,
        *,
        message: str | None = None,
        reason: str | None = None,
        source: str = "SOURCE_EXECUTOR",
    ) -> None:
        status = msg.task_status(
            task_id=task_id,
            state=state,
            source=source,
            timestamp=self.master.clock(),
            agent_id=self.agent_id,
            executor_id=executor_id,
            uuid=encode_uuid(new_uuid()),
            message=message,
            reason=reason,
        )
        self.master.executor_update(self.agent_id, framework_id, status)

    # -- effects ------------------------------------------------------------------------

    def launch(self, effect: LaunchTasks) -> None:
        """Start tasks (command tasks, or tasks for a custom or default executor)."""
        framework_id = effect.framework_info["id"]["value"]
        executor = effect.executor
        if executor is None or executor.get("type") == "DEFAULT":
            executor_id = executor["executor_id"]["value"] if executor else None
            for info in effect.tasks:
                self._start_command(framework_id, info, effect.framework_info, executor_id)
            return
        process = self._executor(framework_id, executor, effect.framework_info)
        event = (
            msg.executor_launch_group(effect.tasks)
            if effect.group
            else msg.executor_launch(effect.tasks[0])
        )
        if process.subscribed and process.stream is not None:
            self._deliver(process, event)
        else:
            process.queued.append(event)

    @staticmethod
    def _deliver(process: ExecutorProcess, event: JsonDict) -> None:
        """Send LAUNCH / LAUNCH_GROUP to a subscribed executor and remember its tasks."""
        assert process.stream is not None
        process.stream.put(event)
        process.launched.update(_task_ids(event))

    def executor_subscribed(
        self, process: ExecutorProcess, unacknowledged_tasks: list[JsonDict]
    ) -> None:
        """The executor subscribed (after its unacknowledged updates were replayed).

        Tasks it was sent earlier, still TASK_STAGING and not among its
        ``unacknowledged_tasks`` are dropped by the core; then the tasks queued while it
        was not subscribed are delivered, in order.  An executor that was never sent a
        task and has none queued (all were killed before delivery) is shut down, as the
        agent does since MESOS-8411.
        """
        listed = [t.get("task_id", {}).get("value", "") for t in unacknowledged_tasks]
        self.master.executor_subscribed(
            self.agent_id, process.framework_id, process.executor_id, process.launched, listed
        )
        if not process.launched and not process.queued:
            self.shutdown_executor(process.framework_id, process.executor_id)
            return
        queued, process.queued = process.queued, []
        for event in queued:
            self._deliver(process, event)

    def kill(self, effect: KillTask) -> None:
        """Kill a task: signals for command tasks, a KILL event for executor tasks."""
        command = self.commands.get((effect.framework_id, effect.task_id))
        if command is not None:
            grace = msg.duration_seconds(
                (effect.kill_policy or {}).get("grace_period"), self.master.config.kill_grace_period
            )
            self._spawn(self._kill_command(command, grace))
            return
        process = self.executors.get((effect.framework_id, effect.executor_id or ""))
        if process is None or process.shutting_down:
            return
        if process.subscribed and process.stream is not None:
            process.stream.put(msg.executor_kill(effect.task_id, effect.kill_policy))
            return
        self._kill_undelivered(process, effect.task_id)

    def _kill_undelivered(self, process: ExecutorProcess, task_id: str) -> None:
        """KILL for an executor that is not subscribed (``Slave::killTask``, REGISTERING).

        The task (with every task of its queued group) is not delivered: TASK_KILLED from
        SOURCE_AGENT with REASON_TASK_KILLED_DURING_LAUNCH.
        """
        killed, text = [task_id], "Killed before delivery to the executor"
        for event in list(process.queued):
            ids = _task_ids(event)
            if task_id in ids:
                process.queued.remove(event)
                if event["type"] == "LAUNCH_GROUP":
                    killed = ids
                    text = "A task within the task group was killed before delivery to the executor"
        for victim in killed:
            self._update(
                process.framework_id,
                victim,
                process.executor_id,
                "TASK_KILLED",
                message=text,
                reason="REASON_TASK_KILLED_DURING_LAUNCH",
                source="SOURCE_AGENT",
            )

    def shutdown_executor(self, framework_id: str, executor_id: str) -> None:
        """SHUTDOWN an executor: the event, the grace period, then SIGKILL."""
        process = self.executors.get((framework_id, executor_id))
        if process is None or process.shutting_down:
            return
        process.shutting_down = True
        if process.subscribed and process.stream is not None:
            process.stream.put(msg.executor_shutdown())
        grace = msg.duration_seconds(
            process.info.get("shutdown_grace_period"),
            self.master.config.executor_shutdown_grace_period,
        )
        self._spawn(self._escalate(process, grace))

    def shutdown_framework(self, framework_id: str) -> None:
        """Kill everything of a removed framework without reporting updates."""
        for key, command in list(self.commands.items()):
            if key[0] == framework_id:
                command.killed = True
                if command.process is not None:
                    processes.kill_group(command.process, signal.SIGTERM)
                    self._spawn(
                        self._sigkill_later(command.process, self.master.config.kill_grace_period)
                    )
        for key, process in list(self.executors.items()):
            if key[0] == framework_id:
                process.reported = True
                self.shutdown_executor(framework_id, process.executor_id)

    def message(self, framework_id: str, executor_id: str, data: str) -> None:
        """Deliver a framework message (dropped when the executor is not subscribed)."""
        process = self.executors.get((framework_id, executor_id))
        if process is not None and process.subscribed and process.stream is not None:
            process.stream.put(msg.executor_message(data))

    def acknowledged(self, framework_id: str, executor_id: str, task_id: str, uuid: str) -> None:
        """Send ACKNOWLEDGED to a custom executor (its update was stored)."""
        process = self.executors.get((framework_id, executor_id))
        if process is not None and process.stream is not None:
            process.stream.put(msg.executor_acknowledged(task_id, uuid))

    def crash_executor(self, framework_id: str, executor_id: str) -> bool:
        """SIGKILL an executor (fault injection); True when there was one."""
        process = self.executors.get((framework_id, executor_id))
        if process is None or process.process is None:
            command = self.commands.get((framework_id, executor_id))
            if command is None or command.process is None:
                return False
            processes.kill_group(command.process, signal.SIGKILL)
            return True
        processes.kill_group(process.process, signal.SIGKILL)
        return True

    def restart(self) -> None:
        """Simulate an agent restart: executor connections break and must be re-made.

        An executor that does not subscribe again within the executor re-registration
        timeout is killed; its unfinished tasks become TASK_GONE (TASK_LOST without
        PARTITION_AWARE) with REASON_EXECUTOR_REREGISTRATION_TIMEOUT, as
        ``Slave::reregisterExecutorTimeout`` has them.
        """
        timeout = self.master.config.executor_reregistration_timeout
        for process in self.executors.values():
            if process.stream is not None:
                process.stream.close()
                process.stream = None
            process.subscribed = False
            if process.process is not None and not process.reported:
                self._spawn(self._reregistration_deadline(process, timeout))

    async def _reregistration_deadline(self, process: ExecutorProcess, timeout: float) -> None:
        await asyncio.sleep(timeout)
        if process.subscribed or process.shutting_down or process.process is None:
            return
        if self.executors.get((process.framework_id, process.executor_id)) is not process:
            return
        process.pending = (
            "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
            f"Executor did not reregister within {processes.format_duration(timeout)}",
        )
        processes.kill_group(process.process, signal.SIGKILL)

    # -- command tasks ------------------------------------------------------------------

    def _start_command(
        self, framework_id: str, info: JsonDict, framework_info: JsonDict, executor_id: str | None
    ) -> None:
        task_id = info["task_id"]["value"]
        run_as = executor_id or task_id
        sandbox = processes.sandbox_path(
            self.work_dir, self.agent_id, framework_id, run_as, str(uuid.uuid4())
        )
        if executor_id is not None:
            sandbox = sandbox / "tasks" / task_id
            sandbox.mkdir(parents=True, exist_ok=True)
            process = self.executors.get((framework_id, executor_id))
            if process is None:
                process = ExecutorProcess(
                    framework_id,
                    executor_id,
                    {},
                    framework_info,
                    sandbox.parent.parent,
                    str(uuid.uuid4()),
                    "",
                )
                self.executors[(framework_id, executor_id)] = process
            process.default_tasks.add(task_id)
        command = CommandTask(framework_id, task_id, run_as, info, framework_info, sandbox)
        self.commands[(framework_id, task_id)] = command
        command.runner = self._spawn(self._run_command(command))

    async def _run_command(self, task: CommandTask) -> None:
        fid, tid, eid = task.framework_id, task.task_id, task.executor_id
        self._update(fid, tid, eid, "TASK_STARTING")
        command = task.info.get("command", {})
        try:
            await processes.fetch_uris(command.get("uris", []), task.sandbox)
            env = processes.command_env(
                command,
                {
                    "MESOS_SANDBOX": str(task.sandbox),
                    "MESOS_DIRECTORY": str(task.sandbox),
                    "MESOS_TASK_ID": tid,
                    "MESOS_FRAMEWORK_ID": fid,
                    "MESOS_AGENT_ID": self.agent_id,
                    "MESOS_SLAVE_ID": self.agent_id,
                },
            )
            if task.killed:
                raise InterruptedError
            task.process = await processes.spawn(processes.command_argv(command), task.sandbox, env)
        except InterruptedError:
            self._finish_command(task, "TASK_KILLED", "Command killed before it started", None)
            return
        except (OSError, ValueError) as exc:
            self._finish_command(
                task,
                "TASK_FAILED",
                f"Failed to launch command: {exc}",
                "REASON_CONTAINER_LAUNCH_FAILED",
            )
            return
        self._update(fid, tid, eid, "TASK_RUNNING")
        returncode = await task.process.wait()
        text = processes.termination_message(returncode)
        if task.killed:
            self._finish_command(task, "TASK_KILLED", text, None)
        elif returncode == 0:
            self._finish_command(task, "TASK_FINISHED", text, None)
        else:
            self._finish_command(task, "TASK_FAILED", text, None)

    def _finish_command(self, task: CommandTask, state: str, text: str, reason: str | None) -> None:
        self._update(
            task.framework_id, task.task_id, task.executor_id, state, message=text, reason=reason
        )
        self.commands.pop((task.framework_id, task.task_id), None)
        process = self.executors.get((task.framework_id, task.executor_id))
        if process is not None and task.task_id in process.default_tasks:
            process.default_tasks.discard(task.task_id)
            if not process.default_tasks:
                del self.executors[(task.framework_id, task.executor_id)]
                self.master.executor_terminated(
                    self.agent_id, task.framework_id, task.executor_id, 0
                )

    async def _kill_command(self, task: CommandTask, grace: float) -> None:
        if task.killed:
            return
        task.killed = True
        capabilities = {c.get("type") for c in task.framework_info.get("capabilities", [])}
        if "TASK_KILLING_STATE" in capabilities:
            self._update(task.framework_id, task.task_id, task.executor_id, "TASK_KILLING")
        if task.process is None:
            return
        processes.kill_group(task.process, signal.SIGTERM)
        await self._sigkill_later(task.process, grace)

    async def _sigkill_later(self, process: asyncio.subprocess.Process, grace: float) -> None:
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            processes.kill_group(process, signal.SIGKILL)

    # -- custom executors ---------------------------------------------------------------

    def _executor(
        self, framework_id: str, info: JsonDict, framework_info: JsonDict
    ) -> ExecutorProcess:
        executor_id = info["executor_id"]["value"]
        process = self.executors.get((framework_id, executor_id))
        if process is not None:
            return process
        container_id = str(uuid.uuid4())
        sandbox = processes.sandbox_path(
            self.work_dir, self.agent_id, framework_id, executor_id, container_id
        )
        token = str(uuid.uuid4()) if self.master.config.executor_authentication else ""
        process = ExecutorProcess(
            framework_id, executor_id, info, framework_info, sandbox, container_id, token
        )
        self.executors[(framework_id, executor_id)] = process
        process.watcher = self._spawn(self._run_executor(process))
        return process

    def executor_env(self, process: ExecutorProcess) -> dict[str, str]:
        """Return the ``MESOS_*`` environment of a custom executor."""
        config = self.master.config
        grace = msg.duration_seconds(
            process.info.get("shutdown_grace_period"), config.executor_shutdown_grace_period
        )
        checkpoint = bool(process.framework_info.get("checkpoint", False))
        env = {
            "MESOS_FRAMEWORK_ID": process.framework_id,
            "MESOS_EXECUTOR_ID": process.executor_id,
            "MESOS_DIRECTORY": str(process.sandbox),
            "MESOS_SANDBOX": str(process.sandbox),
            "MESOS_AGENT_ENDPOINT": self.endpoint,
            "MESOS_SLAVE_ID": self.agent_id,
            "MESOS_SLAVE_PID": f"slave(1)@{self.endpoint}",
            "MESOS_CHECKPOINT": "1" if checkpoint else "0",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": processes.format_duration(grace),
            "MESOS_HTTP_COMMAND_EXECUTOR": "0",
        }
        if checkpoint:
            env["MESOS_RECOVERY_TIMEOUT"] = "15mins"
            env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = "2secs"
        if process.token:
            env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"] = process.token
        return env

    async def _run_executor(self, process: ExecutorProcess) -> None:
        command = process.info.get("command", {})
        timeout = self.master.config.executor_registration_timeout
        try:
            await processes.fetch_uris(command.get("uris", []), process.sandbox)
            env = processes.command_env(command, self.executor_env(process))
            process.process = await processes.spawn(
                processes.command_argv(command), process.sandbox, env
            )
        except (OSError, ValueError) as exc:
            self._executor_gone(
                process,
                None,
                "REASON_CONTAINER_LAUNCH_FAILED",
                f"Failed to launch container: {exc}",
            )
            return
        try:
            returncode = await asyncio.wait_for(asyncio.shield(process.process.wait()), timeout)
        except TimeoutError:
            if not process.subscribed and not process.shutting_down:
                processes.kill_group(process.process, signal.SIGKILL)
                returncode = await process.process.wait()
                self._executor_gone(
                    process,
                    processes.wait_status(returncode),
                    "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
                    f"Executor did not register within {processes.format_duration(timeout)}",
                )
                return
            returncode = await process.process.wait()
        reason, text = process.pending or ("REASON_EXECUTOR_TERMINATED", "Executor terminated")
        self._executor_gone(process, processes.wait_status(returncode), reason, text)

    def _executor_gone(
        self, process: ExecutorProcess, status: int | None, reason: str, text: str
    ) -> None:
        if self.executors.get((process.framework_id, process.executor_id)) is process:
            del self.executors[(process.framework_id, process.executor_id)]
        if process.stream is not None:
            process.stream.close()
            process.stream = None
        if process.reported:
            return
        process.reported = True
        self.master.executor_terminated(
            self.agent_id,
            process.framework_id,
            process.executor_id,
            status,
            reason=reason,
            message=text,
        )

    async def _escalate(self, process: ExecutorProcess, grace: float) -> None:
        await asyncio.sleep(grace)
        if process.process is not None:
            processes.kill_group(process.process, signal.SIGKILL)

    def executor_disconnected(self, process: ExecutorProcess) -> None:
        """The executor's SUBSCRIBE connection ended.

        A non-checkpointing executor is expected to exit; one still running after the
        shutdown grace period is killed.
        """
        process.subscribed = False
        process.stream = None
        if not process.framework_info.get("checkpoint", False) and process.process is not None:
            grace = self.master.config.executor_shutdown_grace_period
            self._spawn(self._sigkill_later(process.process, grace))

    async def _heartbeats(self) -> None:
        interval = self.master.config.executor_heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            for process in self.executors.values():
                if process.subscribed and process.stream is not None:
                    process.stream.put(msg.heartbeat())
