"""Transitions users ask for: cancel and retry of workflows and tasks."""

from __future__ import annotations

from typing import Any

from mesos_wm.errors import InvalidTransition, TaskNotFound, WorkflowNotFound
from mesos_wm.queue.db import Op, chunks, marks, one
from mesos_wm.queue.ops_run import evaluate, settle
from mesos_wm.queue.records import ChangeResult, KillRequest
from mesos_wm.queue.states import (
    ACTIVE,
    SETTLED,
    UNSUCCESSFUL,
    WORKFLOW_SETTLED,
    Outcome,
    RunOn,
    TaskState,
    WorkflowState,
    check_task_transition,
    counter_delta,
    outcome_of,
    should_run,
)

_ACTIVE = tuple(s.value for s in ACTIVE)
_RETRYABLE = UNSUCCESSFUL | {TaskState.SKIPPED}


def lock_workflow(op: Op, workflow_id: str) -> tuple[int, WorkflowState, float | None]:
    """Lock a workflow's row and return (row id, state, not_before).

    Raises:
        WorkflowNotFound: no such workflow.
    """
    row = one(
        op.tx,
        "SELECT w.id, w.state, w.not_before FROM workflows w WHERE w.workflow_id = ?"
        + op.tx.for_update("w"),
        (workflow_id,),
    )
    if row is None:
        raise WorkflowNotFound(f"no workflow {workflow_id!r} in the queue")
    return int(row[0]), WorkflowState(row[1]), row[2]


def _task_row(op: Op, wf: int, workflow_id: str, task_id: str) -> tuple[Any, ...]:
    row = one(
        op.tx,
        "SELECT t.id, t.state, t.attempts FROM tasks t WHERE t.wf = ? AND t.task_id = ?"
        + op.tx.for_update("t"),
        (wf, task_id),
    )
    if row is None:
        raise TaskNotFound(f"no task {task_id!r} in workflow {workflow_id!r}")
    return row


def _kills(op: Op, keys: list[int]) -> list[KillRequest]:
    out: list[KillRequest] = []
    for part in chunks(keys):
        out += [
            KillRequest(mid, agent)
            for mid, agent in op.tx.all(
                "SELECT a.mesos_task_id, a.agent_id FROM attempts a JOIN tasks t"
                " ON t.id = a.task AND t.attempts = a.number"
                f" WHERE a.task IN ({marks(len(part))}) AND a.finished_at IS NULL",
                part,
            )
        ]
    return out


def cancel(op: Op, workflow_id: str, task_id: str | None) -> ChangeResult:
    """Cancel a workflow (every unsettled task) or one task (see ``TaskQueue.cancel``)."""
    tx, now = op.tx, op.now
    wf, wstate, _ = lock_workflow(op, workflow_id)
    row = None if task_id is None else _task_row(op, wf, workflow_id, task_id)
    if wstate in WORKFLOW_SETTLED:
        return ChangeResult(workflow_id, wstate)
    if row is None:
        waiting = tx.all(
            "UPDATE tasks SET state = 'CANCELED', updated_at = ? WHERE wf = ?"
            " AND state IN ('PENDING', 'QUEUED') RETURNING id, task_id",
            (now, wf),
        )
        running = tx.all(
            "UPDATE tasks SET cancel_requested = 1, updated_at = ? WHERE wf = ?"
            f" AND state IN ({marks(len(_ACTIVE))}) RETURNING id, task_id",
            (now, wf, *_ACTIVE),
        )
        op.fx.unready.extend(key for key, _ in waiting)
        op.count(wf, len(waiting), len(waiting))
        op.set_cancel(wf, True)
        op.log(wf, None, "CANCEL_REQUESTED", "user", f"{len(waiting)} waiting tasks cancelled, "
               f"{len(running)} running tasks to kill")
        kills = _kills(op, [key for key, _ in running])
        changed = [name for _, name in sorted(waiting)]
    else:
        key, state, _attempts = row
        current = TaskState(state)
        kills, changed = [], []
        if current in (TaskState.PENDING, TaskState.QUEUED):
            check_task_transition(current, TaskState.CANCELED)
            tx.run("UPDATE tasks SET state = 'CANCELED', updated_at = ? WHERE id = ?", (now, key))
            op.fx.unready.append(key)
            op.count(wf, *counter_delta(current, TaskState.CANCELED))
            op.log(wf, key, TaskState.CANCELED.value, "user", "cancelled")
            settle(op, [(key, TaskState.CANCELED, False)])
            changed = [str(task_id)]
        elif current in ACTIVE:
            tx.run("UPDATE tasks SET cancel_requested = 1, updated_at = ? WHERE id = ?",
                   (now, key))
            op.log(wf, key, "CANCEL_REQUESTED", "user", "kill requested")
            kills = _kills(op, [key])
    op.finish()
    op.record_change(wf)
    after = op.workflow_changes.get(wf, (wstate, wstate))[1]
    return ChangeResult(workflow_id, after, tuple(changed), tuple(kills))


def retry(op: Op, workflow_id: str, task_id: str | None) -> ChangeResult:
    """Retry failed tasks and reset their descendants (see ``TaskQueue.retry``)."""
    tx, now = op.tx, op.now
    wf, wstate, not_before = lock_workflow(op, workflow_id)
    if wstate == WorkflowState.CANCELING:
        raise InvalidTransition(f"workflow {workflow_id!r} is still being cancelled")
    if task_id is not None:
        key, state, _ = _task_row(op, wf, workflow_id, task_id)
        if TaskState(state) not in _RETRYABLE:
            raise InvalidTransition(
                f"task {workflow_id}/{task_id} is {state}; only FAILED, ERROR, KILLED, "
                "CANCELED or SKIPPED tasks can be retried"
            )
        roots = [key]
    else:
        roots = [
            key
            for (key,) in tx.all(
                f"SELECT id FROM tasks WHERE wf = ? AND state IN ({marks(len(UNSUCCESSFUL))})",
                (wf, *(s.value for s in UNSUCCESSFUL)),
            )
        ]
        if not roots:
            raise InvalidTransition(f"workflow {workflow_id!r} has no failed tasks to retry")
    reset = _descendants(op, roots)
    rows = _rows(op, reset)
    for name, state, _run_on in rows.values():
        if TaskState(state) in ACTIVE:
            raise InvalidTransition(
                f"task {workflow_id}/{name} depends on a retried task and is {state}; "
                "wait for it or cancel it first"
            )
    parents = _parents(op, list(reset))
    updates, ready = [], []
    for key, (name, state, run_on) in rows.items():
        current = TaskState(state)
        if current != TaskState.PENDING:
            check_task_transition(current, TaskState.PENDING, f"task {workflow_id}/{name}")
        left = bad = none = 0
        for p_key, p_state, p_upstream in parents.get(key, ()):
            if p_key in reset or TaskState(p_state) not in SETTLED:
                left += 1
                continue
            outcome = outcome_of(TaskState(p_state), bool(p_upstream))
            bad += outcome == Outcome.BAD
            none += outcome == Outcome.NONE
        updates.append((left, bad, none, not_before, now, key))
        op.count(wf, *counter_delta(current, TaskState.PENDING))
        op.fx.unready.append(key)
        if key in roots:
            op.log(wf, key, TaskState.PENDING.value, "user", "retried")
        if left == 0:
            ready.append((key, wf, name, run_on, bad, none))
    tx.many(
        "UPDATE tasks SET state = 'PENDING', deps_left = ?, parents_bad = ?, parents_none = ?,"
        " upstream_failed = 0, retries_used = 0, infra_used = 0, cancel_requested = 0,"
        " reason = NULL, not_before = ?, queued_at = NULL, updated_at = ? WHERE id = ?",
        updates,
    )
    for key, wf_, name, run_on, bad, none in ready:
        if should_run(RunOn(run_on), bad, none):
            prio, shape, attempts = rows_extra(op, key)
            evaluate(op, [(key, wf_, name, "PENDING", 0, bad, none, run_on, not_before, prio,
                           shape, attempts)])
        else:
            tx.run("UPDATE tasks SET state = 'SKIPPED', upstream_failed = ?, updated_at = ?"
                   " WHERE id = ?", (int(bad > 0), now, key))
            op.count(wf, 1, 0)
            op.log(wf, key, TaskState.SKIPPED.value, f"run_on {run_on}")
            settle(op, [(key, TaskState.SKIPPED, bad > 0)])
    op.set_cancel(wf, False)
    op.finish()
    op.record_change(wf)
    after = op.workflow_changes.get(wf, (wstate, wstate))[1]
    return ChangeResult(workflow_id, after, tuple(rows[k][0] for k in rows))


def rows_extra(op: Op, key: int) -> tuple[int, int, int]:
    """Return (priority, shape, attempts) of a task."""
    row = one(op.tx, "SELECT priority, shape, attempts FROM tasks WHERE id = ?", (key,))
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _descendants(op: Op, roots: list[int]) -> set[int]:
    seen = set(roots)
    frontier = list(roots)
    while frontier:
        found: list[int] = []
        for part in chunks(frontier):
            found += [
                child
                for (child,) in op.tx.all(
                    f"SELECT child FROM edges WHERE parent IN ({marks(len(part))})", part
                )
                if child not in seen
            ]
        frontier = list(dict.fromkeys(found))
        seen.update(frontier)
    return seen


def _rows(op: Op, keys: set[int]) -> dict[int, tuple[str, str, str]]:
    out: dict[int, tuple[str, str, str]] = {}
    ordered = sorted(keys)
    for part in chunks(ordered):
        for key, name, state, run_on in op.tx.all(
            f"SELECT id, task_id, state, run_on FROM tasks WHERE id IN ({marks(len(part))})",
            part,
        ):
            out[key] = (name, state, run_on)
    return out


def _parents(op: Op, keys: list[int]) -> dict[int, list[tuple[int, str, int]]]:
    out: dict[int, list[tuple[int, str, int]]] = {}
    for part in chunks(keys):
        for child, parent, state, upstream in op.tx.all(
            "SELECT e.child, e.parent, p.state, p.upstream_failed FROM edges e"
            f" JOIN tasks p ON p.id = e.parent WHERE e.child IN ({marks(len(part))})",
            part,
        ):
            out.setdefault(child, []).append((parent, state, upstream))
    return out
