"""The custom executor processes of an embedded agent.

Custom executors are spawned from ``ExecutorInfo.command`` with the full ``MESOS_*``
environment; they talk to the agent's ``/api/v1/executor``
(:mod:`mesos_wm.local.executor_api`).  An executor that does not subscribe within the
registration timeout is killed; one that ends is reported to the master with the reason.
SHUTDOWN gives it the shutdown grace period, then SIGKILL.  Subscribed executors get a
HEARTBEAT every heartbeat interval.
"""

from __future__ import annotations

import asyncio
import signal
import uuid

from mesos_wm.local import messages as msg
from mesos_wm.local import processes
from mesos_wm.local.agent_core import AgentCore, ExecutorProcess, JsonDict

__all__ = ["CustomExecutors"]


class CustomExecutors(AgentCore):
    """Spawns, watches and ends the custom executor processes of an agent."""

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
