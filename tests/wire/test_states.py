"""Tests of mesos_wm.wire.states."""

from __future__ import annotations

import json

import pytest

from mesos_wm.wire.states import TERMINAL_STATES, Reason, Source, TaskState, is_terminal

TERMINAL = {
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
}
NON_TERMINAL = {
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_UNREACHABLE",
    "TASK_UNKNOWN",
}


def test_every_mesos_state_is_known() -> None:
    assert {s.value for s in TaskState} == TERMINAL | NON_TERMINAL


def test_terminal_set_matches_the_cpp_code() -> None:
    assert {s.value for s in TERMINAL_STATES} == TERMINAL


@pytest.mark.parametrize("name", sorted(TERMINAL))
def test_terminal_states(name: str) -> None:
    assert is_terminal(name)
    assert is_terminal(TaskState(name))


@pytest.mark.parametrize("name", sorted(NON_TERMINAL))
def test_non_terminal_states(name: str) -> None:
    assert not is_terminal(name)


def test_unknown_name_raises() -> None:
    with pytest.raises(ValueError):
        is_terminal("RUNNING")


def test_members_serialise_as_their_json_names() -> None:
    assert json.dumps([TaskState.RUNNING, Source.EXECUTOR, Reason.RECONCILIATION]) == (
        '["TASK_RUNNING", "SOURCE_EXECUTOR", "REASON_RECONCILIATION"]'
    )
    assert f"{TaskState.KILLED}" == "TASK_KILLED"
    assert TaskState.RUNNING == "TASK_RUNNING"


def test_sources() -> None:
    assert [s.value for s in Source] == ["SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"]


def test_reason_values_have_the_prefix() -> None:
    assert all(r.value == f"REASON_{r.name}" for r in Reason)
