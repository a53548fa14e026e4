"""Submitting workflows: validate, detect resubmissions, and insert everything in bulk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mesos_wm.errors import DagCycleError, SpecError, WorkflowConflict
from mesos_wm.queue import validation
from mesos_wm.queue.db import Op, chunks, marks
from mesos_wm.queue.model import TaskShape, Workflow, canonical, digest
from mesos_wm.queue.records import SubmitResult
from mesos_wm.queue.states import Counters, TaskState, WorkflowState, rollup

_TASK_INSERT = (
    "INSERT INTO tasks (id, wf, task_id, state, run_on, priority, shape, spec, deps, deps_left,"
    " not_before, queued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class Prepared:
    """A validated workflow turned into row values (ids are filled in at insert time)."""

    workflow: Workflow
    digest: str
    shapes: list[tuple[str, TaskShape]]
    tasks: list[list[Any]]


def check(workflow: Workflow) -> None:
    """Validate a workflow built in Python.

    Raises:
        DagCycleError: its dependencies form a cycle (and nothing else is wrong).
        SpecError: anything else is wrong, with every problem located.
    """
    found = validation.problems(workflow)
    if not found:
        return
    if all(p.location == "tasks" and "cycle" in p.message for p in found):
        raise DagCycleError(f"workflow {workflow.id!r}: {found[0].message}")
    raise SpecError(found, source=f"workflow {workflow.id!r}")


def prepare(workflow: Workflow, shape_digest: dict[int, str]) -> Prepared:
    """Compute the digest and task rows of a workflow (no database access).

    Args:
        workflow: a valid workflow.
        shape_digest: cache of shape digests by ``id(shape)``, filled in as needed.
    """
    parts = [canonical(workflow.header_json())]
    shapes: list[tuple[str, TaskShape]] = []
    tasks: list[list[Any]] = []
    for task in workflow.tasks:
        shape = task.shape
        sd = shape_digest.get(id(shape))
        if sd is None:
            sd = shape_digest[id(shape)] = digest([canonical(shape.to_json())])
            shapes.append((sd, shape))
        spec = canonical(task.spec_json())
        deps = json.dumps(task.depends_on) if task.depends_on else None
        prio = workflow.priority if task.priority is None else task.priority
        parts.append(f"{task.id}\t{deps}\t{task.run_on.value}\t{task.priority}\t{sd}\t{spec}")
        # [id, wf, task_id, state, run_on, priority, shape, spec, deps, deps_left, ...]
        tasks.append([0, 0, task.id, None, task.run_on.value, prio, sd, spec, deps,
                      len(task.depends_on)])
    return Prepared(workflow, digest(parts), shapes, tasks)


def submit(
    op: Op, prepared: Sequence[Prepared], shape_ids: dict[str, int]
) -> list[SubmitResult]:
    """Insert new workflows; resubmissions of the same content are no-ops.

    Args:
        op: the transaction context.
        prepared: the workflows, from :func:`prepare`.
        shape_ids: known shape ids by shape digest (read only; new ones go to ``op.fx``).

    Raises:
        WorkflowConflict: a workflow id exists with different content (nothing written).
    """
    tx, now = op.tx, op.now
    existing: dict[str, tuple[str, str]] = {}
    ids = [p.workflow.id for p in prepared]
    for part in chunks(ids):
        for wid, dig, state in tx.all(
            f"SELECT workflow_id, digest, state FROM workflows WHERE workflow_id IN "
            f"({marks(len(part))})",
            part,
        ):
            existing[wid] = (dig, state)
    results: list[SubmitResult] = []
    fresh: list[Prepared] = []
    for p in prepared:
        old = existing.get(p.workflow.id)
        if old is None:
            fresh.append(p)
        elif old[0] == p.digest:
            results.append(SubmitResult(p.workflow.id, False, 0, WorkflowState(old[1])))
        else:
            raise WorkflowConflict(
                f"workflow {p.workflow.id!r} is already in the queue with different content; "
                "submit it under a new id"
            )
    if not fresh:
        return results
    _intern_shapes(op, fresh, shape_ids)
    wf_ids = tx.new_ids("workflows", len(fresh))
    task_ids = iter(tx.new_ids("tasks", sum(len(p.tasks) for p in fresh)))
    wf_rows: list[tuple[Any, ...]] = []
    task_rows: list[list[Any]] = []
    edge_rows: list[tuple[int, int]] = []
    label_rows: list[tuple[int, str, str]] = []
    for wf, p in zip(wf_ids, fresh, strict=True):
        w = p.workflow
        timed = w.not_before is not None and w.not_before > now
        state = TaskState.PENDING if timed else TaskState.QUEUED
        queued_at = None if timed else now
        row_of: dict[str, int] = {}
        ready = 0
        for task, row in zip(p.tasks, task_ids, strict=False):
            row_of[task[2]] = row
            task[0], task[1] = row, wf
            sd = task[6]
            task[6] = shape_ids.get(sd) or op.fx.shape_digests[sd]
            if task[9] == 0:
                task[3] = state.value
                task.extend((w.not_before, queued_at, now))
                if timed:
                    op.fx.timers.append((row, w.not_before or 0.0))
                else:
                    op.fx.ready.append((row, wf, task[2], task[6], task[5], 0, now))
                    ready += 1
            else:
                task[3] = TaskState.PENDING.value
                task.extend((w.not_before, None, now))
            task_rows.append(task)
        for t in w.tasks:
            child = row_of[t.id]
            edge_rows.extend((row_of[d], child) for d in t.depends_on)
        counters = Counters(len(p.tasks), 0, 0, ready > 0, False, False)
        wstate = rollup(counters)
        wf_rows.append((wf, w.id, w.name, w.owner, w.priority, canonical(dict(w.labels)),
                        w.not_before, w.directory(), wstate.value, p.digest, len(p.tasks),
                        int(ready > 0), now, now))
        label_rows.extend((wf, k, v) for k, v in w.labels.items())
        op.log(wf, None, WorkflowState.CREATED.value, None, "submitted")
        if wstate != WorkflowState.CREATED:
            op.log(wf, None, wstate.value)
        op.fx.workflows[wf] = (w.id, w.owner)
        results.append(SubmitResult(w.id, True, ready, wstate))
    tx.many(
        "INSERT INTO workflows (id, workflow_id, name, owner, priority, labels, not_before,"
        " directory, state, digest, total, queued_ever, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        wf_rows,
    )
    tx.many(_TASK_INSERT, task_rows)
    if edge_rows:
        tx.many("INSERT INTO edges (parent, child) VALUES (?, ?)", edge_rows)
    if label_rows:
        tx.many("INSERT INTO labels (wf, key, value) VALUES (?, ?, ?)", label_rows)
    op.finish()
    for wf in wf_ids:
        op.record_change(wf)
    return results


def _intern_shapes(op: Op, fresh: Sequence[Prepared], shape_ids: dict[str, int]) -> None:
    new: dict[str, TaskShape] = {}
    for p in fresh:
        for sd, shape in p.shapes:
            if sd not in shape_ids:
                new.setdefault(sd, shape)
    if not new:
        return
    digests = list(new)
    found: dict[str, int] = {}
    for part in chunks(digests):
        for sd, sid in op.tx.all(
            f"SELECT digest, id FROM shapes WHERE digest IN ({marks(len(part))})", part
        ):
            found[sd] = int(sid)
    missing = [sd for sd in digests if sd not in found]
    if missing:
        ids = op.tx.new_ids("shapes", len(missing))
        op.tx.many(
            "INSERT INTO shapes (id, digest, doc) VALUES (?, ?, ?)",
            [(sid, sd, canonical(new[sd].to_json())) for sid, sd in zip(ids, missing,
                                                                         strict=True)],
        )
        found.update(zip(missing, ids, strict=True))
    for sd, sid in found.items():
        op.fx.shape_digests[sd] = sid
        op.fx.shapes[sid] = new[sd]
