"""Transitions the framework drives: launch intents, status updates, releasing dependants."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import deque
from collections.abc import Sequence
from typing import Any

from mesos_wm.errors import InvalidTransition
from mesos_wm.queue.db import Op, chunks, marks, one
from mesos_wm.queue.model import mesos_task_id
from mesos_wm.queue.policy import MESOS_STATES, decide, is_infra_loss
from mesos_wm.queue.records import Launch, RetryScheduled, StatusOutcome, StatusUpdate
from mesos_wm.queue.states import (
    ACTIVE,
    ATTEMPT_RANK,
    MESOS_TO_TASK,
    Outcome,
    RunOn,
    TaskState,
    check_task_transition,
    counter_delta,
    outcome_of,
    should_run,
    task_may_move,
)
from mesos_wm.queue.taskspec import build_task_spec

_RELEASE = (
    "UPDATE tasks SET deps_left = deps_left - 1, parents_bad = parents_bad + ?,"
    " parents_none = parents_none + ?, updated_at = ?"
    " WHERE id IN (SELECT child FROM edges WHERE parent = ?)"
    " RETURNING id, wf, task_id, state, deps_left, parents_bad, parents_none, run_on,"
    " not_before, priority, shape, attempts"
)


def claim(
    op: Op, keys: Sequence[int], agent_id: str, executor_id: str | None, *, skip_locked: bool
) -> tuple[list[Launch], list[int]]:
    """Record the intent to launch QUEUED tasks (QUEUED -> LAUNCHING, one attempt each).

    Returns:
        The launches, and the keys that were not QUEUED (or are being claimed elsewhere).
    """
    tx, now = op.tx, op.now
    rows: list[tuple[Any, ...]] = []
    for part in chunks(list(keys)):
        rows += tx.all(
            "SELECT t.id, t.state, t.attempts, t.wf, t.task_id, t.shape, t.spec, w.workflow_id,"
            f" w.directory FROM tasks t JOIN workflows w ON w.id = t.wf WHERE t.id IN"
            f" ({marks(len(part))})" + tx.for_update("t", skip_locked=skip_locked),
            part,
        )
    launches: list[Launch] = []
    attempt_rows, task_rows = [], []
    for key, state, attempts, wf, name, shape, spec, workflow_id, directory in rows:
        if state != TaskState.QUEUED.value:
            continue
        number = attempts + 1
        mid = mesos_task_id(workflow_id, name, number)
        attempt_rows.append((key, number, mid, "LAUNCHING", agent_id, executor_id, now, now))
        task_rows.append((number, now, key))
        op.fx.unready.append(key)
        op.count(wf, launched=True)
        launches.append(
            Launch(key, workflow_id, name, number, mid, agent_id,
                   build_task_spec(workflow_id, name, number, directory, json.loads(spec)),
                   op.shape(shape))
        )
    if attempt_rows:
        tx.many(
            "INSERT INTO attempts (task, number, mesos_task_id, state, agent_id, executor_id,"
            " launched_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            attempt_rows,
        )
        tx.many(
            "UPDATE tasks SET state = 'LAUNCHING', attempts = ?, reason = NULL, updated_at = ?"
            " WHERE id = ?",
            task_rows,
        )
    op.finish()
    claimed = {launch.key for launch in launches}
    return launches, [k for k in keys if k not in claimed]


_ATTEMPT_COLUMNS = (
    "a.task, a.number, a.state, a.finished_at, t.state, t.attempts, t.wf, t.task_id,"
    " t.shape, t.retries_used, t.infra_used, t.cancel_requested, w.workflow_id, t.priority,"
    " EXISTS (SELECT 1 FROM edges e WHERE e.parent = t.id)"
    " FROM attempts a JOIN tasks t ON t.id = a.task JOIN workflows w ON w.id = t.wf"
)
_ATTEMPT = "SELECT " + _ATTEMPT_COLUMNS + " WHERE a.mesos_task_id = ?"
_ATTEMPTS = "SELECT a.mesos_task_id, " + _ATTEMPT_COLUMNS + " WHERE a.mesos_task_id IN "
_WF = 6


def rejection(update: StatusUpdate) -> StatusOutcome | None:
    """Return the outcome of a status update that cannot be applied at all, or None."""
    if update.state not in MESOS_STATES:
        error = f"{update.state!r} is not a Mesos task state"
        return StatusOutcome(False, False, note=error, error=error)
    return None


def _prefetch(op: Op, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Read (and lock) the attempt rows of many updates in one statement per chunk."""
    rows: dict[str, tuple[Any, ...]] = {}
    unique = list(dict.fromkeys(ids))
    lock = op.tx.for_update("t")
    for part in chunks(unique):
        for row in op.tx.all(_ATTEMPTS + f"({marks(len(part))})" + lock, part):
            rows[row[0]] = row[1:]
    return rows


def apply_statuses(
    op: Op,
    updates: Sequence[StatusUpdate],
    rng: random.Random | None,
    *,
    rejected: Sequence[StatusOutcome | None],
) -> list[StatusOutcome]:
    """Apply Mesos status updates in order, in the transaction of ``op`` (see
    ``TaskQueue.apply_statuses``); ``rejected`` holds :func:`rejection` of each update,
    and a rejected update gets that outcome and writes nothing.

    The attempt rows of the whole batch are read up front; an update whose workflow an
    earlier update of the batch wrote to reads its row again, so every update sees what
    the earlier ones changed.  Workflow counters are written for many updates at once
    (before such a re-read, and at the end), and each outcome then gets the roll-up
    change its own update caused; history rows are written once, at the end."""
    known = _prefetch(op, [u.mesos_task_id for u, r in zip(updates, rejected, strict=True)
                           if r is None])
    touched: set[int] = set()
    waiting: dict[int, int] = {}
    outcomes: list[StatusOutcome] = []

    def finish() -> None:
        op.workflow_changes = {}
        op.finish(force=True)
        for wf, index in waiting.items():
            changed = op.workflow_changes.get(wf)
            if changed is not None:
                outcomes[index] = dataclasses.replace(outcomes[index],
                                                      workflow_state=changed[1])
        waiting.clear()
        op.workflow_changes = {}

    op.defer_history = op.defer_finish = True
    for update, refusal in zip(updates, rejected, strict=True):
        if refusal is not None:
            outcomes.append(refusal)
            continue
        row = known.get(update.mesos_task_id)
        if row is not None and row[_WF] in touched:
            if row[_WF] in waiting:
                finish()
            row = one(op.tx, _ATTEMPT + op.tx.for_update("t"), (update.mesos_task_id,))
        outcome = apply_status(op, update, rng, row)
        if row is not None:
            touched.add(row[_WF])
            if op.pending(row[_WF]):
                waiting[row[_WF]] = len(outcomes)
        outcomes.append(outcome)
    finish()
    op.defer_history = op.defer_finish = False
    op.write_history()
    return outcomes


def apply_status(op: Op, update: StatusUpdate, rng: random.Random | None,
                 row: tuple[Any, ...] | None) -> StatusOutcome:
    """Apply one valid Mesos status update (see ``TaskQueue.apply_status``) to its attempt
    ``row`` (as :data:`_ATTEMPT` reads it; None: no such attempt)."""
    state, reason, message = update.state, update.reason, update.message
    exit_code, agent_id, executor_id, data = (update.exit_code, update.agent_id,
                                              update.executor_id, update.data)
    tx, now = op.tx, op.now
    if row is None:
        return StatusOutcome(known=False, applied=False, note="unknown Mesos task id",
                             kill=state in ATTEMPT_RANK)
    (key, number, a_state, a_finished, t_state, t_attempts, wf, name, shape_id, retries_used,
     infra_used, cancel_req, workflow_id, prio, has_children) = row
    ids = {"workflow_id": workflow_id, "task_id": name, "attempt": number}
    current = TaskState(t_state)
    alive = state in ATTEMPT_RANK
    if a_finished is not None:
        return StatusOutcome(True, False, **ids, note=f"the attempt already ended ({a_state})",
                             task_state=current, kill=alive)
    if alive:
        if ATTEMPT_RANK[state] < ATTEMPT_RANK.get(a_state, 0) or state == a_state:
            return StatusOutcome(True, False, **ids, note=f"stale or duplicate {state}",
                                 task_state=current, kill=bool(cancel_req))
        tx.run(
            "UPDATE attempts SET state = ?, agent_id = COALESCE(?, agent_id),"
            " executor_id = COALESCE(?, executor_id), reason = ?, message = ?, updated_at = ?"
            " WHERE task = ? AND number = ?",
            (state, agent_id, executor_id, reason, message, now, key, number),
        )
    else:
        tx.run(
            "UPDATE attempts SET state = ?, agent_id = COALESCE(?, agent_id),"
            " executor_id = COALESCE(?, executor_id), reason = ?, message = ?, exit_code = ?,"
            " infra = ?, result = ?, updated_at = ?, finished_at = ?"
            " WHERE task = ? AND number = ?",
            (state, agent_id, executor_id, reason, message, exit_code,
             int(is_infra_loss(state, reason)), data, now, now, key, number),
        )
    if number != t_attempts or current not in ACTIVE:
        return StatusOutcome(True, False, **ids, note="recorded on an old attempt",
                             task_state=current, kill=alive)
    if alive:
        target = MESOS_TO_TASK.get(state)
        if target is None or not task_may_move(current, target):
            return StatusOutcome(True, False, **ids, note=f"{state} recorded on the attempt",
                                 task_state=current, kill=bool(cancel_req))
        tx.run("UPDATE tasks SET state = ?, updated_at = ? WHERE id = ?",
               (target.value, now, key))
        return StatusOutcome(True, True, **ids, task_state=target, kill=bool(cancel_req))
    decision = decide(state, reason, cancel_requested=bool(cancel_req),
                      policy=op.shape(shape_id).retries, retries_used=retries_used,
                      infra_used=infra_used, now=now, rng=rng)
    check_task_transition(current, decision.state, f"task {workflow_id}/{name}")
    text = decision.note + (f": {message}" if message else "")
    op.log(wf, key, decision.state.value, reason or state, text)
    retry = None
    released: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    if decision.state in (TaskState.PENDING, TaskState.QUEUED):
        queued = decision.state == TaskState.QUEUED
        tx.run(
            "UPDATE tasks SET state = ?, retries_used = ?, infra_used = ?, not_before = ?,"
            " queued_at = ?, updated_at = ? WHERE id = ?",
            (decision.state.value, decision.retries_used, decision.infra_used,
             decision.not_before, now if queued else None, now, key),
        )
        if queued:
            op.fx.ready.append((key, wf, name, shape_id, prio, number, now))
        else:
            op.fx.timers.append((key, decision.not_before or now))
        retry = RetryScheduled(decision.not_before or now, decision.infra, number + 1)
    else:
        tx.run(
            "UPDATE tasks SET state = ?, retries_used = ?, infra_used = ?, updated_at = ?"
            " WHERE id = ?",
            (decision.state.value, decision.retries_used, decision.infra_used, now, key),
        )
        op.count(wf, *counter_delta(current, decision.state))
        if has_children:
            released, skipped = settle(op, [(key, decision.state, False)])
    op.finish()
    changed = op.workflow_changes.get(wf)
    return StatusOutcome(
        True, True, **ids, task_state=decision.state, retry=retry, released=released,
        skipped=skipped, workflow_state=changed[1] if changed else None,
    )


def settle(
    op: Op, items: Sequence[tuple[int, TaskState, bool]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Release the dependants of tasks that just settled, in O(edges).

    Each child's ``deps_left`` drops by one; children with no parents left run (QUEUED, or
    PENDING on a timer) or are SKIPPED by their ``run_on``, and skips cascade.

    Args:
        op: the transaction context.
        items: (key, settled state, skipped because of an upstream failure).

    Returns:
        Task ids released to QUEUED, and task ids SKIPPED.
    """
    tx, now = op.tx, op.now
    released: list[str] = []
    skipped: list[str] = []
    work = deque(items)
    while work:
        key, state, upstream = work.popleft()
        outcome = outcome_of(state, upstream)
        children = tx.all(
            _RELEASE, (int(outcome == Outcome.BAD), int(outcome == Outcome.NONE), now, key)
        )
        for child in children:
            if child[4] != 0 or child[3] != TaskState.PENDING.value:
                continue
            if should_run(RunOn(child[7]), child[5], child[6]):
                released += evaluate(op, [child])
            else:
                bad = child[5] > 0
                tx.run(
                    "UPDATE tasks SET state = 'SKIPPED', upstream_failed = ?, updated_at = ?"
                    " WHERE id = ?",
                    (int(bad), now, child[0]),
                )
                why = "a parent failed" if bad else "no parent failed"
                op.log(child[1], child[0], TaskState.SKIPPED.value, f"run_on {child[7]}", why)
                op.count(child[1], 1, 0)
                skipped.append(child[2])
                work.append((child[0], TaskState.SKIPPED, bad))
    return tuple(released), tuple(skipped)


def evaluate(op: Op, rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """Queue tasks whose parents have settled and whose ``run_on`` holds.

    Args:
        op: the transaction context.
        rows: rows shaped like the RETURNING list of the release statement.

    Returns:
        The ids of tasks that became QUEUED (the others wait on a timer).
    """
    out = []
    for key, wf, name, _s, _d, _b, _n, _r, not_before, prio, shape, attempts in rows:
        if not_before is not None and not_before > op.now:
            op.fx.timers.append((key, not_before))
            continue
        op.tx.run(
            "UPDATE tasks SET state = 'QUEUED', queued_at = ?, updated_at = ? WHERE id = ?",
            (op.now, op.now, key),
        )
        op.fx.ready.append((key, wf, name, shape, prio, attempts, op.now))
        op.count(wf, queued=True)
        out.append(name)
    return out


def promote(op: Op, keys: Sequence[int]) -> int:
    """Queue timed tasks whose ``not_before`` has passed; returns how many."""
    count = 0
    for part in chunks(list(keys)):
        rows = op.tx.all(
            "UPDATE tasks SET state = 'QUEUED', queued_at = ?, updated_at = ?"
            f" WHERE id IN ({marks(len(part))}) AND state = 'PENDING' AND deps_left = 0"
            " RETURNING id, wf, task_id, shape, priority, attempts",
            (op.now, op.now, *part),
        )
        for key, wf, name, shape, prio, attempts in rows:
            op.fx.ready.append((key, wf, name, shape, prio, attempts, op.now))
            op.count(wf, queued=True)
        count += len(rows)
    op.finish()
    return count


def give_up(op: Op, key: int, reason: str) -> StatusOutcome:
    """Fail a QUEUED task that waited too long for an offer (QUEUED -> ERROR)."""
    row = one(
        op.tx,
        "SELECT t.state, t.wf, t.task_id, w.workflow_id FROM tasks t JOIN workflows w"
        " ON w.id = t.wf WHERE t.id = ?" + op.tx.for_update("t"),
        (key,),
    )
    if row is None:
        raise InvalidTransition(f"no task with key {key}")
    state, wf, name, workflow_id = TaskState(row[0]), row[1], row[2], row[3]
    check_task_transition(state, TaskState.ERROR, f"task {workflow_id}/{name}")
    op.tx.run("UPDATE tasks SET state = 'ERROR', reason = ?, updated_at = ? WHERE id = ?",
              (reason, op.now, key))
    op.fx.unready.append(key)
    op.log(wf, key, TaskState.ERROR.value, "offer_wait", reason)
    op.count(wf, *counter_delta(state, TaskState.ERROR))
    released, skipped = settle(op, [(key, TaskState.ERROR, False)])
    op.finish()
    changed = op.workflow_changes.get(wf)
    return StatusOutcome(True, True, workflow_id, name, None, None, TaskState.ERROR, None,
                         released, skipped, changed[1] if changed else None)
