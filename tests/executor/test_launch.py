"""Executor ids and ExecutorInfo for the framework."""

from __future__ import annotations

import pytest

from mesos_wm.executor.launch import executor_argv, executor_id_for, executor_info_for


def test_executor_id_is_derived_from_the_workflow_id() -> None:
    assert executor_id_for("exp-42") == "mesos_wm.exp-42"
    assert executor_id_for("exp-42") == executor_id_for("exp-42")


@pytest.mark.parametrize("workflow_id", ["a/b", "a b", "..", "", "ü"])
def test_unsafe_workflow_ids_become_valid_distinct_executor_ids(workflow_id: str) -> None:
    executor_id = executor_id_for(workflow_id)
    assert "/" not in executor_id
    assert " " not in executor_id
    assert executor_id.isascii()
    assert executor_id != executor_id_for(workflow_id + "x")
    assert executor_id_for("a/b") != executor_id_for("a_b")


def test_executor_info_runs_the_executor_module() -> None:
    argv = executor_argv(python="/usr/bin/python3", storage_roots=["/srv/storage"])
    info = executor_info_for("exp-42", argv=argv, framework_id="fw-1",
                             shutdown_grace_period_seconds=5)
    assert info["type"] == "CUSTOM"
    assert info["executor_id"] == {"value": "mesos_wm.exp-42"}
    assert info["command"]["shell"] is False
    assert info["command"]["value"] == "/usr/bin/python3"
    assert info["command"]["arguments"] == [
        "/usr/bin/python3", "-m", "mesos_wm.executor", "--storage-root", "/srv/storage"
    ]
    assert info["shutdown_grace_period"] == {"nanoseconds": 5_000_000_000}
