"""Scheduler events (``/api/v1/scheduler`` stream) parsed into frozen dataclasses.

Mesos message bodies (offers, statuses, master info) stay as :class:`addict.Dict` with
the proto field names, so ``offer.agent_id.value`` reads naturally.  Shapes follow
``include/mesos/v1/scheduler/scheduler.proto``: OFFERS is ``{"offers": {"offers": [...]}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from addict import Dict

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.ids import decode_uuid
from mesos_wm.wire._parse import Body, check_status, load_event
from mesos_wm.wire.states import is_terminal

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL_SECONDS",
    "Error",
    "Failure",
    "Heartbeat",
    "InverseOffers",
    "Message",
    "Offers",
    "Rescind",
    "RescindInverseOffer",
    "SchedulerEvent",
    "Subscribed",
    "Update",
    "UpdateOperationStatus",
    "parse_event",
]

DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15.0
"""The master's heartbeat interval when SUBSCRIBED does not name one."""


@dataclass(frozen=True)
class Subscribed:
    """The first event of a subscription: our framework id and the heartbeat interval."""

    framework_id: str
    heartbeat_interval_seconds: float
    master_info: Dict


@dataclass(frozen=True)
class Offers:
    """New resource offers (``Offer`` messages)."""

    offers: list[Dict]


@dataclass(frozen=True)
class InverseOffers:
    """Requests to give resources back before maintenance (``InverseOffer`` messages)."""

    inverse_offers: list[Dict]


@dataclass(frozen=True)
class Rescind:
    """An offer is no longer valid."""

    offer_id: str


@dataclass(frozen=True)
class RescindInverseOffer:
    """An inverse offer is no longer valid."""

    inverse_offer_id: str


@dataclass(frozen=True)
class Update:
    """A task status update (``TaskStatus``); acknowledge it iff :attr:`uuid` is set."""

    status: Dict

    @property
    def task_id(self) -> str:
        """The task the update is about."""
        return str(self.status.task_id.value)

    @property
    def state(self) -> str:
        """The task state name (``"TASK_RUNNING"``); see :class:`~mesos_wm.wire.TaskState`."""
        return str(self.status.state)

    @property
    def agent_id(self) -> str | None:
        """The agent of the task, when the update names one."""
        value = self.status.get("agent_id")
        return str(value.value) if value else None

    @property
    def uuid(self) -> bytes | None:
        """The 16-byte update uuid to acknowledge, or None for master-generated updates."""
        text = self.status.get("uuid")
        return decode_uuid(text) if text is not None else None

    @property
    def is_terminal(self) -> bool:
        """True when the task will never change state again (unknown states: False)."""
        try:
            return is_terminal(self.state)
        except ValueError:
            return False


@dataclass(frozen=True)
class UpdateOperationStatus:
    """An operation status update (``OperationStatus``), for operations given an id."""

    status: Dict


@dataclass(frozen=True)
class Message:
    """Bytes an executor sent us (unreliable)."""

    agent_id: str
    executor_id: str
    data: bytes


@dataclass(frozen=True)
class Failure:
    """An agent was removed (only ``agent_id``) or an executor ended (with its status)."""

    agent_id: str | None
    executor_id: str | None
    status: int | None


@dataclass(frozen=True)
class Error:
    """The master gave up on this subscription (e.g. "Framework failed over")."""

    message: str


@dataclass(frozen=True)
class Heartbeat:
    """The master is alive; nothing else."""


SchedulerEvent = (
    Subscribed
    | Offers
    | InverseOffers
    | Rescind
    | RescindInverseOffer
    | Update
    | UpdateOperationStatus
    | Message
    | Failure
    | Error
    | Heartbeat
)


def _subscribed(event: Dict) -> Subscribed:
    body = Body("SUBSCRIBED", event)
    framework_id = body.id("framework_id")
    interval = body.number("heartbeat_interval_seconds", DEFAULT_HEARTBEAT_INTERVAL_SECONDS)
    master_info = body.message("master_info", required=False)
    assert framework_id is not None and interval is not None
    return Subscribed(framework_id, interval, master_info if master_info is not None else Dict())


def _offers(event: Dict) -> Offers:
    return Offers(Body("OFFERS", event).messages("offers"))


def _inverse_offers(event: Dict) -> InverseOffers:
    return InverseOffers(Body("INVERSE_OFFERS", event).messages("inverse_offers"))


def _rescind(event: Dict) -> Rescind:
    offer_id = Body("RESCIND", event).id("offer_id")
    assert offer_id is not None
    return Rescind(offer_id)


def _rescind_inverse_offer(event: Dict) -> RescindInverseOffer:
    offer_id = Body("RESCIND_INVERSE_OFFER", event).id("inverse_offer_id")
    assert offer_id is not None
    return RescindInverseOffer(offer_id)


def _update(event: Dict) -> Update:
    status = Body("UPDATE", event).message("status")
    assert status is not None
    check_status("UPDATE", status, with_task=True)
    return Update(status)


def _update_operation_status(event: Dict) -> UpdateOperationStatus:
    status = Body("UPDATE_OPERATION_STATUS", event).message("status")
    assert status is not None
    check_status("UPDATE_OPERATION_STATUS", status, with_task=False)
    return UpdateOperationStatus(status)


def _message(event: Dict) -> Message:
    body = Body("MESSAGE", event)
    agent_id = body.id("agent_id")
    executor_id = body.id("executor_id")
    assert agent_id is not None and executor_id is not None
    return Message(agent_id, executor_id, body.data_bytes("data"))


def _failure(event: Dict) -> Failure:
    body = Body("FAILURE", event)
    status = body.number("status", None)
    if status is not None and not status.is_integer():
        raise RemoteProtocolError("FAILURE event field failure.status must be an integer")
    return Failure(
        body.id("agent_id", required=False),
        body.id("executor_id", required=False),
        int(status) if status is not None else None,
    )


def _error(event: Dict) -> Error:
    return Error(Body("ERROR", event).string("message"))


def _heartbeat(event: Dict) -> Heartbeat:
    return Heartbeat()


_PARSERS: dict[str, Callable[[Dict], SchedulerEvent]] = {
    "SUBSCRIBED": _subscribed,
    "OFFERS": _offers,
    "INVERSE_OFFERS": _inverse_offers,
    "RESCIND": _rescind,
    "RESCIND_INVERSE_OFFER": _rescind_inverse_offer,
    "UPDATE": _update,
    "UPDATE_OPERATION_STATUS": _update_operation_status,
    "MESSAGE": _message,
    "FAILURE": _failure,
    "ERROR": _error,
    "HEARTBEAT": _heartbeat,
}


def parse_event(record: bytes) -> SchedulerEvent:
    """Parse one RecordIO record of the scheduler event stream.

    Args:
        record: the JSON bytes of one event.

    Returns:
        The typed event.

    Raises:
        RemoteProtocolError: invalid JSON, an unknown ``type``, a missing body, or a
            missing/invalid required field; the message names what is wrong.
    """
    event_type, event = load_event(record, "scheduler")
    parser = _PARSERS.get(event_type)
    if parser is None:
        raise RemoteProtocolError(f"unknown scheduler event type {event_type!r}")
    return parser(event)
