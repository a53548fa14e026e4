"""Exact JSON of TaskInfo, CommandInfo, ExecutorInfo, ContainerInfo, operations, TaskStatus."""

from __future__ import annotations

import base64

import pytest

from mesos_wm.errors import LocalProtocolError
from mesos_wm.wire import messages
from mesos_wm.wire.states import Reason, TaskState

CPUS = {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}


def test_command_info_shell() -> None:
    assert messages.command_info("echo hi") == {"shell": True, "value": "echo hi"}


def test_command_info_full() -> None:
    info = messages.command_info(
        "/usr/bin/python3",
        shell=False,
        arguments=["python3", "-m", "mesos_wm.executor"],
        environment={"A": "1"},
        uris=["http://x/a.tar.gz", {"value": "http://x/b", "executable": True}],
        user="bob",
    )
    assert info == {
        "shell": False,
        "value": "/usr/bin/python3",
        "arguments": ["python3", "-m", "mesos_wm.executor"],
        "environment": {"variables": [{"name": "A", "type": "VALUE", "value": "1"}]},
        "uris": [{"value": "http://x/a.tar.gz"}, {"value": "http://x/b", "executable": True}],
        "user": "bob",
    }


def test_shell_command_needs_a_value() -> None:
    with pytest.raises(LocalProtocolError):
        messages.command_info()


def test_docker_container() -> None:
    assert messages.docker_container("alpine:3", network="BRIDGE", force_pull=True) == {
        "type": "DOCKER",
        "docker": {"image": "alpine:3", "network": "BRIDGE", "force_pull_image": True},
    }
    with pytest.raises(LocalProtocolError, match="network"):
        messages.docker_container("alpine", network="host")


def test_executor_info_is_custom() -> None:
    info = messages.executor_info(
        executor_id="e1",
        command=messages.command_info("run-executor"),
        framework_id="F1",
        resources=[CPUS],
        name="wm executor",
        shutdown_grace_period_seconds=5,
        labels={"k": "v"},
        data=b"\x01",
    )
    assert info == {
        "type": "CUSTOM",
        "executor_id": {"value": "e1"},
        "command": {"shell": True, "value": "run-executor"},
        "framework_id": {"value": "F1"},
        "resources": [CPUS],
        "name": "wm executor",
        "data": "AQ==",
        "shutdown_grace_period": {"nanoseconds": 5_000_000_000},
        "labels": {"labels": [{"key": "k", "value": "v"}]},
    }


def test_task_info_with_command() -> None:
    info = messages.task_info(
        name="t",
        task_id="t1",
        agent_id="S1",
        resources=[CPUS],
        command=messages.command_info("true"),
        container=messages.docker_container("alpine"),
        data=b"spec",
        labels={"wf": "w1"},
        kill_grace_period_seconds=0.001,
    )
    assert info == {
        "name": "t",
        "task_id": {"value": "t1"},
        "agent_id": {"value": "S1"},
        "resources": [CPUS],
        "command": {"shell": True, "value": "true"},
        "container": {
            "type": "DOCKER",
            "docker": {"image": "alpine", "network": "HOST", "force_pull_image": False},
        },
        "data": base64.b64encode(b"spec").decode(),
        "labels": {"labels": [{"key": "wf", "value": "w1"}]},
        "kill_policy": {"grace_period": {"nanoseconds": 1_000_000}},
    }


def test_task_info_needs_exactly_one_of_command_and_executor() -> None:
    executor = messages.executor_info(executor_id="e", command=messages.command_info("x"))
    with pytest.raises(LocalProtocolError, match="exactly one"):
        messages.task_info(name="t", task_id="t", agent_id="S", resources=[])
    with pytest.raises(LocalProtocolError, match="exactly one"):
        messages.task_info(
            name="t",
            task_id="t",
            agent_id="S",
            resources=[],
            command=messages.command_info("x"),
            executor=executor,
        )


def test_launch_group() -> None:
    executor = messages.executor_info(executor_id="e", command=messages.command_info("x"))
    task = messages.task_info(name="t", task_id="t", agent_id="S", resources=[], executor=executor)
    assert messages.launch_group(executor, [task], operation_id="op") == {
        "type": "LAUNCH_GROUP",
        "launch_group": {"executor": executor, "task_group": {"tasks": [task]}},
        "id": {"value": "op"},
    }


def test_task_status() -> None:
    uuid = bytes(range(16))
    status = messages.task_status(
        task_id="t1",
        state=TaskState.RUNNING,
        uuid=uuid,
        message="started",
        reason=Reason.RECONCILIATION,
        data=b"d",
        agent_id="S1",
        executor_id="e1",
        timestamp=1700000000.25,
        healthy=True,
    )
    assert status == {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "uuid": base64.b64encode(uuid).decode(),
        "message": "started",
        "reason": "REASON_RECONCILIATION",
        "data": "ZA==",
        "agent_id": {"value": "S1"},
        "executor_id": {"value": "e1"},
        "timestamp": 1700000000.25,
        "healthy": True,
    }
    assert type(status["state"]) is str


@pytest.mark.parametrize(
    "kwargs",
    [
        {"state": "RUNNING"},
        {"reason": "RECONCILIATION"},
        {"source": "EXECUTOR"},
        {"uuid": b"short"},
        {"timestamp": float("nan")},
    ],
)
def test_task_status_refuses(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"task_id": "t", "state": "TASK_RUNNING", **kwargs}
    with pytest.raises(LocalProtocolError):
        messages.task_status(**args)  # type: ignore[arg-type]
