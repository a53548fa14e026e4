"""The embedded master with real agents, a queue file and a storage directory, for the
framework's end-to-end tests."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mesos_wm.framework import Framework, FrameworkConfig, StatusEvent
from mesos_wm.local import FAST, AgentConfig, LocalMaster, MasterConfig
from mesos_wm.queue import TaskQueue, WorkflowState, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

FAST_FRAMEWORK: dict[str, Any] = {
    "refresh_interval": 0.1, "suppress_after": 0.3, "revive_interval": 0.05,
    "refuse_seconds": 0.2, "reconcile_interval": 60.0, "reconcile_grace": 5.0,
    "kill_retry_interval": 0.5, "reasons_interval": 0.2, "executor_shutdown_grace": 1.0,
    "subscribe_timeout": 5.0,
}


class Cluster:
    """A started embedded master, a queue and a storage directory in ``root``."""

    def __init__(self, root: Path, *, agents: int = 1,
                 resources: str = "cpus:4;mem:4096;disk:1000;ports:[31000-31100]",
                 config: MasterConfig = FAST) -> None:
        self.root = root
        self.storage = root / "storage"
        self.storage.mkdir(parents=True, exist_ok=True)
        self.queue_url = f"sqlite:///{root}/queue.db"
        self.master = LocalMaster(agents=[AgentConfig(resources=resources)] * agents,
                                  config=config, work_dir=root / "work")
        self.events: list[StatusEvent] = []
        self.changed = asyncio.Event()

    async def start(self) -> Cluster:
        await self.master.start()
        return self

    async def stop(self) -> None:
        await self.master.stop()

    def config(self, **changes: Any) -> FrameworkConfig:
        return FrameworkConfig(python=sys.executable,
                               storage_roots=(self.storage, EXAMPLES),
                               **{**FAST_FRAMEWORK, **changes})

    def framework(self, queue: TaskQueue, **changes: Any) -> Framework:
        def record(event: StatusEvent) -> None:
            self.events.append(event)
            self.changed.set()

        return Framework(queue=queue, master=self.master, config=self.config(**changes),
                         on_status=record)

    def submit(self, queue: TaskQueue, text: str) -> list[str]:
        results = queue.submit_many(load_text(text, "test.yaml"))
        return [r.workflow_id for r in results]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {predicate}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.02)
            except TimeoutError:
                pass

    def seen(self, workflow_id: str, task_id: str, state: str) -> StatusEvent | None:
        return next((e for e in self.events if e.workflow_id == workflow_id
                     and e.task_id == task_id and e.state == state), None)

    def launched(self) -> Counter[str]:
        """How often each Mesos task id reached the master (active and completed)."""
        counts: Counter[str] = Counter()
        for framework in self.master.state.all_frameworks():
            for task in [*framework.tasks.values(), *framework.unreachable_tasks.values(),
                         *framework.completed_tasks]:
                counts[task.task_id] += 1
        return counts

    def live_executors(self) -> int:
        return sum(1 for runtime in self.master.runtimes.values()
                   for e in runtime.executors.values()
                   if e.process is not None and e.process.returncode is None)

    def agent_ids(self) -> list[str]:
        return sorted(self.master.state.agents)


def settled(queue: TaskQueue, workflow_id: str) -> bool:
    return queue.get_workflow(workflow_id, tasks=False).state in (
        WorkflowState.COMPLETED, WorkflowState.FAILED, WorkflowState.CANCELED)
