"""Builders and the backend-parametrized ``queue`` fixture of the queue's contract tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mesos_wm.queue import RetryPolicy, RunOn, TaskDef, TaskQueue, TaskShape, Workflow

T0 = 1_000_000.0


def task(
    task_id: str,
    *deps: str,
    run_on: str = "success",
    retries: int = 0,
    max_infra: int = 5,
    backoff: float = 5.0,
    priority: int | None = None,
    cpus: float = 0.5,
    type: str = "COMMAND",
    **kw: Any,
) -> TaskDef:
    """A COMMAND task running ``true``."""
    from mesos_wm.queue import Resources

    shape = TaskShape(
        resources=Resources(cpus=cpus, mem=64),
        retries=RetryPolicy(max=retries, backoff=backoff, max_backoff=60.0, max_infra=max_infra),
    )
    kw.setdefault("command", "true")
    return TaskDef(task_id, type, depends_on=deps, run_on=RunOn(run_on), priority=priority,
                   shape=shape, **kw)


def workflow(workflow_id: str, *tasks: TaskDef, **kw: Any) -> Workflow:
    return Workflow(workflow_id, tuple(tasks), **kw)


@pytest.fixture(params=["sqlite", "postgres"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/queue.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_queue(queue_url: str) -> Iterator[Callable[[], TaskQueue]]:
    """Opens queues on the fresh store (several, like several processes); closes them."""
    opened: list[TaskQueue] = []

    def make() -> TaskQueue:
        q = TaskQueue.open(queue_url)
        opened.append(q)
        return q

    yield make
    for q in opened:
        q.close()


@pytest.fixture
def queue(open_queue: Callable[[], TaskQueue]) -> TaskQueue:
    return open_queue()


class Driver:
    """Plays the framework: launches ready tasks and reports their outcome."""

    def __init__(self, queue: TaskQueue, now: float = T0) -> None:
        self.queue = queue
        self.now = now

    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now

    def launch(self, workflow_id: str, task_id: str, agent: str = "agent-1") -> str:
        ready = {(r.workflow_id, r.task_id): r for r in self.queue.ready_tasks(now=self.now)}
        assert (workflow_id, task_id) in ready, f"{task_id} not ready: {sorted(ready)}"
        launch = self.queue.mark_launching(ready[workflow_id, task_id].key, agent_id=agent,
                                           now=self.tick())
        return launch.mesos_task_id

    def run(self, workflow_id: str, task_id: str, final: str = "TASK_FINISHED", **kw: Any) -> Any:
        mid = self.launch(workflow_id, task_id)
        self.queue.apply_status(mid, "TASK_RUNNING", now=self.tick())
        return self.queue.apply_status(mid, final, now=self.tick(), **kw)

    def states(self, workflow_id: str) -> dict[str, str]:
        return {t.task_id: t.state.value for t in self.queue.get_workflow(workflow_id).tasks}

    def ready(self) -> list[tuple[str, str]]:
        return [(r.workflow_id, r.task_id) for r in self.queue.ready_tasks(now=self.now)]
