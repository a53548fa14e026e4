"""Custom executors on a real agent: spawning, the executor endpoint, LAUNCH/KILL/SHUTDOWN."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mesos_wm.local.master import LocalMaster
from tests.local.conftest import EXECUTOR_SCRIPT, executor_info
from tests.local.helpers import executor_task, first_offer, launch


def sandbox_files(master: LocalMaster, name: str) -> list[Path]:
    return sorted(Path(master.work_dir).glob(f"slaves/*/frameworks/*/executors/*/runs/*/{name}"))


def logged_events(master: LocalMaster) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for path in sandbox_files(master, "events.jsonl"):
        events += [json.loads(line) for line in path.read_text().splitlines()]
    return events


async def test_custom_executor_round_trip(
    scheduler: Any, mesos_master: LocalMaster, mesos_protos: Any
) -> None:
    raw = await scheduler(checkpoint=False)
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    executor = executor_info()
    await launch(raw, offer, executor_task("t1", agent_id, executor, "finish"))
    running = await raw.update("TASK_RUNNING")
    assert running["executor_id"] == {"value": "exec-1"}
    assert running["source"] == "SOURCE_EXECUTOR"
    await raw.acknowledge(running)
    finished = await raw.update("TASK_FINISHED")
    assert finished["message"] == "done"
    await raw.acknowledge(finished)

    data = base64.b64encode(b"ping").decode()
    status, _ = await raw.call(
        "MESSAGE",
        {"agent_id": {"value": agent_id}, "executor_id": {"value": "exec-1"}, "data": data},
    )
    assert status == 202
    echo = await raw.next_event("MESSAGE")
    assert echo["message"] == {
        "agent_id": {"value": agent_id},
        "executor_id": {"value": "exec-1"},
        "data": data,
    }

    await raw.call(
        "SHUTDOWN", {"executor_id": {"value": "exec-1"}, "agent_id": {"value": agent_id}}
    )
    failure = await raw.next_event("FAILURE")
    assert failure["failure"]["executor_id"] == {"value": "exec-1"}
    assert failure["failure"]["status"] == 0

    [env_file] = sandbox_files(mesos_master, "env.json")
    env = json.loads(env_file.read_text())
    runtime = mesos_master.runtimes[agent_id]
    assert env["MESOS_FRAMEWORK_ID"] == raw.framework_id
    assert env["MESOS_EXECUTOR_ID"] == "exec-1"
    assert env["MESOS_AGENT_ENDPOINT"] == f"127.0.0.1:{runtime.port}"
    assert env["MESOS_SLAVE_ID"] == agent_id
    assert env["MESOS_SLAVE_PID"] == f"slave(1)@127.0.0.1:{runtime.port}"
    assert env["MESOS_CHECKPOINT"] == "0"
    assert env["MESOS_DIRECTORY"] == env["MESOS_SANDBOX"] == str(env_file.parent)
    assert env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] == "1secs"

    events = logged_events(mesos_master)
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["SUBSCRIBED", "LAUNCH"]
    assert "ACKNOWLEDGED" in kinds and "MESSAGE" in kinds and kinds[-1] == "SHUTDOWN"
    subscribed = events[0]["subscribed"]
    assert subscribed["executor_info"]["framework_id"] == {"value": raw.framework_id}
    assert subscribed["agent_info"]["id"] == {"value": agent_id}
    for event in events:
        mesos_protos.check_executor_event(event)


async def test_kill_goes_to_the_executor(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, executor_task("t1", agent_id, executor_info(), "run"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    await raw.call("KILL", {"task_id": {"value": "t1"}})
    killed = await raw.update("TASK_KILLED")
    assert killed["message"] == "killed"


async def test_crashed_executor_fails_its_tasks_and_sends_failure(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, executor_task("t1", agent_id, executor_info(), "crash"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    failed = await raw.update("TASK_FAILED")
    assert failed["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert failed["source"] == "SOURCE_AGENT"
    assert "uuid" in failed
    failure = await raw.next_event("FAILURE")
    assert failure["failure"]["status"] == 7 << 8, "the raw wait status, as Mesos sends it"


def agent_failure_of(status: dict[str, Any], agent_id: str) -> None:
    """The update ``Slave::sendExecutorTerminatedStatusUpdate`` sends for a live task."""
    assert status["state"] == "TASK_FAILED"
    assert status["source"] == "SOURCE_AGENT"
    assert status["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert status["message"] == "Executor terminated"
    assert status["executor_id"] == {"value": "exec-1"}
    assert status["agent_id"] == {"value": agent_id}
    assert len(base64.b64decode(status["uuid"])) == 16


async def test_fault_crash_executor(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, executor_task("t1", agent_id, executor_info(), "run"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    assert mesos_master.faults.crash_executor(agent_id, raw.framework_id, "exec-1")
    agent_failure_of(await raw.update(task_id="t1"), agent_id)
    failure = await raw.next_event("FAILURE")
    assert failure["failure"] == {
        "agent_id": {"value": agent_id},
        "executor_id": {"value": "exec-1"},
        "status": 9,
    }


async def test_killed_executor_fails_a_task_it_was_asked_to_kill(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    """A KILL the executor never answered does not make the agent report TASK_KILLED."""
    raw = await scheduler(capabilities=[{"type": "TASK_KILLING_STATE"}])
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, executor_task("t1", agent_id, executor_info(), "stubborn"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    await raw.call("KILL", {"task_id": {"value": "t1"}, "agent_id": {"value": agent_id}})
    runtime = mesos_master.runtimes[agent_id]
    [process] = runtime.executors.values()
    await mesos_master.wait_for(
        lambda: any(e.get("type") == "KILL" for e in logged_events(mesos_master))
    )
    assert mesos_master.faults.crash_executor(agent_id, raw.framework_id, "exec-1")
    agent_failure_of(await raw.update(task_id="t1"), agent_id)
    assert process.process is not None and process.process.returncode == -9


async def test_executor_that_ignores_shutdown_fails_its_task(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, executor_task("t1", agent_id, executor_info(), "stubborn"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    await raw.call(
        "SHUTDOWN", {"executor_id": {"value": "exec-1"}, "agent_id": {"value": agent_id}}
    )
    agent_failure_of(await raw.update(task_id="t1"), agent_id)
    failure = await raw.next_event("FAILURE")
    assert failure["failure"]["status"] == 0


@pytest.mark.mesos_master(config={"executor_registration_timeout": 0.5})
async def test_executor_that_never_subscribes_is_killed(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    executor = executor_info(command={"value": "sleep 30"})
    await launch(raw, offer, executor_task("t1", agent_id, executor, "run"))
    failed = await raw.update("TASK_FAILED")
    assert failed["reason"] == "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
    assert failed["message"] == "Executor did not register within 500ms"


async def test_executor_endpoint_checks(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    executor = executor_info(command={"value": "sleep 30"})
    await launch(raw, offer, executor_task("t1", agent_id, executor, "run"))
    runtime = mesos_master.runtimes[agent_id]
    await mesos_master.wait_for(
        lambda: (
            (runtime.executors.get((raw.framework_id, "exec-1")) or None)
            and runtime.executors[(raw.framework_id, "exec-1")].process
        )
    )
    url = f"http://{runtime.endpoint}/api/v1/executor"
    ids = {"framework_id": {"value": raw.framework_id}, "executor_id": {"value": "exec-1"}}
    status_body = {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "uuid": base64.b64encode(bytes(16)).decode(),
    }
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {"type": "HEARTBEAT", "executor_id": {"value": "x"}},
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: framework_id",
        ),
        (
            {**ids, "type": "UPDATE", "update": {"status": {**status_body, "uuid": "AAAA"}}},
            400,
            "Failed to validate mesos::executor::Call: Not a valid UUID",
        ),
        (
            {
                **ids,
                "type": "UPDATE",
                "update": {"status": {**status_body, "state": "TASK_STAGING"}},
            },
            400,
            f"Failed to validate mesos::executor::Call: Received TASK_STAGING from executor exec-1 "
            f"of framework {raw.framework_id} which is not allowed",
        ),
        (
            {
                **ids,
                "type": "UPDATE",
                "update": {"status": {**status_body, "source": "SOURCE_MASTER"}},
            },
            400,
            "Failed to validate mesos::executor::Call: Received Call from executor exec-1",
        ),
        (
            {
                "framework_id": {"value": "nope"},
                "executor_id": {"value": "exec-1"},
                "type": "HEARTBEAT",
            },
            400,
            "Framework cannot be found",
        ),
        (
            {**ids, "executor_id": {"value": "other"}, "type": "HEARTBEAT"},
            400,
            "Executor cannot be found",
        ),
        (
            {**ids, "type": "UPDATE", "update": {"status": status_body}},
            403,
            "Executor is not subscribed",
        ),
    ]
    async with aiohttp.ClientSession() as session:
        for body, code, text in cases:
            async with session.post(url, json=body) as response:
                assert response.status == code, body
                assert (await response.text()).startswith(text)
        async with session.get(url) as response:
            assert response.status == 405


@pytest.mark.mesos_master(config={"executor_authentication": True})
async def test_executor_authentication_token(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, executor_task("t1", agent_id, executor_info(), "finish"))
    await raw.update("TASK_RUNNING")
    runtime = mesos_master.runtimes[agent_id]
    url = f"http://{runtime.endpoint}/api/v1/executor"
    body = {
        "framework_id": {"value": raw.framework_id},
        "executor_id": {"value": "exec-1"},
        "type": "HEARTBEAT",
    }
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 401
    [env_file] = sandbox_files(mesos_master, "env.json")
    assert json.loads(env_file.read_text())["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"]


async def test_launch_group_with_custom_executor(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    executor = executor_info(
        resources=[
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
            {"name": "disk", "type": "SCALAR", "scalar": {"value": 10}},
        ]
    )
    tasks = [executor_task(f"g{i}", agent_id, executor) for i in range(2)]
    for task in tasks:
        del task["executor"]
    body = {
        "offer_ids": [offer["id"]],
        "operations": [
            {
                "type": "LAUNCH_GROUP",
                "launch_group": {"executor": executor, "task_group": {"tasks": tasks}},
            }
        ],
    }
    assert (await raw.call("ACCEPT", body))[0] == 202
    seen: set[tuple[str, str]] = set()
    while len(seen) < 4:
        status = await raw.update()
        seen.add((status["task_id"]["value"], status["state"]))
        await raw.acknowledge(status)
    assert ("g1", "TASK_FINISHED") in seen


async def test_default_executor_runs_a_task_group_of_commands(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    executor = {
        "executor_id": {"value": "default-1"},
        "type": "DEFAULT",
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
            {"name": "disk", "type": "SCALAR", "scalar": {"value": 10}},
        ],
    }
    tasks = []
    for i in range(2):
        task = executor_task(f"c{i}", agent_id, executor)
        del task["data"], task["executor"]
        task["command"] = {"value": f"exit {i}"}
        tasks.append(task)
    body = {
        "offer_ids": [offer["id"]],
        "operations": [
            {
                "type": "LAUNCH_GROUP",
                "launch_group": {"executor": executor, "task_group": {"tasks": tasks}},
            }
        ],
    }
    assert (await raw.call("ACCEPT", body))[0] == 202
    final: dict[str, str] = {}
    while len(final) < 2:
        status = await raw.update()
        await raw.acknowledge(status)
        if status["state"] in ("TASK_FINISHED", "TASK_FAILED", "TASK_ERROR"):
            final[status["task_id"]["value"]] = status["state"]
    assert final == {"c0": "TASK_FINISHED", "c1": "TASK_FAILED"}
    await mesos_master.wait_for(lambda: any(e["type"] == "FAILURE" for e in raw.events))


@pytest.mark.parametrize(
    ("capabilities", "dropped"),
    [([{"type": "PARTITION_AWARE"}], "TASK_DROPPED"), ([], "TASK_LOST")],
)
async def test_resubscription_drops_staging_tasks_the_executor_does_not_know(
    scheduler: Any, mesos_master: LocalMaster, capabilities: list[Any], dropped: str
) -> None:
    raw = await scheduler(checkpoint=True, capabilities=capabilities)
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    executor = executor_info()
    await launch(
        raw,
        offer,
        executor_task("held", agent_id, executor, "hold"),
        executor_task("lost", agent_id, executor, "forget"),
    )
    await mesos_master.wait_for(
        lambda: [e["type"] for e in logged_events(mesos_master)].count("LAUNCH") == 2
    )
    mesos_master.faults.restart_agent(agent_id)
    status = await raw.update(task_id="lost")
    assert status["state"] == dropped
    assert status["source"] == "SOURCE_AGENT"
    assert status["reason"] == "REASON_AGENT_RESTARTED"
    assert status["message"] == "Task launched during agent restart"
    assert status["executor_id"] == {"value": "exec-1"}
    assert len(base64.b64decode(status["uuid"])) == 16
    await mesos_master.wait_for(
        lambda: [e["type"] for e in logged_events(mesos_master)].count("SUBSCRIBED") == 2
    )
    await raw.call("RECONCILE", {"tasks": [{"task_id": {"value": "held"}}]})
    assert (await raw.update(task_id="held"))["state"] == "TASK_STAGING"


async def test_kill_before_the_executor_subscribed_is_answered_by_the_agent(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    slow = executor_info(
        command={"value": f"sleep 0.5; exec {sys.executable} {EXECUTOR_SCRIPT}", "shell": True}
    )
    await launch(raw, offer, executor_task("t1", agent_id, slow, "run"))
    await raw.call("KILL", {"task_id": {"value": "t1"}})
    killed = await raw.update(task_id="t1")
    assert killed["state"] == "TASK_KILLED"
    assert killed["source"] == "SOURCE_AGENT"
    assert killed["reason"] == "REASON_TASK_KILLED_DURING_LAUNCH"
    assert killed["message"] == "Killed before delivery to the executor"
    failure = await raw.next_event("FAILURE")
    assert failure["failure"]["status"] == 0, "an executor left without tasks is shut down"
    kinds = [e["type"] for e in logged_events(mesos_master)]
    assert "LAUNCH" not in kinds and kinds[-1] == "SHUTDOWN"


@pytest.mark.mesos_master(config={"executor_reregistration_timeout": 0.5})
async def test_executor_that_does_not_resubscribe_after_agent_restart_is_gone(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler(checkpoint=True, capabilities=[{"type": "PARTITION_AWARE"}])
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    away = executor_info(
        command={
            "value": f"TEST_EXECUTOR_STAY_AWAY=1 exec {sys.executable} {EXECUTOR_SCRIPT}",
            "shell": True,
        }
    )
    await launch(raw, offer, executor_task("t1", agent_id, away, "run"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    mesos_master.faults.restart_agent(agent_id)
    gone = await raw.update(task_id="t1")
    assert gone["state"] == "TASK_GONE"
    assert gone["source"] == "SOURCE_AGENT"
    assert gone["reason"] == "REASON_EXECUTOR_REREGISTRATION_TIMEOUT"
    assert gone["message"] == "Executor did not reregister within 500ms"
    failure = await raw.next_event("FAILURE")
    assert failure["failure"]["status"] == 9
