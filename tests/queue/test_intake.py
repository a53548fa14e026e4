"""The intake of single submits, on SQLite and a real PostgreSQL: every read and transition
of any process sees whole workflows, submitters see their own work, and ids stay unique
across the intake and the expanded tables."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from mesos_wm.errors import WorkflowConflict
from mesos_wm.queue import SubmitResult, TaskQueue, WorkflowState
from mesos_wm.queue.schema import SCHEMA_VERSION
from tests.queue.conftest import T0, Driver, task, workflow
from tests.queue.consistency import check_consistency, check_intake, intake_ids


def chain(wid: str, n: int = 3, **kw: object) -> object:
    return workflow(wid, *(task(f"t{i}", *([f"t{i - 1}"] if i else [])) for i in range(n)),
                    **kw)


def test_a_submit_waits_in_the_intake_until_something_reads(
    open_queue: Callable[[], TaskQueue],
) -> None:
    submitter, other = open_queue(), open_queue()
    result = submitter.submit(chain("w"), now=T0)
    assert (result.created, result.ready, result.state) == (True, 1, WorkflowState.SCHEDULED)
    assert intake_ids(submitter) == ["w"]
    record = other.get_workflow("w")
    assert [t.state.value for t in record.tasks] == ["QUEUED", "PENDING", "PENDING"]
    assert record.created_at == T0 and record.tasks[0].updated_at == T0
    assert intake_ids(other) == []
    assert [h.state for h in other.history("w")] == ["CREATED", "SCHEDULED"]
    check_consistency(other)


def test_submitters_see_their_work_when_another_process_expanded_it(
    open_queue: Callable[[], TaskQueue],
) -> None:
    submitter, framework = open_queue(), open_queue()
    heard: list[int] = []
    submitter.add_listener(heard.append)
    submitter.submit(chain("w"), now=T0)
    submitter.submit(workflow("later", task("a"), not_before=T0 + 50), now=T0)
    assert heard == [1]
    assert framework.ready_count() == 1
    assert intake_ids(framework) == []
    assert [(r.workflow_id, r.task_id) for r in submitter.ready_tasks(now=T0)] == [("w", "t0")]
    assert submitter.next_wakeup() == T0 + 50
    assert heard == [1]
    Driver(submitter, T0).run("w", "t0")
    assert heard == [1, 1]
    check_consistency(submitter)


def test_ids_are_taken_in_the_intake_and_in_the_tables(queue: TaskQueue) -> None:
    queue.submit(chain("w"), now=T0)
    again = queue.submit(chain("w"), now=T0 + 1)
    assert (again.created, again.state) == (False, WorkflowState.SCHEDULED)
    with pytest.raises(WorkflowConflict, match="'w'"):
        queue.submit(chain("w", 4), now=T0 + 1)
    with pytest.raises(WorkflowConflict):
        queue.submit_many([chain("v"), chain("w", 2)], now=T0 + 1)
    assert queue.submit_many([chain("w")], now=T0 + 2)[0].created is False
    queue.submit(workflow("x", task("a"), not_before=T0 + 9), now=T0)
    assert queue.submit(workflow("x", task("a"), not_before=T0 + 9), now=T0).state == (
        WorkflowState.CREATED)
    assert sorted(w.workflow_id for w in queue.list_workflows()) == ["w", "x"]
    assert queue.submit(chain("w"), now=T0 + 3).created is False
    check_consistency(queue)


def test_expansion_keeps_submission_order_and_times(queue: TaskQueue) -> None:
    for i in range(5):
        queue.submit(workflow(f"w{i}", task("a"), task("b")), now=T0)
    queue.submit(workflow("first", task("a")), now=T0 - 1)
    queue.submit(workflow("high", task("a"), priority=9), now=T0 + 1)
    order = [(r.workflow_id, r.task_id) for r in queue.ready_tasks(now=T0 + 2)]
    assert order == [("high", "a"), ("first", "a")] + [
        (f"w{i}", t) for i in range(5) for t in "ab"]
    assert [r.queued_at for r in queue.ready_tasks(now=T0 + 2)][1:3] == [T0 - 1, T0]


def test_transitions_and_user_changes_expand_first(queue: TaskQueue) -> None:
    queue.submit(chain("w"), now=T0)
    assert queue.cancel("w", "t0", now=T0 + 1).changed == ("t0",)
    queue.submit(chain("v"), now=T0 + 2)
    launch = queue.mark_launching(("v", "t0"), agent_id="a", now=T0 + 3)
    queue.submit(chain("u"), now=T0 + 4)
    assert queue.apply_status(launch.mesos_task_id, "TASK_FINISHED", now=T0 + 5).released == (
        "t1",)
    assert queue.find_attempt(launch.mesos_task_id) == ("v", "t0", 1)
    queue.submit(chain("s"), now=T0 + 6)
    assert queue.record_reasons({("s", "t0"): "no offer"}) == 1
    assert intake_ids(queue) == []
    check_consistency(queue)


def test_concurrent_submitters_and_readers_create_each_workflow_once(
    open_queue: Callable[[], TaskQueue],
) -> None:
    queues = [open_queue() for _ in range(4)]
    barrier = threading.Barrier(len(queues))
    errors: list[BaseException] = []

    def work(q: TaskQueue, n: int) -> None:
        try:
            barrier.wait()
            for i in range(12):
                q.submit(chain(f"w{(n * 12 + i) % 30}", 2), now=T0 + i)
                if i % 3 == n % 3:
                    assert q.get_workflow(f"w{(n * 12 + i) % 30}", tasks=False).total == 2
                    ready = q.ready_tasks(limit=3, now=T0 + i)
                    q.mark_launching_many([r.key for r in ready], agent_id=f"a{n}",
                                          now=T0 + i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(q, n)) for n, q in enumerate(queues)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = sorted(w.workflow_id for w in queues[0].list_workflows())
    assert ids == sorted(f"w{i}" for i in range(30))
    launched = [a.mesos_task_id for a in queues[1].active_attempts()]
    assert len(launched) == len(set(launched))
    check_consistency(queues[2], index=False)
    states = [t.state.value for w in ids for t in queues[3].get_workflow(w).tasks]
    assert states.count("QUEUED") + states.count("LAUNCHING") == 30 == len(states) // 2


def test_reopening_expands_what_a_crash_left_in_the_intake(
    open_queue: Callable[[], TaskQueue],
) -> None:
    q = open_queue()
    for i in range(3):
        q.submit(chain(f"w{i}"), now=T0)
    q.close()
    again = open_queue()
    assert intake_ids(again) == []
    assert again.ready_count() == 3
    check_consistency(again)


def test_version_1_stores_are_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    TaskQueue.open(url).close()
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("DROP TABLE intake")
    conn.execute("CREATE INDEX tasks_ready ON tasks (priority, queued_at)"
                 " WHERE deps_left = 0 AND state IN ('PENDING', 'QUEUED')")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with TaskQueue.open(url) as queue:
        queue.submit(chain("w"), now=T0)
        assert queue.get_meta("schema_version") == SCHEMA_VERSION
        assert queue.ready_count() == 1
    conn = sqlite3.connect(tmp_path / "old.db")
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert "tasks_ready" not in indexes and "tasks_queued" in indexes


def test_a_submit_that_waited_for_an_expansion_of_its_id_takes_its_row_back(
    postgres_url: str,
) -> None:
    import psycopg

    from mesos_wm.queue.prepare import ShapeMemo, prepare

    queue, other = TaskQueue.open(postgres_url), TaskQueue.open(postgres_url)
    results: list[SubmitResult] = []
    again = threading.Thread(target=lambda: results.append(other.submit(chain("x"), now=T0)))
    try:
        queue.submit(chain("x"), now=T0)
        digest = prepare(chain("x"), ShapeMemo()).digest  # type: ignore[arg-type]
        with psycopg.connect(postgres_url) as expander, \
                psycopg.connect(postgres_url, autocommit=True) as watch:
            expander.execute(
                "INSERT INTO workflows (id, workflow_id, owner, priority, labels, directory,"
                " state, digest, total, created_at, updated_at) VALUES (nextval('workflows_seq'),"
                " 'x', 'default', 0, '{}', 'x', 'SCHEDULED', %s, 3, 0, 0)", (digest,))
            expander.execute("DELETE FROM intake WHERE workflow_id = 'x'")
            again.start()
            for _ in range(2000):
                row = watch.execute("SELECT count(*) FROM pg_stat_activity"
                                    " WHERE wait_event_type = 'Lock'").fetchone()
                if row == (1,):
                    break
                threading.Event().wait(0.005)
            else:
                raise AssertionError("the second submit never waited")
            expander.commit()
            again.join()
        assert [r.created for r in results] == [False]
        assert check_intake(other) == []
    finally:
        if again.ident is not None:
            again.join()
        queue.close()
        other.close()


def test_a_process_that_only_submits_expands_now_and_then(queue: TaskQueue) -> None:
    queue.announced_limit = 3
    for i in range(5):
        queue.submit(chain(f"w{i}"), now=T0)
    assert intake_ids(queue) == ["w3", "w4"]
    assert queue.ready_count() == 5
