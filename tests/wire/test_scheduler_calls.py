"""Exact JSON of the scheduler call builders (validated against the Mesos protos in
tests/wire/test_conformance.py)."""

from __future__ import annotations

import base64
import json

import pytest

from mesos_wm.errors import LocalProtocolError
from mesos_wm.wire import scheduler_calls as calls

FID = "a1b2-0001"
UUID16 = bytes(range(16))


def test_framework_info_minimal() -> None:
    assert calls.framework_info(user="alice", name="wm") == {
        "user": "alice",
        "name": "wm",
        "checkpoint": False,
    }


def test_framework_info_full() -> None:
    info = calls.framework_info(
        user="alice",
        name="wm",
        roles=["airavata", "batch"],
        failover_timeout=3600,
        checkpoint=True,
        principal="wm-principal",
        capabilities=["PARTITION_AWARE", "TASK_KILLING_STATE"],
        hostname="sched.example",
        webui_url="http://sched.example:8080",
        labels={"team": "airavata"},
        framework_id=FID,
    )
    assert info == {
        "user": "alice",
        "name": "wm",
        "id": {"value": FID},
        "failover_timeout": 3600.0,
        "checkpoint": True,
        "roles": ["airavata", "batch"],
        "hostname": "sched.example",
        "principal": "wm-principal",
        "webui_url": "http://sched.example:8080",
        "capabilities": [
            {"type": "PARTITION_AWARE"},
            {"type": "TASK_KILLING_STATE"},
            {"type": "MULTI_ROLE"},
        ],
        "labels": {"labels": [{"key": "team", "value": "airavata"}]},
    }
    assert "role" not in info


def test_multi_role_is_not_duplicated() -> None:
    info = calls.framework_info(user="u", name="n", roles=["r"], capabilities=["MULTI_ROLE"])
    assert info["capabilities"] == [{"type": "MULTI_ROLE"}]


def test_no_multi_role_without_roles() -> None:
    assert "capabilities" not in calls.framework_info(user="u", name="n")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"capabilities": ["PARTITION_AWAR"]},
        {"roles": "airavata"},
        {"roles": [""]},
        {"failover_timeout": -1},
        {"failover_timeout": float("inf")},
        {"framework_id": ""},
        {"user": ""},
    ],
)
def test_framework_info_refuses(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"user": "u", "name": "n", **kwargs}
    with pytest.raises(LocalProtocolError):
        calls.framework_info(**args)  # type: ignore[arg-type]


def test_subscribe_new_framework_has_no_framework_id() -> None:
    info = calls.framework_info(user="u", name="n")
    assert calls.subscribe(info) == {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}


def test_resubscribe_sets_both_framework_ids() -> None:
    info = calls.framework_info(user="u", name="n", framework_id=FID, roles=["r"])
    call = calls.subscribe(info, suppressed_roles=["r"])
    assert call["framework_id"] == {"value": FID}
    assert call["subscribe"]["framework_info"]["id"] == {"value": FID}
    assert call["subscribe"]["suppressed_roles"] == ["r"]


def test_update_framework() -> None:
    info = calls.framework_info(user="u", name="n", framework_id=FID, roles=["r", "s"])
    assert calls.update_framework(info, ["s"]) == {
        "type": "UPDATE_FRAMEWORK",
        "framework_id": {"value": FID},
        "update_framework": {"framework_info": info, "suppressed_roles": ["s"]},
    }


def test_update_framework_needs_the_id() -> None:
    with pytest.raises(LocalProtocolError, match="id"):
        calls.update_framework(calls.framework_info(user="u", name="n"))


def test_teardown() -> None:
    assert calls.teardown(FID) == {"type": "TEARDOWN", "framework_id": {"value": FID}}


def test_accept_with_launch_and_filters() -> None:
    task = calls.task_info(
        name="t",
        task_id="t1",
        agent_id="S1",
        resources=[],
        command=calls.command_info("echo hi"),
    )
    call = calls.accept(FID, ["O1", "O2"], [calls.launch([task])], refuse_seconds=30)
    assert call == {
        "type": "ACCEPT",
        "framework_id": {"value": FID},
        "accept": {
            "offer_ids": [{"value": "O1"}, {"value": "O2"}],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
            "filters": {"refuse_seconds": 30.0},
        },
    }


def test_accept_without_filters_uses_the_master_default() -> None:
    assert "filters" not in calls.accept(FID, ["O1"], [])["accept"]


@pytest.mark.parametrize("offer_ids", [[], "O1"])
def test_accept_and_decline_refuse_bad_offer_ids(offer_ids: list[str]) -> None:
    with pytest.raises(LocalProtocolError):
        calls.accept(FID, offer_ids, [])
    with pytest.raises(LocalProtocolError):
        calls.decline(FID, offer_ids)


def test_decline() -> None:
    assert calls.decline(FID, ["O1"], refuse_seconds=0.5) == {
        "type": "DECLINE",
        "framework_id": {"value": FID},
        "decline": {"offer_ids": [{"value": "O1"}], "filters": {"refuse_seconds": 0.5}},
    }


def test_decline_refuses_negative_or_nan_refuse_seconds() -> None:
    for bad in (-1.0, float("nan")):
        with pytest.raises(LocalProtocolError, match="refuse_seconds"):
            calls.decline(FID, ["O1"], refuse_seconds=bad)


def test_inverse_offers() -> None:
    assert calls.accept_inverse_offers(FID, ["I1"])["accept_inverse_offers"] == {
        "inverse_offer_ids": [{"value": "I1"}]
    }
    assert calls.decline_inverse_offers(FID, ["I1"], refuse_seconds=1)[
        "decline_inverse_offers"
    ] == {"inverse_offer_ids": [{"value": "I1"}], "filters": {"refuse_seconds": 1.0}}


def test_revive_and_suppress_take_roles() -> None:
    assert calls.revive(FID) == {
        "type": "REVIVE",
        "framework_id": {"value": FID},
        "revive": {"roles": []},
    }
    assert calls.suppress(FID, ["a", "b"])["suppress"] == {"roles": ["a", "b"]}


def test_kill() -> None:
    assert calls.kill(FID, "t1") == {
        "type": "KILL",
        "framework_id": {"value": FID},
        "kill": {"task_id": {"value": "t1"}},
    }
    assert calls.kill(FID, "t1", "S1", grace_period_seconds=2.5)["kill"] == {
        "task_id": {"value": "t1"},
        "agent_id": {"value": "S1"},
        "kill_policy": {"grace_period": {"nanoseconds": 2_500_000_000}},
    }


def test_shutdown() -> None:
    assert calls.shutdown(FID, "e1", "S1")["shutdown"] == {
        "executor_id": {"value": "e1"},
        "agent_id": {"value": "S1"},
    }


def test_acknowledge_encodes_the_16_byte_uuid() -> None:
    call = calls.acknowledge(FID, "S1", "t1", UUID16)
    assert call["acknowledge"] == {
        "agent_id": {"value": "S1"},
        "task_id": {"value": "t1"},
        "uuid": base64.b64encode(UUID16).decode(),
    }


@pytest.mark.parametrize("uuid", [b"", b"x" * 15, b"x" * 17, b"0f3c5a1e-0000-4000-8000-0000000000"])
def test_acknowledge_refuses_other_uuid_lengths(uuid: bytes) -> None:
    with pytest.raises(LocalProtocolError, match="16"):
        calls.acknowledge(FID, "S1", "t1", uuid)


def test_reconcile_explicit_and_implicit() -> None:
    assert calls.reconcile(FID)["reconcile"] == {"tasks": []}
    assert calls.reconcile(FID, [("t1", "S1"), ("t2", None)])["reconcile"] == {
        "tasks": [
            {"task_id": {"value": "t1"}, "agent_id": {"value": "S1"}},
            {"task_id": {"value": "t2"}},
        ]
    }


def test_message_base64() -> None:
    assert calls.message(FID, "S1", "e1", b"\x00hi")["message"] == {
        "agent_id": {"value": "S1"},
        "executor_id": {"value": "e1"},
        "data": "AGhp",
    }


def test_request_nests_requests() -> None:
    cpus = {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}
    call = calls.request(FID, [("S1", [cpus]), calls.resource_request([cpus])])
    assert call["request"] == {
        "requests": [
            {"resources": [cpus], "agent_id": {"value": "S1"}},
            {"resources": [cpus]},
        ]
    }


def test_operation_status_calls() -> None:
    call = calls.acknowledge_operation_status(FID, UUID16, "op1", agent_id="S1")
    assert call == {
        "type": "ACKNOWLEDGE_OPERATION_STATUS",
        "framework_id": {"value": FID},
        "acknowledge_operation_status": {
            "agent_id": {"value": "S1"},
            "uuid": base64.b64encode(UUID16).decode(),
            "operation_id": {"value": "op1"},
        },
    }
    assert calls.reconcile_operations(FID, [("op1", None), ("op2", "S2")]) == {
        "type": "RECONCILE_OPERATIONS",
        "framework_id": {"value": FID},
        "reconcile_operations": {
            "operations": [
                {"operation_id": {"value": "op1"}},
                {"operation_id": {"value": "op2"}, "agent_id": {"value": "S2"}},
            ]
        },
    }


def test_ids_must_be_non_empty_strings() -> None:
    with pytest.raises(LocalProtocolError, match="task_id"):
        calls.kill(FID, "")
    with pytest.raises(LocalProtocolError, match="framework_id"):
        calls.teardown(None)  # type: ignore[arg-type]


def test_every_call_is_json_serialisable() -> None:
    info = calls.framework_info(user="u", name="n", framework_id=FID)
    for call in (
        calls.subscribe(info),
        calls.accept(FID, ["O1"], []),
        calls.acknowledge(FID, "S1", "t", UUID16),
        calls.message(FID, "S1", "e", b"x"),
    ):
        assert json.loads(json.dumps(call)) == call
