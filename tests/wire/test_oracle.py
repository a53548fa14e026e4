"""The conformance oracle itself must be strict, or the golden tests prove nothing."""

from __future__ import annotations

import base64

import pytest

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.ids import decode_uuid
from tests.fixtures.conformance import MesosProtos

pytestmark = pytest.mark.service

TEARDOWN = {"type": "TEARDOWN", "framework_id": {"value": "f"}}


def test_accepts_a_valid_call(mesos_protos: MesosProtos) -> None:
    message = mesos_protos.check("mesos.scheduler.Call", TEARDOWN)
    assert message.framework_id.value == "f"


def test_apache_names_map_to_the_mesos_go_package(mesos_protos: MesosProtos) -> None:
    mesos_protos.check("mesos.v1.scheduler.Call", TEARDOWN)
    assert mesos_protos.has("mesos.v1.TaskInfo")
    assert mesos_protos.has("mesos.TaskInfo")
    assert not mesos_protos.has("mesos.v1.scheduler.Call.UpdateFramework")


def test_rejects_a_camel_case_field(mesos_protos: MesosProtos) -> None:
    with pytest.raises(AssertionError, match="frameworkId.*camelCase.*'framework_id'"):
        mesos_protos.check(
            "mesos.scheduler.Call", {"type": "TEARDOWN", "frameworkId": {"value": "f"}}
        )


def test_rejects_a_nested_camel_case_field(mesos_protos: MesosProtos) -> None:
    call = {
        "type": "DECLINE",
        "framework_id": {"value": "f"},
        "decline": {"offer_ids": [{"value": "o"}], "filters": {"refuseSeconds": 5}},
    }
    with pytest.raises(AssertionError, match=r"decline\.filters\.refuseSeconds"):
        mesos_protos.check("mesos.scheduler.Call", call)


def test_rejects_an_unknown_field(mesos_protos: MesosProtos) -> None:
    with pytest.raises(AssertionError, match="unknown field Call.role"):
        mesos_protos.check("mesos.scheduler.Call", {**TEARDOWN, "role": "x"})


def test_rejects_a_missing_required_field(mesos_protos: MesosProtos) -> None:
    call = {
        "type": "ACKNOWLEDGE",
        "framework_id": {"value": "f"},
        "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}},
    }
    with pytest.raises(AssertionError, match=r"missing required fields: acknowledge\.uuid"):
        mesos_protos.check("mesos.scheduler.Call", call)


def test_rejects_a_numeric_enum(mesos_protos: MesosProtos) -> None:
    with pytest.raises(AssertionError, match="enum Call.type must be a name"):
        mesos_protos.check("mesos.scheduler.Call", {**TEARDOWN, "type": 2})


def test_rejects_an_unknown_enum_name(mesos_protos: MesosProtos) -> None:
    with pytest.raises(AssertionError, match="TEAR_DOWN"):
        mesos_protos.check("mesos.scheduler.Call", {**TEARDOWN, "type": "TEAR_DOWN"})


def test_rejects_wrong_value_types(mesos_protos: MesosProtos) -> None:
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.scheduler.Call", {**TEARDOWN, "framework_id": "f"})
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.scheduler.Call", {"type": "REVIVE", "revive": {"roles": "r"}})


def test_rejects_bad_base64(mesos_protos: MesosProtos) -> None:
    call = {
        "type": "MESSAGE",
        "framework_id": {"value": "f"},
        "message": {"agent_id": {"value": "a"}, "executor_id": {"value": "e"}, "data": "!!!"},
    }
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.scheduler.Call", call)


def test_rejects_an_unknown_message_type(mesos_protos: MesosProtos) -> None:
    with pytest.raises(AssertionError, match="no message"):
        mesos_protos.check("mesos.scheduler.Nope", {})


def test_the_prose_docs_offers_shape_is_rejected(mesos_protos: MesosProtos) -> None:
    event = {"type": "OFFERS", "offers": [{"id": {"value": "o"}}]}
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.scheduler.Event", event)


def test_uuid_length_is_not_enforced_by_the_proto(mesos_protos: MesosProtos) -> None:
    """``uuid`` is a plain ``bytes`` field: the proto accepts 15 bytes, a master does not
    (400).  So the 16-byte rule is enforced by our own ``decode_uuid``."""
    fifteen = base64.b64encode(b"x" * 15).decode()
    call = {
        "type": "ACKNOWLEDGE",
        "framework_id": {"value": "f"},
        "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": fifteen},
    }
    mesos_protos.check("mesos.scheduler.Call", call)
    with pytest.raises(RemoteProtocolError, match="16 bytes, got 15"):
        decode_uuid(fifteen)


def test_structural_checks_are_strict_too(mesos_protos: MesosProtos) -> None:
    info = {"user": "u", "name": "n", "id": {"value": "f"}}
    good = {
        "type": "UPDATE_FRAMEWORK",
        "framework_id": {"value": "f"},
        "update_framework": {"framework_info": info},
    }
    mesos_protos.check_scheduler_call(good)
    with pytest.raises(AssertionError, match="frameworkInfo"):
        mesos_protos.check_scheduler_call({**good, "update_framework": {"frameworkInfo": info}})
    with pytest.raises(AssertionError, match="exactly the keys"):
        mesos_protos.check_scheduler_call({**good, "update": {}})
    with pytest.raises(AssertionError, match="missing required fields: framework_info.user"):
        mesos_protos.check_scheduler_call(
            {**good, "update_framework": {"framework_info": {"name": "n"}}}
        )
    with pytest.raises(AssertionError, match="missing fields"):
        mesos_protos.check_scheduler_call(
            {
                "type": "ACKNOWLEDGE_OPERATION_STATUS",
                "framework_id": {"value": "f"},
                "acknowledge_operation_status": {"operation_id": {"value": "op"}},
            }
        )
    with pytest.raises(AssertionError, match="exactly the keys"):
        mesos_protos.check_executor_call(
            {"type": "HEARTBEAT", "executor_id": {"value": "e"}, "frameworkId": {"value": "f"}}
        )
    with pytest.raises(AssertionError, match="OPERATION_DONE"):
        mesos_protos.check_scheduler_event(
            {
                "type": "UPDATE_OPERATION_STATUS",
                "update_operation_status": {"status": {"state": "OPERATION_DONE"}},
            }
        )
