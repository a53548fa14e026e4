"""What a queued task asks for: :class:`TaskRequest`, and its interned resource :class:`Shape`.

Amounts are kept in thousandths (``milli``) as integers, like Mesos's fixed-point scalars, so
that packing many tasks onto one agent never drifts.  Range and set resources (``ports``)
are asked for by count: ``{"ports": 2}`` means two port numbers, which the matcher picks
from the offered ranges.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mesos_wm.matcher.constraints import Constraint

__all__ = ["MILLI", "Shape", "Signature", "TaskRequest", "to_milli"]

MILLI: Final = 1000
GPUS: Final = "gpus"


def to_milli(value: float, name: str = "resource") -> int:
    """Convert an amount to thousandths, rounding like Mesos (three decimals).

    Raises:
        ValueError: a negative, NaN or infinite amount.
    """
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return math.floor(number * MILLI + 0.5)


@dataclass(frozen=True, eq=False)
class TaskRequest:
    """One ready task as the matcher sees it.

    Attributes:
        key: unique id of the task (attempt) in the queue; placements name it.
        resources: amounts per resource name (``cpus``, ``mem`` and ``disk`` in MB,
            ``gpus``, custom scalars) and counts for range or set resources (``ports``).
        priority: higher is placed first.
        owner: the unit of fair sharing (the gateway user or tenant).
        submitted: submit time or any sortable number; earlier goes first within an owner.
        constraints: placement constraints (:class:`~mesos_wm.matcher.Constraint`).
        group: the tasks that ``UNIQUE``, ``CLUSTER``, ``GROUP_BY`` and ``MAX_PER`` count
            over (e.g. a parameter sweep); None counts only the task itself.
        colocate_with_agent: an agent id the task must run on (where its workflow's
            executor and working directory already are).

    Raises:
        ValueError: an empty key or a negative or non-finite amount.
    """

    key: str
    resources: Mapping[str, float]
    priority: int = 0
    owner: str = "default"
    submitted: float = 0.0
    constraints: tuple[Constraint, ...] = ()
    group: str | None = None
    colocate_with_agent: str | None = None
    shape_items: tuple[tuple[str, int], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a TaskRequest needs a non-empty key")
        items = tuple(
            sorted((n, m) for n, v in self.resources.items() if (m := to_milli(v, n)) > 0)
        )
        object.__setattr__(self, "shape_items", items)
        if not isinstance(self.constraints, tuple):
            object.__setattr__(self, "constraints", tuple(self.constraints))


class Shape:
    """An interned resource vector: every task asking for the same amounts shares one.

    Attributes:
        index: small integer id, stable for the life of the owning index.
        items: ``(name, milli)`` pairs sorted by name, zero amounts left out.
        gpu: True when the shape asks for GPUs.
    """

    __slots__ = ("amounts", "gpu", "index", "items")

    def __init__(self, index: int, items: tuple[tuple[str, int], ...]) -> None:
        self.index = index
        self.items = items
        self.amounts: dict[str, int] = dict(items)
        self.gpu = self.amounts.get(GPUS, 0) > 0

    def amount(self, name: str) -> float:
        """The amount of ``name`` in resource units (0.0 when not asked for)."""
        return self.amounts.get(name, 0) / MILLI

    def describe(self) -> str:
        """``cpus:2;mem:1024`` — the shape in the ``--resources`` syntax."""
        return ";".join(f"{n}:{_fmt(m)}" for n, m in self.items) or "nothing"

    def __repr__(self) -> str:
        return f"Shape({self.describe()})"


def _fmt(milli: int) -> str:
    whole, frac = divmod(milli, MILLI)
    return str(whole) if not frac else f"{milli / MILLI:g}"


Check = tuple[str, int, str]
"""A dynamic constraint as the compiled placers evaluate it: (operator, count, field)."""


class Signature:
    """An interned placement class: the constraints, group and pinned agent of a task.

    Only tasks with dynamic constraints keep their group in the signature, so unconstrained
    tasks of many groups share one signature (and one bucket per shape).  A task without a
    group is alone in it, so its dynamic constraints always hold and are left out.

    Attributes:
        index: small integer id.
        constraints: all constraints, in the task's order.
        static: those that depend only on the agent.
        dynamic: those that depend on where the group runs.
        checks: ``dynamic`` as :data:`Check` triples.
        group: the group the dynamic constraints count over (None when none).
        pin: the agent id the task must go to, or None.
        groupby: True when a GROUP_BY constraint is among the dynamic ones.
        base: the signature with only the static constraints and the pin (``self`` when
            there are no dynamic constraints).
        master: the signature without any constraint or pin.
    """

    __slots__ = ("_verdicts", "base", "checks", "constraints", "dynamic", "group", "groupby",
                 "index", "key", "master", "pin", "static")

    def __init__(self, index: int, constraints: tuple[Constraint, ...], group: str | None,
                 pin: str | None, base: Signature | None = None) -> None:
        from mesos_wm.matcher.constraints import Operator

        self.index = index
        self.key = (constraints, group, pin)
        self.constraints = constraints
        self.static = tuple(c for c in constraints if c.static)
        dynamic = tuple(c for c in constraints if not c.static)
        self.dynamic = dynamic if group is not None else ()
        self.group = group if self.dynamic else None
        self.checks: tuple[Check, ...] = tuple(
            (c.operator, c.count, c.field) for c in self.dynamic)
        self.pin = pin
        self.groupby = any(c.operator is Operator.GROUP_BY for c in self.dynamic)
        self.base: Signature = base if base is not None and self.dynamic else self
        self.master: Signature = self
        self._verdicts: list[dict[str | None, bool]] = [{} for _ in self.static]

    def accepts(self, i: int, value: str | None) -> bool:
        """``static[i].accepts(value)``, remembered: a static constraint's verdict on a
        value never changes, and agents repeat their values from cycle to cycle."""
        verdicts = self._verdicts[i]
        known = verdicts.get(value)
        if known is None:
            known = verdicts[value] = self.static[i].accepts(value)
        return known

    @staticmethod
    def key_of(task: TaskRequest) -> tuple[tuple[Constraint, ...], str | None, str | None]:
        """The interning key of a task's signature."""
        dynamic = any(not c.static for c in task.constraints)
        group = task.group if dynamic else None
        return (task.constraints, group, task.colocate_with_agent)

    def base_key(self) -> tuple[tuple[Constraint, ...], None, str | None]:
        """The interning key of :attr:`base`."""
        return (self.static, None, self.pin)

    def describe(self) -> str:
        """The constraints and pin as short text."""
        parts = [str(c) for c in self.constraints]
        if self.pin is not None:
            parts.append(f"on agent {self.pin}")
        return ", ".join(parts) or "none"
