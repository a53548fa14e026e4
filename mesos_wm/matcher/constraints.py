"""Placement constraints with Marathon's operators, on ``hostname`` or an agent attribute.

A constraint is written ``[field, OPERATOR, value?]`` in a workflow file.  ``field`` is
``hostname`` or the name of an agent attribute; text attributes compare as text, scalar
attributes as their number written without a trailing ``.0`` (``8``, ``2.5``).

========== ============================================================================
operator   a task may go to an agent when ...
========== ============================================================================
EQ, IS     the field equals ``value``
LIKE       the field matches the regular expression ``value`` as a whole
UNLIKE     the field does not match ``value`` as a whole (or the agent lacks it)
UNIQUE     no task of the group runs where the field has this value
CLUSTER    ``value`` given: like EQ; no value: every task of the group on one value
GROUP_BY   the field's value has no more tasks of the group than the least used value
           (``value`` = how many distinct values to expect before reusing one)
MAX_PER    fewer than ``value`` tasks of the group run where the field has this value
========== ============================================================================

An agent without the attribute fails every operator but UNLIKE.  The first four depend only
on the agent (*static*); the others depend on where the task's ``group`` already runs
(*dynamic*), which :class:`GroupCounts` describes.  A constraint is checked when placing
the task that carries it, against the group's tasks that run or were placed before it.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from mesos_wm.matcher._dynamic import admits_dynamic, spread_bound

__all__ = ["HOSTNAME", "AgentAttributes", "Constraint", "GroupCounts", "Operator", "field_value"]

HOSTNAME: Final = "hostname"


class Operator(enum.StrEnum):
    """Marathon's constraint operators."""

    EQ = "EQ"
    IS = "IS"
    LIKE = "LIKE"
    UNLIKE = "UNLIKE"
    UNIQUE = "UNIQUE"
    CLUSTER = "CLUSTER"
    GROUP_BY = "GROUP_BY"
    MAX_PER = "MAX_PER"


_NEEDS_VALUE = frozenset({Operator.EQ, Operator.IS, Operator.LIKE, Operator.UNLIKE,
                          Operator.MAX_PER})
_NO_VALUE = frozenset({Operator.UNIQUE})
_INT_VALUE = frozenset({Operator.MAX_PER, Operator.GROUP_BY})


class AgentAttributes(Protocol):
    """What a constraint reads from an agent."""

    @property
    def hostname(self) -> str: ...

    @property
    def attributes(self) -> Mapping[str, str]: ...


def field_value(hostname: str, attributes: Mapping[str, str], name: str) -> str | None:
    """The value a constraint on ``name`` sees: the hostname or the attribute (None if absent)."""
    if name == HOSTNAME:
        return hostname
    return attributes.get(name)


@dataclass
class GroupCounts:
    """Where the tasks of one group are, for the dynamic operators.

    Attributes:
        counts: field -> value -> number of the group's tasks running or placed there.
        candidates: field -> values of the agents that have room for the task now; GROUP_BY
            spreads over these and the values already in ``counts``.
    """

    counts: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    candidates: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    def count(self, name: str, value: str) -> int:
        """Tasks of the group where field ``name`` has ``value``."""
        return self.counts.get(name, {}).get(value, 0)


def _format_value(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"constraint value must be text or a number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Constraint:
    """One placement constraint; construct with :meth:`parse` or directly.

    Attributes:
        field: ``hostname`` or an agent attribute name.
        operator: the :class:`Operator`.
        value: the operand as text (None where the operator takes none).

    Raises:
        ValueError: a missing or superfluous value, a non-integer count for MAX_PER or
            GROUP_BY, or an invalid regular expression for LIKE/UNLIKE.
    """

    field: str
    operator: Operator
    value: str | None = None
    _regex: re.Pattern[str] | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False)
    _number: int = dataclasses.field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        op = Operator(self.operator)
        object.__setattr__(self, "operator", op)
        if not self.field:
            raise ValueError(f"constraint {self}: the field name is empty")
        if self.value is None and op in _NEEDS_VALUE:
            raise ValueError(f"constraint {self}: {op.value} needs a value")
        if self.value is not None and op in _NO_VALUE:
            raise ValueError(f"constraint {self}: {op.value} takes no value")
        number = 0
        if self.value is not None and op in _INT_VALUE:
            try:
                number = int(self.value)
            except ValueError:
                number = -1
            if number < (1 if op is Operator.MAX_PER else 0):
                raise ValueError(f"constraint {self}: {op.value} needs a positive integer")
        regex = None
        if op in (Operator.LIKE, Operator.UNLIKE):
            try:
                regex = re.compile(str(self.value))
            except re.error as exc:
                raise ValueError(f"constraint {self}: invalid regular expression: {exc}") from exc
        object.__setattr__(self, "_number", number)
        object.__setattr__(self, "_regex", regex)

    @classmethod
    def parse(cls, spec: Sequence[object]) -> Constraint:
        """Read the workflow form ``[field, OPERATOR, value?]``.

        Args:
            spec: two or three items; the operator is case-insensitive, numbers are
                accepted as values.

        Returns:
            The constraint.

        Raises:
            ValueError: wrong length, unknown operator or an invalid value (see the class).
        """
        if isinstance(spec, str | bytes) or len(spec) not in (2, 3):
            raise ValueError(f"a constraint is [field, OPERATOR, value?], got {spec!r}")
        name, op = spec[0], spec[1]
        if not isinstance(name, str) or not isinstance(op, str):
            raise ValueError(f"a constraint is [field, OPERATOR, value?], got {spec!r}")
        try:
            operator = Operator(op.upper())
        except ValueError:
            known = ", ".join(o.value for o in Operator)
            raise ValueError(f"unknown constraint operator {op!r}; use one of {known}") from None
        value = _format_value(spec[2]) if len(spec) == 3 else None
        return cls(name, operator, value)

    @property
    def static(self) -> bool:
        """True when the outcome depends only on the agent, not on other tasks."""
        op = self.operator
        return op in (Operator.EQ, Operator.IS, Operator.LIKE, Operator.UNLIKE) or (
            op is Operator.CLUSTER and self.value is not None
        )

    @property
    def count(self) -> int:
        """The integer operand of MAX_PER and GROUP_BY (0 when absent)."""
        return self._number

    def accepts(self, value: str | None) -> bool:
        """Evaluate a static constraint on one field value (None = the agent lacks it).

        Raises:
            ValueError: the constraint is dynamic.
        """
        op = self.operator
        if op is Operator.UNLIKE:
            assert self._regex is not None
            return value is None or self._regex.fullmatch(value) is None
        if value is None:
            return False
        if op is Operator.LIKE:
            assert self._regex is not None
            return self._regex.fullmatch(value) is not None
        if op in (Operator.EQ, Operator.IS) or (op is Operator.CLUSTER and self.value is not None):
            return value == self.value
        raise ValueError(f"{self} depends on other tasks; use evaluate()")

    def admits(self, value: str | None, group: GroupCounts) -> bool:
        """Evaluate on one field value given where the group's tasks are."""
        if self.static:
            return self.accepts(value)
        return admits_dynamic(self.operator, self._number, value,
                              group.counts.get(self.field, {}),
                              group.candidates.get(self.field, frozenset()))

    def spread_bound(self, group: GroupCounts) -> int | None:
        """GROUP_BY: the most tasks of the group a value may already hold to be chosen.

        The least count over the values where the group runs and the candidate values; 0
        while fewer values than the expected count are used; None when there are none
        (any value will do).  :meth:`admits` compares a value's count with it, so a cycle
        can work it out once per placement instead of once per value.
        """
        return spread_bound(self._number, group.counts.get(self.field, {}),
                            group.candidates.get(self.field, frozenset()))

    def evaluate(self, agent: AgentAttributes, group: GroupCounts | None = None) -> str | None:
        """Check the constraint for one agent (Fenzo's ``ConstraintEvaluator.evaluate``).

        Args:
            agent: anything with ``hostname`` and ``attributes`` (e.g. an AgentCapacity).
            group: where the task's group runs; None means nowhere yet.

        Returns:
            None when the agent is acceptable, otherwise a short reason.
        """
        value = field_value(agent.hostname, agent.attributes, self.field)
        if self.admits(value, group if group is not None else GroupCounts()):
            return None
        if value is None and self.field != HOSTNAME:
            return f"{self} failed: no attribute {self.field}"
        return f"{self} failed"

    def __str__(self) -> str:
        op = self.operator.value if isinstance(self.operator, Operator) else str(self.operator)
        return f"{self.field} {op}" + (f" {self.value}" if self.value is not None else "")
