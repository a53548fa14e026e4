"""TaskInfo building: our executor for Airavata types, the command executor for plain
commands when configured, Docker containers for tasks with an image."""

from __future__ import annotations

import base64

import pytest

from mesos_wm import proto
from mesos_wm.executor.launch import executor_id_for
from mesos_wm.framework import FrameworkConfig, LaunchBuilder, kind_of
from mesos_wm.resources import scalar
from tests.framework.builders import launch, shape

RESOURCES = [scalar("cpus", 0.5, role="*"), scalar("mem", 128, role="*")]


def build(config: FrameworkConfig | None = None) -> LaunchBuilder:
    return LaunchBuilder(config or FrameworkConfig(python="/venv/bin/python3"), "F-0001")


def test_airavata_types_use_the_workflows_executor_with_the_spec_in_data() -> None:
    one = launch("exp-1", "stage-in", type_="DATA_STAGING", command=None,
                 staging={"direction": "INPUT", "sources": [
                     {"uri": "file:///data/a.xyz", "destination": "inputs/a.xyz"}]})
    info = build().task_info(one, RESOURCES)
    assert "command" not in info
    executor = info["executor"]
    assert executor["executor_id"]["value"] == executor_id_for("exp-1")
    assert executor["type"] == "CUSTOM"
    assert executor["framework_id"]["value"] == "F-0001"
    assert executor["command"]["value"] == "/venv/bin/python3"
    assert executor["command"]["arguments"][:3] == ["/venv/bin/python3", "-m",
                                                     "mesos_wm.executor"]
    spec = proto.decode_task_spec(base64.b64decode(info["data"]))
    assert (spec.workflow_id, spec.task_id, spec.attempt) == ("exp-1", "stage-in", 1)
    assert spec.staging.sources[0].uri == "file:///data/a.xyz"
    assert info["task_id"]["value"] == one.mesos_task_id
    assert info["agent_id"]["value"] == "S1"
    labels = {x["key"]: x["value"] for x in info["labels"]["labels"]}
    assert labels == {"mesos_wm.workflow_id": "exp-1", "mesos_wm.task_id": "stage-in",
                      "mesos_wm.attempt": "1"}


def test_every_task_of_a_workflow_gets_an_identical_executor_info() -> None:
    builder = build()
    a = builder.task_info(launch("exp-1", "setup", type_="ENV_SETUP", command=None), RESOURCES)
    b = builder.task_info(launch("exp-1", "run"), RESOURCES)
    c = builder.task_info(launch("exp-2", "run"), RESOURCES)
    assert a["executor"] == b["executor"]
    assert a["executor"]["executor_id"] != c["executor"]["executor_id"]


def test_storage_roots_reach_the_executor_command_line() -> None:
    config = FrameworkConfig(python="/py", storage_roots=("/srv/data", "/srv/out"))
    info = build(config).task_info(launch(), RESOURCES)
    args = info["executor"]["command"]["arguments"]
    assert args[args.index("--storage-root") + 1] == "/srv/data"
    assert "/srv/out" in args


def test_plain_commands_use_the_command_executor_only_when_configured() -> None:
    shell = launch("w", "note", type_="COMMAND", command="echo done", env={"A": "1"})
    assert kind_of(shell, FrameworkConfig()).custom_executor
    config = FrameworkConfig(command_executor=True)
    assert not kind_of(shell, config).custom_executor
    info = build(config).task_info(shell, RESOURCES)
    assert "executor" not in info
    assert info["command"]["shell"] is True
    assert info["command"]["value"] == "echo done"
    assert info["command"]["environment"]["variables"] == [
        {"name": "A", "type": "VALUE", "value": "1"}]
    argv = launch("w", "ls", type_="COMMAND", command=("ls", "-l"))
    info = build(config).task_info(argv, RESOURCES)
    assert info["command"] == {"shell": False, "value": "ls", "arguments": ["ls", "-l"]}
    job = launch("w", "run", type_="JOB_SUBMISSION")
    assert kind_of(job, config).custom_executor


def test_a_task_with_an_image_runs_as_a_docker_command_task() -> None:
    job = launch("w", "run", task_shape=shape(image="python:3.12-slim"))
    info = build().task_info(job, RESOURCES)
    assert "executor" not in info
    assert info["container"]["type"] == "DOCKER"
    assert info["container"]["docker"]["image"] == "python:3.12-slim"
    assert info["command"]["arguments"] == ["python3", "x.py"]


def test_kill_grace_period_becomes_the_kill_policy() -> None:
    info = build().task_info(launch(kill_grace_period=2.5), RESOURCES)
    assert info["kill_policy"] == {"grace_period": {"nanoseconds": 2_500_000_000}}
    assert "kill_policy" not in build().task_info(launch(), RESOURCES)


@pytest.mark.service
def test_task_infos_conform_to_the_mesos_protos(mesos_protos: object) -> None:
    builder = build(FrameworkConfig(command_executor=True, storage_roots=("/srv",)))
    for one in (launch(), launch("w", "c", type_="COMMAND", command="true"),
                launch("w", "d", task_shape=shape(image="busybox"))):
        mesos_protos.check("mesos.TaskInfo", builder.task_info(one, RESOURCES))  # type: ignore[attr-defined]
