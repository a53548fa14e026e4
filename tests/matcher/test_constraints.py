"""Constraint parsing and evaluation, one table row per operator and edge."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pytest_mock import MockerFixture

from mesos_wm.matcher import Constraint, GroupCounts, Operator
from mesos_wm.matcher.request import Signature


@dataclass
class Agent:
    hostname: str = "h1"
    attributes: dict[str, str] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("spec", "operator", "value"),
    [
        (["rack", "EQ", "r1"], Operator.EQ, "r1"),
        (["rack", "is", "r1"], Operator.IS, "r1"),
        (["cores", "EQ", 8], Operator.EQ, "8"),
        (["cores", "EQ", 8.0], Operator.EQ, "8"),
        (["load", "EQ", 2.5], Operator.EQ, "2.5"),
        (["hostname", "LIKE", "node-[0-9]+"], Operator.LIKE, "node-[0-9]+"),
        (["hostname", "UNLIKE", "gpu.*"], Operator.UNLIKE, "gpu.*"),
        (["hostname", "UNIQUE"], Operator.UNIQUE, None),
        (["rack", "CLUSTER"], Operator.CLUSTER, None),
        (["rack", "CLUSTER", "r2"], Operator.CLUSTER, "r2"),
        (["rack", "GROUP_BY"], Operator.GROUP_BY, None),
        (["rack", "GROUP_BY", "3"], Operator.GROUP_BY, "3"),
        (["rack", "MAX_PER", 2], Operator.MAX_PER, "2"),
    ],
)
def test_parse(spec: list[object], operator: Operator, value: str | None) -> None:
    c = Constraint.parse(spec)
    assert (c.field, c.operator, c.value) == (spec[0], operator, value)
    assert Constraint.parse(spec) == c
    assert hash(Constraint.parse(spec)) == hash(c)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["rack"], "field, OPERATOR"),
        (["rack", "EQ", "r1", "x"], "field, OPERATOR"),
        ("rack EQ r1", "field, OPERATOR"),
        (["rack", "NEAR", "r1"], "unknown constraint operator 'NEAR'"),
        (["rack", "EQ"], "EQ needs a value"),
        (["rack", "LIKE"], "LIKE needs a value"),
        (["rack", "MAX_PER"], "MAX_PER needs a value"),
        (["hostname", "UNIQUE", "x"], "UNIQUE takes no value"),
        (["rack", "MAX_PER", "zero"], "positive integer"),
        (["rack", "MAX_PER", 0], "positive integer"),
        (["rack", "GROUP_BY", -1], "positive integer"),
        (["hostname", "LIKE", "("], "invalid regular expression"),
        (["", "EQ", "x"], "field name is empty"),
        (["rack", "EQ", True], "text or a number"),
        ([1, "EQ", "x"], "field, OPERATOR"),
    ],
)
def test_parse_rejects(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Constraint.parse(spec)  # type: ignore[arg-type]


STATIC_CASES = [
    # (constraint, agent attributes, hostname, accepted)
    (["rack", "EQ", "r1"], {"rack": "r1"}, "h", True),
    (["rack", "EQ", "r1"], {"rack": "r2"}, "h", False),
    (["rack", "EQ", "r1"], {}, "h", False),
    (["rack", "IS", "r1"], {"rack": "r1"}, "h", True),
    (["hostname", "EQ", "h7"], {}, "h7", True),
    (["hostname", "LIKE", "node-[0-9]+"], {}, "node-12", True),
    (["hostname", "LIKE", "node-[0-9]+"], {}, "node-12.example.org", False),
    (["hostname", "LIKE", "node"], {}, "xnode", False),
    (["zone", "LIKE", "z[01]"], {"zone": "z1"}, "h", True),
    (["zone", "LIKE", "z[01]"], {}, "h", False),
    (["zone", "UNLIKE", "z[01]"], {"zone": "z1"}, "h", False),
    (["zone", "UNLIKE", "z[01]"], {"zone": "z2"}, "h", True),
    (["zone", "UNLIKE", "z[01]"], {}, "h", True),
    (["rack", "CLUSTER", "r2"], {"rack": "r2"}, "h", True),
    (["rack", "CLUSTER", "r2"], {"rack": "r1"}, "h", False),
]


@pytest.mark.parametrize(("spec", "attributes", "hostname", "ok"), STATIC_CASES)
def test_static_operators(spec: list[object], attributes: dict[str, str], hostname: str,
                          ok: bool) -> None:
    c = Constraint.parse(spec)
    assert c.static
    reason = c.evaluate(Agent(hostname, attributes))
    assert (reason is None) is ok
    if not ok:
        assert str(c) in (reason or "")


DYNAMIC_CASES = [
    # (constraint, value of the agent, counts of the group, candidates, accepted)
    (["hostname", "UNIQUE"], "h1", {}, (), True),
    (["hostname", "UNIQUE"], "h1", {"h2": 1}, (), True),
    (["hostname", "UNIQUE"], "h1", {"h1": 1}, (), False),
    (["rack", "MAX_PER", "2"], "r1", {"r1": 1}, (), True),
    (["rack", "MAX_PER", "2"], "r1", {"r1": 2}, (), False),
    (["rack", "CLUSTER"], "r1", {}, (), True),
    (["rack", "CLUSTER"], "r1", {"r1": 3}, (), True),
    (["rack", "CLUSTER"], "r2", {"r1": 3}, (), False),
    (["rack", "GROUP_BY"], "r1", {}, ("r1", "r2"), True),
    (["rack", "GROUP_BY"], "r1", {"r1": 1}, ("r1", "r2"), False),
    (["rack", "GROUP_BY"], "r2", {"r1": 1}, ("r1", "r2"), True),
    (["rack", "GROUP_BY"], "r1", {"r1": 1}, ("r1",), True),
    (["rack", "GROUP_BY"], "r1", {"r1": 2, "r2": 1}, ("r1",), False),
    (["rack", "GROUP_BY"], "r1", {"r1": 2, "r2": 2}, ("r1",), True),
    (["rack", "GROUP_BY", "2"], "r1", {"r1": 1}, ("r1",), False),
    (["rack", "GROUP_BY", "2"], "r2", {"r1": 1}, ("r2",), True),
    (["rack", "GROUP_BY", "2"], "r1", {"r1": 1, "r2": 1}, ("r1",), True),
]


@pytest.mark.parametrize(("spec", "value", "counts", "candidates", "ok"), DYNAMIC_CASES)
def test_dynamic_operators(spec: list[object], value: str, counts: dict[str, int],
                           candidates: tuple[str, ...], ok: bool) -> None:
    c = Constraint.parse(spec)
    assert not c.static
    group = GroupCounts({c.field: dict(counts)}, {c.field: frozenset(candidates)})
    agent = Agent(value, {}) if c.field == "hostname" else Agent("h", {c.field: value})
    assert (c.evaluate(agent, group) is None) is ok


def test_missing_attribute_fails_dynamic_operators_and_names_it() -> None:
    for spec in (["rack", "UNIQUE"], ["rack", "MAX_PER", 1], ["rack", "GROUP_BY"],
                 ["rack", "CLUSTER"]):
        reason = Constraint.parse(spec).evaluate(Agent("h", {}), GroupCounts())
        assert reason is not None and "no attribute rack" in reason


def test_accepts_refuses_dynamic_constraints() -> None:
    with pytest.raises(ValueError, match="depends on other tasks"):
        Constraint.parse(["hostname", "UNIQUE"]).accepts("h1")


def test_str_round_trips_the_workflow_form() -> None:
    assert str(Constraint.parse(["rack", "EQ", "r1"])) == "rack EQ r1"
    assert str(Constraint.parse(["hostname", "UNIQUE"])) == "hostname UNIQUE"
    assert Constraint.parse(["rack", "MAX_PER", "3"]).count == 3


def test_a_signature_remembers_the_verdicts_of_its_static_constraints(
        mocker: MockerFixture) -> None:
    rack, zone = Constraint.parse(["rack", "EQ", "r1"]), Constraint.parse(["zone", "UNLIKE", "z9"])
    sig = Signature(1, (rack, zone), None, None)
    spy = mocker.spy(Constraint, "accepts")
    seen = [(sig.accepts(0, v), sig.accepts(1, v)) for v in ("r1", "r2", "r1", None, "z9", None)]
    assert seen == [(True, True), (False, True), (True, True), (False, True), (False, False),
                    (False, True)]
    assert spy.call_count == 8
