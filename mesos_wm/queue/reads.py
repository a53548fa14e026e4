"""Read queries: workflows, tasks, attempts, history, and the rows the ready index is
rebuilt from."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from mesos_wm.errors import TaskNotFound, WorkflowNotFound
from mesos_wm.queue.db import Tx, chunks, marks, one
from mesos_wm.queue.model import TaskShape
from mesos_wm.queue.ready import ReadyColumns, Row, matching_order
from mesos_wm.queue.records import (
    ActiveAttempt,
    AttemptRecord,
    HistoryEntry,
    TaskRecord,
    WorkflowRecord,
)
from mesos_wm.queue.states import SETTLED, TaskState, WorkflowState

ShapeOf = Callable[[Tx, int], TaskShape]

_WF_COLUMNS = (
    "w.id, w.workflow_id, w.name, w.owner, w.priority, w.labels, w.state, w.not_before,"
    " w.created_at, w.updated_at, w.total, w.settled, w.unsuccessful"
)
_TASK_COLUMNS = (
    "t.id, t.task_id, t.spec, t.state, t.deps, t.run_on, t.priority, t.shape, t.retries_used,"
    " t.infra_used, t.not_before, t.reason, t.cancel_requested, t.updated_at"
)
_ATTEMPT_COLUMNS = (
    "a.task, a.number, a.mesos_task_id, a.state, a.agent_id, a.executor_id, a.launched_at,"
    " a.updated_at, a.finished_at, a.reason, a.message, a.exit_code, a.infra"
)
READY_SQL = (
    "SELECT t.id, t.wf, t.task_id, t.shape, t.priority, t.attempts, t.queued_at FROM tasks t"
    " WHERE t.state = 'QUEUED'"
)
READY_ORDER = " ORDER BY t.priority DESC, t.queued_at, t.id"
TIMED_SQL = "SELECT t.id, t.not_before FROM tasks t WHERE t.deps_left = 0 AND t.state = 'PENDING'"


def _workflow(row: Sequence[Any]) -> WorkflowRecord:
    return WorkflowRecord(
        workflow_id=row[1], name=row[2], owner=row[3], priority=row[4],
        labels=json.loads(row[5]), state=WorkflowState(row[6]), not_before=row[7],
        created_at=row[8], updated_at=row[9], total=row[10], settled=row[11],
        unsuccessful=row[12],
    )


def _attempt(row: Sequence[Any]) -> AttemptRecord:
    return AttemptRecord(
        number=row[1], mesos_task_id=row[2], state=row[3], agent_id=row[4], executor_id=row[5],
        launched_at=row[6], updated_at=row[7], finished_at=row[8], reason=row[9],
        message=row[10], exit_code=row[11], infra=bool(row[12]),
    )


def _task(
    workflow_id: str, row: Sequence[Any], attempts: tuple[AttemptRecord, ...], shape: TaskShape
) -> TaskRecord:
    return TaskRecord(
        key=row[0], workflow_id=workflow_id, task_id=row[1], type=json.loads(row[2])["type"],
        state=TaskState(row[3]), depends_on=tuple(row[4].split(",")) if row[4] else (),
        run_on=row[5], priority=row[6], shape=shape, retries_used=row[8],
        infra_retries_used=row[9], not_before=row[10], reason=row[11],
        cancel_requested=bool(row[12]), updated_at=row[13], attempts=attempts,
    )


def workflow_row(tx: Tx, workflow_id: str) -> tuple[Any, ...]:
    """Return a workflow's row.

    Raises:
        WorkflowNotFound: no such workflow.
    """
    row = one(tx, f"SELECT {_WF_COLUMNS} FROM workflows w WHERE w.workflow_id = ?",
              (workflow_id,))
    if row is None:
        raise WorkflowNotFound(f"no workflow {workflow_id!r} in the queue")
    return row


def get_workflow(tx: Tx, workflow_id: str, with_tasks: bool, shape_of: ShapeOf) -> WorkflowRecord:
    """Return a workflow, with its tasks and their attempts if asked."""
    row = workflow_row(tx, workflow_id)
    record = _workflow(row)
    if not with_tasks:
        return record
    attempts: dict[int, list[AttemptRecord]] = {}
    for a in tx.all(
        f"SELECT {_ATTEMPT_COLUMNS} FROM attempts a JOIN tasks t ON t.id = a.task"
        " WHERE t.wf = ? ORDER BY a.task, a.number",
        (row[0],),
    ):
        attempts.setdefault(a[0], []).append(_attempt(a))
    tasks = tuple(
        _task(workflow_id, t, tuple(attempts.get(t[0], ())), shape_of(tx, t[7]))
        for t in tx.all(f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE t.wf = ? ORDER BY t.id",
                        (row[0],))
    )
    return WorkflowRecord(**{**_fields(record), "tasks": tasks})


def _fields(record: WorkflowRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def get_task(tx: Tx, workflow_id: str, task_id: str, shape_of: ShapeOf) -> TaskRecord:
    """Return one task with its attempts.

    Raises:
        TaskNotFound: no such task (or workflow).
    """
    row = one(
        tx,
        f"SELECT {_TASK_COLUMNS} FROM tasks t JOIN workflows w ON w.id = t.wf"
        " WHERE w.workflow_id = ? AND t.task_id = ?",
        (workflow_id, task_id),
    )
    if row is None:
        raise TaskNotFound(f"no task {task_id!r} in workflow {workflow_id!r}")
    attempts = tuple(
        _attempt(a)
        for a in tx.all(
            f"SELECT {_ATTEMPT_COLUMNS} FROM attempts a WHERE a.task = ? ORDER BY a.number",
            (row[0],),
        )
    )
    return _task(workflow_id, row, attempts, shape_of(tx, row[7]))


def key_of(tx: Tx, workflow_id: str, task_id: str) -> int:
    """Return a task's key.

    Raises:
        TaskNotFound: no such task.
    """
    row = one(
        tx,
        "SELECT t.id FROM tasks t JOIN workflows w ON w.id = t.wf"
        " WHERE w.workflow_id = ? AND t.task_id = ?",
        (workflow_id, task_id),
    )
    if row is None:
        raise TaskNotFound(f"no task {task_id!r} in workflow {workflow_id!r}")
    return int(row[0])


def find_attempt(tx: Tx, mesos_task_id: str) -> tuple[str, str, int] | None:
    """Return (workflow id, task id, attempt number) of a Mesos task id, or None."""
    row = one(
        tx,
        "SELECT w.workflow_id, t.task_id, a.number FROM attempts a JOIN tasks t"
        " ON t.id = a.task JOIN workflows w ON w.id = t.wf WHERE a.mesos_task_id = ?",
        (mesos_task_id,),
    )
    return None if row is None else (row[0], row[1], int(row[2]))


def list_workflows(
    tx: Tx,
    *,
    states: Sequence[str],
    owner: str | None,
    labels: Sequence[tuple[str, str]],
    since: float | None,
    until: float | None,
    limit: int,
) -> list[WorkflowRecord]:
    """Return workflows matching every filter, newest first."""
    where: list[str] = []
    params: list[Any] = []
    if states:
        where.append(f"w.state IN ({marks(len(states))})")
        params += states
    if owner is not None:
        where.append("w.owner = ?")
        params.append(owner)
    for key, value in labels:
        where.append("EXISTS (SELECT 1 FROM labels l WHERE l.wf = w.id AND l.key = ?"
                     " AND l.value = ?)")
        params += [key, value]
    if since is not None:
        where.append("w.created_at >= ?")
        params.append(since)
    if until is not None:
        where.append("w.created_at < ?")
        params.append(until)
    sql = f"SELECT {_WF_COLUMNS} FROM workflows w"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY w.created_at DESC, w.id DESC LIMIT ?"
    return [_workflow(r) for r in tx.all(sql, (*params, limit))]


def history(tx: Tx, workflow_id: str) -> list[HistoryEntry]:
    """Return a workflow's history, oldest first."""
    wf = workflow_row(tx, workflow_id)[0]
    return [
        HistoryEntry(at, name, state, reason, message)
        for at, name, state, reason, message in tx.all(
            "SELECT h.at, t.task_id, h.state, h.reason, h.message FROM history h"
            " LEFT JOIN tasks t ON t.id = h.task WHERE h.wf = ? ORDER BY h.id",
            (wf,),
        )
    ]


def active_attempts(tx: Tx) -> list[ActiveAttempt]:
    """Return every attempt that has not ended."""
    return [
        ActiveAttempt(mid, agent, state, wid, name, number, bool(kill))
        for mid, agent, state, wid, name, number, kill in tx.all(
            "SELECT a.mesos_task_id, a.agent_id, a.state, w.workflow_id, t.task_id, a.number,"
            " t.cancel_requested FROM attempts a JOIN tasks t ON t.id = a.task"
            " JOIN workflows w ON w.id = t.wf WHERE a.finished_at IS NULL ORDER BY a.task"
        )
    ]


def ready_rows(tx: Tx, wf: int | None = None) -> list[Row]:
    """Return QUEUED tasks (of one workflow, or all) as ready-index rows in matching order
    (all of them: one ordered scan of the ``tasks_queued`` index)."""
    sql, params = READY_SQL, []
    if wf is not None:
        sql, params = sql + " AND t.wf = ?", [wf]
    rows: list[Any] = tx.all(sql + READY_ORDER, params)
    return rows


def ready_columns(tx: Tx) -> ReadyColumns:
    """Return every QUEUED task as ready-index columns in matching order (one ordered scan
    of the ``tasks_queued`` index, split into columns without keeping a row per task)."""
    return ReadyColumns.of(tx.columns(READY_SQL + READY_ORDER))


def timed_rows(tx: Tx, wf: int | None = None) -> list[tuple[int, float]]:
    """Return (key, not_before) of tasks waiting only for their time."""
    sql, params = TIMED_SQL, []
    if wf is not None:
        sql, params = sql + " AND t.wf = ?", [wf]
    return [(int(k), float(t or 0.0)) for k, t in tx.all(sql, params)]


def rows_of_workflows(
    tx: Tx, workflow_ids: Sequence[str]
) -> tuple[list[Row], list[tuple[int, float]], dict[int, tuple[str, str]]]:
    """Return the ready rows (in matching order), timers and names of workflows by id."""
    ready: list[Any] = []
    timed: list[tuple[int, float]] = []
    names: dict[int, tuple[str, str]] = {}
    for part in chunks(list(workflow_ids)):
        m = marks(len(part))
        names.update((int(wf), (wid, owner)) for wf, wid, owner in tx.all(
            f"SELECT id, workflow_id, owner FROM workflows WHERE workflow_id IN ({m})", part))
        join = f" AND t.wf IN (SELECT id FROM workflows WHERE workflow_id IN ({m}))"
        ready += tx.all(READY_SQL + join, part)
        timed += [(int(k), float(t or 0.0)) for k, t in tx.all(TIMED_SQL + join, part)]
    ready.sort(key=matching_order)
    return ready, timed, names


def workflow_names(tx: Tx, wfs: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Return (workflow id, owner) by row id."""
    out: dict[int, tuple[str, str]] = {}
    for part in chunks(list(wfs)):
        for wf, wid, owner in tx.all(
            f"SELECT id, workflow_id, owner FROM workflows WHERE id IN ({marks(len(part))})",
            part,
        ):
            out[int(wf)] = (wid, owner)
    return out


def explain(tx: Tx, workflow_id: str, task_id: str, shape_of: ShapeOf) -> str:
    """Say why a task is in its state; for a waiting task, what it waits for.

    Raises:
        TaskNotFound: no such task.
    """
    task = get_task(tx, workflow_id, task_id, shape_of)
    state = task.state
    if state == TaskState.PENDING:
        waiting = [
            f"{name} ({parent})"
            for name, parent in tx.all(
                "SELECT p.task_id, p.state FROM edges e JOIN tasks p ON p.id = e.parent"
                " WHERE e.child = ? ORDER BY p.id",
                (task.key,),
            )
            if TaskState(parent) not in SETTLED
        ]
        if waiting:
            return "PENDING: waiting for " + ", ".join(waiting)
        if task.not_before is not None:
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(task.not_before))
            return f"PENDING: not before {at}" + (f" ({task.reason})" if task.reason else "")
    if state == TaskState.QUEUED:
        return "QUEUED: " + (task.reason or "waiting for a matching offer")
    last = task.attempts[-1] if task.attempts else None
    detail = task.reason or ((last.message or last.reason) if last else None)
    return state.value + (f": {detail}" if detail else "")
