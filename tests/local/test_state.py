"""The pure master core: every protocol rule checked without sockets or sleeps."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from mesos_wm.ids import encode_uuid, new_uuid
from mesos_wm.local.config import AgentConfig, MasterConfig
from mesos_wm.local.effects import CloseStream, KillTask, LaunchTasks, SendEvent
from mesos_wm.local.state import MasterState
from mesos_wm.local.validation import scheduler_call
from mesos_wm.resources import scalar
from tests.local.conftest import oracle_view

T0 = 1_700_000_000.0
CONFIG = MasterConfig(
    heartbeat_interval=15.0,
    allocation_interval=1.0,
    update_retry_initial=10.0,
    update_retry_max=600.0,
)


def framework_info(**extra: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"user": "alice", "name": "test"}
    info.update(extra)
    return info


def subscribe_call(info: dict[str, Any]) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
    if "id" in info:
        call["framework_id"] = info["id"]
    return call


CHECKS: list[Any] = []


@pytest.fixture(autouse=True)
def check_every_event(mesos_protos: Any) -> Any:
    """Every event the core emits in these tests is validated against the Mesos protos."""
    CHECKS.append(lambda event: mesos_protos.check_scheduler_event(oracle_view(event)))
    yield
    CHECKS.clear()


class Harness:
    def __init__(self, config: MasterConfig = CONFIG, simulated: bool = True, agents: int = 1):
        self.state = MasterState(config, random.Random(7), T0)
        self.now = T0
        self.agent_ids = [
            self.state.add_agent(
                AgentConfig(
                    resources="cpus:4;mem:1024;disk:100;ports:[31000-31010]",
                    attributes="rack:r1;level:2",
                    simulated=simulated,
                    task_duration=5.0,
                ),
                T0,
            )
            for _ in range(agents)
        ]
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.closed: list[str] = []
        self.other: list[Any] = []

    def apply(self, effects: list[Any]) -> None:
        for effect in effects:
            if isinstance(effect, SendEvent):
                for check in CHECKS:
                    check(effect.event)
                self.events.setdefault(effect.stream_id, []).append(effect.event)
            elif isinstance(effect, CloseStream):
                self.closed.append(effect.stream_id)
            else:
                self.other.append(effect)

    def subscribe(self, stream: str = "s1", **extra: Any) -> str:
        self.apply(self.state.subscribe(subscribe_call(framework_info(**extra)), stream, self.now))
        first = self.events[stream][-2]
        assert first["type"] == "SUBSCRIBED", first
        return first["subscribed"]["framework_id"]["value"]

    def call(
        self, fid: str, kind: str, body: dict[str, Any] | None = None, stream: str = "s1"
    ) -> int:
        call: dict[str, Any] = {"type": kind, "framework_id": {"value": fid}}
        if body is not None:
            call[kind.lower()] = body
        assert scheduler_call(call) is None
        reply = self.state.call(call, stream, self.now)
        self.apply(reply.effects)
        return reply.status

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.apply(self.state.tick(self.now))

    def of_type(self, stream: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events.get(stream, []) if e["type"] == kind]

    def offers(self, stream: str = "s1") -> list[dict[str, Any]]:
        return [o for e in self.of_type(stream, "OFFERS") for o in e["offers"]["offers"]]

    def updates(self, stream: str = "s1") -> list[dict[str, Any]]:
        return [e["update"]["status"] for e in self.of_type(stream, "UPDATE")]


def task_info(task_id: str, agent_id: str, cpus: float = 1.0, **extra: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": [scalar("cpus", cpus), scalar("mem", 64)],
        "command": {"value": "true"},
    }
    info.update(extra)
    return info


def launch(
    h: Harness,
    fid: str,
    offer: dict[str, Any],
    *tasks: dict[str, Any],
    filters: dict[str, Any] | None = None,
) -> int:
    body: dict[str, Any] = {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}],
    }
    if filters is not None:
        body["filters"] = filters
    return h.call(fid, "ACCEPT", body)


def test_ids_use_mesos_formats() -> None:
    h = Harness(agents=2)
    master_id = h.state.master_id
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", master_id
    )
    assert h.agent_ids == [f"{master_id}-S0", f"{master_id}-S1"]
    assert h.subscribe() == f"{master_id}-0000"
    assert h.subscribe("s2") == f"{master_id}-0001"
    h.advance(0)
    ids = sorted(o["id"]["value"] for o in h.offers() + h.offers("s2"))
    assert ids == [f"{master_id}-O0", f"{master_id}-O1"]


def test_subscribe_sends_subscribed_then_heartbeat_and_heartbeats_on_interval() -> None:
    h = Harness()
    fid = h.subscribe()
    first, second = h.events["s1"][:2]
    assert first["subscribed"]["heartbeat_interval_seconds"] == 15.0
    assert first["subscribed"]["master_info"]["id"] == h.state.master_id
    assert second == {"type": "HEARTBEAT"}
    h.advance(14.9)
    assert len(h.of_type("s1", "HEARTBEAT")) == 1
    h.advance(0.2)
    assert len(h.of_type("s1", "HEARTBEAT")) == 2
    assert fid


def test_offers_carry_agent_resources_attributes_and_url() -> None:
    h = Harness()
    h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    assert offer["agent_id"]["value"] == h.agent_ids[0]
    assert offer["hostname"] == "localhost"
    assert {r["name"] for r in offer["resources"]} == {"cpus", "mem", "disk", "ports"}
    assert "allocation_info" not in offer
    attrs = {a["name"]: a for a in offer["attributes"]}
    assert attrs["rack"] == {"name": "rack", "type": "TEXT", "text": {"value": "r1"}}
    assert attrs["level"]["scalar"] == {"value": 2.0}
    assert offer["url"]["path"] == "/slave(1)"


def test_multi_role_framework_gets_allocation_info_per_role() -> None:
    h = Harness(agents=2)
    h.subscribe(roles=["a", "b"], capabilities=[{"type": "MULTI_ROLE"}])
    h.advance(0)
    offers = h.offers()
    assert len(offers) == 2
    for offer in offers:
        role = offer["allocation_info"]["role"]
        assert all(r["allocation_info"]["role"] == role for r in offer["resources"])


def test_simulated_task_runs_finishes_and_streams_one_update_at_a_time() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    assert launch(h, fid, offer, task_info("t1", h.agent_ids[0])) == 202
    [running] = h.updates()
    assert running["state"] == "TASK_RUNNING"
    assert running["source"] == "SOURCE_EXECUTOR"
    assert len(running["uuid"]) == 24
    h.advance(5.0)
    assert len(h.updates()) == 1
    h.call(
        fid,
        "ACKNOWLEDGE",
        {
            "agent_id": {"value": h.agent_ids[0]},
            "task_id": {"value": "t1"},
            "uuid": running["uuid"],
        },
    )
    finished = h.updates()[-1]
    assert finished["state"] == "TASK_FINISHED"
    assert finished["uuid"] != running["uuid"]
    task = h.state.frameworks[fid].tasks["t1"]
    assert task.state == "TASK_FINISHED"
    h.call(
        fid,
        "ACKNOWLEDGE",
        {
            "agent_id": {"value": h.agent_ids[0]},
            "task_id": {"value": "t1"},
            "uuid": finished["uuid"],
        },
    )
    assert "t1" not in h.state.frameworks[fid].tasks
    assert h.state.frameworks[fid].completed_tasks[-1].task_id == "t1"


def test_unacknowledged_update_is_resent_with_doubling_backoff() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    launch(
        h,
        fid,
        offer,
        task_info(
            "t1",
            h.agent_ids[0],
            labels={"labels": [{"key": "mesos_wm.local/duration", "value": "inf"}]},
        ),
    )
    assert len(h.updates()) == 1
    h.advance(9.9)
    assert len(h.updates()) == 1
    h.advance(0.1)
    assert len(h.updates()) == 2
    h.advance(19.9)
    assert len(h.updates()) == 2
    h.advance(0.1)
    assert len(h.updates()) == 3
    assert len({u["uuid"] for u in h.updates()}) == 1


def test_resources_are_freed_on_terminal_state_and_reoffered() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    launch(h, fid, offer, task_info("t1", h.agent_ids[0], cpus=4.0), filters={"refuse_seconds": 0})
    h.advance(1.0)
    assert len(h.offers()) == 2
    assert all(r["name"] != "cpus" for r in h.offers()[-1]["resources"])
    h.call(fid, "DECLINE", {"offer_ids": [h.offers()[-1]["id"]], "filters": {"refuse_seconds": 0}})
    h.advance(5.0)
    cpus = [r for r in h.offers()[-1]["resources"] if r["name"] == "cpus"]
    assert cpus == [scalar("cpus", 4.0)]


def test_invalid_offer_gives_lost_or_dropped_without_uuid() -> None:
    for aware, state in ((False, "TASK_LOST"), (True, "TASK_DROPPED")):
        h = Harness()
        caps = [{"type": "PARTITION_AWARE"}] if aware else []
        fid = h.subscribe(capabilities=caps)
        bogus = {"id": {"value": "nope"}}
        launch(h, fid, bogus, task_info("t1", h.agent_ids[0]))
        [status] = h.updates()
        assert status["state"] == state
        assert status["reason"] == "REASON_INVALID_OFFERS"
        assert status["source"] == "SOURCE_MASTER"
        assert (
            status["message"] == "Task launched with invalid offers: Offer nope is no longer valid"
        )
        assert "uuid" not in status


def test_offer_is_usable_once() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    launch(h, fid, offer, task_info("t1", h.agent_ids[0]))
    launch(h, fid, offer, task_info("t2", h.agent_ids[0]))
    assert h.updates()[-1]["state"] == "TASK_LOST"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resources": []}, "Task uses no resources"),
        ({"agent_id": {"value": "other"}}, "Task uses invalid agent other while agent"),
        ({"task_id": {"value": "a/b"}}, "TaskID 'a/b' contains invalid characters"),
        (
            {"executor": {"executor_id": {"value": "e"}, "command": {"value": "x"}}},
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo",
        ),
        (
            {"resources": [scalar("cpus", 5.0)]},
            "Total resources cpus(allocated: *):5 required by task",
        ),
        (
            {"kill_policy": {"grace_period": {"nanoseconds": -1}}},
            "Task's 'kill_policy.grace_period' must be non-negative",
        ),
    ],
)
def test_invalid_task_gives_task_error(change: dict[str, Any], message: str) -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    info = task_info("t1", h.agent_ids[0])
    info.update(change)
    launch(h, fid, offer, info)
    [status] = h.updates()
    assert status["state"] == "TASK_ERROR"
    assert status["reason"] == "REASON_TASK_INVALID"
    assert status["message"].startswith(message), status["message"]
    assert "uuid" not in status


def test_duplicate_task_id_in_one_accept() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    launch(h, fid, offer, task_info("t1", h.agent_ids[0]), task_info("t1", h.agent_ids[0]))
    states = [u["state"] for u in h.updates()]
    assert states == ["TASK_RUNNING", "TASK_ERROR"]
    assert h.updates()[1]["message"] == "Task has duplicate ID: t1"


def test_decline_filter_is_honoured_until_it_expires() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    [offer] = h.offers()
    h.call(fid, "DECLINE", {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 3.0}})
    h.advance(1.0)
    h.advance(1.0)
    assert len(h.offers()) == 1
    h.advance(1.0)
    assert len(h.offers()) == 2


def test_default_refuse_seconds_is_five() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    h.call(fid, "DECLINE", {"offer_ids": [h.offers()[0]["id"]]})
    h.advance(4.0)
    assert len(h.offers()) == 1
    h.advance(1.0)
    assert len(h.offers()) == 2


def test_suppress_stops_offers_and_revive_restarts_them_clearing_filters() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    h.call(fid, "DECLINE", {"offer_ids": [h.offers()[0]["id"]], "filters": {"refuse_seconds": 100}})
    h.call(fid, "SUPPRESS", {})
    h.advance(200)
    assert len(h.offers()) == 1
    h.call(fid, "REVIVE", {})
    h.advance(0)
    assert len(h.offers()) == 2


def test_explicit_reconciliation_answers() -> None:
    for aware in (False, True):
        h = Harness()
        caps = [{"type": "PARTITION_AWARE"}] if aware else []
        fid = h.subscribe(capabilities=caps)
        h.advance(0)
        launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
        h.call(
            fid,
            "RECONCILE",
            {
                "tasks": [
                    {"task_id": {"value": "t1"}},
                    {"task_id": {"value": "ghost"}, "agent_id": {"value": h.agent_ids[0]}},
                    {"task_id": {"value": "ghost2"}, "agent_id": {"value": "nowhere"}},
                ]
            },
        )
        known, gone, unknown = h.updates()[-3:]
        assert known["state"] == "TASK_RUNNING"
        assert known["message"] == "Reconciliation: Latest task state"
        for status in (known, gone, unknown):
            assert status["reason"] == "REASON_RECONCILIATION"
            assert status["source"] == "SOURCE_MASTER"
            assert "uuid" not in status
        assert gone["state"] == ("TASK_GONE" if aware else "TASK_LOST")
        assert unknown["state"] == ("TASK_UNKNOWN" if aware else "TASK_LOST")


def test_implicit_reconciliation_returns_every_known_task() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]), task_info("t2", h.agent_ids[0]))
    before = len(h.updates())
    h.call(fid, "RECONCILE", {"tasks": []})
    answers = h.updates()[before:]
    assert sorted(a["task_id"]["value"] for a in answers) == ["t1", "t2"]


def test_kill_unknown_task_answers_by_reconciliation() -> None:
    h = Harness()
    fid = h.subscribe()
    h.call(fid, "KILL", {"task_id": {"value": "ghost"}})
    assert h.updates()[-1]["state"] == "TASK_LOST"


def test_kill_simulated_task_with_killing_state() -> None:
    h = Harness()
    fid = h.subscribe(capabilities=[{"type": "TASK_KILLING_STATE"}])
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
    h.call(fid, "KILL", {"task_id": {"value": "t1"}})
    assert h.state.frameworks[fid].tasks["t1"].state == "TASK_KILLED"
    streamed = [u["state"] for u in h.updates()]
    assert streamed == ["TASK_RUNNING"]
    for expected in ("TASK_KILLING", "TASK_KILLED"):
        h.call(
            fid,
            "ACKNOWLEDGE",
            {
                "agent_id": {"value": h.agent_ids[0]},
                "task_id": {"value": "t1"},
                "uuid": h.updates()[-1]["uuid"],
            },
        )
        assert h.updates()[-1]["state"] == expected


def test_kill_on_real_agent_is_an_effect() -> None:
    h = Harness(simulated=False)
    fid = h.subscribe()
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
    assert isinstance(h.other[-1], LaunchTasks)
    h.call(fid, "KILL", {"task_id": {"value": "t1"}})
    assert isinstance(h.other[-1], KillTask)


def test_call_checks_in_mesos_order() -> None:
    h = Harness()
    fid = h.subscribe(failover_timeout=60.0)
    call = {"type": "REVIVE", "framework_id": {"value": "nope"}}
    assert h.state.call(call, "s1", h.now).message == "Framework cannot be found"
    call = {"type": "REVIVE", "framework_id": {"value": fid}}
    reply = h.state.call(call, None, h.now)
    assert (reply.status, reply.message) == (
        400,
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
    )
    reply = h.state.call(call, "wrong", h.now)
    assert reply.status == 400 and "didn't match the stream ID" in reply.message
    h.apply(h.state.stream_closed("s1", h.now))
    reply = h.state.call(call, "s1", h.now)
    assert (reply.status, reply.message) == (403, "Framework is not subscribed")


def test_second_subscription_fails_over_the_first_stream() -> None:
    h = Harness()
    fid = h.subscribe(failover_timeout=60.0)
    h.apply(
        h.state.subscribe(
            subscribe_call(framework_info(id={"value": fid}, failover_timeout=60.0)), "s2", h.now
        )
    )
    assert h.events["s1"][-1] == {"type": "ERROR", "error": {"message": "Framework failed over"}}
    assert "s1" in h.closed
    assert h.events["s2"][0]["subscribed"]["framework_id"]["value"] == fid


def test_resubscribe_cannot_change_user() -> None:
    h = Harness()
    fid = h.subscribe(failover_timeout=60.0)
    info = framework_info(id={"value": fid}, failover_timeout=60.0)
    info["user"] = "mallory"
    h.apply(h.state.subscribe(subscribe_call(info), "s2", h.now))
    assert h.events["s2"][0]["type"] == "ERROR"
    assert "FrameworkInfo.user" in h.events["s2"][0]["error"]["message"]
    assert "s2" in h.closed


def test_failover_within_timeout_keeps_tasks_and_resends_pending_updates() -> None:
    h = Harness()
    fid = h.subscribe(failover_timeout=10.0)
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
    h.apply(h.state.stream_closed("s1", h.now))
    h.advance(9.0)
    h.apply(
        h.state.subscribe(
            subscribe_call(framework_info(id={"value": fid}, failover_timeout=10.0)), "s2", h.now
        )
    )
    assert "t1" in h.state.frameworks[fid].tasks
    assert [u["state"] for u in h.updates("s2")] == ["TASK_RUNNING"]


def test_failover_timeout_expiry_removes_framework_and_kills_tasks() -> None:
    h = Harness()
    fid = h.subscribe(failover_timeout=10.0)
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
    h.apply(h.state.stream_closed("s1", h.now))
    h.advance(10.0)
    assert fid not in h.state.frameworks
    removed = h.state.completed_frameworks[-1]
    assert removed.completed_tasks[-1].state == "TASK_KILLED"
    agent = h.state.agents[h.agent_ids[0]]
    assert agent.allocated.is_empty()
    h.apply(h.state.subscribe(subscribe_call(framework_info(id={"value": fid})), "s3", h.now))
    assert h.events["s3"][0]["error"]["message"] == "Framework has been removed"


def test_zero_failover_timeout_removes_framework_at_once() -> None:
    h = Harness()
    fid = h.subscribe()
    h.apply(h.state.stream_closed("s1", h.now))
    assert fid not in h.state.frameworks


def test_teardown_removes_framework() -> None:
    h = Harness()
    fid = h.subscribe()
    assert h.call(fid, "TEARDOWN") == 202
    assert "s1" in h.closed
    assert fid not in h.state.frameworks


def test_remove_agent_partition_aware_vs_not() -> None:
    h = Harness(agents=1)
    plain = h.subscribe("s1")
    aware = h.subscribe("s2", capabilities=[{"type": "PARTITION_AWARE"}])
    h.advance(0)
    offers = h.offers("s1") + h.offers("s2")
    [offer] = offers
    owner, stream = (plain, "s1") if offer in h.offers("s1") else (aware, "s2")
    launch_body = {
        "offer_ids": [offer["id"]],
        "operations": [
            {"type": "LAUNCH", "launch": {"task_infos": [task_info("t1", h.agent_ids[0])]}}
        ],
    }
    h.call(owner, "ACCEPT", launch_body, stream=stream)
    h.apply(h.state.remove_agent(h.agent_ids[0], h.now, "unreachable"))
    status = h.updates(stream)[-1]
    assert status["state"] == ("TASK_UNREACHABLE" if owner == aware else "TASK_LOST")
    assert status["reason"] == "REASON_AGENT_REMOVED"
    assert h.of_type("s1", "FAILURE")[-1]["failure"] == {"agent_id": {"value": h.agent_ids[0]}}


def test_dropped_and_delayed_acknowledgements() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    launch(
        h,
        fid,
        h.offers()[0],
        task_info(
            "t1",
            h.agent_ids[0],
            labels={"labels": [{"key": "mesos_wm.local/duration", "value": "1"}]},
        ),
    )
    h.state.drop_acks = 1
    running = h.updates()[-1]
    ack = {
        "agent_id": {"value": h.agent_ids[0]},
        "task_id": {"value": "t1"},
        "uuid": running["uuid"],
    }
    h.call(fid, "ACKNOWLEDGE", ack)
    h.advance(1.0)
    assert [u["state"] for u in h.updates()] == ["TASK_RUNNING"]
    h.advance(9.0)
    assert [u["state"] for u in h.updates()] == ["TASK_RUNNING", "TASK_RUNNING"]
    h.state.ack_delay = 2.0
    h.call(fid, "ACKNOWLEDGE", ack)
    h.advance(1.0)
    assert h.updates()[-1]["state"] == "TASK_RUNNING"
    h.advance(1.0)
    assert h.updates()[-1]["state"] == "TASK_FINISHED"


def test_executor_update_duplicate_uuid_is_not_forwarded_twice() -> None:
    h = Harness(simulated=False)
    fid = h.subscribe()
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
    status = {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "executor_id": {"value": "t1"},
        "uuid": encode_uuid(new_uuid()),
        "timestamp": h.now,
    }
    h.apply(h.state.executor_update(h.agent_ids[0], fid, status, h.now))
    h.apply(h.state.executor_update(h.agent_ids[0], fid, status, h.now))
    assert len(h.updates()) == 1
    assert h.updates()[0]["agent_id"] == {"value": h.agent_ids[0]}


def test_update_framework_changes_roles_and_rejects_user_change() -> None:
    h = Harness()
    fid = h.subscribe(failover_timeout=60.0)
    info = framework_info(
        id={"value": fid}, roles=["x"], capabilities=[{"type": "MULTI_ROLE"}], failover_timeout=60.0
    )
    assert h.call(fid, "UPDATE_FRAMEWORK", {"framework_info": info}) == 200
    assert h.state.frameworks[fid].roles == ("x",)
    h.advance(0)
    assert h.offers()[-1]["allocation_info"] == {"role": "x"}
    bad = {**info, "user": "mallory"}
    call = {
        "type": "UPDATE_FRAMEWORK",
        "framework_id": {"value": fid},
        "update_framework": {"framework_info": bad},
    }
    reply = h.state.call(call, "s1", h.now)
    assert reply.status == 400 and "FrameworkInfo.user" in reply.message


def test_multi_role_task_must_carry_the_offer_role() -> None:
    h = Harness()
    fid = h.subscribe(roles=["a"], capabilities=[{"type": "MULTI_ROLE"}])
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", h.agent_ids[0]))
    assert h.updates()[-1]["state"] == "TASK_ERROR"
    h.advance(5.0)
    info = task_info("t2", h.agent_ids[0])
    info["resources"] = [scalar("cpus", 1, role="a"), scalar("mem", 64, role="a")]
    launch(h, fid, h.offers()[-1], info)
    assert h.updates()[-1]["state"] == "TASK_RUNNING"


def test_launch_group_executor_needs_cpus_mem_and_disk() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    executor = {
        "executor_id": {"value": "e"},
        "type": "DEFAULT",
        "resources": [scalar("cpus", 0.1), scalar("mem", 32)],
    }
    tasks = [task_info(f"g{i}", h.agent_ids[0]) for i in range(2)]
    for task in tasks:
        del task["command"]
    body = {
        "offer_ids": [h.offers()[0]["id"]],
        "operations": [
            {
                "type": "LAUNCH_GROUP",
                "launch_group": {"executor": executor, "task_group": {"tasks": tasks}},
            }
        ],
    }
    h.call(fid, "ACCEPT", body)
    errors = h.updates()
    assert [e["state"] for e in errors] == ["TASK_ERROR", "TASK_ERROR"]
    assert errors[0]["message"] == "Executor 'e' uses no disk"
    assert {e["reason"] for e in errors} == {"REASON_TASK_GROUP_INVALID"}


def test_gpu_agents_are_offered_only_to_gpu_frameworks() -> None:
    state = MasterState(CONFIG, random.Random(1), T0)
    state.add_agent(AgentConfig(resources="cpus:1;mem:128;gpus:1", simulated=True), T0)
    plain = state.subscribe(subscribe_call(framework_info()), "p", T0)
    gpu = state.subscribe(
        subscribe_call(framework_info(capabilities=[{"type": "GPU_RESOURCES"}])), "g", T0
    )
    assert plain and gpu
    effects = state.tick(T0)
    offered = {
        e.stream_id for e in effects if isinstance(e, SendEvent) and e.event["type"] == "OFFERS"
    }
    assert offered == {"g"}


def test_schema_drops_unknown_optional_enums_and_reports_paths() -> None:
    from mesos_wm.local.schema import check

    body = {
        "type": "SUBSCRIBE",
        "subscribe": {
            "framework_info": {"user": "u", "name": "n", "capabilities": [{"type": "FUTURE_THING"}]}
        },
    }
    assert check("scheduler.Call", body) is None
    assert body["subscribe"]["framework_info"]["capabilities"] == [{}]
    call = {
        "type": "ACCEPT",
        "framework_id": {"value": "f"},
        "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [{"name": "x"}]}}]},
    }
    assert check("scheduler.Call", call) == (
        "Missing required fields: accept.operations[0].launch.task_infos[0].task_id, "
        "accept.operations[0].launch.task_infos[0].agent_id"
    )
    assert check(
        "executor.Call",
        {
            "framework_id": {"value": "f"},
            "executor_id": {"value": "e"},
            "type": "UPDATE",
            "update": {"status": {"task_id": {"value": "t"}, "state": "TASK_BOGUS"}},
        },
    ) == ("Failed to find enum for 'TASK_BOGUS'")


def custom_task(task_id: str, agent_id: str) -> dict[str, Any]:
    executor = {
        "executor_id": {"value": "e1"},
        "type": "CUSTOM",
        "command": {"value": "run-executor"},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32)],
    }
    info = task_info(task_id, agent_id, cpus=0.5, executor=executor)
    del info["command"]
    return info


def executor_status(task_id: str, state: str, now: float) -> dict[str, Any]:
    return {
        "task_id": {"value": task_id},
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "executor_id": {"value": "e1"},
        "uuid": encode_uuid(new_uuid()),
        "timestamp": now,
    }


@pytest.mark.parametrize("killed", [False, True])
def test_executor_termination_fails_live_tasks_even_after_kill_or_shutdown(
    killed: bool,
) -> None:
    h = Harness(simulated=False)
    fid = h.subscribe(capabilities=[{"type": "TASK_KILLING_STATE"}])
    agent_id = h.agent_ids[0]
    h.advance(0)
    launch(h, fid, h.offers()[0], custom_task("t1", agent_id), custom_task("t2", agent_id))
    for status in (
        executor_status("t1", "TASK_RUNNING", h.now),
        executor_status("t2", "TASK_FINISHED", h.now),
    ):
        h.apply(h.state.executor_update(agent_id, fid, status, h.now))
    h.call(
        fid,
        "ACKNOWLEDGE",
        {
            "agent_id": {"value": agent_id},
            "task_id": {"value": "t1"},
            "uuid": h.updates()[0]["uuid"],
        },
    )
    h.call(fid, "KILL", {"task_id": {"value": "t1"}})
    h.apply(
        h.state.executor_update(agent_id, fid, executor_status("t1", "TASK_KILLING", h.now), h.now)
    )
    h.apply(h.state.executor_terminated(agent_id, fid, "e1", 9, h.now, killed=killed))
    assert h.state.frameworks[fid].tasks["t1"].state == "TASK_FAILED"
    assert h.state.frameworks[fid].tasks["t2"].state == "TASK_FINISHED"
    [failure] = h.of_type("s1", "FAILURE")
    assert failure["failure"] == {
        "agent_id": {"value": agent_id},
        "executor_id": {"value": "e1"},
        "status": 9,
    }
    assert fid not in h.state.agents[agent_id].executors
    killing = [u for u in h.updates() if u["task_id"]["value"] == "t1"][-1]
    assert killing["state"] == "TASK_KILLING"
    h.call(
        fid,
        "ACKNOWLEDGE",
        {"agent_id": {"value": agent_id}, "task_id": {"value": "t1"}, "uuid": killing["uuid"]},
    )
    status = h.updates()[-1]
    assert (status["task_id"]["value"], status["state"]) == ("t1", "TASK_FAILED")
    assert status["source"] == "SOURCE_AGENT"
    assert status["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert status["message"] == "Executor terminated"
    assert status["executor_id"] == {"value": "e1"}


def test_executor_termination_with_unknown_status_and_agent_reason() -> None:
    h = Harness(simulated=False)
    fid = h.subscribe()
    agent_id = h.agent_ids[0]
    h.advance(0)
    launch(h, fid, h.offers()[0], custom_task("t1", agent_id))
    h.apply(
        h.state.executor_terminated(
            agent_id,
            fid,
            "e1",
            None,
            h.now,
            reason="REASON_CONTAINER_LAUNCH_FAILED",
            message="Failed to launch container: boom",
        )
    )
    [status] = h.updates()
    assert (status["state"], status["reason"]) == ("TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED")
    assert h.of_type("s1", "FAILURE")[0]["failure"]["status"] == -1
    h.apply(h.state.executor_terminated(agent_id, fid, "e1", 0, h.now))
    assert len(h.of_type("s1", "FAILURE")) == 1, "an executor already gone is not reported"


def test_executor_resubscription_drops_delivered_staging_tasks_it_does_not_list() -> None:
    h = Harness(simulated=False)
    fid = h.subscribe(capabilities=[{"type": "PARTITION_AWARE"}])
    agent_id = h.agent_ids[0]
    h.advance(0)
    ids = ["running", "listed", "unlisted", "queued"]
    launch(h, fid, h.offers()[0], *(custom_task(t, agent_id) for t in ids))
    h.apply(
        h.state.executor_update(
            agent_id, fid, executor_status("running", "TASK_RUNNING", h.now), h.now
        )
    )
    effects = h.state.executor_subscribed(
        agent_id,
        fid,
        "e1",
        launched=["running", "listed", "unlisted"],
        unacknowledged=["listed"],
        now=h.now,
    )
    h.apply(effects)
    [dropped] = [u for u in h.updates() if u["state"] != "TASK_RUNNING"]
    assert dropped["task_id"] == {"value": "unlisted"}
    assert dropped["state"] == "TASK_DROPPED"
    assert (dropped["source"], dropped["reason"]) == ("SOURCE_AGENT", "REASON_AGENT_RESTARTED")
    assert dropped["message"] == "Task launched during agent restart"
    assert "uuid" in dropped
    tasks = h.state.frameworks[fid].tasks
    assert [tasks[t].state for t in ids] == [
        "TASK_RUNNING",
        "TASK_STAGING",
        "TASK_DROPPED",
        "TASK_STAGING",
    ]
    assert (
        h.state.executor_subscribed(
            agent_id, fid, "e1", launched=["unlisted"], unacknowledged=[], now=h.now
        )
        == []
    )


def ack(h: Harness, fid: str, status: dict[str, Any]) -> None:
    h.call(
        fid,
        "ACKNOWLEDGE",
        {"agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]},
    )


def reconcile(h: Harness, fid: str, *tasks: tuple[str, str | None]) -> list[dict[str, Any]]:
    before = len(h.updates())
    body: list[dict[str, Any]] = []
    for task_id, agent_id in tasks:
        item: dict[str, Any] = {"task_id": {"value": task_id}}
        if agent_id is not None:
            item["agent_id"] = {"value": agent_id}
        body.append(item)
    h.call(fid, "RECONCILE", {"tasks": body})
    return h.updates()[before:]


def test_reconciliation_answers_the_state_forwarded_not_the_one_queued_behind_it() -> None:
    h = Harness()
    fid = h.subscribe()
    h.advance(0)
    quick = task_info(
        "t1", h.agent_ids[0], labels={"labels": [{"key": "mesos_wm.local/duration", "value": "1"}]}
    )
    launch(h, fid, h.offers()[0], quick)
    h.advance(1.0)
    [running] = h.updates()
    assert h.state.frameworks[fid].tasks["t1"].state == "TASK_FINISHED"
    [explicit] = reconcile(h, fid, ("t1", None))
    [implicit] = reconcile(h, fid)
    assert explicit["state"] == implicit["state"] == "TASK_RUNNING"
    assert "uuid" not in explicit
    ack(h, fid, running)
    assert h.updates()[-1]["state"] == "TASK_FINISHED"
    [answer] = reconcile(h, fid, ("t1", h.agent_ids[0]))
    assert answer["state"] == "TASK_FINISHED"


def test_unreachable_tasks_are_reconciled_by_their_agent_and_end_when_it_is_marked_gone() -> None:
    h = Harness()
    fid = h.subscribe(capabilities=[{"type": "PARTITION_AWARE"}])
    agent_id = h.agent_ids[0]
    h.advance(0)
    launch(h, fid, h.offers()[0], task_info("t1", agent_id))
    h.advance(1.0)
    h.apply(h.state.remove_agent(agent_id, h.now, "unreachable"))
    unreachable = h.updates()[-1]
    assert unreachable["state"] == "TASK_UNREACHABLE"
    assert reconcile(h, fid) == [], "implicit reconciliation skips unreachable tasks"
    by_agent, unknown = reconcile(h, fid, ("t1", agent_id), ("t1", None))
    assert by_agent["state"] == "TASK_UNREACHABLE"
    assert by_agent["message"] == "Reconciliation: Task is unreachable"
    assert by_agent["unreachable_time"] == unreachable["unreachable_time"]
    assert unknown["state"] == "TASK_UNKNOWN"
    h.apply(h.state.remove_agent(agent_id, h.now, "gone"))
    gone = h.updates()[-1]
    assert gone["state"] == "TASK_GONE_BY_OPERATOR"
    assert gone["reason"] == "REASON_AGENT_REMOVED_BY_OPERATOR"
    assert gone["message"] == "Agent has been marked gone"
    assert "t1" not in h.state.frameworks[fid].unreachable_tasks
    assert h.state.frameworks[fid].completed_tasks[-1].state == "TASK_GONE_BY_OPERATOR"
    [answer] = reconcile(h, fid, ("t1", agent_id))
    assert (answer["state"], answer["message"]) == (
        "TASK_GONE_BY_OPERATOR",
        "Reconciliation: Task is gone",
    )


REMOVALS = {
    ("unreachable", True): ("TASK_UNREACHABLE", "REASON_AGENT_REMOVED", "health check timed out"),
    ("unreachable", False): ("TASK_LOST", "REASON_AGENT_REMOVED", "health check timed out"),
    ("gone", True): (
        "TASK_GONE_BY_OPERATOR",
        "REASON_AGENT_REMOVED_BY_OPERATOR",
        "Agent has been marked gone",
    ),
    ("gone", False): ("TASK_LOST", "REASON_AGENT_REMOVED", "Agent has been marked gone"),
    ("removed", True): (
        "TASK_LOST",
        "REASON_AGENT_REMOVED",
        "Agent localhost removed: the agent unregistered",
    ),
    ("removed", False): (
        "TASK_LOST",
        "REASON_AGENT_REMOVED",
        "Agent localhost removed: the agent unregistered",
    ),
}


@pytest.mark.parametrize(("how", "aware"), sorted(REMOVALS))
def test_agent_removal_updates_every_task_then_rescinds_then_fails_the_agent(
    how: str, aware: bool
) -> None:
    h = Harness()
    fid = h.subscribe(capabilities=[{"type": "PARTITION_AWARE"}] if aware else [])
    agent_id = h.agent_ids[0]
    h.advance(0)
    done = task_info(
        "done", agent_id, labels={"labels": [{"key": "mesos_wm.local/duration", "value": "0"}]}
    )
    launch(h, fid, h.offers()[0], task_info("live", agent_id), done, filters={"refuse_seconds": 0})
    h.advance(1.0)
    assert len(h.offers()) == 2, "the rest of the agent is offered again"
    assert h.state.frameworks[fid].tasks["done"].state == "TASK_FINISHED"
    before = len(h.events["s1"])
    h.apply(h.state.remove_agent(agent_id, h.now, how))
    events = h.events["s1"][before:]
    assert [e["type"] for e in events] == ["UPDATE", "UPDATE", "RESCIND", "FAILURE"]
    state, reason, message = REMOVALS[(how, aware)]
    for event in events[:2]:
        status = event["update"]["status"]
        assert (status["state"], status["reason"], status["message"]) == (state, reason, message)
        assert status["source"] == "SOURCE_MASTER"
        assert "uuid" not in status
        assert ("unreachable_time" in status) == (how == "unreachable")
    framework = h.state.frameworks[fid]
    assert not framework.tasks
    held = (
        framework.unreachable_tasks
        if how == "unreachable"
        else {t.task_id: t for t in framework.completed_tasks}
    )
    assert held["done"].state == "TASK_FINISHED", "a terminal task keeps its state"
    assert held["live"].state == state


@pytest.mark.parametrize("aware", [False, True])
def test_agent_restart_loses_the_tasks_of_frameworks_without_checkpoint(aware: bool) -> None:
    h = Harness(agents=2)
    caps = [{"type": "PARTITION_AWARE"}] if aware else []
    plain = h.subscribe("s1", capabilities=caps)
    kept = h.subscribe("s2", checkpoint=True)
    h.advance(0)
    for fid, stream in ((plain, "s1"), (kept, "s2")):
        [offer] = h.offers(stream)
        body = {
            "offer_ids": [offer["id"]],
            "operations": [
                {
                    "type": "LAUNCH",
                    "launch": {
                        "task_infos": [task_info(f"t-{stream}", offer["agent_id"]["value"])]
                    },
                }
            ],
        }
        h.call(fid, "ACCEPT", body, stream=stream)
    for agent_id in h.agent_ids:
        h.apply(h.state.restart_agent(agent_id, h.now))
    lost = h.updates("s1")[-1]
    assert (lost["state"], lost["reason"]) == ("TASK_LOST", "REASON_AGENT_DISCONNECTED")
    assert lost["message"] == "Agent localhost disconnected"
    assert h.updates("s2")[-1]["state"] == "TASK_RUNNING"
    assert h.state.frameworks[kept].tasks["t-s2"].state == "TASK_RUNNING"
    assert "t-s1" not in h.state.frameworks[plain].tasks


def test_kill_naming_another_agent_is_ignored() -> None:
    h = Harness(agents=2)
    fid = h.subscribe()
    h.advance(0)
    offer = h.offers()[0]
    launch(h, fid, offer, task_info("t1", offer["agent_id"]["value"]))
    other = next(a for a in h.agent_ids if a != offer["agent_id"]["value"])
    before = len(h.updates())
    h.call(fid, "KILL", {"task_id": {"value": "t1"}, "agent_id": {"value": other}})
    assert len(h.updates()) == before
    assert h.state.frameworks[fid].tasks["t1"].state == "TASK_RUNNING"
