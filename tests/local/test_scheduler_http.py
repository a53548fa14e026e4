"""The scheduler endpoint over real HTTP: status codes, messages, streams, real tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mesos_wm.errors import MasterRejected
from mesos_wm.local.master import LocalMaster
from mesos_wm.testing.raw import RawScheduler
from tests.local.helpers import command_task, first_offer, launch


async def post(
    master: LocalMaster, body: Any, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, str, Any]:
    all_headers = {"Content-Type": "application/json"}
    if headers is not None:
        all_headers = headers
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            f"{master.url}/api/v1/scheduler",
            data=data,
            headers=all_headers,
            skip_auto_headers=["Content-Type"],
        ) as response,
    ):
        return response.status, await response.text(), response.headers


SUBSCRIBE = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}


@pytest.mark.parametrize(
    ("body", "headers", "method", "status", "text"),
    [
        (SUBSCRIBE, None, "GET", 405, "Expecting one of { 'POST' }, but received 'GET'"),
        (SUBSCRIBE, {}, "POST", 400, "Expecting 'Content-Type' to be present"),
        (
            SUBSCRIBE,
            {"Content-Type": "application/json; charset=utf-8"},
            "POST",
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        ),
        (b"{nope", None, "POST", 400, "Failed to parse body into JSON: "),
        (
            [1, 2],
            None,
            "POST",
            400,
            "Failed to convert JSON into Call protobuf: Expecting a JSON object",
        ),
        (
            {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "n"}}},
            None,
            "POST",
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: "
            "subscribe.framework_info.user",
        ),
        (
            {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": 1, "name": "n"}}},
            None,
            "POST",
            400,
            "Failed to convert JSON into Call protobuf: Not expecting a JSON number "
            "for field 'user'",
        ),
        (
            {"type": "SUBSCRIBE"},
            None,
            "POST",
            400,
            "Failed to validate scheduler::Call: Expecting 'subscribe' to be present",
        ),
        (
            {"type": "BOGUS"},
            None,
            "POST",
            400,
            "Failed to validate scheduler::Call: Expecting 'type' to be present",
        ),
        (
            {"type": "REVIVE"},
            None,
            "POST",
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present",
        ),
        (
            {"type": "REVIVE", "framework_id": {"value": "x"}},
            None,
            "POST",
            400,
            "Framework cannot be found",
        ),
        (
            SUBSCRIBE,
            {"Content-Type": "application/json", "Accept": "text/html"},
            "POST",
            406,
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        ),
        (
            SUBSCRIBE,
            {"Content-Type": "application/json", "Mesos-Stream-Id": "x"},
            "POST",
            400,
            "Subscribe calls should not include the 'Mesos-Stream-Id' header",
        ),
        (
            {**SUBSCRIBE, "framework_id": {"value": "x"}},
            None,
            "POST",
            400,
            "Failed to validate scheduler::Call: 'framework_id' differs from "
            "'subscribe.framework_info.id'",
        ),
    ],
)
async def test_transport_and_validation_errors(
    mesos_master: LocalMaster,
    body: Any,
    headers: dict[str, str] | None,
    method: str,
    status: int,
    text: str,
) -> None:
    got_status, got_text, _ = await post(mesos_master, body, headers, method)
    assert got_status == status
    assert got_text.startswith(text), got_text


async def test_subscribe_stream_headers_and_first_events(mesos_master: LocalMaster) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{mesos_master.url}/api/v1/scheduler", json=SUBSCRIBE) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert "Content-Length" not in response.headers
        assert len(response.headers["Mesos-Stream-Id"]) == 36
        data = await response.content.read(10)
        assert data.split(b"\n")[0].isdigit()


async def test_calls_need_the_right_stream_id_and_a_subscription(scheduler: Any) -> None:
    raw: RawScheduler = await scheduler(failover_timeout=60)
    status, text = await raw.call("REVIVE", {}, headers={"Mesos-Stream-Id": "bogus"})
    assert status == 400
    assert text == (
        "The stream ID 'bogus' included in this request didn't match the stream ID "
        f"currently associated with framework ID {raw.framework_id}"
    )
    status, text = await raw.call("REVIVE", {}, headers={"Mesos-Stream-Id": ""})
    assert status == 400
    assert await raw.call("REVIVE", {}) == (202, "")
    await raw.close()
    master_view = raw.url
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.post(
                f"{master_view}/api/v1/scheduler",
                json={"type": "REVIVE", "framework_id": {"value": raw.framework_id}},
                headers={"Mesos-Stream-Id": raw.stream_id},
            ) as response:
                if response.status == 403:
                    assert await response.text() == "Framework is not subscribed"
                    break
        else:
            pytest.fail("never got 403 after the stream closed")


async def test_invalid_ack_uuid_is_rejected(scheduler: Any, mesos_master: LocalMaster) -> None:
    raw = await scheduler()
    agent_id = next(iter(mesos_master.state.agents))
    status, text = await raw.call(
        "ACKNOWLEDGE", {"agent_id": {"value": agent_id}, "task_id": {"value": "t"}, "uuid": "AAAA"}
    )
    assert (status, text) == (400, "Failed to validate scheduler::Call: Not a valid UUID")


async def test_command_task_really_runs_and_finishes(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, command_task("t1", agent_id, "echo hello; echo oops >&2"))
    seen = []
    while True:
        status = await raw.update(task_id="t1")
        seen.append(status["state"])
        assert status["source"] == "SOURCE_EXECUTOR"
        assert status["agent_id"]["value"] == agent_id
        await raw.acknowledge(status)
        if status["state"] == "TASK_FINISHED":
            assert status["message"] == "Command exited with status 0"
            break
    assert seen == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    [stdout] = Path(mesos_master.work_dir).glob(
        f"slaves/{agent_id}/frameworks/*/executors/t1/runs/*/stdout"
    )
    assert stdout.read_text() == "hello\n"
    assert stdout.with_name("stderr").read_text() == "oops\n"


async def test_argv_command_and_exit_code_in_message(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    task = command_task("t1", agent_id, "/bin/sh")
    task["command"] = {"value": "/bin/sh", "shell": False, "arguments": ["sh", "-c", "exit 3"]}
    await launch(raw, offer, task)
    for state in ("TASK_STARTING", "TASK_RUNNING"):
        await raw.acknowledge(await raw.update(state))
    failed = await raw.update("TASK_FAILED")
    assert failed["message"] == "Command exited with status 3"


async def test_kill_with_grace_sigterm_then_sigkill(
    scheduler: Any, mesos_master: LocalMaster
) -> None:
    raw = await scheduler(capabilities=[{"type": "TASK_KILLING_STATE"}])
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, command_task("t1", agent_id, "trap '' TERM; echo ready; sleep 30"))
    await raw.acknowledge(await raw.update("TASK_STARTING"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    pattern = f"slaves/{agent_id}/frameworks/*/executors/t1/runs/*/stdout"
    # RUNNING is sent once the process exists; the shell may not have set its trap yet.
    await mesos_master.wait_for(
        lambda: any(p.read_text() == "ready\n" for p in Path(mesos_master.work_dir).glob(pattern)),
        timeout=10,
    )
    await raw.call(
        "KILL",
        {"task_id": {"value": "t1"}, "kill_policy": {"grace_period": {"nanoseconds": 200_000_000}}},
    )
    await raw.acknowledge(await raw.update("TASK_KILLING"))
    killed = await raw.update("TASK_KILLED")
    assert killed["message"] == "Command terminated with signal Killed"


async def test_kill_of_a_task_that_obeys_sigterm(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    agent_id = offer["agent_id"]["value"]
    await launch(raw, offer, command_task("t1", agent_id, "exec sleep 30"))
    await raw.acknowledge(await raw.update("TASK_STARTING"))
    await raw.acknowledge(await raw.update("TASK_RUNNING"))
    await raw.call("KILL", {"task_id": {"value": "t1"}})
    killed = await raw.update("TASK_KILLED")
    assert killed["message"] == "Command terminated with signal Terminated"


async def test_update_is_resent_until_acknowledged(scheduler: Any) -> None:
    raw = await scheduler()
    offer = await first_offer(raw)
    await launch(raw, offer, command_task("t1", offer["agent_id"]["value"], "sleep 5"))
    first = await raw.update("TASK_STARTING")
    again = await raw.update("TASK_STARTING", timeout=3)
    assert again["uuid"] == first["uuid"]
    await raw.acknowledge(again)
    running = await raw.update()
    assert running["state"] == "TASK_RUNNING"


async def test_basic_auth(mesos_master_factory: Any) -> None:
    master = await mesos_master_factory(config={"credentials": {"alice": "s3cret"}})
    status, _, headers = await post(master, SUBSCRIBE, method="POST")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    with pytest.raises(MasterRejected) as info:
        await RawScheduler(
            master.url, {"user": "u", "name": "n"}, auth=("alice", "bad")
        ).subscribe()
    assert info.value.status == 401
    raw = RawScheduler(master.url, {"user": "u", "name": "n"}, auth=("alice", "s3cret"))
    first = await raw.subscribe()
    assert first["type"] == "SUBSCRIBED"
    await raw.close()
    assert master.state.frameworks[raw.framework_id].principal == "alice"


async def test_body_size_is_bounded(mesos_master_factory: Any) -> None:
    master = await mesos_master_factory(config={"max_body_size": 1024})
    status, _, _ = await post(master, b"{" + b" " * 4096 + b"}")
    assert status == 413


async def test_non_loopback_bind_is_refused() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        LocalMaster(host="0.0.0.0")
    LocalMaster(host="127.0.0.2")


async def test_malformed_inputs_never_crash_the_master(mesos_master: LocalMaster) -> None:
    bodies: list[Any] = [
        b"",
        b"null",
        b"[]",
        b"\xff\xfe",
        b"1e999",
        b"{" * 5000 + b"}" * 5000,
        {"type": "ACCEPT", "framework_id": {"value": "x"}, "accept": {"offer_ids": "nope"}},
        {
            "type": "SUBSCRIBE",
            "subscribe": {"framework_info": {"user": "u", "name": "n", "capabilities": "x"}},
        },
        {
            "type": "SUBSCRIBE",
            "subscribe": {"framework_info": {"user": "u", "name": "n", "roles": ["a"]}},
        },
    ]
    for body in bodies:
        status, _, _ = await post(mesos_master, body)
        assert status in (200, 400), body
    raw = RawScheduler(mesos_master.url, {"user": "u", "name": "n"})
    assert (await raw.subscribe())["type"] == "SUBSCRIBED"
    await raw.close()
