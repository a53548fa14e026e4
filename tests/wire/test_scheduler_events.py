"""Parsing of scheduler events into typed objects."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from addict import Dict

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.wire import scheduler_events as ev
from tests.wire.samples import SCHEDULER_EVENTS, UUID16


def parse(obj: dict[str, Any]) -> ev.SchedulerEvent:
    return ev.parse_event(json.dumps(obj).encode())


def test_subscribed() -> None:
    event = parse(SCHEDULER_EVENTS["SUBSCRIBED"])
    assert event == ev.Subscribed(
        "c0ffee-0000", 15.0, Dict(SCHEDULER_EVENTS["SUBSCRIBED"]["subscribed"]["master_info"])
    )
    assert isinstance(event, ev.Subscribed)
    assert isinstance(event.master_info, Dict)
    assert event.master_info.address.port == 5050


def test_subscribed_without_interval_or_master_info() -> None:
    event = parse({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "f"}}})
    assert event == ev.Subscribed("f", ev.DEFAULT_HEARTBEAT_INTERVAL_SECONDS, Dict())


def test_offers_are_addict_dicts() -> None:
    event = parse(SCHEDULER_EVENTS["OFFERS"])
    assert isinstance(event, ev.Offers)
    (offer,) = event.offers
    assert isinstance(offer, Dict)
    assert offer.agent_id.value == "c0ffee-S0"
    assert offer.resources[1].ranges.range[0].end == 32000


def test_offers_with_an_empty_list() -> None:
    assert parse({"type": "OFFERS", "offers": {}}) == ev.Offers([])


def test_inverse_offers() -> None:
    event = parse(SCHEDULER_EVENTS["INVERSE_OFFERS"])
    assert isinstance(event, ev.InverseOffers)
    assert event.inverse_offers[0].id.value == "c0ffee-O2"


def test_rescinds() -> None:
    assert parse(SCHEDULER_EVENTS["RESCIND"]) == ev.Rescind("c0ffee-O1")
    assert parse(SCHEDULER_EVENTS["RESCIND_INVERSE_OFFER"]) == ev.RescindInverseOffer("c0ffee-O2")


def test_update() -> None:
    event = parse(SCHEDULER_EVENTS["UPDATE"])
    assert isinstance(event, ev.Update)
    assert event.status.state == "TASK_RUNNING"
    assert event.task_id == "task-1"
    assert event.state == "TASK_RUNNING"
    assert event.agent_id == "c0ffee-S0"
    assert event.uuid == UUID16
    assert not event.is_terminal


def test_master_generated_update_has_no_uuid() -> None:
    event = parse(
        {
            "type": "UPDATE",
            "update": {
                "status": {
                    "task_id": {"value": "t"},
                    "state": "TASK_LOST",
                    "source": "SOURCE_MASTER",
                    "reason": "REASON_RECONCILIATION",
                }
            },
        }
    )
    assert isinstance(event, ev.Update)
    assert event.uuid is None
    assert event.agent_id is None
    assert event.is_terminal


def test_update_with_a_bad_uuid_is_refused() -> None:
    bad = copy.deepcopy(SCHEDULER_EVENTS["UPDATE"])
    bad["update"]["status"]["uuid"] = "AAAA"
    with pytest.raises(RemoteProtocolError, match="uuid"):
        parse(bad)


def test_update_operation_status() -> None:
    event = parse(SCHEDULER_EVENTS["UPDATE_OPERATION_STATUS"])
    assert isinstance(event, ev.UpdateOperationStatus)
    assert event.status.operation_id.value == "op-1"


def test_message_decodes_data() -> None:
    assert parse(SCHEDULER_EVENTS["MESSAGE"]) == ev.Message("c0ffee-S0", "wm-executor", b"hello")


def test_failure() -> None:
    assert parse(SCHEDULER_EVENTS["FAILURE"]) == ev.Failure("c0ffee-S0", "wm-executor", 256)
    assert parse({"type": "FAILURE", "failure": {"agent_id": {"value": "S"}}}) == ev.Failure(
        "S", None, None
    )


def test_error_and_heartbeat() -> None:
    assert parse(SCHEDULER_EVENTS["ERROR"]) == ev.Error("Framework failed over")
    assert parse(SCHEDULER_EVENTS["HEARTBEAT"]) == ev.Heartbeat()


def test_every_sample_parses() -> None:
    for name, sample in SCHEDULER_EVENTS.items():
        assert type(parse(sample)).__name__.upper() == name.replace("_", ""), name


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"offers": {}}', "no type"),
        (b'{"type": 7}', "no type"),
        (b'{"type": "BOGUS"}', "unknown scheduler event type 'BOGUS'"),
        (b'{"type": "UNKNOWN"}', "unknown"),
        (b'{"type": "OFFERS"}', "OFFERS event has no 'offers' body"),
        (b'{"type": "UPDATE"}', "no 'update' body"),
        (b'{"type": "UPDATE", "update": {}}', "update.status is missing"),
        (b'{"type": "UPDATE", "update": {"status": {"state": "TASK_RUNNING"}}}', "task_id"),
        (b'{"type": "UPDATE", "update": {"status": {"task_id": {"value": "t"}}}}', "state"),
        (b'{"type": "SUBSCRIBED", "subscribed": {}}', "subscribed.framework_id is missing"),
        (
            b'{"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": 3}}}',
            "framework_id.value must be a string",
        ),
        (
            b'{"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "f"},'
            b' "heartbeat_interval_seconds": "soon"}}',
            "heartbeat_interval_seconds must be a number",
        ),
        (b'{"type": "OFFERS", "offers": {"offers": {}}}', "list of objects"),
        (b'{"type": "OFFERS", "offers": []}', "must be an object"),
        (b'{"type": "RESCIND", "rescind": {}}', "rescind.offer_id is missing"),
        (b'{"type": "ERROR", "error": {}}', "error.message must be a string"),
        (
            b'{"type": "MESSAGE", "message": {"agent_id": {"value": "a"},'
            b' "executor_id": {"value": "e"}, "data": "!!"}}',
            "message.data",
        ),
        (b'{"type": "FAILURE", "failure": {"status": 1.5}}', "integer"),
    ],
)
def test_protocol_errors_name_the_problem(record: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        ev.parse_event(record)


def test_events_are_frozen() -> None:
    event = ev.Rescind("o")
    with pytest.raises(AttributeError):
        event.offer_id = "p"  # type: ignore[misc]
