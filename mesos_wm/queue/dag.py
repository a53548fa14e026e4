"""Dependency checks of a workflow's tasks: duplicate ids, unknown dependencies, cycles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DagProblem:
    """One problem of a task graph.

    Attributes:
        index: position of the offending task in the list, or None for a cycle.
        field: ``id`` or ``depends_on[i]``, or ``""`` for a cycle.
        message: what is wrong, naming the tasks.
        cycle: for a cycle, the task ids along it (first id repeated at the end).
    """

    index: int | None
    field: str
    message: str
    cycle: tuple[str, ...] = ()


def check_dag(ids: Sequence[str], depends_on: Sequence[Sequence[str]]) -> list[DagProblem]:
    """Find duplicate ids, unknown dependencies, self-dependencies and cycles.

    Runs in O(tasks + edges); graphs whose dependencies all point to earlier tasks (the
    usual order of a file) cannot have a cycle and skip the search.

    Args:
        ids: task ids in order.
        depends_on: for each task, the ids it depends on.

    Returns:
        Every problem found; empty when the graph is a valid DAG.
    """
    problems: list[DagProblem] = []
    first: dict[str, int] = {}
    for i, task_id in enumerate(ids):
        if task_id in first:
            problems.append(
                DagProblem(i, "id", f"duplicate task id {task_id!r} (also tasks[{first[task_id]}])")
            )
        else:
            first[task_id] = i
    backwards = True
    for i, deps in enumerate(depends_on):
        seen: set[str] = set()
        for j, dep in enumerate(deps):
            at = first.get(dep)
            if at is not None and at < i and dep not in seen:
                seen.add(dep)
                continue
            backwards = False
            where = f"depends_on[{j}]"
            if dep not in first:
                problems.append(DagProblem(i, where, f"unknown task {dep!r}"))
            elif dep == ids[i]:
                problems.append(DagProblem(i, where, f"task {dep!r} depends on itself"))
            elif dep in seen:
                problems.append(DagProblem(i, where, f"{dep!r} is listed twice"))
            seen.add(dep)
    if len(first) == len(ids) and not backwards:
        cycle = find_cycle(ids, depends_on)
        if cycle:
            text = " -> ".join(cycle)
            message = f"dependency cycle: {text} (each depends on the next)"
            problems.append(DagProblem(None, "", message, cycle))
    return problems


def find_cycle(ids: Sequence[str], depends_on: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """Return one dependency cycle as ids (first repeated at the end), or ``()``.

    Iterative depth-first search, so deep graphs do not hit the recursion limit.
    Dependencies on unknown ids are ignored; ids must be unique.
    """
    index = {task_id: i for i, task_id in enumerate(ids)}
    white, grey, black = 0, 1, 2
    colour = [white] * len(ids)
    for root in range(len(ids)):
        if colour[root] != white:
            continue
        path: list[int] = [root]
        iters = [iter(depends_on[root])]
        colour[root] = grey
        while path:
            for dep in iters[-1]:
                j = index.get(dep)
                if j is None or colour[j] == black:
                    continue
                if colour[j] == grey:
                    start = path.index(j)
                    return (*(ids[k] for k in path[start:]), ids[j])
                colour[j] = grey
                path.append(j)
                iters.append(iter(depends_on[j]))
                break
            else:
                colour[path.pop()] = black
                iters.pop()
    return ()
