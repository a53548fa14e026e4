"""A real agent of the embedded cluster: runs command tasks and custom executors.

Theory of operation: the master core decides, this runtime does.  It receives the core's
agent effects (launch, kill, shutdown, message, acknowledged) and reports what happens to
processes back through :meth:`LocalMaster.executor_update` and
:meth:`LocalMaster.executor_terminated`, which feed the core.

This module receives those effects and serves the agent's ``/api/v1/executor``
endpoint (:mod:`mesos_wm.local.executor_api`); tasks for a custom executor wait until it
subscribes.  The runtime is assembled from layers:

* :mod:`mesos_wm.local.agent_core`: the records (:class:`CommandTask`,
  :class:`ExecutorProcess`), background tasks and status reports;
* :mod:`mesos_wm.local.command_tasks`: the built-in command executor;
* :mod:`mesos_wm.local.custom_executors`: the custom executor processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aiohttp import web

from mesos_wm.local import messages as msg
from mesos_wm.local import processes
from mesos_wm.local.agent_core import CommandTask, ExecutorProcess, JsonDict
from mesos_wm.local.command_tasks import CommandTasks
from mesos_wm.local.custom_executors import CustomExecutors
from mesos_wm.local.effects import KillTask, LaunchTasks

__all__ = ["AgentRuntime", "CommandTask", "ExecutorProcess"]


def _task_ids(event: JsonDict) -> list[str]:
    """The ids of the tasks a LAUNCH or LAUNCH_GROUP executor event carries."""
    if event["type"] == "LAUNCH":
        tasks = [event["launch"]["task"]]
    else:
        tasks = event["launch_group"]["task_group"]["tasks"]
    return [task["task_id"]["value"] for task in tasks]


class AgentRuntime(CommandTasks, CustomExecutors):
    """One real agent: its executor endpoint, processes and sandboxes.

    Args:
        master: the embedded master that owns the core.
        agent_id: the id the core gave this agent.
        work_dir: the root of the sandboxes.
    """

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
