"""Offers as the matcher sees them: parsed once from Mesos ``Offer`` JSON, combined per agent.

:meth:`Offer.from_json` keeps only the resources allocated to the framework's roles and
folds them into :class:`Pool` objects — one per role (and reservation), amounts in
thousandths, ranges merged.  Task resources must come from a single role, so the unit the
matcher places on is a pool; the offers of one agent are combined into one
:class:`AgentCapacity` whose pools add up the offers of each role.

Left out on purpose: revocable resources, shared resources and disks with persistence or a
source (mount/path disks), which ordinary tasks must not take.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from mesos_wm.matcher.request import MILLI, to_milli

__all__ = ["AgentCapacity", "Offer", "Pool", "merge_ranges"]

Range = tuple[int, int]


def merge_ranges(items: Iterable[Range]) -> tuple[Range, ...]:
    """Sort inclusive ``(begin, end)`` pairs and merge overlapping or adjacent ones."""
    merged: list[Range] = []
    for b, e in sorted(items):
        if merged and b <= merged[-1][1] + 1:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((b, e))
    return tuple(merged)


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _format_scalar(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _attribute_text(attribute: Mapping[str, Any]) -> str | None:
    kind = attribute.get("type", "TEXT")
    try:
        if kind == "TEXT":
            return str(attribute["text"]["value"])
        if kind == "SCALAR":
            return _format_scalar(attribute["scalar"]["value"])
        if kind == "RANGES":
            spans = attribute.get("ranges", {}).get("range", [])
            return "[" + ",".join(f"{r['begin']}-{r['end']}" for r in spans) + "]"
        if kind == "SET":
            return "{" + ",".join(attribute.get("set", {}).get("item", [])) + "}"
    except (KeyError, TypeError, ValueError):
        return None
    return None


class Pool:
    """Resources of one role (and one reservation) on one agent.

    Attributes:
        role: the role the resources are allocated to (``allocation_info.role``).
        extra: fields copied into every ``Resource`` built from this pool
            (``reservations`` of reserved resources; empty for unreserved ones).
        scalars: name -> thousandths.
        ranges: name -> merged inclusive pairs.
        sets: name -> sorted items.
        offer_ids: the offers the resources came from.

    A pool is not changed once its offer is parsed (the matcher caches counts on it).
    """

    __slots__ = ("counts", "extra", "key", "offer_ids", "ranges", "role", "scalars", "sets")

    def __init__(
        self,
        role: str,
        extra: dict[str, Any],
        key: tuple[str, str],
        offer_ids: tuple[str, ...],
        *,
        scalars: dict[str, int] | None = None,
        ranges: dict[str, tuple[Range, ...]] | None = None,
        sets: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.role = role
        self.extra = extra
        self.key = key
        self.offer_ids = offer_ids
        self.scalars: dict[str, int] = scalars if scalars is not None else {}
        self.ranges: dict[str, tuple[Range, ...]] = ranges if ranges is not None else {}
        self.sets: dict[str, tuple[str, ...]] = sets if sets is not None else {}
        self.counts: dict[str, int] | None = None

    def count(self, name: str) -> int:
        """How many range values or set items of ``name`` the pool has."""
        counts = self.counts
        if counts is None:
            counts = self.counts = {}
        known = counts.get(name)
        if known is None:
            spans = self.ranges.get(name)
            known = counts[name] = (sum(e - b + 1 for b, e in spans) if spans is not None
                                    else len(self.sets.get(name, ())))
        return known

    def resource(self, name: str, value: float | tuple[Range, ...] | tuple[str, ...]
                 ) -> dict[str, Any]:
        """Build one Mesos ``Resource`` of this pool (role and reservations included).

        Args:
            name: the resource name.
            value: an amount (SCALAR), inclusive ``(begin, end)`` pairs (RANGES) or items
                (SET).
        """
        out: dict[str, Any] = {"name": name}
        if isinstance(value, float | int):
            out["type"] = "SCALAR"
            out["scalar"] = {"value": value}
        elif name in self.ranges:
            out["type"] = "RANGES"
            out["ranges"] = {"range": [{"begin": r[0], "end": r[1]} for r in value
                                       if isinstance(r, tuple)]}
        else:
            out["type"] = "SET"
            out["set"] = {"item": [str(v) for v in value]}
        out["allocation_info"] = {"role": self.role}
        for k, v in self.extra.items():
            out[k] = _plain(v)
        return out

    def to_json(self) -> list[dict[str, Any]]:
        """All the pool's resources as Mesos ``Resource`` dicts."""
        out = [self.resource(n, m / MILLI) for n, m in sorted(self.scalars.items())]
        out += [self.resource(n, r) for n, r in sorted(self.ranges.items())]
        out += [self.resource(n, s) for n, s in sorted(self.sets.items())]
        return out

    def merged(self, other: Pool) -> Pool:
        """A new pool with the resources of both (same role and reservation)."""
        scalars = dict(self.scalars)
        for n, m in other.scalars.items():
            scalars[n] = scalars.get(n, 0) + m
        ranges = dict(self.ranges)
        for n, r in other.ranges.items():
            ranges[n] = merge_ranges(ranges.get(n, ()) + r)
        sets = dict(self.sets)
        for n, s in other.sets.items():
            sets[n] = tuple(sorted(set(sets.get(n, ())) | set(s)))
        ids = self.offer_ids + tuple(i for i in other.offer_ids if i not in self.offer_ids)
        return Pool(self.role, self.extra, self.key, ids, scalars=scalars, ranges=ranges,
                    sets=sets)


def _skipped(resource: Mapping[str, Any]) -> bool:
    if resource.get("revocable") is not None or resource.get("shared") is not None:
        return True
    disk = resource.get("disk")
    if not isinstance(disk, Mapping):
        return False
    return bool(disk.get("persistence")) or bool(disk.get("source"))


class Offer:
    """One Mesos offer, reduced to what matching needs.

    Attributes:
        offer_id, agent_id, hostname: from the offer.
        attributes: agent attribute name -> value as text.
        pools: the usable resources, one pool per role (and reservation).
    """

    __slots__ = ("agent_id", "attributes", "capacity", "hostname", "offer_id", "pools")

    def __init__(self, offer_id: str, agent_id: str, hostname: str,
                 attributes: Mapping[str, str], pools: tuple[Pool, ...]) -> None:
        self.offer_id = offer_id
        self.agent_id = agent_id
        self.hostname = hostname
        self.attributes: dict[str, str] = _as_dict(attributes)
        self.pools = pools
        self.capacity: AgentCapacity | None = None

    @classmethod
    def from_json(cls, offer: Mapping[str, Any], roles: Iterable[str] | None = None) -> Offer:
        """Parse a Mesos v1 ``Offer`` (dict or ``addict.Dict``).

        Args:
            offer: the offer JSON.
            roles: the framework's roles; resources allocated to other roles are left out
                (None keeps every role).  A resource's role is its ``allocation_info.role``,
                else the offer's, else the legacy ``role``, else ``*``.

        Returns:
            The offer.

        Raises:
            ValueError: missing ids, a resource without a name or with a malformed value.
        """
        try:
            offer_id = str(offer["id"]["value"])
            agent_id = str(offer["agent_id"]["value"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"offer without id or agent_id: {exc!r}") from exc
        wanted = None if roles is None else frozenset(roles)
        offer_role = (offer.get("allocation_info") or {}).get("role")
        pools: dict[tuple[str, str], Pool] = {}
        for res in offer.get("resources") or ():
            alloc = res.get("allocation_info")
            role = alloc.get("role") if alloc else None
            if not role:
                role = offer_role or res.get("role") or "*"
            if (wanted is not None and role not in wanted) or _skipped(res):
                continue
            reservations = res.get("reservations") or res.get("reservation")
            sig = json.dumps(_plain(reservations), sort_keys=True) if reservations else ""
            pool = pools.get((role, sig))
            if pool is None:
                extra: dict[str, Any] = {}
                if res.get("reservations"):
                    extra["reservations"] = _plain(res["reservations"])
                elif res.get("reservation"):
                    extra["reservation"] = _plain(res["reservation"])
                pool = pools[(role, sig)] = Pool(role, extra, (role, sig), (offer_id,))
            _fold(pool, res)
        attributes: dict[str, str] = {}
        for attribute in offer.get("attributes") or ():
            text = _attribute_text(attribute)
            if text is not None and attribute.get("name"):
                attributes[str(attribute["name"])] = text
        hostname = str(offer.get("hostname") or "")
        return cls(offer_id, agent_id, hostname, attributes,
                   tuple(pools[k] for k in sorted(pools)))


def _fold(pool: Pool, res: Mapping[str, Any]) -> None:
    name = res.get("name")
    if not name:
        raise ValueError(f"resource without a name: {res!r}")
    kind = res.get("type") or "SCALAR"
    try:
        if kind == "SCALAR":
            pool.scalars[name] = pool.scalars.get(name, 0) + to_milli(res["scalar"]["value"], name)
        elif kind == "RANGES":
            spans = [(int(r["begin"]), int(r["end"])) for r in res["ranges"]["range"]]
            pool.ranges[name] = merge_ranges(pool.ranges.get(name, ()) + tuple(spans))
        elif kind == "SET":
            items = set(pool.sets.get(name, ())) | {str(i) for i in res["set"]["item"]}
            pool.sets[name] = tuple(sorted(items))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed {kind} resource {name!r}: {exc!r}") from exc


class AgentCapacity:
    """All offers of one agent, combined: what can be placed there in this cycle.

    Attributes:
        agent_id, hostname, attributes: of the agent.
        pools: one per role (and reservation), each summing the offers of that role.
        offer_ids: every offer of the agent, in arrival order.
    """

    __slots__ = ("agent_id", "attributes", "hostname", "offer_ids", "pools")

    def __init__(self, agent_id: str, hostname: str, attributes: Mapping[str, str],
                 pools: tuple[Pool, ...], offer_ids: tuple[str, ...]) -> None:
        self.agent_id = agent_id
        self.hostname = hostname
        self.attributes: dict[str, str] = _as_dict(attributes)
        self.pools = pools
        self.offer_ids = offer_ids

    @classmethod
    def combine(cls, offers: Iterable[Offer]) -> list[AgentCapacity]:
        """Group offers by agent and add up their pools.

        Args:
            offers: parsed offers, any order; an offer id seen twice counts once.

        Returns:
            One AgentCapacity per agent, sorted by agent id (an agent with a single offer
            gets the same object every cycle while that offer is held).
        """
        firsts: dict[str, Offer] = {}
        more: dict[str, list[Offer]] = {}
        seen: set[str] = set()
        for offer in offers:
            if offer.offer_id in seen:
                continue
            seen.add(offer.offer_id)
            first = firsts.setdefault(offer.agent_id, offer)
            if first is not offer:
                more.setdefault(offer.agent_id, [first]).append(offer)
        out = []
        for agent_id in sorted(firsts):
            first = firsts[agent_id]
            group = more.get(agent_id)
            if group is None:
                alone = first.capacity
                if alone is None:
                    alone = first.capacity = cls(agent_id, first.hostname, first.attributes,
                                                 first.pools, (first.offer_id,))
                out.append(alone)
                continue
            pools: dict[tuple[str, str], Pool] = {}
            for offer in group:
                for pool in offer.pools:
                    have = pools.get(pool.key)
                    pools[pool.key] = pool if have is None else have.merged(pool)
            out.append(cls(agent_id, first.hostname, first.attributes,
                           tuple(pools[k] for k in sorted(pools)),
                           tuple(o.offer_id for o in group)))
        return out

    def total(self, name: str) -> float:
        """The amount of scalar ``name`` over all pools."""
        return sum(p.scalars.get(name, 0) for p in self.pools) / MILLI

    def __repr__(self) -> str:
        return f"AgentCapacity({self.agent_id!r}, {self.hostname!r}, pools={len(self.pools)})"


def _as_dict(attributes: Mapping[str, str]) -> dict[str, str]:
    """The attributes as a dict (kept as given when they are one), which the compiled
    matcher reads without a generic method call."""
    return attributes if isinstance(attributes, dict) else dict(attributes)
