"""Reading raw YAML/JSON values into typed ones, collecting every problem with its location.

Durations (``500ms``, ``5m``, ``1h30m``), RFC 3339 times, and :class:`Reader`, whose getters
always return a usable value and record what was wrong instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from mesos_wm.errors import SpecProblem

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
T = TypeVar("T")


def parse_duration(value: object) -> float:
    """Parse ``500ms``, ``30s``, ``5m``, ``2h``, ``1d``, ``1h30m`` or a number of seconds.

    Raises:
        ValueError: anything else.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNITS[u] for n, u in parts)
    raise ValueError(f"{value!r} is not a duration (e.g. 500ms, 30s, 5m, 2h, 1d)")


def parse_time(value: object) -> float:
    """Parse an RFC 3339 time (with a time zone) or POSIX seconds into POSIX seconds.

    Raises:
        ValueError: anything else, including times without a zone.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an RFC 3339 time") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a time needs a time zone (Z or +hh:mm)")
        return value.timestamp()
    if isinstance(value, date):
        raise ValueError("a date needs a time and zone (e.g. 2026-12-01T08:00:00Z)")
    raise ValueError(f"{value!r} is not an RFC 3339 time")


class Reader:
    """Collects problems while converting raw values; every getter returns a safe value.

    Args:
        prefix: put before every location (``workflows[1].`` in a list of workflows).

    Attributes:
        problems: what was found, in order, without duplicates.
        moved: locations whose values came from elsewhere (``tasks[0].resources.cpus`` ->
            ``defaults.resources.cpus``), so problems are reported where the value is.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.problems: list[SpecProblem] = []
        self.moved: dict[str, str] = {}
        self._seen: set[tuple[str, str]] = set()

    def locate(self, loc: str) -> str:
        """Where a problem at ``loc`` really is (values inherited from ``defaults``)."""
        for old, new in self.moved.items():
            if loc == old or loc.startswith((old + ".", old + "[")):
                return new + loc[len(old):]
        return loc

    def add(self, loc: str, message: str) -> None:
        """Record a problem (once)."""
        loc = self.locate(loc)
        if (loc, message) not in self._seen:
            self._seen.add((loc, message))
            self.problems.append(SpecProblem(self.prefix + loc, message))

    def mapping(self, value: object, loc: str, keys: frozenset[str] | None) -> dict[str, Any]:
        """Return the string-keyed entries of a mapping (only ``keys``, if given; the others
        are problems); None is an empty mapping."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(loc, f"must be a mapping, not {type(value).__name__}")
            return {}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(loc, f"key {key!r} must be a string")
            elif keys is not None and key not in keys:
                self.add(join(loc, key), f"unknown key (allowed: {', '.join(sorted(keys))})")
            else:
                out[key] = item
        return out

    def convert(self, value: object, loc: str, fn: Callable[[object], T], default: T) -> T:
        """Return ``fn(value)``; a ValueError or TypeError it raises becomes the problem."""
        try:
            return fn(value)
        except (ValueError, TypeError) as exc:
            self.add(loc, str(exc))
            return default

    def string(self, value: object, loc: str, default: str = "") -> str:
        """Return a string."""
        if isinstance(value, str):
            return value
        self.add(loc, f"must be a string, not {type(value).__name__}")
        return default

    def number(self, value: object, loc: str, default: float) -> float:
        """Return an int or float (not a bool) as a float."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        self.add(loc, f"must be a number, not {value!r}")
        return default

    def integer(self, value: object, loc: str, default: int) -> int:
        """Return an integer (a float with an integral value is accepted)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        self.add(loc, f"must be an integer, not {value!r}")
        return default

    def str_map(self, value: object, loc: str) -> dict[str, str]:
        """Return a string map; numbers are written as strings."""
        out: dict[str, str] = {}
        for key, item in self.mapping(value, loc, None).items():
            if isinstance(item, str):
                out[key] = item
            elif isinstance(item, int | float) and not isinstance(item, bool):
                out[key] = str(item)
            else:
                self.add(join(loc, key), f"must be a string, not {item!r}")
        return out

    def str_list(self, value: object, loc: str) -> tuple[str, ...]:
        """Return a list of strings; one string is a list of one."""
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            self.add(loc, "must be a list of strings")
            return ()
        return tuple(self.string(v, f"{loc}[{j}]") for j, v in enumerate(value))


def join(loc: str, key: str) -> str:
    """Return the location of ``key`` inside ``loc``."""
    return f"{loc}.{key}" if loc else key
