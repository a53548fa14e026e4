"""Small JSON pieces shared by the call builders: ids, labels, durations, filters."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mesos_wm.errors import LocalProtocolError

JsonDict = dict[str, Any]
"""A Mesos message being built: a plain ``dict`` with exact proto field names."""

_NANOS_PER_SECOND = 1_000_000_000


def id_json(value: str | None, what: str = "id") -> JsonDict:
    """Wrap an id string as a Mesos ``*ID`` message (``{"value": ...}``).

    Raises:
        LocalProtocolError: ``value`` is not a non-empty string.
    """
    if not isinstance(value, str) or not value:
        raise LocalProtocolError(f"{what} must be a non-empty string, got {value!r}")
    return {"value": value}


def seconds(value: float, what: str) -> float:
    """Check a finite, non-negative number of seconds and return it as a float.

    Raises:
        LocalProtocolError: ``value`` is negative, NaN or infinite (JSON cannot carry the
            last two, and the master rejects negative durations).
    """
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise LocalProtocolError(f"{what} must be a finite number >= 0, got {value!r}")
    return number


def duration_json(value: float, what: str) -> JsonDict:
    """Return a ``DurationInfo`` (``{"nanoseconds": int}``) for ``value`` seconds."""
    return {"nanoseconds": round(seconds(value, what) * _NANOS_PER_SECOND)}


def filters_json(refuse_seconds: float | None) -> JsonDict | None:
    """Return a ``Filters`` message, or None when the master's default (5 s) is wanted."""
    if refuse_seconds is None:
        return None
    return {"refuse_seconds": seconds(refuse_seconds, "refuse_seconds")}


def labels_json(labels: Mapping[str, str] | Iterable[tuple[str, str]]) -> JsonDict:
    """Return a ``Labels`` message (``{"labels": [{"key", "value"}]}``)."""
    pairs = labels.items() if isinstance(labels, dict | Mapping) else labels
    return {"labels": [{"key": str(k), "value": str(v)} for k, v in pairs]}


def ids_json(values: Iterable[str], what: str) -> list[JsonDict]:
    """Wrap several id strings; a bare ``str`` is refused (it would become characters)."""
    if isinstance(values, str):
        raise LocalProtocolError(f"{what} must be a list of ids, not the string {values!r}")
    return [id_json(v, what) for v in values]


def string_list(values: Iterable[str], what: str) -> list[str]:
    """Return ``values`` as a list of strings; a bare ``str`` is refused."""
    if isinstance(values, str):
        raise LocalProtocolError(f"{what} must be a list of strings, not the string {values!r}")
    items = list(values)
    for item in items:
        if not isinstance(item, str):
            raise LocalProtocolError(f"{what} must hold strings, got {item!r}")
    return items
