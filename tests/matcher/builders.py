"""Builders for matcher tests: Mesos offer JSON, parsed offers, task requests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mesos_wm.matcher import (
    Constraint,
    Matcher,
    MatchResult,
    Offer,
    PendingIndex,
    RunningIndex,
    TaskRequest,
)

_serial = itertools.count(1)


def make_offer(
    cpus: float = 4,
    mem: float = 1024,
    *,
    disk: float = 0,
    gpus: float = 0,
    ports: Iterable[tuple[int, int]] = (),
    attributes: Mapping[str, str | float] | None = None,
    role: str = "*",
    agent: str | None = None,
    hostname: str | None = None,
    offer_id: str | None = None,
    extra: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Mesos v1 ``Offer`` JSON with one resource per non-zero amount."""
    n = next(_serial)
    agent = agent or f"agent-{n}"
    alloc = {"role": role}
    resources: list[dict[str, Any]] = []
    for name, value in (("cpus", cpus), ("mem", mem), ("disk", disk), ("gpus", gpus)):
        if value:
            resources.append({"name": name, "type": "SCALAR", "scalar": {"value": value},
                              "allocation_info": dict(alloc)})
    spans = list(ports)
    if spans:
        resources.append({"name": "ports", "type": "RANGES", "allocation_info": dict(alloc),
                          "ranges": {"range": [{"begin": b, "end": e} for b, e in spans]}})
    resources.extend(extra)
    attrs = []
    for key, attr in (attributes or {}).items():
        if isinstance(attr, str):
            attrs.append({"name": key, "type": "TEXT", "text": {"value": attr}})
        else:
            attrs.append({"name": key, "type": "SCALAR", "scalar": {"value": attr}})
    return {
        "id": {"value": offer_id or f"offer-{n}"},
        "framework_id": {"value": "fw-1"},
        "agent_id": {"value": agent},
        "hostname": hostname or f"{agent}.example.org",
        "resources": resources,
        "attributes": attrs,
    }


def offer(cpus: float = 4, mem: float = 1024, **kw: Any) -> Offer:
    """A parsed :class:`Offer` (every role kept)."""
    return Offer.from_json(make_offer(cpus, mem, **kw))


def task(
    key: str,
    cpus: float = 1,
    mem: float = 128,
    *,
    ports: int = 0,
    gpus: float = 0,
    disk: float = 0,
    priority: int = 0,
    owner: str = "default",
    submitted: float = 0.0,
    constraints: Iterable[Sequence[object]] = (),
    group: str | None = None,
    colocate: str | None = None,
) -> TaskRequest:
    """A :class:`TaskRequest`; constraints in the workflow form ``[field, OP, value?]``."""
    resources = {"cpus": cpus, "mem": mem, "ports": ports, "gpus": gpus, "disk": disk}
    return TaskRequest(
        key, {k: v for k, v in resources.items() if v}, priority=priority, owner=owner,
        submitted=submitted, constraints=tuple(Constraint.parse(c) for c in constraints),
        group=group, colocate_with_agent=colocate)


def index_of(tasks: Iterable[TaskRequest]) -> PendingIndex:
    """A PendingIndex holding ``tasks``."""
    index = PendingIndex()
    index.add_many(tasks)
    return index


def run(offers: Iterable[Offer], tasks: Iterable[TaskRequest],
        running: RunningIndex | None = None, **config: Any) -> MatchResult:
    """One cycle of a new Matcher over ``tasks``."""
    return Matcher(**config).match(list(offers), index_of(tasks), running)


def placed(result: MatchResult) -> dict[str, str]:
    """task key -> agent id of every placement."""
    return {p.task_key: p.agent_id for p in result.placements}


def reasons(result: MatchResult) -> dict[str, str]:
    """task key -> why-pending reason of every unplaced task."""
    return {key: group.reason for key, group in result.iter_unplaced()}
