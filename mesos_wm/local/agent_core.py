"""The foundation of an embedded agent's runtime: its records, tasks and status reports.

:class:`AgentCore` holds every attribute of :class:`~mesos_wm.local.agent.AgentRuntime`
(the master, the agent id, the sandbox root, the running :class:`CommandTask` and
:class:`ExecutorProcess` records, its background tasks) and the small operations every
part of the runtime uses: spawning a background task, reporting a status update to the
master and the SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mesos_wm.ids import encode_uuid, new_uuid
from mesos_wm.local import messages as msg
from mesos_wm.local import processes
from mesos_wm.local.http_util import EventStream

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["AgentCore", "CommandTask", "ExecutorProcess"]

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


class AgentCore:
    """One agent's records and the operations every part of its runtime shares.

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

    # -- signals ----------------------------------------------------------------------

    async def _sigkill_later(self, process: asyncio.subprocess.Process, grace: float) -> None:
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            processes.kill_group(process, signal.SIGKILL)
