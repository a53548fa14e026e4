"""Tests of mesos_wm.resources: builders, ResourceSet arithmetic, roles, --resources."""

from __future__ import annotations

import pytest
from addict import Dict
from hypothesis import given
from hypothesis import strategies as st

from mesos_wm.resources import (
    ResourceSet,
    parse_resource_string,
    ranges,
    resource_role,
    scalar,
    set_resource,
)


def test_scalar_builder() -> None:
    assert scalar("cpus", 0.5) == {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}
    assert scalar("mem", 1024, role="airavata") == {
        "name": "mem",
        "type": "SCALAR",
        "scalar": {"value": 1024.0},
        "allocation_info": {"role": "airavata"},
    }
    assert scalar("cpus", 0.12345)["scalar"]["value"] == 0.123
    assert scalar("cpus", 0.0005)["scalar"]["value"] == 0.001


def test_ranges_builder_merges() -> None:
    assert ranges("ports", [(33000, 33010), (31000, 31005), (31006, 31010)], "r") == {
        "name": "ports",
        "type": "RANGES",
        "ranges": {"range": [{"begin": 31000, "end": 31010}, {"begin": 33000, "end": 33010}]},
        "allocation_info": {"role": "r"},
    }


def test_set_builder() -> None:
    assert set_resource("zones", ["b", "a", "b"]) == {
        "name": "zones",
        "type": "SET",
        "set": {"item": ["a", "b"]},
    }
    with pytest.raises(ValueError):
        set_resource("zones", "ab")


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf")])
def test_scalar_builder_refuses(value: float) -> None:
    with pytest.raises(ValueError, match="cpus"):
        scalar("cpus", value)


def test_ranges_builder_refuses_inverted_ranges() -> None:
    with pytest.raises(ValueError, match="10-5"):
        ranges("ports", [(10, 5)])


def test_scalars_use_three_decimals_like_mesos() -> None:
    total = ResourceSet({"cpus": 0.1}) + ResourceSet({"cpus": 0.2})
    assert total.scalars == {"cpus": 0.3}
    assert total == ResourceSet({"cpus": 0.3})
    assert ResourceSet({"cpus": 0.1004}) == ResourceSet({"cpus": 0.1})
    assert (ResourceSet({"cpus": 1}) - ResourceSet({"cpus": 0.9})).scalars == {"cpus": 0.1}


def test_zero_and_empty_entries_are_dropped() -> None:
    res = ResourceSet({"cpus": 0, "gpus": 0.0001}, {"ports": ()}, {"zones": frozenset()})
    assert res.is_empty()
    assert res == ResourceSet()
    assert ResourceSet().to_json() == []


def test_from_json_sums_and_merges() -> None:
    res = ResourceSet.from_json(
        [
            scalar("cpus", 1),
            scalar("cpus", 1.5),
            scalar("mem", 512),
            ranges("ports", [(31000, 31009)]),
            ranges("ports", [(31010, 31020), (40000, 40000)]),
            set_resource("zones", ["a"]),
            set_resource("zones", ["b"]),
        ]
    )
    assert res.scalars == {"cpus": 2.5, "mem": 512.0}
    assert res.ranges == {"ports": ((31000, 31020), (40000, 40000))}
    assert res.sets == {"zones": frozenset({"a", "b"})}


def test_from_json_accepts_addict_and_numeric_strings() -> None:
    res = ResourceSet.from_json(
        [
            Dict(scalar("cpus", 2)),
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": "1", "end": "3"}]}},
        ]
    )
    assert res == ResourceSet({"cpus": 2}, {"ports": ((1, 3),)})


def test_from_json_filters_by_role() -> None:
    offered = [
        scalar("cpus", 1, role="a"),
        scalar("cpus", 2, role="b"),
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "role": "a"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
        {
            "name": "disk",
            "type": "SCALAR",
            "scalar": {"value": 10},
            "role": "*",
            "allocation_info": {"role": "b"},
        },
    ]
    assert ResourceSet.from_json(offered).scalars == {"cpus": 3, "disk": 10, "mem": 96}
    assert ResourceSet.from_json(offered, roles=["a"]).scalars == {"cpus": 1, "mem": 64}
    assert ResourceSet.from_json(offered, roles=["b"]).scalars == {"cpus": 2, "disk": 10}
    assert ResourceSet.from_json(offered, roles=["*"]).scalars == {"mem": 32}
    assert ResourceSet.from_json(offered, roles=[]).is_empty()


def test_resource_role() -> None:
    assert resource_role({"role": "x", "allocation_info": {"role": "y"}}) == "y"
    assert resource_role({"role": "x"}) == "x"
    assert resource_role({}) == "*"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "SCALAR", "scalar": {"value": 1}},
        {"name": "cpus", "type": "SCALAR"},
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": -1}},
        {"name": "cpus", "type": "TEXT", "text": {"value": "x"}},
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 5}]}},
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 5, "end": 1}]}},
    ],
)
def test_from_json_refuses_malformed_resources(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ResourceSet.from_json([bad])


def test_to_json_round_trip_with_role() -> None:
    res = ResourceSet({"mem": 128, "cpus": 0.25}, {"ports": ((1, 2),)}, {"zones": frozenset("ab")})
    out = res.to_json("airavata")
    assert [r["name"] for r in out] == ["cpus", "mem", "ports", "zones"]
    assert all(r["allocation_info"] == {"role": "airavata"} for r in out)
    assert ResourceSet.from_json(out, roles=["airavata"]) == res
    assert all("allocation_info" not in r for r in res.to_json())


def test_subtract_and_contains() -> None:
    offer = parse_resource_string("cpus:4;mem:8192;ports:[31000-32000];zones:{a,b}")
    task = parse_resource_string("cpus:1.5;mem:1024;ports:[31500-31501];zones:{a}")
    assert offer.contains(task)
    assert not task.contains(offer)
    rest = offer - task
    assert rest == parse_resource_string(
        "cpus:2.5;mem:7168;ports:[31000-31499,31502-32000];zones:{b}"
    )
    assert rest + task == offer


@pytest.mark.parametrize(
    "wanted",
    ["cpus:5", "gpus:1", "ports:[30999-31000]", "ports:[32000-32001]", "zones:{c}"],
)
def test_subtract_refuses_what_is_not_contained(wanted: str) -> None:
    offer = parse_resource_string("cpus:4;ports:[31000-32000];zones:{a,b}")
    need = parse_resource_string(wanted)
    assert not offer.contains(need)
    with pytest.raises(ValueError, match="not contained"):
        offer - need


def test_equality_and_hash() -> None:
    a = ResourceSet({"cpus": 1}, {"ports": ((1, 2), (3, 4))})
    b = ResourceSet({"cpus": 1.0}, {"ports": ((1, 4),)})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != ResourceSet({"cpus": 2})
    assert a != "cpus:1"


def test_str_is_the_resources_flag_syntax() -> None:
    res = parse_resource_string("ports:[1-2, 5-6];cpus:0.5;mem:64;zones:{b,a}")
    assert str(res) == "cpus:0.5;mem:64;ports:[1-2, 5-6];zones:{a, b}"
    assert parse_resource_string(str(res)) == res


def test_parse_resource_string_agent_flag() -> None:
    res = parse_resource_string("cpus:4;mem:8192;disk:20000;ports:[31000-32000];gpus:1;mygpu:2")
    assert res.scalars == {
        "cpus": 4.0,
        "disk": 20000.0,
        "gpus": 1.0,
        "mem": 8192.0,
        "mygpu": 2.0,
    }
    assert res.ranges == {"ports": ((31000, 32000),)}


def test_parse_resource_string_variants() -> None:
    assert parse_resource_string(" cpus(*) : 2 ; cpus:1; ; mem:1.5 ") == ResourceSet(
        {"cpus": 3, "mem": 1.5}
    )
    assert parse_resource_string("") == ResourceSet()
    json_form = '[{"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}}]'
    assert parse_resource_string(json_form) == ResourceSet({"cpus": 2})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cpus", "name:value"),
        ("cpus:four", "not a number"),
        ("cpus:-1", "cpus"),
        ("cpus(airavata):4", "static reservations"),
        ("ports:[1-2", "closing"),
        ("ports:[1:2]", "begin-end"),
        ("ports:[5-1]", "invalid range"),
        ("zones:{a", "closing"),
        ("[not json", "JSON"),
        ('{"name": "cpus"}', "name:value"),
    ],
)
def test_parse_resource_string_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_resource_string(text)


# ---- property tests -------------------------------------------------------------------

range_lists = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 20)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=6,
)
resource_sets = st.builds(
    ResourceSet,
    st.dictionaries(
        st.sampled_from(["cpus", "mem", "gpus"]),
        st.floats(0, 1000, allow_nan=False).map(lambda v: round(v, 3)),
        max_size=3,
    ),
    st.dictionaries(st.sampled_from(["ports", "other"]), range_lists, max_size=2),
    st.dictionaries(
        st.just("zones"), st.frozensets(st.sampled_from("abcdef"), max_size=4), max_size=1
    ),
)


def covered(res: ResourceSet, name: str) -> set[int]:
    return {p for b, e in res.ranges.get(name, ()) for p in range(b, e + 1)}


@given(range_lists)
def test_ranges_are_merged_sorted_and_keep_every_point(pairs: list[tuple[int, int]]) -> None:
    merged = ResourceSet(ranges={"ports": pairs}).ranges.get("ports", ())
    assert {p for b, e in pairs for p in range(b, e + 1)} == {
        p for b, e in merged for p in range(b, e + 1)
    }
    for (_, e1), (b2, _) in zip(merged, merged[1:], strict=False):
        assert e1 + 1 < b2


@given(resource_sets, resource_sets)
def test_add_then_subtract_is_identity_for_scalars_and_disjoint_parts(
    a: ResourceSet, b: ResourceSet
) -> None:
    total = a + b
    assert total.contains(a)
    assert total.contains(b)
    for name in total.ranges:
        assert covered(total, name) == covered(a, name) | covered(b, name)


@given(resource_sets, resource_sets)
def test_a_plus_b_minus_b_is_a_when_disjoint(a: ResourceSet, b: ResourceSet) -> None:
    b_disjoint = ResourceSet(
        b.scalars,
        {n: ResourceSet(ranges={n: r}).ranges.get(n, ()) for n, r in _minus_ranges(b, a).items()},
        {n: s - a.sets.get(n, frozenset()) for n, s in b.sets.items()},
    )
    assert (a + b_disjoint) - b_disjoint == a


def _minus_ranges(b: ResourceSet, a: ResourceSet) -> dict[str, tuple[tuple[int, int], ...]]:
    out = {}
    for name, rs in b.ranges.items():
        points = covered(b, name) - covered(a, name)
        out[name] = tuple((p, p) for p in sorted(points))
    return out


@given(resource_sets, resource_sets)
def test_contains_agrees_with_subtraction(a: ResourceSet, b: ResourceSet) -> None:
    if a.contains(b):
        rest = a - b
        assert rest + b == a
        for name in a.ranges:
            assert covered(rest, name) == covered(a, name) - covered(b, name)
    else:
        with pytest.raises(ValueError):
            a - b


@given(resource_sets)
def test_json_and_text_round_trips(a: ResourceSet) -> None:
    assert ResourceSet.from_json(a.to_json()) == a
    assert ResourceSet.from_json(a.to_json("r"), roles=["r"]) == a
    assert a.contains(a)
    assert (a - a).is_empty()
    assert a + ResourceSet() == a
    assert parse_resource_string(str(a)) == a
