"""Parsing offers: roles, skipped resources, attributes, combining offers per agent."""

from __future__ import annotations

from typing import Any

import addict
import pytest

from mesos_wm.matcher import AgentCapacity, Offer
from mesos_wm.resources import ResourceSet, scalar

from .builders import make_offer, offer


def test_pools_hold_thousandths_and_merged_ranges() -> None:
    o = offer(2.5, 1024, disk=10, ports=[(31005, 31010), (31000, 31004), (32000, 32000)])
    (pool,) = o.pools
    assert pool.role == "*"
    assert pool.scalars == {"cpus": 2500, "mem": 1024000, "disk": 10000}
    assert pool.ranges == {"ports": ((31000, 31010), (32000, 32000))}
    assert pool.count("ports") == 12
    assert pool.offer_ids == (o.offer_id,)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (None, {"*": 1000, "science": 2000, "other": 4000}),
        (["science"], {"science": 2000}),
        (["science", "*"], {"*": 1000, "science": 2000}),
        ([], {}),
    ],
)
def test_only_the_frameworks_roles_are_kept(roles: list[str] | None,
                                             expected: dict[str, int]) -> None:
    raw = make_offer(1, 0, extra=[scalar("cpus", 2, "science"), scalar("cpus", 4, "other")])
    parsed = Offer.from_json(raw, roles)
    assert {p.role: p.scalars.get("cpus", 0) for p in parsed.pools} == expected


def test_role_falls_back_to_offer_allocation_info_then_legacy_role() -> None:
    raw = make_offer(0, 0, extra=[
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "role": "legacy"},
    ])
    raw["allocation_info"] = {"role": "offered"}
    assert {p.role for p in Offer.from_json(raw).pools} == {"offered"}
    del raw["allocation_info"]
    assert {p.role: p.scalars for p in Offer.from_json(raw).pools} == {
        "*": {"cpus": 1000}, "legacy": {"mem": 64000}}


def test_revocable_shared_and_volume_resources_are_left_out() -> None:
    raw = make_offer(1, 0, extra=[
        {**scalar("cpus", 8, "*"), "revocable": {}},
        {**scalar("disk", 100, "*"), "shared": {}},
        {**scalar("disk", 200, "*"), "disk": {"persistence": {"id": "v1"}}},
        {**scalar("disk", 300, "*"), "disk": {"source": {"type": "MOUNT"}}},
        {**scalar("disk", 50, "*"), "disk": {}},
    ])
    (pool,) = Offer.from_json(raw).pools
    assert pool.scalars == {"cpus": 1000, "disk": 50000}


def test_reserved_resources_form_their_own_pool_and_keep_reservations() -> None:
    reservations = [{"type": "DYNAMIC", "role": "science", "principal": "ops"}]
    raw = make_offer(1, 128, role="science", extra=[
        {**scalar("cpus", 2, "science"), "reservations": reservations}])
    pools = Offer.from_json(raw).pools
    assert len(pools) == 2
    reserved = next(p for p in pools if p.extra)
    assert reserved.scalars == {"cpus": 2000}
    assert reserved.resource("cpus", 1.0) == {
        "name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
        "allocation_info": {"role": "science"}, "reservations": reservations}


def test_attributes_become_text() -> None:
    raw = make_offer(1, 1, attributes={"rack": "r1", "cores": 8.0, "load": 2.5})
    raw["attributes"] += [
        {"name": "span", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 3}]}},
        {"name": "tags", "type": "SET", "set": {"item": ["a", "b"]}},
        {"name": "broken", "type": "SCALAR"},
    ]
    attrs = Offer.from_json(raw).attributes
    assert attrs == {"rack": "r1", "cores": "8", "load": "2.5", "span": "[1-3]",
                     "tags": "{a,b}"}


def test_addict_offers_parse_like_dicts() -> None:
    raw = make_offer(2, 256, ports=[(1, 2)], attributes={"rack": "r9"})
    a, b = Offer.from_json(raw), Offer.from_json(addict.Dict(raw))
    assert (a.offer_id, a.agent_id, a.hostname, dict(a.attributes)) == (
        b.offer_id, b.agent_id, b.hostname, dict(b.attributes))
    assert [p.to_json() for p in a.pools] == [p.to_json() for p in b.pools]


@pytest.mark.parametrize(
    "broken",
    [
        {"agent_id": {"value": "a"}},
        {"id": {"value": "o"}},
        {"id": {"value": "o"}, "agent_id": {"value": "a"},
         "resources": [{"type": "SCALAR", "scalar": {"value": 1}}]},
        {"id": {"value": "o"}, "agent_id": {"value": "a"},
         "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": -1}}]},
        {"id": {"value": "o"}, "agent_id": {"value": "a"},
         "resources": [{"name": "ports", "type": "RANGES", "ranges": {}}]},
    ],
)
def test_malformed_offers_raise_value_error(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Offer.from_json(broken)


def test_combine_adds_offers_of_one_agent_per_role() -> None:
    a1 = offer(1, 100, agent="a", ports=[(10, 12)], offer_id="o1")
    a2 = offer(2, 200, agent="a", ports=[(13, 20)], offer_id="o2")
    a3 = offer(4, 400, agent="a", role="science", offer_id="o3")
    b1 = offer(8, 800, agent="b", offer_id="o4")
    agents = AgentCapacity.combine([b1, a1, a2, a3, a1])
    assert [a.agent_id for a in agents] == ["a", "b"]
    a = agents[0]
    assert a.offer_ids == ("o1", "o2", "o3")
    pools = {p.role: p for p in a.pools}
    assert pools["*"].scalars == {"cpus": 3000, "mem": 300000}
    assert pools["*"].ranges == {"ports": ((10, 20),)}
    assert pools["*"].offer_ids == ("o1", "o2")
    assert pools["science"].offer_ids == ("o3",)
    assert a.total("cpus") == 7.0
    assert agents[1].pools is b1.pools


def test_pool_json_round_trips_through_resource_set() -> None:
    raw = make_offer(3, 512, disk=64, ports=[(31000, 31009)], role="science")
    (pool,) = Offer.from_json(raw).pools
    assert ResourceSet.from_json(pool.to_json(), roles=["science"]) == ResourceSet.from_json(
        raw["resources"])
