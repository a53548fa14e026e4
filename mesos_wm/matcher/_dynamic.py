"""The dynamic constraint operators on one field value, given where a group's tasks are.

:meth:`Constraint.admits` and :meth:`Constraint.spread_bound` delegate here, and the
compiled placers call these functions directly with a cursor's (operator, count, field)
triples, so a cycle does not go through the interpreted constraint objects per slot.
``counts`` is the group's count of tasks per value of the constraint's field and
``candidates`` the values of the agents that have room for the task now.
"""

from __future__ import annotations

__all__ = ["admits_dynamic", "spread_bound"]


def admits_dynamic(operator: str, number: int, value: str | None, counts: dict[str, int],
                   candidates: frozenset[str]) -> bool:
    """UNIQUE, MAX_PER, CLUSTER (without a value) or GROUP_BY on ``value``."""
    if value is None:
        return False
    here = counts.get(value, 0)
    if operator == "UNIQUE":
        return here == 0
    if operator == "MAX_PER":
        return here < number
    if operator == "CLUSTER":
        used = [v for v, c in counts.items() if c > 0]
        return not used or value in used
    bound = spread_bound(number, counts, candidates)
    return bound is None or here <= bound


def spread_bound(number: int, counts: dict[str, int], candidates: frozenset[str]) -> int | None:
    """GROUP_BY expecting ``number`` values (0: any): the most tasks a value may already
    hold to be chosen (see :meth:`Constraint.spread_bound`)."""
    used_values = {v for v, c in counts.items() if c > 0}
    if number and len(used_values) < number:
        return 0
    known = used_values | candidates
    if not known:
        return None
    return min(counts.get(v, 0) for v in known)
