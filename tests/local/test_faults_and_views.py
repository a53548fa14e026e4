"""Fault injection, failover over HTTP, the operator API and the legacy endpoints."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from mesos_wm.errors import SubscriptionLost
from mesos_wm.local.master import LocalMaster
from mesos_wm.testing.raw import RawScheduler
from tests.local.helpers import command_task, first_offer, launch

SIMULATED = pytest.mark.mesos_master(agents=2, simulated=True, task_duration=30.0)


async def get_json(master: LocalMaster, path: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(master.url + path) as response:
        assert response.status == 200, path
        return await response.json()


async def operator(master: LocalMaster, kind: str) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(master.url + "/api/v1", json={"type": kind}) as response,
    ):
        assert response.status == 200, kind
        return await response.json()


async def run_one(raw: RawScheduler, task_id: str = "t1", **extra: Any) -> dict[str, Any]:
    offer = await first_offer(raw)
    await launch(raw, offer, command_task(task_id, offer["agent_id"]["value"], "sleep 30", **extra))
    while True:
        status = await raw.update(task_id=task_id)
        await raw.acknowledge(status)
        if status["state"] == "TASK_RUNNING":
            return status


@SIMULATED
async def test_drop_stream_then_resubscribe_within_failover_timeout(
    scheduler: Any, mesos_master: LocalMaster, conform: Any
) -> None:
    raw = await scheduler(failover_timeout=30)
    running = await run_one(raw)
    mesos_master.faults.drop_stream(raw.framework_id)
    await asyncio.wait_for(raw.closed.wait(), 5)
    status, text = await raw.call("REVIVE", {})
    assert (status, text) == (403, "Framework is not subscribed")
    again = RawScheduler(mesos_master.url, raw.framework_info, on_event=conform)
    first = await again.subscribe()
    assert first["subscribed"]["framework_id"]["value"] == raw.framework_id
    await again.call("RECONCILE", {"tasks": [{"task_id": {"value": "t1"}}]})
    answer = await again.update(task_id="t1")
    assert answer["state"] == "TASK_RUNNING"
    assert answer["agent_id"] == running["agent_id"]
    assert "uuid" not in answer
    await again.close()


@SIMULATED
async def test_failover_timeout_expiry_over_http(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler(failover_timeout=0.2)
    await run_one(raw)
    await raw.close()
    await mesos_master.wait_for(lambda: not mesos_master.state.frameworks, timeout=5)
    state = await get_json(mesos_master, "/state")
    [done] = state["completed_frameworks"]
    assert done["completed_tasks"][0]["state"] == "TASK_KILLED"


async def test_second_subscription_fails_over_first(
    scheduler: Any, mesos_master: LocalMaster, conform: Any
) -> None:
    raw = await scheduler(failover_timeout=30)
    second = RawScheduler(mesos_master.url, raw.framework_info, on_event=conform)
    await second.subscribe()
    error = await raw.next_event("ERROR")
    assert error["error"]["message"] == "Framework failed over"
    await asyncio.wait_for(raw.closed.wait(), 5)
    await second.close()


@SIMULATED
async def test_remove_agent_makes_tasks_unreachable_or_lost(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    aware = await scheduler(capabilities=[{"type": "PARTITION_AWARE"}])
    running = await run_one(aware)
    agent_id = running["agent_id"]["value"]
    mesos_master.faults.remove_agent(agent_id)
    status = await aware.update("TASK_UNREACHABLE")
    assert status["reason"] == "REASON_AGENT_REMOVED"
    assert status["message"] == "health check timed out"
    assert "unreachable_time" in status
    await aware.call(
        "RECONCILE", {"tasks": [{"task_id": {"value": "t1"}, "agent_id": {"value": agent_id}}]}
    )
    answer = await aware.update(task_id="t1")
    assert answer["state"] == "TASK_UNREACHABLE"
    assert answer["unreachable_time"] == status["unreachable_time"]
    await aware.call("RECONCILE", {"tasks": [{"task_id": {"value": "t1"}}]})
    assert (await aware.update(task_id="t1"))["state"] == "TASK_UNKNOWN"
    slaves = await get_json(mesos_master, "/slaves")
    assert agent_id not in [s["id"] for s in slaves["slaves"]]


@SIMULATED
async def test_remove_agent_gone_for_plain_framework(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler()
    running = await run_one(raw)
    mesos_master.faults.remove_agent(running["agent_id"]["value"], how="gone")
    status = await raw.update("TASK_LOST")
    assert status["source"] == "SOURCE_MASTER"
    failure = await raw.next_event("FAILURE")
    assert failure["failure"] == {"agent_id": running["agent_id"]}


async def test_restart_agent_loses_tasks_of_non_checkpointing_frameworks(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler(capabilities=[{"type": "PARTITION_AWARE"}])
    running = await run_one(raw)
    mesos_master.faults.restart_agent(running["agent_id"]["value"])
    status = await raw.update(task_id="t1")
    assert status["state"] == "TASK_LOST", "Master::removeFramework(Slave*, ...) sends LOST"
    assert status["reason"] == "REASON_AGENT_DISCONNECTED"
    assert status["source"] == "SOURCE_MASTER"
    assert status["message"] == "Agent localhost disconnected"
    assert "uuid" not in status


async def test_rescind_offers(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    mesos_master.faults.rescind_offers()
    rescind = await raw.next_event("RESCIND")
    assert rescind["rescind"]["offer_id"] == offer["id"]
    status, _ = await raw.call(
        "ACCEPT",
        {
            "offer_ids": [offer["id"]],
            "operations": [
                {
                    "type": "LAUNCH",
                    "launch": {
                        "task_infos": [command_task("t1", offer["agent_id"]["value"], "true")]
                    },
                }
            ],
        },
    )
    assert status == 202
    lost = await raw.update("TASK_LOST")
    assert lost["reason"] == "REASON_INVALID_OFFERS"


@pytest.mark.mesos_master(config={"offer_timeout": 0.2})
async def test_offer_timeout_rescinds(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    rescind = await raw.next_event("RESCIND", timeout=5)
    assert rescind["rescind"]["offer_id"] == offer["id"]


async def test_refuse_calls_with_503(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    mesos_master.faults.refuse_calls(60)
    assert await raw.call("REVIVE", {}) == (503, "Master has not finished recovery")
    mesos_master.faults.refuse_calls(0)
    assert (await raw.call("REVIVE", {}))[0] == 202


@SIMULATED
async def test_dropped_acknowledgement_means_resend(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    await launch(raw, offer, command_task("t1", offer["agent_id"]["value"], "x"))
    running = await raw.update("TASK_RUNNING")
    mesos_master.faults.drop_acknowledgements(1)
    await raw.acknowledge(running)
    again = await raw.update("TASK_RUNNING", timeout=5)
    assert again["uuid"] == running["uuid"]


async def test_heartbeats_arrive(scheduler: Any) -> None:
    raw = await scheduler()
    await raw.next_event("HEARTBEAT")
    await raw.next_event("HEARTBEAT", timeout=3)


async def test_teardown_closes_stream(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    assert (await raw.call("TEARDOWN"))[0] == 202
    await asyncio.wait_for(raw.closed.wait(), 5)
    with pytest.raises(SubscriptionLost):
        await raw.next_event("SUBSCRIBED", timeout=1)
    assert not mesos_master.state.frameworks


async def test_legacy_endpoints_have_the_tool_shapes(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler()
    running = await run_one(raw)
    agent_id = running["agent_id"]["value"]
    state = await get_json(mesos_master, "/state")
    assert state == await get_json(mesos_master, "/master/state/")
    assert state["id"] == mesos_master.state.master_id
    assert state["pid"] == state["leader"] == f"master@127.0.0.1:{mesos_master.port}"
    assert state["activated_slaves"] == 1
    [slave] = state["slaves"]
    assert slave["id"] == agent_id
    assert slave["pid"] == f"slave(1)@127.0.0.1:{mesos_master.runtimes[agent_id].port}"
    assert slave["resources"]["ports"] == "[31000-32000]"
    assert slave["resources"]["cpus"] == 4.0
    assert slave["used_resources"]["cpus"] == 0.1
    [framework] = state["frameworks"]
    assert framework["id"] == raw.framework_id
    assert framework["active"] and framework["connected"]
    assert framework["user"] == "tester"
    [task] = framework["tasks"]
    assert task["slave_id"] == agent_id
    assert task["executor_id"] == ""
    assert task["resources"]["cpus"] == 0.1
    assert task["statuses"][-1]["state"] == "TASK_RUNNING"

    frameworks = await get_json(mesos_master, "/master/frameworks/")
    assert frameworks["frameworks"][0]["hostname"] == ""
    assert set(frameworks) == {"frameworks", "completed_frameworks", "unregistered_frameworks"}
    slaves = await get_json(mesos_master, "/slaves")
    assert slaves["slaves"][0]["active"] is True
    tasks = await get_json(mesos_master, "/tasks?order=asc&limit=-1")
    assert [t["id"] for t in tasks["tasks"]] == ["t1"]
    assert tasks["tasks"][0]["statuses"][-1]["state"] == "TASK_RUNNING"
    assert (await get_json(mesos_master, "/tasks?task_id=nope"))["tasks"] == []
    metrics = await get_json(mesos_master, "/metrics/snapshot")
    assert metrics["master/tasks_running"] == 1
    assert metrics["master/elected"] == 1
    async with aiohttp.ClientSession() as session:
        async with session.get(mesos_master.url + "/health") as response:
            assert response.status == 200
        async with session.get(mesos_master.url + "/redirect", allow_redirects=False) as response:
            assert response.status == 307
            assert response.headers["Location"] == f"//localhost:{mesos_master.port}"


async def test_operator_api(scheduler: Any, mesos_master: LocalMaster, mesos_protos: Any) -> None:
    raw = await scheduler()
    await run_one(raw)
    health = await operator(mesos_master, "GET_HEALTH")
    assert health == {"type": "GET_HEALTH", "get_health": {"healthy": True}}
    version = await operator(mesos_master, "GET_VERSION")
    assert version["get_version"]["version_info"]["version"] == "1.11.0"
    for kind in (
        "GET_STATE",
        "GET_AGENTS",
        "GET_FRAMEWORKS",
        "GET_TASKS",
        "GET_MASTER",
        "GET_EXECUTORS",
    ):
        answer = await operator(mesos_master, kind)
        assert answer["type"] == kind
        if mesos_protos.has("mesos.master.Response"):
            mesos_protos.check("mesos.master.Response", answer)
    tasks = (await operator(mesos_master, "GET_TASKS"))["get_tasks"]["tasks"]
    assert tasks[0]["task_id"] == {"value": "t1"}
    master = (await operator(mesos_master, "GET_MASTER"))["get_master"]["master_info"]
    assert master["port"] == mesos_master.port


async def test_operator_subscribe_streams_events(scheduler: Any, mesos_master: LocalMaster) -> None:
    import json

    from mesos_wm.wire.recordio import RecordIODecoder

    async with (
        aiohttp.ClientSession() as session,
        session.post(mesos_master.url + "/api/v1", json={"type": "SUBSCRIBE"}) as response,
    ):
        assert response.status == 200
        decoder = RecordIODecoder()
        events: list[dict[str, Any]] = []
        raw = await scheduler()

        async def read_until(kind: str) -> None:
            while not any(e["type"] == kind for e in events):
                chunk = await response.content.readany()
                events.extend(json.loads(r) for r in decoder.feed(chunk))

        await asyncio.wait_for(read_until("FRAMEWORK_ADDED"), 5)
        assert events[0]["type"] == "SUBSCRIBED"
        await run_one(raw)
        await asyncio.wait_for(read_until("TASK_UPDATED"), 5)
        assert any(e["type"] == "TASK_ADDED" for e in events)
