"""A scheduler for the executor's integration tests, on the embedded local master.

It launches tasks with the real mesos_wm executor (``python -m mesos_wm.executor`` spawned
by a local agent) and records every status update.  Each test workflow gets its own
executor; the tasks of one workflow reuse it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from addict import Dict

from mesos_wm.drivers.scheduler import DriverEvent, SchedulerDriver
from mesos_wm.executor.launch import executor_argv, executor_info_for
from mesos_wm.local import FAST, LocalMaster, MasterConfig
from mesos_wm.proto.taskspec_pb2 import TaskSpec
from mesos_wm.resources import scalar
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.scheduler_events import Offers, Update
from mesos_wm.wire.states import is_terminal


class Cluster:
    """The local master with one agent, and a subscribed test framework."""

    def __init__(self, work_dir: Path, storage: Path, config: MasterConfig = FAST) -> None:
        self.storage = storage
        self.master = LocalMaster(agents=1, config=config, work_dir=work_dir)
        self.driver: SchedulerDriver | None = None
        self.offers: dict[str, Dict] = {}
        self.updates: dict[str, list[Dict]] = defaultdict(list)
        self.changed = asyncio.Event()
        self.framework_id = ""

    async def start(self) -> Cluster:
        await self.master.start()
        info = scheduler_calls.framework_info(user="root", name="executor-tests")
        self.driver = SchedulerDriver(self.master.url, info, self._on_event, auto_acknowledge=True)
        await self.driver.start()
        self.framework_id = await self.driver.wait_subscribed(timeout=30)
        return self

    async def stop(self) -> None:
        if self.driver is not None:
            await self.driver.stop(teardown=True)
        await self.master.stop()

    async def _on_event(self, event: DriverEvent) -> None:
        if isinstance(event, Offers):
            for offer in event.offers:
                self.offers[str(offer.id.value)] = offer
        elif isinstance(event, Update):
            self.updates[event.task_id].append(event.status)
        self.changed.set()

    async def _wait(self, predicate: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass

    def executor_info(self, workflow_id: str) -> dict[str, Any]:
        argv = executor_argv(python=sys.executable, storage_roots=[self.storage], verbose=True)
        return executor_info_for(
            workflow_id, argv=argv, framework_id=self.framework_id,
            shutdown_grace_period_seconds=2.0,
        )

    async def launch(
        self, spec: TaskSpec | None = None, *, task_id: str | None = None,
        data: bytes | None = None, workflow_id: str | None = None,
    ) -> str:
        """Launch one task with the workflow's executor; returns the Mesos task id."""
        assert self.driver is not None
        workflow = workflow_id or (spec.workflow_id if spec is not None else "wf")
        mesos_task_id = task_id or (f"{spec.workflow_id}.{spec.task_id}" if spec else "task")
        payload = data if data is not None else spec.SerializeToString() if spec else None
        offer = await self._wait(lambda: next(iter(self.offers.values()), None), 30, "an offer")
        del self.offers[str(offer.id.value)]
        task = scheduler_calls.task_info(
            name=mesos_task_id,
            task_id=mesos_task_id,
            agent_id=str(offer.agent_id.value),
            resources=[scalar("cpus", 0.1), scalar("mem", 32)],
            executor=self.executor_info(workflow),
            data=payload,
        )
        await self.driver.accept(
            [str(offer.id.value)], [scheduler_calls.launch([task])], refuse_seconds=0.01
        )
        return mesos_task_id

    async def terminal(self, task_id: str, timeout: float = 60) -> Dict:
        """Wait for the task's terminal update and return its TaskStatus."""
        def done() -> Dict | None:
            statuses = self.updates.get(task_id, [])
            return statuses[-1] if statuses and is_terminal(statuses[-1].state) else None

        return await self._wait(done, timeout, f"a terminal update of {task_id}")

    async def state(self, task_id: str, state: str, timeout: float = 30) -> Dict:
        """Wait until the task has reported ``state``."""
        def seen() -> Dict | None:
            return next((s for s in self.updates.get(task_id, []) if s.state == state), None)

        return await self._wait(seen, timeout, f"{state} of {task_id}")

    def states(self, task_id: str) -> list[str]:
        return [str(s.state) for s in self.updates.get(task_id, [])]

    async def run(self, spec: TaskSpec, timeout: float = 60) -> Dict:
        """Launch ``spec`` and wait for its terminal status."""
        return await self.terminal(await self.launch(spec), timeout)

    def sandboxes(self, executor_id: str) -> list[Path]:
        return sorted(self.master.work_dir.glob(f"**/executors/{executor_id}/runs/*"))

    def agent_id(self) -> str:
        return next(iter(self.master.runtimes))

    async def kill(self, task_id: str, grace: float | None = None) -> None:
        assert self.driver is not None
        await self.driver.kill(task_id, self.agent_id(), grace_period_seconds=grace)

    async def shutdown(self, executor_id: str) -> None:
        assert self.driver is not None
        await self.driver.shutdown(executor_id, self.agent_id())

