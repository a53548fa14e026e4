"""Submitting workflows: validate, detect resubmissions, and insert everything in bulk."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mesos_wm.errors import DagCycleError, SpecError, WorkflowConflict
from mesos_wm.queue import validation
from mesos_wm.queue.db import Op, chunks, marks
from mesos_wm.queue.model import TaskShape, Workflow, canonical, compact, digest
from mesos_wm.queue.records import SubmitResult
from mesos_wm.queue.states import Counters, RunOn, TaskState, WorkflowState, rollup

_RUN_ON = {r: r.value for r in RunOn}
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
    tasks: list[tuple[Any, ...]]


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


@functools.lru_cache(maxsize=4096)
def shape_digest_of(shape: TaskShape) -> str:
    """Return the digest that identifies a shape in the ``shapes`` table."""
    return digest([canonical(shape.to_json())])


def prepare(workflow: Workflow, shape_digest: dict[int, str]) -> Prepared:
    """Compute the digest and task rows of a workflow (no database access).

    Args:
        workflow: a valid workflow.
        shape_digest: cache of shape digests by ``id(shape)``, filled in as needed.
    """
    parts = [canonical(workflow.header_json())]
    shapes: list[tuple[str, TaskShape]] = []
    tasks: list[tuple[Any, ...]] = []
    encode = compact
    default_prio = workflow.priority
    for task in workflow.tasks:
        shape = task.shape
        sd = shape_digest.get(id(shape))
        if sd is None:
            sd = shape_digest[id(shape)] = shape_digest_of(shape)
            shapes.append((sd, shape))
        spec = encode(task.spec_json())
        deps = ",".join(task.depends_on) if task.depends_on else None
        run_on = _RUN_ON[task.run_on]
        parts.append(f"{task.id}\t{deps}\t{run_on}\t{task.priority}\t{sd}\t{spec}")
        prio = default_prio if task.priority is None else task.priority
        tasks.append((task.id, run_on, prio, sd, spec, deps, len(task.depends_on)))
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
    results: dict[str, SubmitResult] = {}
    fresh: list[Prepared] = []
    in_batch: dict[str, str] = {}
    for p in prepared:
        wid = p.workflow.id
        old = existing.get(wid)
        if old is not None and old[0] != p.digest:
            raise WorkflowConflict(
                f"workflow {wid!r} is already in the queue with different content; "
                "submit it under a new id"
            )
        if in_batch.get(wid, p.digest) != p.digest:
            raise WorkflowConflict(f"workflow {wid!r} appears twice with different content")
        if old is not None:
            results[wid] = SubmitResult(wid, False, 0, WorkflowState(old[1]))
        elif wid not in in_batch:
            fresh.append(p)
        in_batch[wid] = p.digest
    if not fresh:
        return _in_order(prepared, results)
    _intern_shapes(op, fresh, shape_ids)
    allocated = tx.new_ids({"workflows": len(fresh),
                            "tasks": sum(len(p.tasks) for p in fresh)})
    wf_ids, task_ids = allocated["workflows"], iter(allocated["tasks"])
    wf_rows: list[tuple[Any, ...]] = []
    task_rows: list[tuple[Any, ...]] = []
    edge_rows: list[tuple[int, int]] = []
    label_rows: list[tuple[int, str, str]] = []
    for wf, p in zip(wf_ids, fresh, strict=True):
        w = p.workflow
        timed = w.not_before is not None and w.not_before > now
        root_state = TaskState.PENDING.value if timed else TaskState.QUEUED.value
        queued_at = None if timed else now
        nb = w.not_before
        row_of: dict[str, int] = {}
        ready_rows = op.fx.ready
        shape_of = {sd: shape_ids.get(sd) or op.fx.shape_digests[sd] for sd in
                    {t[3] for t in p.tasks}}
        ready = 0
        for (name, run_on, prio, sd, spec, deps, ndeps), row in zip(p.tasks, task_ids,
                                                                    strict=False):
            row_of[name] = row
            shape = shape_of[sd]
            if ndeps:
                task_rows.append((row, wf, name, "PENDING", run_on, prio, shape, spec, deps,
                                  ndeps, nb, None, now))
                continue
            task_rows.append((row, wf, name, root_state, run_on, prio, shape, spec, deps, 0,
                              nb, queued_at, now))
            if timed:
                op.fx.timers.append((row, nb or 0.0))
            else:
                ready_rows.append((row, wf, name, shape, prio, 0, now))
                ready += 1
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
        results[w.id] = SubmitResult(w.id, True, ready, wstate)
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
    return _in_order(prepared, results)


def _in_order(prepared: Sequence[Prepared], results: dict[str, SubmitResult]) -> list[SubmitResult]:
    out, seen = [], set()
    for p in prepared:
        r = results[p.workflow.id]
        out.append(r if r.workflow_id not in seen else SubmitResult(r.workflow_id, False, 0,
                                                                    r.state))
        seen.add(r.workflow_id)
    return out


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
        ids = op.tx.new_ids({"shapes": len(missing)})["shapes"]
        op.tx.many(
            "INSERT INTO shapes (id, digest, doc) VALUES (?, ?, ?)",
            [(sid, sd, canonical(new[sd].to_json())) for sid, sd in zip(ids, missing,
                                                                         strict=True)],
        )
        found.update(zip(missing, ids, strict=True))
    for sd, sid in found.items():
        op.fx.shape_digests[sd] = sid
        op.fx.shapes[sid] = new[sd]
