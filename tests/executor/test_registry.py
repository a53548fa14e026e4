"""Handler resolution: built-ins, plug-ins by entry point, and what goes wrong with them."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint

import pytest

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.outcome import Outcome, TaskOutcome
from mesos_wm.executor.registry import HANDLER_GROUP, HandlerRegistry
from mesos_wm.proto.taskspec_pb2 import TaskSpec
from mesos_wm.wire.states import Reason
from tests.executor.helpers import make_spec

MakeContext = Callable[..., TaskContext]


def entry(name: str, attr: str, module: str = "tests.executor.plugin_samples") -> EntryPoint:
    return EntryPoint(name=name, value=f"{module}:{attr}", group=HANDLER_GROUP)


REGISTRY = HandlerRegistry(
    plugins={
        "greet": entry("greet", "greet"),
        "counter": entry("counter", "Counter"),
        "explode": entry("explode", "explode"),
        "wrong": entry("wrong", "wrong_type"),
        "broken": entry("broken", "x", module="tests.executor.no_such_module"),
        "inert": entry("inert", "NOT_CALLABLE"),
    }
)


def plugin(name: str, **fields: object) -> TaskSpec:
    spec = make_spec("PLUGIN", **fields)
    spec.plugin_type = name
    return spec


async def run(spec: TaskSpec, make_context: MakeContext) -> TaskOutcome:
    return await execute(spec, make_context(spec), REGISTRY)


async def test_plugin_function_and_class(make_context: MakeContext) -> None:
    outcome = await run(plugin("greet", params={"name": "airavata"}), make_context)
    assert outcome.state is Outcome.FINISHED
    assert outcome.message == "hello airavata"
    first = await run(plugin("counter"), make_context)
    second = await run(plugin("counter"), make_context)
    assert (first.message, second.message) == ("call 1", "call 2")


@pytest.mark.parametrize(
    ("name", "state", "words"),
    [
        ("", Outcome.ERROR, "needs plugin_type"),
        ("absent", Outcome.ERROR, "no handler plug-in named 'absent'"),
        ("broken", Outcome.ERROR, "failed to load: ModuleNotFoundError"),
        ("inert", Outcome.ERROR, "is not callable"),
        ("explode", Outcome.FAILED, "crashed: RuntimeError: boom"),
        ("wrong", Outcome.FAILED, "returned str"),
    ],
)
async def test_plugin_problems_become_outcomes(
    make_context: MakeContext, name: str, state: Outcome, words: str
) -> None:
    outcome = await run(plugin(name), make_context)
    assert outcome.state is state
    assert words in outcome.message


async def test_unknown_and_unset_types_are_task_errors(make_context: MakeContext) -> None:
    unset = make_spec("TASK_TYPE_UNSPECIFIED")
    future = make_spec("COMMAND")
    future.type = 99  # type: ignore[assignment]
    for spec, words in ((unset, "TASK_TYPE_UNSPECIFIED"), (future, "unknown task type 99")):
        outcome = await run(spec, make_context)
        assert outcome.state is Outcome.ERROR
        assert outcome.reason is Reason.TASK_INVALID
        assert words in outcome.message


def test_the_installed_entry_points_are_read() -> None:
    registry = HandlerRegistry()
    assert isinstance(registry.plugin_names(), list)
