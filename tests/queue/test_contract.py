"""The queue's contract, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from mesos_wm.errors import (
    DagCycleError,
    InvalidTransition,
    SpecError,
    TaskNotFound,
    WorkflowConflict,
    WorkflowNotFound,
)
from mesos_wm.proto import decode_task_spec, encode_task_spec
from mesos_wm.queue import TaskDef, TaskQueue, TaskState, WorkflowState, mesos_task_id
from tests.queue.conftest import T0, Driver, task, workflow
from tests.queue.consistency import check_consistency


def airavata(wid: str = "exp-1", **kw: object) -> object:
    return workflow(
        wid,
        task("setup", type="ENV_SETUP", command=None),
        task("run", "setup", type="JOB_SUBMISSION", command=["python3", "x.py"]),
        task("on-failure", "run", run_on="failure"),
        task("stage-out", "run", run_on="always"),
        task("cleanup", "stage-out", run_on="always"),
        task("note", "cleanup"),
        **kw,
    )


def test_submit_queues_roots_and_waits_for_dependencies(queue: TaskQueue) -> None:
    result = queue.submit(airavata(), now=T0)
    assert (result.created, result.ready, result.state) == (True, 1, WorkflowState.SCHEDULED)
    d = Driver(queue)
    assert d.ready() == [("exp-1", "setup")]
    assert d.states("exp-1") == {"setup": "QUEUED", "run": "PENDING", "on-failure": "PENDING",
                                 "stage-out": "PENDING", "cleanup": "PENDING", "note": "PENDING"}
    check_consistency(queue)


def test_resubmitting_same_content_is_a_no_op_and_different_content_conflicts(
    queue: TaskQueue,
) -> None:
    queue.submit(airavata(), now=T0)
    again = queue.submit(airavata(), now=T0 + 5)
    assert (again.created, again.ready) == (False, 0)
    with pytest.raises(WorkflowConflict, match="exp-1"):
        queue.submit(airavata(priority=7), now=T0 + 6)
    assert len(queue.list_workflows()) == 1
    assert queue.get_workflow("exp-1").priority == 0


def test_submit_many_reports_in_order_and_handles_repeats_in_one_batch(
    queue: TaskQueue,
) -> None:
    queue.submit(airavata("old"), now=T0)
    results = queue.submit_many([airavata("new"), airavata("old"), airavata("new")], now=T0)
    assert [(r.workflow_id, r.created) for r in results] == [
        ("new", True), ("old", False), ("new", False)]
    with pytest.raises(WorkflowConflict):
        queue.submit_many([airavata("x"), airavata("x", owner="other")], now=T0)
    assert [w.workflow_id for w in queue.list_workflows()] == ["new", "old"]


def test_submit_many_links_each_workflows_own_tasks(queue: TaskQueue) -> None:
    queue.submit_many([airavata("a"), airavata("b"), workflow("c", task("x"), task("y", "x"))],
                      now=T0)
    check_consistency(queue)
    d = Driver(queue)
    d.run("b", "setup")
    assert d.ready() == [("a", "setup"), ("c", "x"), ("b", "run")]


def test_submit_many_is_all_or_nothing(queue: TaskQueue) -> None:
    queue.submit(airavata("taken"), now=T0)
    with pytest.raises(WorkflowConflict):
        queue.submit_many([airavata("new-1"), airavata("taken", name="other")], now=T0)
    assert [w.workflow_id for w in queue.list_workflows()] == ["taken"]
    assert queue.ready_count() == 1


def test_invalid_workflows_are_rejected_naming_the_problem_and_write_nothing(
    queue: TaskQueue,
) -> None:
    with pytest.raises(DagCycleError, match="a -> b -> a"):
        queue.submit(workflow("w", task("a", "b"), task("b", "a")), now=T0)
    with pytest.raises(SpecError) as info:
        queue.submit(workflow("w", task("a", "ghost"), task("a"), task("c", cpus=-1)), now=T0)
    text = str(info.value)
    assert "tasks[0].depends_on[0]: unknown task 'ghost'" in text
    assert "tasks[1].id: duplicate task id 'a'" in text
    assert "tasks[2].resources.cpus" in text
    odd = TaskDef("b", "COMMAND", ("a",), run_on="sometimes", command="x")  # type: ignore
    with pytest.raises(SpecError, match="run_on: must be success, failure or always"):
        queue.submit(workflow("w", task("a"), odd), now=T0)
    assert queue.list_workflows() == []
    assert queue.ready_count() == 0


def test_success_path_releases_dependants_skips_failure_handlers_and_completes(
    queue: TaskQueue,
) -> None:
    queue.submit(airavata(), now=T0)
    d = Driver(queue)
    d.run("exp-1", "setup")
    assert queue.get_workflow("exp-1", tasks=False).state == WorkflowState.EXECUTING
    outcome = d.run("exp-1", "run")
    assert outcome.released == ("stage-out",)
    assert outcome.skipped == ("on-failure",)
    d.run("exp-1", "stage-out")
    d.run("exp-1", "cleanup")
    outcome = d.run("exp-1", "note")
    assert outcome.workflow_state == WorkflowState.COMPLETED
    assert set(d.states("exp-1").values()) == {"FINISHED", "SKIPPED"}
    states = [h.state for h in queue.history("exp-1") if h.task_id is None]
    assert states == ["CREATED", "SCHEDULED", "EXECUTING", "COMPLETED"]
    check_consistency(queue)


def test_failure_runs_always_and_failure_handlers_and_skips_success_children(
    queue: TaskQueue,
) -> None:
    queue.submit(airavata(), now=T0)
    d = Driver(queue)
    d.run("exp-1", "setup")
    outcome = d.run("exp-1", "run", "TASK_FAILED", exit_code=3, message="segfault")
    assert outcome.task_state == TaskState.FAILED
    assert sorted(outcome.released) == ["on-failure", "stage-out"]
    d.run("exp-1", "on-failure")
    d.run("exp-1", "stage-out")
    assert d.run("exp-1", "cleanup").released == ("note",)  # run_on looks at direct parents
    assert d.run("exp-1", "note").workflow_state == WorkflowState.FAILED
    run = queue.get_task("exp-1", "run")
    assert run.attempts[0].exit_code == 3 and run.attempts[0].message == "segfault"
    check_consistency(queue)


def test_failed_attempts_retry_with_capped_exponential_backoff(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a", retries=3, backoff=10.0)), now=T0)
    d = Driver(queue)
    ids, delays = [], []
    for _ in range(3):
        mid = d.launch("w", "a")
        ids.append(mid)
        outcome = queue.apply_status(mid, "TASK_FAILED", now=d.tick())
        assert outcome.task_state == TaskState.PENDING and outcome.retry is not None
        delays.append(outcome.retry.not_before - d.now)
        assert queue.next_wakeup() == outcome.retry.not_before
        assert d.ready() == []
        d.now = outcome.retry.not_before
    assert delays == [10.0, 20.0, 40.0]
    mid = d.launch("w", "a")
    ids.append(mid)
    outcome = queue.apply_status(mid, "TASK_FAILED", now=d.tick())
    assert (outcome.task_state, outcome.retry) == (TaskState.FAILED, None)
    assert ids == [mesos_task_id("w", "a", n) for n in (1, 2, 3, 4)]
    assert queue.get_task("w", "a").retries_used == 3
    check_consistency(queue)


def test_infrastructure_losses_do_not_use_user_retries_and_have_their_own_cap(
    queue: TaskQueue,
) -> None:
    queue.submit(workflow("w", task("a", retries=1, max_infra=2)), now=T0)
    d = Driver(queue)
    for n in range(2):
        mid = d.launch("w", "a")
        reason = "REASON_AGENT_REMOVED" if n else "REASON_INVALID_OFFERS"
        state = "TASK_LOST" if n else "TASK_DROPPED"
        outcome = queue.apply_status(mid, state, reason=reason, now=d.tick())
        assert outcome.task_state == TaskState.QUEUED
        assert outcome.retry is not None and outcome.retry.infra
    record = queue.get_task("w", "a")
    assert (record.retries_used, record.infra_retries_used) == (0, 2)
    assert [a.infra for a in record.attempts] == [True, True]
    mid = d.launch("w", "a")
    outcome = queue.apply_status(mid, "TASK_FAILED", reason="REASON_AGENT_RESTARTED", now=d.tick())
    assert outcome.task_state == TaskState.ERROR


def test_stale_and_duplicate_updates_never_move_a_task_backwards(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a", retries=1, backoff=0.0)), now=T0)
    d = Driver(queue)
    old = d.launch("w", "a")
    assert queue.apply_status(old, "TASK_RUNNING", now=d.tick()).applied
    dup = queue.apply_status(old, "TASK_RUNNING", now=d.tick())
    assert (dup.applied, dup.task_state) == (False, TaskState.RUNNING)
    assert not queue.apply_status(old, "TASK_STAGING", now=d.tick()).applied
    assert queue.apply_status(old, "TASK_LOST", now=d.tick()).task_state == TaskState.QUEUED
    new = d.launch("w", "a")
    queue.apply_status(new, "TASK_RUNNING", now=d.tick())
    late = queue.apply_status(old, "TASK_RUNNING", now=d.tick())
    assert (late.applied, late.kill, late.task_state) == (False, True, TaskState.RUNNING)
    assert not queue.apply_status(old, "TASK_FINISHED", now=d.tick()).applied
    done = queue.apply_status(new, "TASK_FINISHED", now=d.tick())
    assert done.task_state == TaskState.FINISHED
    after = queue.apply_status(new, "TASK_FAILED", now=d.tick())
    assert (after.applied, after.task_state) == (False, TaskState.FINISHED)
    unknown = queue.apply_status("nobody.x.a1", "TASK_RUNNING", now=d.tick())
    assert (unknown.known, unknown.kill) == (False, True)
    with pytest.raises(ValueError):
        queue.apply_status(new, "TASK_BOGUS", now=d.tick())
    check_consistency(queue)


def test_cancel_workflow_cancels_waiting_tasks_and_kills_running_ones(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a"), task("b"), task("c", "a")), now=T0)
    d = Driver(queue)
    mid = d.launch("w", "a")
    queue.apply_status(mid, "TASK_RUNNING", now=d.tick())
    result = queue.cancel("w", now=d.tick())
    assert result.workflow_state == WorkflowState.CANCELING
    assert sorted(result.changed) == ["b", "c"]
    assert [k.mesos_task_id for k in result.kills] == [mid]
    assert [a.kill_requested for a in queue.active_attempts()] == [True]
    assert queue.apply_status(mid, "TASK_RUNNING", now=d.tick()).kill
    outcome = queue.apply_status(mid, "TASK_KILLED", now=d.tick())
    assert outcome.task_state == TaskState.CANCELED
    assert outcome.workflow_state == WorkflowState.CANCELED
    assert queue.cancel("w", now=d.tick()).changed == ()
    assert d.ready() == []
    check_consistency(queue)


def test_cancel_one_task_lets_always_dependants_run(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a"), task("b", "a"), task("c", "a", run_on="always")),
                 now=T0)
    d = Driver(queue)
    result = queue.cancel("w", "a", now=d.tick())
    assert result.changed == ("a",)
    assert d.ready() == [("w", "c")]
    assert d.states("w")["b"] == "SKIPPED"
    assert d.run("w", "c").workflow_state == WorkflowState.FAILED
    with pytest.raises(TaskNotFound):
        queue.cancel("w", "nope")
    with pytest.raises(WorkflowNotFound):
        queue.cancel("nope")


def test_retry_resets_the_failed_task_and_its_descendants(queue: TaskQueue) -> None:
    queue.submit(airavata(), now=T0)
    d = Driver(queue)
    d.run("exp-1", "setup")
    d.run("exp-1", "run", "TASK_FAILED")
    d.run("exp-1", "on-failure")
    d.run("exp-1", "stage-out")
    d.run("exp-1", "cleanup")
    d.run("exp-1", "note")
    assert queue.get_workflow("exp-1", tasks=False).state == WorkflowState.FAILED
    with pytest.raises(InvalidTransition, match="FINISHED"):
        queue.retry("exp-1", "setup", now=d.tick())
    result = queue.retry("exp-1", now=d.tick())
    assert result.workflow_state == WorkflowState.EXECUTING
    assert sorted(result.changed) == ["cleanup", "note", "on-failure", "run", "stage-out"]
    assert d.ready() == [("exp-1", "run")]
    assert d.run("exp-1", "run").skipped == ("on-failure",)
    d.run("exp-1", "stage-out")
    d.run("exp-1", "cleanup")
    assert d.run("exp-1", "note").workflow_state == WorkflowState.COMPLETED
    assert [a.number for a in queue.get_task("exp-1", "run").attempts] == [1, 2]
    check_consistency(queue)


def test_retry_refuses_while_a_descendant_runs(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a"), task("b", "a", run_on="always")), now=T0)
    d = Driver(queue)
    d.run("w", "a", "TASK_FAILED")
    d.launch("w", "b")
    with pytest.raises(InvalidTransition, match="w/b"):
        queue.retry("w", "a", now=d.tick())


def test_mark_launching_only_claims_queued_tasks_once(
    open_queue: Callable[[], TaskQueue],
) -> None:
    first, second = open_queue(), open_queue()
    first.submit(workflow("w", task("a"), task("b"), task("c", "a")), now=T0)
    second.refresh()
    keys = [r.key for r in second.ready_tasks(now=T0)]
    launch = first.mark_launching(("w", "a"), agent_id="agent-1", now=T0 + 1)
    spec = decode_task_spec(encode_task_spec(launch.spec))
    assert (spec.workflow_id, spec.task_id, spec.attempt, spec.command.shell) == (
        "w", "a", 1, "true")
    claims = second.mark_launching_many(keys, agent_id="agent-2", now=T0 + 2)
    assert [c.task_id for c in claims.launched] == ["b"]
    assert len(claims.lost) == 1
    with pytest.raises(InvalidTransition):
        first.mark_launching(("w", "c"), agent_id="agent-1", now=T0 + 3)
    with pytest.raises(TaskNotFound):
        first.mark_launching(("w", "zz"), agent_id="agent-1", now=T0 + 3)


def test_concurrent_claims_never_launch_a_task_twice(
    open_queue: Callable[[], TaskQueue],
) -> None:
    queues = [open_queue() for _ in range(3)]
    queues[0].submit(workflow("w", *(task(f"t{i}") for i in range(60))), now=T0)
    keys = sorted(r.key for r in queues[0].ready_tasks(now=T0))
    launched: list[str] = []
    barrier = threading.Barrier(len(queues))

    def claim(q: TaskQueue, agent: str) -> None:
        barrier.wait()
        for start in range(0, len(keys), 5):
            claims = q.mark_launching_many(keys[start:start + 10], agent_id=agent, now=T0 + 1)
            launched.extend(c.mesos_task_id for c in claims.launched)

    threads = [threading.Thread(target=claim, args=(q, f"agent-{i}"))
               for i, q in enumerate(queues)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(launched) == sorted(mesos_task_id("w", f"t{i}", 1) for i in range(60))
    check_consistency(queues[0], index=False)


def test_priorities_then_first_come_first_served(queue: TaskQueue) -> None:
    queue.submit(workflow("low", task("a"), task("b"), priority=-5), now=T0)
    queue.submit(workflow("high", task("a"), task("b", priority=0), priority=100), now=T0 + 1)
    queue.submit(workflow("normal", task("a")), now=T0 + 2)
    order = [(r.workflow_id, r.task_id, r.priority) for r in queue.ready_tasks(now=T0 + 3)]
    assert order == [("high", "a", 100), ("high", "b", 0), ("normal", "a", 0),
                     ("low", "a", -5), ("low", "b", -5)]
    assert [r.task_id for r in queue.ready_tasks(2, now=T0 + 3)] == ["a", "b"]


def test_not_before_holds_tasks_until_their_time(queue: TaskQueue) -> None:
    queue.submit(workflow("later", task("a"), task("b", "a"), not_before=T0 + 100), now=T0)
    assert queue.get_workflow("later", tasks=False).state == WorkflowState.CREATED
    assert queue.next_wakeup() == T0 + 100
    assert queue.ready_tasks(now=T0 + 99) == []
    assert queue.why("later", "a").startswith("PENDING: not before")
    assert [r.task_id for r in queue.ready_tasks(now=T0 + 100)] == ["a"]
    assert queue.get_workflow("later", tasks=False).state == WorkflowState.SCHEDULED
    check_consistency(queue)


def test_reopening_recovers_the_ready_index_and_timers(
    open_queue: Callable[[], TaskQueue],
) -> None:
    q = open_queue()
    q.submit(airavata("a"), now=T0)
    q.submit(workflow("b", task("x", retries=2, backoff=30.0), task("y"), priority=3), now=T0)
    d = Driver(q)
    d.run("a", "setup")
    d.run("b", "x", "TASK_FAILED")
    d.launch("b", "y")
    before = [(r.key, r.attempt) for r in q.ready_tasks(now=d.now)]
    wakeup = q.next_wakeup()
    q.close()
    again = open_queue()
    assert [(r.key, r.attempt) for r in again.ready_tasks(now=d.now)] == before
    assert again.next_wakeup() == wakeup
    assert [(a.task_id, a.state) for a in again.active_attempts()] == [("y", "LAUNCHING")]
    check_consistency(again)


def test_other_processes_changes_are_picked_up_by_refresh(
    open_queue: Callable[[], TaskQueue],
) -> None:
    framework, cli = open_queue(), open_queue()
    seen: list[int] = []
    framework.add_listener(seen.append)
    framework.wait_for_change(0.01)  # PostgreSQL: starts listening (and says "look now")
    framework.refresh()
    assert not framework.wait_for_change(0.05)
    cli.submit(workflow("w", task("a"), task("b")), now=T0)
    cli.submit(workflow("v", task("a")), now=T0)
    assert framework.wait_for_change(5.0)
    assert framework.refresh() == 3
    assert seen == [3]
    cli.cancel("w", "a", now=T0 + 1)
    framework.refresh()
    assert [(r.workflow_id, r.task_id) for r in framework.ready_tasks(now=T0 + 1)] == [
        ("w", "b"), ("v", "a")]
    assert framework.refresh() == 0


def test_listeners_hear_about_new_ready_work(queue: TaskQueue) -> None:
    seen: list[int] = []
    queue.add_listener(seen.append)
    queue.submit(workflow("w", task("a"), task("b"), task("c", "a")), now=T0)
    Driver(queue).run("w", "a")
    queue.remove_listener(seen.append)
    queue.submit(workflow("v", task("a")), now=T0)
    assert seen == [2, 1]


def test_reads_lists_history_and_json(queue: TaskQueue) -> None:
    queue.submit(workflow("a", task("t"), owner="alice", labels={"gateway": "seagrid"}), now=T0)
    queue.submit(workflow("b", task("t"), owner="bob"), now=T0 + 10)
    Driver(queue, T0 + 20).run("b", "t")
    ids = lambda **kw: [w.workflow_id for w in queue.list_workflows(**kw)]  # noqa: E731
    assert ids() == ["b", "a"]
    assert ids(owner="alice") == ["a"]
    assert ids(label={"gateway": "seagrid"}) == ["a"]
    assert ids(label={"gateway": "other"}) == []
    assert ids(state="COMPLETED") == ["b"]
    assert ids(state=["SCHEDULED", "COMPLETED"]) == ["b", "a"]
    assert ids(since=T0 + 5) == ["b"]
    assert ids(until=T0 + 5) == ["a"]
    doc = queue.get_workflow("b").to_json()
    attempt = doc["tasks"][0]["attempts"][0]
    assert attempt["mesos_task_id"] == "b.t.a1" and attempt["state"] == "TASK_FINISHED"
    assert queue.find_attempt("b.t.a1") == ("b", "t", 1)
    with pytest.raises(WorkflowNotFound):
        queue.get_workflow("zzz")
    with pytest.raises(ValueError):
        queue.list_workflows(state="SLEEPING")


def test_reasons_why_and_give_up(queue: TaskQueue) -> None:
    queue.submit(workflow("w", task("a"), task("b", "a", run_on="failure")), now=T0)
    assert queue.why("w", "b") == "PENDING: waiting for a (QUEUED)"
    queue.record_reason(("w", "a"), "no offer has 0.5 cpus")
    assert queue.record_reasons({("w", "a"): "no offer has 0.5 cpus"}) == 0
    assert queue.why("w", "a") == "QUEUED: no offer has 0.5 cpus"
    outcome = queue.give_up(("w", "a"), "no offer within 5m", now=T0 + 300)
    assert (outcome.task_state, outcome.released) == (TaskState.ERROR, ("b",))
    assert queue.why("w", "a") == "ERROR: no offer within 5m"


def test_framework_id_and_metadata_persist(open_queue: Callable[[], TaskQueue]) -> None:
    q = open_queue()
    assert q.get_framework_id() is None
    q.set_framework_id("fw-1")
    q.set_meta("leader", "host-a")
    q.set_meta("leader", "host-b")
    q.close()
    again = open_queue()
    assert (again.get_framework_id(), again.get_meta("leader")) == ("fw-1", "host-b")
    again.set_framework_id(None)
    assert again.get_framework_id() is None


def test_racing_submits_of_one_new_workflow_create_it_once(
    open_queue: Callable[[], TaskQueue],
) -> None:
    queues = [open_queue() for _ in range(4)]
    barrier = threading.Barrier(len(queues))
    results: list[bool] = []

    def submit(q: TaskQueue) -> None:
        barrier.wait()
        results.append(q.submit(airavata("race"), now=T0).created)

    threads = [threading.Thread(target=submit, args=(q,)) for q in queues]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    check_consistency(queues[0], index=False)


def test_a_lost_database_connection_is_reopened(postgres_url: str) -> None:
    import psycopg

    with TaskQueue.open(postgres_url) as queue:
        queue.submit(workflow("w", task("a")), now=T0)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE pid <> pg_backend_pid() AND datname = current_database()")
        assert queue.get_workflow("w", tasks=False).total == 1
        assert queue.submit(workflow("v", task("a")), now=T0).created
