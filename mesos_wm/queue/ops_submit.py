"""Writing workflows: conflict checks, shape interning, and the full rows in bulk.

:func:`submit` writes a batch directly (``submit_many``); :func:`insert` writes the rows of
prepared workflows and is shared with the intake's expansion, so a workflow gets the same
rows whichever way it came in.  A workflow id is taken once it is in ``workflows`` or
waiting in the intake.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress, repeat
from typing import Any

from mesos_wm.errors import StoreError, WorkflowConflict
from mesos_wm.queue.db import Op, chunks, marks
from mesos_wm.queue.model import TaskShape, canonical
from mesos_wm.queue.prepare import Prepared
from mesos_wm.queue.records import SubmitResult
from mesos_wm.queue.states import WorkflowState

_TASK_INSERT = (
    "INSERT INTO tasks (id, wf, task_id, state, run_on, priority, shape, spec, deps, deps_left,"
    " not_before, queued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_WORKFLOW_INSERT = (
    "INSERT INTO workflows (id, workflow_id, name, owner, priority, labels, not_before,"
    " directory, state, digest, total, queued_ever, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CREATED = WorkflowState.CREATED
_SCHEDULED = WorkflowState.SCHEDULED


def existing(op: Op, workflow_ids: Sequence[str]) -> dict[str, tuple[str, WorkflowState]]:
    """Return (digest, state) of the ids already taken, in ``workflows`` or the intake."""
    out: dict[str, tuple[str, WorkflowState]] = {}
    for part in chunks(list(dict.fromkeys(workflow_ids))):
        m = marks(len(part))
        for wid, dig, state in op.tx.all(
            f"SELECT workflow_id, digest, state FROM workflows WHERE workflow_id IN ({m})"
            f" UNION ALL SELECT workflow_id, digest, state FROM intake WHERE workflow_id IN ({m})",
            [*part, *part],
        ):
            out[wid] = (dig, WorkflowState(state))
    return out


def conflict(workflow_id: str) -> WorkflowConflict:
    """The error for an id taken by different content."""
    return WorkflowConflict(f"workflow {workflow_id!r} is already in the queue with different "
                            "content; submit it under a new id")


def initial_state(p: Prepared, at: float) -> tuple[int, WorkflowState]:
    """Return how many tasks a new workflow queues at once, and its first state."""
    if p.not_before is not None and p.not_before > at:
        return 0, _CREATED
    ready = p.deps.count(())
    return ready, _SCHEDULED if ready else _CREATED


def submit(op: Op, prepared: Sequence[Prepared], shape_ids: dict[str, int]) -> list[SubmitResult]:
    """Insert new workflows in full; resubmissions of the same content are no-ops.

    Args:
        op: the transaction context.
        prepared: the workflows.
        shape_ids: known shape ids by digest (read only; new ones go to ``op.fx``).

    Raises:
        WorkflowConflict: an id is taken by different content (nothing written).
    """
    ids = [p.workflow_id for p in prepared]
    op.tx.lock_names(sorted(set(ids)))
    taken = existing(op, ids)
    results: dict[str, SubmitResult] = {}
    fresh: list[tuple[Prepared, float]] = []
    in_batch: dict[str, str] = {}
    for p in prepared:
        wid = p.workflow_id
        old = taken.get(wid)
        if old is not None and old[0] != p.digest:
            raise conflict(wid)
        if in_batch.get(wid, p.digest) != p.digest:
            raise WorkflowConflict(f"workflow {wid!r} appears twice with different content")
        if old is not None:
            results[wid] = SubmitResult(wid, False, 0, old[1])
        elif wid not in in_batch:
            fresh.append((p, op.now))
        in_batch[wid] = p.digest
    if fresh:
        intern_shapes(op, [p for p, _ in fresh], shape_ids)
        for result in insert(op, fresh, shape_ids):
            results[result.workflow_id] = result
    out, seen = [], set()
    for p in prepared:
        r = results[p.workflow_id]
        out.append(r if r.workflow_id not in seen else SubmitResult(r.workflow_id, False, 0,
                                                                    r.state))
        seen.add(r.workflow_id)
    return out


def insert(
    op: Op, items: Sequence[tuple[Prepared, float]], shape_ids: Mapping[str, int]
) -> list[SubmitResult]:
    """Write the rows of new workflows, each as submitted at its own time.

    Roots become QUEUED at that time (PENDING on a timer while the workflow's
    ``not_before`` is later); the ready index, timers and change log follow in ``op``.

    Args:
        op: the transaction context.
        items: (workflow, submission time), in submission order; their shapes are interned.
        shape_ids: shape ids by digest (with ``op.fx.shape_digests``).

    Returns:
        One result per workflow, in order.
    """
    tx = op.tx
    ids = tx.new_ids({"workflows": len(items), "tasks": sum(len(p.names) for p, _ in items)})
    sid = {**shape_ids, **op.fx.shape_digests}
    wf_rows: list[tuple[Any, ...]] = []
    task_rows: list[Iterable[tuple[Any, ...]]] = []
    edge_rows: list[Iterable[tuple[int, int]]] = []
    label_rows: list[tuple[int, str, str]] = []
    history, ready_rows, timers = op.history, op.fx.ready, op.fx.timers
    results = []
    singles: list[tuple[Any, ...]] = []
    keys_all = ids["tasks"]
    pos = 0
    for wf, (p, at) in zip(ids["workflows"], items, strict=True):
        n = len(p.names)
        nb = p.not_before
        timed = nb is not None and nb > at
        root_state, queued_at = ("PENDING", None) if timed else ("QUEUED", at)
        if n == 1:  # one task, so no dependency: the common small case, row by row
            key = keys_all[pos]
            pos += 1
            ready = 0 if timed else 1
            shape = sid[p.shape_refs[0]]
            name, prio = p.names[0], p.priorities[0]
            singles.append((key, wf, name, root_state, p.run_ons[0], prio, shape, p.specs[0],
                            None, 0, nb, queued_at, at))
            if timed:
                timers.append((key, nb or 0.0))
            else:
                ready_rows.append((key, wf, name, shape, prio, 0, at))
        else:
            keys = keys_all[pos:pos + n]
            pos += n
            ndeps = list(map(len, p.deps))
            roots = [not d for d in ndeps]
            ready = 0 if timed else roots.count(True)
            refs = p.shape_refs
            shapes = [sid[refs[0]]] * n if refs.count(refs[0]) == n else [sid[r] for r in refs]
            # rows stream into executemany (no list of every row kept alive)
            task_rows.append(zip(
                keys, repeat(wf), p.names, [root_state if r else "PENDING" for r in roots],
                p.run_ons, p.priorities, shapes, p.specs,
                [",".join(d) if d else None for d in p.deps], ndeps, repeat(nb),
                [queued_at if r else None for r in roots], repeat(at), strict=False,
            ))
            if timed:
                timers.extend(zip(compress(keys, roots), repeat(nb or 0.0)))
            elif ready:
                ready_rows.keys.extend(compress(keys, roots))
                ready_rows.wfs.extend(repeat(wf, ready))
                ready_rows.names.extend(compress(p.names, roots))
                ready_rows.shapes.extend(compress(shapes, roots))
                ready_rows.prios.extend(compress(p.priorities, roots))
                ready_rows.attempts.extend(repeat(0, ready))
                ready_rows.queued.extend(repeat(at, ready))
            if ready < n or timed:
                edge_rows.append(_edges(p, keys))
        state = "SCHEDULED" if ready else "CREATED"
        wf_rows.append((wf, p.workflow_id, p.name, p.owner, p.priority, p.labels_json, nb,
                        p.directory, state, p.digest, n, int(ready > 0), at, at))
        if p.labels:
            label_rows.extend((wf, k, v) for k, v in p.labels.items())
        history.append((wf, None, at, "CREATED", None, "submitted"))
        if ready:
            history.append((wf, None, at, state, None, None))
        op.fx.workflows[wf] = (p.workflow_id, p.owner)
        results.append(SubmitResult(p.workflow_id, True, ready,
                                    _SCHEDULED if ready else _CREATED))
    task_rows.append(singles)
    tx.many(_WORKFLOW_INSERT, wf_rows)
    tx.many(_TASK_INSERT, chain.from_iterable(task_rows))
    if edge_rows:
        tx.many("INSERT INTO edges (parent, child) VALUES (?, ?)", chain.from_iterable(edge_rows))
    if label_rows:
        tx.many("INSERT INTO labels (wf, key, value) VALUES (?, ?, ?)", label_rows)
    op.finish()
    op.record_changes(ids["workflows"])
    return results


def _edges(p: Prepared, keys: Sequence[int]) -> Iterator[tuple[int, int]]:
    row_of = dict(zip(p.names, keys, strict=True))
    for key, deps in zip(keys, p.deps, strict=True):
        for dep in deps:
            yield row_of[dep], key


def intern_shapes(op: Op, prepared: Sequence[Prepared], shape_ids: Mapping[str, int]) -> None:
    """Make sure every shape the workflows use is in ``shapes``; new ids go to ``op.fx``.

    Raises:
        StoreError: a shape named only by digest (from the intake) is missing.
    """
    wanted: dict[str, TaskShape | None] = {}
    for p in prepared:
        for sd in dict.fromkeys(p.shape_refs):
            if sd not in shape_ids and sd not in op.fx.shape_digests:
                wanted.setdefault(sd, p.shapes.get(sd))
    if not wanted:
        return
    digests = list(wanted)
    found: dict[str, int] = {}
    for part in chunks(digests):
        for sd, shape_id in op.tx.all(
            f"SELECT digest, id FROM shapes WHERE digest IN ({marks(len(part))})", part
        ):
            found[sd] = int(shape_id)
    missing = [sd for sd in digests if sd not in found]
    if missing:
        docs = []
        for sd in missing:
            shape = wanted[sd]
            if shape is None:
                raise StoreError(f"shape {sd} is missing from the store")
            docs.append(canonical(shape.to_json()))
        new = op.tx.new_ids({"shapes": len(missing)})["shapes"]
        op.tx.many("INSERT INTO shapes (id, digest, doc) VALUES (?, ?, ?)",
                   list(zip(new, missing, docs, strict=True)))
        found.update(zip(missing, new, strict=True))
    for sd, shape_id in found.items():
        shape = wanted[sd]
        if shape is not None:
            op.fx.shapes[shape_id] = shape
    op.fx.shape_digests.update(found)
