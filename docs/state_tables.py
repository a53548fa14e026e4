"""Render the queue's state transition tables for the task model page.

The allowed moves of tasks and workflows are data in ``mesos_wm.queue.states``
(``TASK_TRANSITIONS``, ``WORKFLOW_TRANSITIONS``); the docs show those tables as they are in
the code being documented, so the page cannot drift from what the queue enforces.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

TABLES = {
    "task": "TASK_TRANSITIONS",
    "workflow": "WORKFLOW_TRANSITIONS",
}


def markdown_table(transitions: Mapping[Any, Iterable[Any]], order: Iterable[Any]) -> str:
    """Return a ``| from | may move to |`` Markdown table.

    Args:
        transitions: state -> the states it may move to.
        order: every state, in the order to list them (and their targets) in.

    Returns:
        One row per state of ``order`` that has an entry; a state without moves shows "-".
    """
    ranked = {state: i for i, state in enumerate(order)}
    rows = ["| from | may move to |", "|---|---|"]
    for state in sorted(transitions, key=lambda s: ranked.get(s, len(ranked))):
        targets = sorted(transitions[state], key=lambda s: ranked.get(s, len(ranked)))
        cells = ", ".join(f"`{_name(t)}`" for t in targets) or "-"
        rows.append(f"| `{_name(state)}` | {cells} |")
    return "\n".join(rows)


def render_markdown(kind: str) -> str:
    """Return the transition table of ``kind`` (``task`` or ``workflow``) from the code.

    Raises:
        KeyError: ``kind`` is not one of :data:`TABLES`.
    """
    attribute = TABLES[kind]
    try:
        states = importlib.import_module("mesos_wm.queue.states")
        transitions: Mapping[enum.Enum, Iterable[enum.Enum]] = getattr(states, attribute)
        enum_type: type[enum.Enum] = type(next(iter(transitions)))
    except (ImportError, AttributeError, StopIteration):
        return (
            f"(The {kind} transition table, `mesos_wm.queue.states.{attribute}`, is not in "
            "this build.)"
        )
    return markdown_table(transitions, list(enum_type))


def _name(state: object) -> str:
    return str(getattr(state, "value", state))
