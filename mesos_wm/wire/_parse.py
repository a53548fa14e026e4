"""Checked access to event JSON: every problem becomes a RemoteProtocolError naming the
event type and the field."""

from __future__ import annotations

import json
from typing import Any

from addict import Dict

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.ids import decode_bytes, decode_uuid


def _addict(pairs: dict[str, Any]) -> Dict:
    """Wrap one decoded JSON object as an :class:`addict.Dict`, as ``Dict(pairs)`` would.

    Used as ``json.loads``'s ``object_hook``, which decodes nested objects first, so the
    values are already converted; this skips ``Dict.__init__``'s per-key recursion, which
    otherwise costs more than the JSON decoding itself.
    """
    obj: Dict = dict.__new__(Dict)
    dict.update(obj, pairs)
    object.__setattr__(obj, "__parent", None)
    object.__setattr__(obj, "__key", None)
    object.__setattr__(obj, "__frozen", False)
    return obj


def load_event(record: bytes, what: str) -> tuple[str, Dict]:
    """Parse one RecordIO record as an event object and return ``(type, event)``.

    Every JSON object in it becomes an :class:`addict.Dict`.

    Raises:
        RemoteProtocolError: not UTF-8 JSON, not an object, or no string ``type``.
    """
    try:
        obj = json.loads(record, object_hook=_addict)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RemoteProtocolError(
            f"{what} event is not valid JSON: {exc}: {record[:80]!r}"
        ) from exc
    if not isinstance(obj, dict):
        raise RemoteProtocolError(f"{what} event must be a JSON object, got {type(obj).__name__}")
    event_type = obj.get("type")
    if not isinstance(event_type, str):
        raise RemoteProtocolError(f"{what} event has no type: {record[:80]!r}")
    return event_type, obj


class Body:
    """The body of one event, with accessors that raise naming the missing field."""

    def __init__(self, event_type: str, event: Dict, *, required: bool = True) -> None:
        key = event_type.lower()
        raw = event.get(key)
        if raw is None:
            if required:
                raise RemoteProtocolError(f"{event_type} event has no '{key}' body")
            raw = Dict()
        if not isinstance(raw, dict):
            raise RemoteProtocolError(f"{event_type}.{key} must be an object")
        self.event_type = event_type
        self.key = key
        self.data: Dict = raw

    def _where(self, field: str) -> str:
        return f"{self.event_type} event field {self.key}.{field}"

    def message(self, field: str, *, required: bool = True) -> Dict | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise RemoteProtocolError(f"{self._where(field)} is missing")
            return None
        if not isinstance(value, dict):
            raise RemoteProtocolError(f"{self._where(field)} must be an object")
        return value

    def id(self, field: str, *, required: bool = True) -> str | None:
        value = self.message(field, required=required)
        if value is None:
            return None
        text = value.get("value")
        if not isinstance(text, str):
            raise RemoteProtocolError(f"{self._where(field)}.value must be a string")
        return text

    def string(self, field: str) -> str:
        value = self.data.get(field)
        if not isinstance(value, str):
            raise RemoteProtocolError(f"{self._where(field)} must be a string")
        return value

    def messages(self, field: str) -> list[Dict]:
        value = self.data.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise RemoteProtocolError(f"{self._where(field)} must be a list of objects")
        return list(value)

    def data_bytes(self, field: str) -> bytes:
        try:
            return decode_bytes(self.data.get(field))
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(f"{self._where(field)}: {exc}") from exc

    def uuid(self, field: str) -> bytes:
        try:
            return decode_uuid(self.data.get(field))
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(f"{self._where(field)}: {exc}") from exc

    def number(self, field: str, default: float | None) -> float | None:
        value: Any = self.data.get(field, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise RemoteProtocolError(f"{self._where(field)} must be a number")
        try:
            return float(value)
        except ValueError as exc:
            raise RemoteProtocolError(f"{self._where(field)} must be a number") from exc


def check_status(event_type: str, status: Dict, *, with_task: bool) -> None:
    """Check the required fields of a ``TaskStatus`` (or ``OperationStatus``) body."""
    where = f"{event_type} event status"
    if with_task:
        task_id = status.get("task_id")
        if not isinstance(task_id, dict) or not isinstance(task_id.get("value"), str):
            raise RemoteProtocolError(f"{where} has no task_id")
    if not isinstance(status.get("state"), str):
        raise RemoteProtocolError(f"{where} has no state")
    if with_task and status.get("uuid") is not None:
        try:
            decode_uuid(status.get("uuid"))
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(f"{where}.uuid: {exc}") from exc
