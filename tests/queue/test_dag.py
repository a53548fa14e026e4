"""Dependency checks, and DAG release driven through a real store against a reference."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.queue import TaskQueue, TaskState, WorkflowState
from mesos_wm.queue.dag import check_dag, find_cycle
from mesos_wm.queue.states import Outcome, RunOn, outcome_of, should_run
from tests.queue.conftest import task, workflow
from tests.queue.consistency import check_consistency


def test_problems_name_the_tasks() -> None:
    found = check_dag(["a", "b", "a", "c"], [["x"], ["b"], [], ["a", "a"]])
    messages = {(p.index, p.field): p.message for p in found}
    assert messages == {
        (2, "id"): "duplicate task id 'a' (also tasks[0])",
        (0, "depends_on[0]"): "unknown task 'x'",
        (1, "depends_on[0]"): "task 'b' depends on itself",
        (3, "depends_on[1]"): "'a' is listed twice",
    }


def test_cycles_are_found_even_in_deep_graphs() -> None:
    n = 5000
    ids = [f"t{i}" for i in range(n)]
    deps = [[f"t{i + 1}"] for i in range(n - 1)] + [["t0"]]
    cycle = find_cycle(ids, deps)
    assert len(cycle) == n + 1 and cycle[0] == cycle[-1]
    [problem] = check_dag(ids, deps)
    assert problem.index is None and "dependency cycle" in problem.message
    deps[-1] = []
    assert check_dag(ids, deps) == []


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], list[list[str]], list[str], dict[str, bool]]:
    n = draw(st.integers(1, 14))
    ids = [f"t{i}" for i in range(n)]
    deps = [sorted(draw(st.sets(st.sampled_from(ids[:i]), max_size=3))) if i else []
            for i in range(n)]
    run_on = [draw(st.sampled_from(["success", "failure", "always"] if deps[i] else
                                   ["success", "always"])) for i in range(n)]
    succeeds = {name: draw(st.booleans()) for name in ids}
    return ids, deps, run_on, succeeds


def reference(
    ids: list[str], deps: list[list[str]], run_on: list[str], succeeds: dict[str, bool]
) -> dict[str, TaskState]:
    state: dict[str, TaskState] = {}
    upstream: dict[str, bool] = {}
    for i, name in enumerate(ids):
        outcomes = [outcome_of(state[p], upstream.get(p, False)) for p in deps[i]]
        bad = outcomes.count(Outcome.BAD)
        if should_run(RunOn(run_on[i]), bad, outcomes.count(Outcome.NONE)):
            state[name] = TaskState.FINISHED if succeeds[name] else TaskState.FAILED
        else:
            state[name] = TaskState.SKIPPED
            upstream[name] = bad > 0
    return state


@settings(max_examples=60, deadline=None)
@given(dags(), st.randoms(use_true_random=False))
def test_release_matches_the_reference(
    dag: tuple[list[str], list[list[str]], list[str], dict[str, bool]], rnd: random.Random
) -> None:
    ids, deps, run_on, succeeds = dag
    order = list(range(len(ids)))
    rnd.shuffle(order)
    tasks = [task(ids[i], *deps[i], run_on=run_on[i]) for i in order]
    queue = TaskQueue.open("sqlite:///:memory:")
    queue.submit(workflow("w", *tasks), now=0.0)
    now = 1.0
    while ready := queue.ready_tasks(now=now):
        pick = rnd.choice(ready)
        launch = queue.mark_launching(pick.key, agent_id="a", now=now)
        final = "TASK_FINISHED" if succeeds[pick.task_id] else "TASK_FAILED"
        queue.apply_status(launch.mesos_task_id, final, now=now)
        now += 1.0
    expected = reference(ids, deps, run_on, succeeds)
    record = queue.get_workflow("w")
    assert {t.task_id: t.state for t in record.tasks} == expected
    failed = TaskState.FAILED in expected.values()
    assert record.state == (WorkflowState.FAILED if failed else WorkflowState.COMPLETED)
    check_consistency(queue)
    queue.close()
