"""``apply_statuses``: many status updates in one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mesos_wm.queue import StatusOutcome, StatusUpdate, TaskQueue, TaskState, WorkflowState
from tests.queue.conftest import T0, Driver, task, workflow
from tests.queue.consistency import check_consistency


def graph(wid: str) -> Any:
    return workflow(
        wid,
        task("a"),
        task("b", retries=1, backoff=10.0),
        task("c", max_infra=1),
        task("after-a", "a"),
        task("on-b-failure", "b", run_on="failure"),
        task("always", "a", "b", run_on="always"),
    )


def script(mids: dict[str, str], wid: str) -> list[StatusUpdate]:
    """Every kind of update: progress, success, retried failure, infra loss, a duplicate, a
    stale one after the end, an unknown id and an invalid state, in arrival order."""
    return [
        StatusUpdate(mids["a"], "TASK_STARTING", agent_id="agent-1"),
        StatusUpdate(mids["a"], "TASK_RUNNING", executor_id="ex-1"),
        StatusUpdate(mids["b"], "TASK_RUNNING"),
        StatusUpdate(mids["a"], "TASK_RUNNING"),
        StatusUpdate(mids["b"], "TASK_BOGUS"),
        StatusUpdate(mids["a"], "TASK_FINISHED", exit_code=0, data=b"result"),
        StatusUpdate(mids["b"], "TASK_FAILED", message="exit 3", exit_code=3),
        StatusUpdate(mids["c"], "TASK_LOST", reason="REASON_AGENT_REMOVED"),
        StatusUpdate(mids["a"], "TASK_FAILED"),
        StatusUpdate(f"{wid}.nobody.a1", "TASK_RUNNING"),
        StatusUpdate(mids["c"], "TASK_RUNNING"),
    ]


def launch_all(queue: TaskQueue, wid: str, now: float) -> dict[str, str]:
    ready = [r for r in queue.ready_tasks(now=now) if r.workflow_id == wid]
    claims = queue.mark_launching_many([r.key for r in ready], agent_id="agent-1", now=now)
    return {launch.task_id: launch.mesos_task_id for launch in claims.launched}


def neutral(outcome: StatusOutcome) -> StatusOutcome:
    return dataclasses.replace(outcome, workflow_id=None)


def test_a_batch_equals_applying_its_updates_one_by_one(queue: TaskQueue) -> None:
    queue.submit_many([graph("one"), graph("many")], now=T0)
    one_ids = launch_all(queue, "one", T0 + 1)
    many_ids = launch_all(queue, "many", T0 + 1)
    assert sorted(one_ids) == sorted(many_ids) == ["a", "b", "c"]
    single: list[StatusOutcome] = []
    for update in script(one_ids, "one"):
        try:
            single.append(queue.apply_status(
                update.mesos_task_id, update.state, reason=update.reason,
                message=update.message, exit_code=update.exit_code, agent_id=update.agent_id,
                executor_id=update.executor_id, data=update.data, now=T0 + 2))
        except ValueError as exc:
            single.append(StatusOutcome(False, False, note=str(exc), error=str(exc)))
    heard: list[int] = []
    queue.add_listener(heard.append)
    batch = queue.apply_statuses(script(many_ids, "many"), now=T0 + 2)
    assert [neutral(o) for o in batch] == [neutral(o) for o in single]
    assert heard == [2]
    one, many = queue.get_workflow("one"), queue.get_workflow("many")
    assert [(t.task_id, t.state, t.retries_used, t.infra_retries_used, t.not_before,
             [dataclasses.replace(a, mesos_task_id="") for a in t.attempts])
            for t in one.tasks] == [
        (t.task_id, t.state, t.retries_used, t.infra_retries_used, t.not_before,
         [dataclasses.replace(a, mesos_task_id="") for a in t.attempts]) for t in many.tasks]
    assert [(h.task_id, h.state, h.reason, h.message) for h in queue.history("one")] == [
        (h.task_id, h.state, h.reason, h.message) for h in queue.history("many")]
    assert sorted((r.task_id, r.attempt) for r in queue.ready_tasks(now=T0 + 2)
                  if r.workflow_id == "one") == sorted(
        (r.task_id, r.attempt) for r in queue.ready_tasks(now=T0 + 2) if r.workflow_id == "many")
    check_consistency(queue)


def test_a_mixed_batch_reports_each_update_and_an_invalid_one_poisons_nothing(
    queue: TaskQueue,
) -> None:
    queue.submit(graph("w"), now=T0)
    mids = launch_all(queue, "w", T0 + 1)
    outcomes = queue.apply_statuses(script(mids, "w"), now=T0 + 2)
    by = [(o.applied, o.task_id, o.task_state) for o in outcomes]
    assert by == [
        (True, "a", TaskState.STARTING),
        (True, "a", TaskState.RUNNING),
        (True, "b", TaskState.RUNNING),
        (False, "a", TaskState.RUNNING),
        (False, None, None),
        (True, "a", TaskState.FINISHED),
        (True, "b", TaskState.PENDING),
        (True, "c", TaskState.QUEUED),
        (False, "a", TaskState.FINISHED),
        (False, None, None),
        (False, "c", TaskState.QUEUED),
    ]
    bogus = outcomes[4]
    assert bogus.error is not None and "TASK_BOGUS" in bogus.error and not bogus.known
    assert outcomes[3].note == "stale or duplicate TASK_RUNNING"
    assert outcomes[5].released == ("after-a",)
    retry = outcomes[6].retry
    assert retry is not None and (retry.not_before, retry.infra) == (T0 + 12, False)
    infra = outcomes[7].retry
    assert infra is not None and infra.infra and infra.next_attempt == 2
    assert (outcomes[9].known, outcomes[9].kill) == (False, True)
    assert outcomes[10].kill
    a = queue.get_task("w", "a").attempts[0]
    assert (a.state, a.exit_code, a.agent_id, a.executor_id) == (
        "TASK_FINISHED", 0, "agent-1", "ex-1")
    assert queue.next_wakeup() == T0 + 12
    assert sorted(r.task_id for r in queue.ready_tasks(now=T0 + 2)) == ["after-a", "c"]
    check_consistency(queue)


def test_the_workflow_state_belongs_to_the_update_that_changed_it(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a"), task("b")), now=T0)
    mids = launch_all(queue, "w", T0 + 1)
    outcomes = queue.apply_statuses(
        [StatusUpdate(mids["a"], "TASK_FINISHED"), StatusUpdate(mids["b"], "TASK_RUNNING"),
         StatusUpdate(mids["b"], "TASK_FINISHED")], now=T0 + 2)
    assert [o.workflow_state for o in outcomes] == [None, None, WorkflowState.COMPLETED]
    assert queue.get_workflow("w", tasks=False).state == WorkflowState.COMPLETED


def test_apply_status_is_a_batch_of_one_and_still_raises_for_an_invalid_state(
    queue: TaskQueue,
) -> None:
    queue.submit(workflow("w", task("a")), now=T0)
    d = Driver(queue, now=T0)
    mid = d.launch("w", "a")
    with pytest.raises(ValueError, match="TASK_BOGUS"):
        queue.apply_status(mid, "TASK_BOGUS", now=d.tick())
    assert queue.apply_statuses([], now=d.tick()) == []
    only_bad = queue.apply_statuses([StatusUpdate(mid, "NOPE")], now=d.tick())
    assert only_bad[0].error is not None
    assert queue.get_task("w", "a").state == TaskState.LAUNCHING
    assert [h.state for h in queue.history("w")][-1] != "NOPE"
    assert queue.apply_status(mid, "TASK_RUNNING", now=d.tick()).task_state == TaskState.RUNNING


def test_a_batch_is_one_transaction_seen_whole_by_another_process(
    open_queue: Any,
) -> None:
    writer, reader = open_queue(), open_queue()
    writer.submit(workflow("w", task("a"), task("b", "a")), now=T0)
    mids = launch_all(writer, "w", T0 + 1)
    writer.apply_statuses([StatusUpdate(mids["a"], "TASK_RUNNING"),
                           StatusUpdate(mids["a"], "TASK_FINISHED")], now=T0 + 2)
    states = {t.task_id: t.state for t in reader.get_workflow("w").tasks}
    assert states == {"a": TaskState.FINISHED, "b": TaskState.QUEUED}
    reader.refresh()
    assert [r.task_id for r in reader.ready_tasks(now=T0 + 3)] == ["b"]


def test_a_batch_longer_than_one_read_chunk_equals_applying_it_one_by_one(
    queue: TaskQueue,
) -> None:
    count = 260  # 520 distinct attempts: the batch's rows are read in two chunks
    queue.submit_many([workflow(f"{p}{i}", task("a"), task("b", "a"))
                       for p in ("one", "many") for i in range(count)], now=T0)
    ready = queue.ready_tasks(now=T0 + 1)
    claims = queue.mark_launching_many([r.key for r in ready], agent_id="agent-1", now=T0 + 1)
    mids = {(c.workflow_id, c.task_id): c.mesos_task_id for c in claims.launched}

    def updates(prefix: str) -> list[StatusUpdate]:
        ids = [mids[(f"{prefix}{i}", "a")] for i in range(count)]
        return ([StatusUpdate(m, "TASK_RUNNING") for m in ids]
                + [StatusUpdate(m, "TASK_FINISHED", exit_code=0) for m in ids]
                + [StatusUpdate(ids[0], "TASK_RUNNING")])

    single = [queue.apply_status(u.mesos_task_id, u.state, exit_code=u.exit_code,
                                 now=T0 + 2) for u in updates("one")]
    batch = queue.apply_statuses(updates("many"), now=T0 + 2)
    assert [neutral(o) for o in batch] == [neutral(o) for o in single]
    assert batch[-1].note.startswith("the attempt already ended")
    assert all(o.released == ("b",) for o in batch[count:2 * count])
    for i in (0, count - 1):
        assert [(h.task_id, h.state) for h in queue.history(f"one{i}")] == [
            (h.task_id, h.state) for h in queue.history(f"many{i}")]
    check_consistency(queue)


def test_roll_ups_written_together_still_belong_to_the_update_that_caused_them(
    queue: TaskQueue,
) -> None:
    queue.submit_many([workflow("w", task("a"), task("b")), workflow("x1", task("t")),
                       workflow("x2", task("t")), workflow("x3", task("t"))], now=T0)
    ready = queue.ready_tasks(now=T0 + 1)
    claims = queue.mark_launching_many([r.key for r in ready], agent_id="agent-1", now=T0 + 1)
    mid = {(c.workflow_id, c.task_id): c.mesos_task_id for c in claims.launched}
    outcomes = queue.apply_statuses(
        [StatusUpdate(mid[("x1", "t")], "TASK_FINISHED"),
         StatusUpdate(mid[("w", "a")], "TASK_FINISHED"),
         StatusUpdate(mid[("x2", "t")], "TASK_FAILED"),
         StatusUpdate(mid[("w", "b")], "TASK_RUNNING"),
         StatusUpdate(mid[("w", "b")], "TASK_FINISHED"),
         StatusUpdate(mid[("x3", "t")], "TASK_RUNNING")], now=T0 + 2)
    assert [o.workflow_state for o in outcomes] == [
        WorkflowState.COMPLETED, None, WorkflowState.FAILED, None, WorkflowState.COMPLETED,
        None]
    assert {w: queue.get_workflow(w, tasks=False).state for w in ("w", "x1", "x2", "x3")} == {
        "w": WorkflowState.COMPLETED, "x1": WorkflowState.COMPLETED,
        "x2": WorkflowState.FAILED, "x3": WorkflowState.EXECUTING}
    check_consistency(queue)
