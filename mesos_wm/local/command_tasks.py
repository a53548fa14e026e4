"""The built-in command executor of an embedded agent.

Command tasks (and the tasks of a DEFAULT executor) run under it: TASK_STARTING, the
command (``/bin/sh -c`` or argv) in its own process group and sandbox with
``stdout``/``stderr`` files, TASK_RUNNING, then TASK_FINISHED or TASK_FAILED with
``Command exited with status N``.  KILL: TASK_KILLING (for TASK_KILLING_STATE
frameworks), SIGTERM to the group, the kill policy's grace period, SIGKILL, TASK_KILLED.
"""

from __future__ import annotations

import signal
import uuid

from mesos_wm.local import processes
from mesos_wm.local.agent_core import AgentCore, CommandTask, ExecutorProcess, JsonDict

__all__ = ["CommandTasks"]


class CommandTasks(AgentCore):
    """Runs and kills the command tasks of an agent."""

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
