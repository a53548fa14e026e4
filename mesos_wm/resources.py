"""Mesos resources: JSON builders and :class:`ResourceSet`, an immutable quantity value.

Mesos resources are a list of ``Resource`` messages: scalars (``cpus``, ``mem``, ``disk``,
``gpus``, any custom name), ranges (``ports``) and sets.  :class:`ResourceSet` folds such
a list into one value per name so that offers can be added, subtracted and compared:

* scalars are kept in thousandths, as Mesos does (``Value::Scalar`` arithmetic is fixed
  point with three decimal digits), so ``0.1 + 0.2 == 0.3`` here as on a master;
* ranges are inclusive ``(begin, end)`` pairs, sorted, with overlapping and adjacent
  ranges merged (``[1-2, 3-4]`` is ``[1-4]``);
* zero scalars and empty ranges or sets are dropped, so equal quantities compare equal.

A :class:`ResourceSet` does not keep reservations, disk info, revocability or the role
of each resource: it is the quantity view the matcher and the allocator need.  Roles are
applied when reading (``from_json(..., roles=...)``) and when writing (``to_json(role)``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ResourceSet",
    "parse_resource_string",
    "ranges",
    "resource_role",
    "scalar",
    "set_resource",
]

_MILLI = 1000
Range = tuple[int, int]


def _to_millis(value: float, name: str) -> int:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"resource {name!r} must be a finite number >= 0, got {value!r}")
    return math.floor(number * _MILLI + 0.5)


def _round3(value: float, name: str) -> float:
    return _to_millis(value, name) / _MILLI


def _with_role(resource: dict[str, Any], role: str | None) -> dict[str, Any]:
    if role is not None:
        resource["allocation_info"] = {"role": role}
    return resource


def scalar(name: str, value: float, role: str | None = None) -> dict[str, Any]:
    """Build a SCALAR ``Resource`` (value rounded to three decimals).

    Args:
        name: ``cpus``, ``mem`` (MB), ``disk`` (MB), ``gpus`` or a custom name.
        value: the amount, >= 0.
        role: when given, ``allocation_info.role`` (the role the resources are allocated
            to, required in offers to and launches by MULTI_ROLE frameworks).

    Returns:
        The ``Resource`` dict.

    Raises:
        ValueError: a negative or non-finite value.
    """
    return _with_role(
        {"name": name, "type": "SCALAR", "scalar": {"value": _round3(value, name)}}, role
    )


def ranges(name: str, items: Iterable[Range], role: str | None = None) -> dict[str, Any]:
    """Build a RANGES ``Resource`` from inclusive ``(begin, end)`` pairs (merged, sorted).

    Raises:
        ValueError: a pair with ``begin > end`` or a negative bound.
    """
    merged = _merge(items, name)
    body = [{"begin": b, "end": e} for b, e in merged]
    return _with_role({"name": name, "type": "RANGES", "ranges": {"range": body}}, role)


def set_resource(name: str, items: Iterable[str], role: str | None = None) -> dict[str, Any]:
    """Build a SET ``Resource`` (items sorted, duplicates removed)."""
    if isinstance(items, str):
        raise ValueError(f"set resource {name!r} needs a collection of items, not a string")
    body = {"item": sorted(set(items))}
    return _with_role({"name": name, "type": "SET", "set": body}, role)


def resource_role(resource: Mapping[str, Any]) -> str:
    """The role of one ``Resource``: ``allocation_info.role``, else the legacy ``role``,
    else ``"*"``."""
    allocation = resource.get("allocation_info")
    if isinstance(allocation, Mapping) and isinstance(allocation.get("role"), str):
        return str(allocation["role"])
    legacy = resource.get("role")
    return str(legacy) if isinstance(legacy, str) else "*"


def _merge(items: Iterable[Range], name: str) -> tuple[Range, ...]:
    pairs = []
    for begin, end in items:
        b, e = int(begin), int(end)
        if b < 0 or b > e:
            raise ValueError(f"invalid range [{begin}-{end}] in resource {name!r}")
        pairs.append((b, e))
    pairs.sort()
    merged: list[Range] = []
    for b, e in pairs:
        if merged and b <= merged[-1][1] + 1:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((b, e))
    return tuple(merged)


def _ranges_contain(outer: tuple[Range, ...], inner: tuple[Range, ...]) -> bool:
    i = 0
    for b, e in inner:
        while i < len(outer) and outer[i][1] < b:
            i += 1
        if i == len(outer) or outer[i][0] > b or outer[i][1] < e:
            return False
    return True


def _ranges_subtract(outer: tuple[Range, ...], inner: tuple[Range, ...]) -> tuple[Range, ...]:
    result: list[Range] = []
    for b, e in outer:
        start = b
        for ib, ie in inner:
            if ie < start or ib > e:
                continue
            if ib > start:
                result.append((start, ib - 1))
            start = max(start, ie + 1)
            if start > e:
                break
        if start <= e:
            result.append((start, e))
    return tuple(result)


@dataclass(frozen=True, eq=False)
class ResourceSet:
    """An immutable quantity of resources (treat the dicts as read-only).

    Attributes:
        scalars: name -> amount (three decimals; zero amounts are absent).
        ranges: name -> sorted, merged, inclusive ``(begin, end)`` pairs.
        sets: name -> items.

    Raises:
        ValueError: negative or non-finite scalars, or an invalid range.
    """

    scalars: dict[str, float] = field(default_factory=dict)
    ranges: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    sets: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        millis = {n: _to_millis(v, n) for n, v in self.scalars.items()}
        object.__setattr__(self, "_millis", {n: m for n, m in sorted(millis.items()) if m})
        object.__setattr__(self, "scalars", {n: m / _MILLI for n, m in self._millis.items()})
        merged = {n: _merge(r, n) for n, r in sorted(self.ranges.items())}
        object.__setattr__(self, "ranges", {n: r for n, r in merged.items() if r})
        sets = {n: frozenset(s) for n, s in sorted(self.sets.items())}
        object.__setattr__(self, "sets", {n: s for n, s in sets.items() if s})

    _millis: dict[str, int] = field(init=False, repr=False, compare=False)

    @classmethod
    def from_json(
        cls, resources: Iterable[Mapping[str, Any]], roles: Iterable[str] | None = None
    ) -> ResourceSet:
        """Fold a list of Mesos ``Resource`` dicts (e.g. ``offer.resources``).

        Args:
            resources: ``Resource`` dicts (plain or ``addict.Dict``).
            roles: keep only resources whose role (see :func:`resource_role`) is one of
                these; None keeps all.

        Returns:
            The summed quantities.

        Raises:
            ValueError: a resource without a name, with an unknown type or a bad value.
        """
        wanted = None if roles is None else frozenset(roles)
        millis: dict[str, int] = {}
        range_lists: dict[str, list[Range]] = {}
        sets: dict[str, set[str]] = {}
        for resource in resources:
            if wanted is not None and resource_role(resource) not in wanted:
                continue
            name = resource.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError(f"resource without a name: {dict(resource)!r}")
            kind = resource.get("type", "SCALAR")
            try:
                if kind == "SCALAR":
                    value = resource["scalar"]["value"]
                    millis[name] = millis.get(name, 0) + _to_millis(value, name)
                elif kind == "RANGES":
                    items = resource.get("ranges", {}).get("range", [])
                    range_lists.setdefault(name, []).extend(
                        (int(r["begin"]), int(r["end"])) for r in items
                    )
                elif kind == "SET":
                    sets.setdefault(name, set()).update(resource.get("set", {}).get("item", []))
                else:
                    raise ValueError(f"resource {name!r} has unsupported type {kind!r}")
            except (KeyError, TypeError) as exc:
                raise ValueError(f"malformed {kind} resource {name!r}: {exc!r}") from exc
        return cls(
            {n: m / _MILLI for n, m in millis.items()},
            {n: _merge(r, n) for n, r in range_lists.items()},
            {n: frozenset(s) for n, s in sets.items()},
        )

    def to_json(self, role: str | None = None) -> list[dict[str, Any]]:
        """Return the Mesos ``Resource`` list, one entry per name.

        Args:
            role: set as ``allocation_info.role`` on every resource (to launch on an
                offer made to that role).

        Returns:
            Scalars, then ranges, then sets, each sorted by name.
        """
        out = [scalar(n, v, role) for n, v in self.scalars.items()]
        out += [ranges(n, r, role) for n, r in self.ranges.items()]
        out += [set_resource(n, s, role) for n, s in self.sets.items()]
        return out

    def is_empty(self) -> bool:
        """True when no resource has a non-zero amount."""
        return not (self.scalars or self.ranges or self.sets)

    def names(self) -> frozenset[str]:
        """Every resource name present."""
        return frozenset(self.scalars) | frozenset(self.ranges) | frozenset(self.sets)

    def contains(self, other: ResourceSet) -> bool:
        """True when every amount, range and item of ``other`` is also in ``self``."""
        return (
            all(self._millis.get(n, 0) >= m for n, m in other._millis.items())
            and all(_ranges_contain(self.ranges.get(n, ()), r) for n, r in other.ranges.items())
            and all(s <= self.sets.get(n, frozenset()) for n, s in other.sets.items())
        )

    @classmethod
    def _normalized(
        cls,
        millis: dict[str, int],
        ranges: dict[str, tuple[Range, ...]],
        sets: dict[str, frozenset[str]],
    ) -> ResourceSet:
        """Build from parts already in normal form (sorted names, merged ranges), dropping
        empty entries, without checking them again (for arithmetic on valid sets)."""
        obj = object.__new__(cls)
        kept = {n: m for n, m in sorted(millis.items()) if m}
        object.__setattr__(obj, "_millis", kept)
        object.__setattr__(obj, "scalars", {n: m / _MILLI for n, m in kept.items()})
        object.__setattr__(obj, "ranges", {n: r for n, r in sorted(ranges.items()) if r})
        object.__setattr__(obj, "sets", {n: s for n, s in sorted(sets.items()) if s})
        return obj

    def __add__(self, other: ResourceSet) -> ResourceSet:
        if not isinstance(other, ResourceSet):
            return NotImplemented
        millis = dict(self._millis)
        for n, m in other._millis.items():
            millis[n] = millis.get(n, 0) + m
        ranges = dict(self.ranges)
        for n, r in other.ranges.items():
            ranges[n] = _merge(ranges[n] + r, n) if n in ranges else r
        sets = dict(self.sets)
        for n, s in other.sets.items():
            sets[n] = sets[n] | s if n in sets else s
        return ResourceSet._normalized(millis, ranges, sets)

    def __sub__(self, other: ResourceSet) -> ResourceSet:
        """Remove ``other``.

        Raises:
            ValueError: ``other`` is not contained in ``self`` (names what is short).
        """
        if not isinstance(other, ResourceSet):
            return NotImplemented
        if not self.contains(other):
            raise ValueError(f"cannot subtract {other} from {self}: not contained")
        taken = other._millis
        millis = {n: m - taken.get(n, 0) for n, m in self._millis.items()}
        ranges = {
            n: _ranges_subtract(r, other.ranges[n]) if n in other.ranges else r
            for n, r in self.ranges.items()
        }
        sets = {n: s - other.sets[n] if n in other.sets else s for n, s in self.sets.items()}
        return ResourceSet._normalized(millis, ranges, sets)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceSet):
            return NotImplemented
        return (self._millis, self.ranges, self.sets) == (other._millis, other.ranges, other.sets)

    def __hash__(self) -> int:
        return hash(
            (
                frozenset(self._millis.items()),
                frozenset(self.ranges.items()),
                frozenset(self.sets.items()),
            )
        )

    def __str__(self) -> str:
        """The ``--resources`` syntax: ``cpus:4;mem:1024;ports:[31000-32000]``."""
        parts = [f"{n}:{_format_number(v)}" for n, v in self.scalars.items()]
        parts += [f"{n}:[{', '.join(f'{b}-{e}' for b, e in r)}]" for n, r in self.ranges.items()]
        parts += [f"{n}:{{{', '.join(sorted(s))}}}" for n, s in self.sets.items()]
        return ";".join(parts)


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


_ENTRY = re.compile(r"^\s*([A-Za-z0-9_.\-/]+)\s*(?:\(\s*([^)]*)\s*\))?\s*:\s*(.+?)\s*$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def parse_resource_string(text: str) -> ResourceSet:
    """Parse an agent's ``--resources`` value.

    Accepts the text form ``cpus:4;mem:8192;disk:20000;ports:[31000-32000, 33000-33100];
    gpus:1;mygpu:2;zones:{a,b}`` (entries repeated for one name are added), an optional
    ``(*)`` role after a name, and the JSON form (a list of ``Resource`` objects).

    Args:
        text: the flag value.

    Returns:
        The resources.

    Raises:
        ValueError: a malformed entry, or a role other than ``*`` (static reservations
            are not supported); the message names the entry.
    """
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"resources JSON is invalid: {exc}") from exc
        if not isinstance(data, list):
            raise ValueError("resources JSON must be a list of Resource objects")
        return ResourceSet.from_json(data)
    total = ResourceSet()
    for entry in filter(None, (e.strip() for e in stripped.split(";"))):
        total = total + _parse_entry(entry)
    return total


def _parse_entry(entry: str) -> ResourceSet:
    match = _ENTRY.match(entry)
    if match is None:
        raise ValueError(f"resource entry {entry!r} is not 'name:value'")
    name, role, value = match.groups()
    if role is not None and role.strip() not in ("", "*"):
        raise ValueError(
            f"resource entry {entry!r}: static reservations for role {role!r} are not "
            "supported; drop the '(role)'"
        )
    if value.startswith("["):
        if not value.endswith("]"):
            raise ValueError(f"resource entry {entry!r}: ranges need a closing ']'")
        pairs = []
        for part in filter(None, (p.strip() for p in value[1:-1].split(","))):
            found = _RANGE.match(part)
            if found is None:
                raise ValueError(f"resource entry {entry!r}: {part!r} is not 'begin-end'")
            pairs.append((int(found.group(1)), int(found.group(2))))
        return ResourceSet(ranges={name: _merge(pairs, name)})
    if value.startswith("{"):
        if not value.endswith("}"):
            raise ValueError(f"resource entry {entry!r}: sets need a closing '}}'")
        items = frozenset(filter(None, (i.strip() for i in value[1:-1].split(","))))
        return ResourceSet(sets={name: items})
    try:
        amount = float(value)
    except ValueError as exc:
        raise ValueError(f"resource entry {entry!r}: {value!r} is not a number") from exc
    return ResourceSet(scalars={name: amount})
