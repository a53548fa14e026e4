"""Handlers loaded through real ``EntryPoint`` objects by test_registry.py."""

from __future__ import annotations

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.outcome import TaskOutcome, finished
from mesos_wm.proto.taskspec_pb2 import TaskSpec


async def greet(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    return finished(f"hello {spec.params['name']}")


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, spec: TaskSpec, context: TaskContext) -> TaskOutcome:
        self.calls += 1
        return finished(f"call {self.calls}")


async def explode(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    raise RuntimeError("boom")


async def wrong_type(spec: TaskSpec, context: TaskContext) -> str:
    return "not an outcome"


NOT_CALLABLE = 42
