"""The transition tables and the pure decisions built on them."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.queue import TaskQueue
from mesos_wm.queue.model import RetryPolicy
from mesos_wm.queue.policy import MESOS_STATES, decide, is_infra_loss
from mesos_wm.queue.states import (
    ACTIVE,
    ATTEMPT_RANK,
    SETTLED,
    TASK_TRANSITIONS,
    WORKFLOW_TRANSITIONS,
    Counters,
    RunOn,
    TaskState,
    WorkflowState,
    rollup,
    should_run,
)
from mesos_wm.wire.states import TERMINAL_STATES
from mesos_wm.wire.states import TaskState as MesosState
from tests.queue.conftest import task, workflow

ORDER = [TaskState.LAUNCHING, TaskState.STAGING, TaskState.STARTING, TaskState.RUNNING]


def test_every_state_has_a_row_and_no_state_moves_to_itself() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskState)
    assert set(WORKFLOW_TRANSITIONS) == set(WorkflowState)
    for old, targets in TASK_TRANSITIONS.items():
        assert old not in targets
    for wold, wtargets in WORKFLOW_TRANSITIONS.items():
        assert wold not in wtargets


def test_active_states_only_move_forward_and_settled_ones_only_by_retry() -> None:
    for i, old in enumerate(ORDER):
        for earlier in ORDER[:i]:
            assert earlier not in TASK_TRANSITIONS[old]
    for old in SETTLED:
        assert TASK_TRANSITIONS[old] <= {TaskState.PENDING, TaskState.QUEUED}
    assert WORKFLOW_TRANSITIONS[WorkflowState.COMPLETED] == frozenset()


def test_attempt_ranks_cover_exactly_the_non_terminal_mesos_states() -> None:
    non_terminal = {s.value for s in MesosState} - {s.value for s in TERMINAL_STATES}
    assert set(ATTEMPT_RANK) - {"LAUNCHING"} == non_terminal - {"TASK_UNKNOWN"}
    assert {s.value for s in MesosState} == MESOS_STATES


@given(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20), st.booleans(),
       st.booleans(), st.booleans())
def test_rollup_follows_the_counters(
    total: int, settled: int, bad: int, queued: bool, launched: bool, cancel: bool
) -> None:
    settled = min(settled, total)
    bad = min(bad, settled)
    state = rollup(Counters(total, settled, bad, queued, launched, cancel))
    if cancel:
        assert state in (WorkflowState.CANCELING, WorkflowState.CANCELED)
        assert (state == WorkflowState.CANCELED) == (settled == total)
    elif settled == total:
        assert state == (WorkflowState.FAILED if bad else WorkflowState.COMPLETED)
    else:
        assert state in (WorkflowState.CREATED, WorkflowState.SCHEDULED, WorkflowState.EXECUTING)


def test_run_on_truth_table() -> None:
    assert should_run(RunOn.SUCCESS, 0, 0) and not should_run(RunOn.SUCCESS, 1, 0)
    assert not should_run(RunOn.SUCCESS, 0, 1)
    assert should_run(RunOn.FAILURE, 1, 0) and not should_run(RunOn.FAILURE, 0, 3)
    assert should_run(RunOn.ALWAYS, 0, 0) and should_run(RunOn.ALWAYS, 2, 2)


@given(st.sampled_from(sorted(MESOS_STATES - set(ATTEMPT_RANK))), st.booleans(),
       st.integers(0, 4), st.integers(0, 4), st.none() | st.sampled_from(
           ["REASON_AGENT_REMOVED", "REASON_COMMAND_EXECUTOR_FAILED", "REASON_INVALID_OFFERS"]))
def test_decisions_respect_budgets(
    state: str, cancel: bool, used: int, infra: int, reason: str | None
) -> None:
    policy = RetryPolicy(max=2, backoff=4.0, max_backoff=6.0, max_infra=3)
    d = decide(state, reason, cancel_requested=cancel, policy=policy, retries_used=used,
               infra_used=infra, now=100.0, rng=random.Random(1))
    assert d.retries_used <= max(used, policy.max) and d.infra_used <= max(infra, policy.max_infra)
    if d.state in (TaskState.PENDING, TaskState.QUEUED):
        assert not cancel and state not in ("TASK_FINISHED", "TASK_ERROR")
        assert (d.infra_used > infra) == is_infra_loss(state, reason) == d.infra
        if d.infra:
            assert d.state == TaskState.QUEUED and d.not_before is None
        else:
            assert d.not_before is not None and 103.2 <= d.not_before <= 106.0
    if state == "TASK_FINISHED":
        assert d.state == TaskState.FINISHED


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(max=9, backoff=5.0, max_backoff=300.0)
    assert [policy.delay(n) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 300, 300]


UPDATES = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(sorted(MESOS_STATES))), min_size=1, max_size=25
)


@settings(max_examples=60, deadline=None)
@given(UPDATES)
def test_random_status_streams_never_move_a_task_backwards(updates: list[tuple[int, str]]) -> None:
    queue = TaskQueue.open("sqlite:///:memory:")
    queue.submit(workflow("w", task("a", retries=2, backoff=0.0, max_infra=2)), now=0.0)
    ids: list[str] = []
    seen: list[TaskState] = [TaskState.QUEUED]
    now = 1.0
    for which, state in updates:
        now += 1.0
        if queue.get_task("w", "a").state == TaskState.QUEUED:
            ids.append(queue.mark_launching(("w", "a"), agent_id="x", now=now).mesos_task_id)
            seen.append(TaskState.LAUNCHING)
        mid = ids[min(which, len(ids) - 1)]
        before = queue.get_task("w", "a")
        outcome = queue.apply_status(mid, state, now=now)
        after = queue.get_task("w", "a")
        if mid != ids[-1]:
            assert (after.state, len(after.attempts)) == (before.state, len(before.attempts))
            assert not outcome.applied
        if before.state in ACTIVE and after.state in ACTIVE:
            assert ORDER.index(after.state) >= ORDER.index(before.state)
        if before.state in SETTLED:
            assert after.state == before.state
        seen.append(after.state)
    queue.close()
