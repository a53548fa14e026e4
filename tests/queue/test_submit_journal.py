"""Single submits on SQLite go through the submission journal: several real processes at
once, killed ones, torn tails, recycled segments and reopening."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mesos_wm.errors import SpecError, WorkflowConflict
from mesos_wm.queue import TaskQueue
from mesos_wm.queue.journal import HEADER_SIZE
from mesos_wm.queue.sqlite import JOURNAL_SUFFIX
from tests.queue.conftest import T0, task, workflow
from tests.queue.consistency import check_consistency, check_intake, intake_ids

SUBMITTER = textwrap.dedent(
    """
    import sys
    from mesos_wm.errors import WorkflowConflict
    from mesos_wm.queue import TaskDef, TaskQueue, Workflow

    queue = TaskQueue.open(sys.argv[1])
    tag, count = sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        wid = f"w{i % (count // 2)}" if tag != "solo" else f"w{i}"
        variant = tag if i % 7 == 3 else "same"
        tasks = tuple(TaskDef(f"t{j}", "COMMAND", depends_on=(f"t{j - 1}",) if j else (),
                              command=f"echo {variant}") for j in range(3))
        try:
            result = queue.submit(Workflow(wid, tasks))
            print(f"{'created' if result.created else 'same'} {wid} {variant}", flush=True)
        except WorkflowConflict:
            print(f"conflict {wid} {variant}", flush=True)
    """
)


def url_of(tmp_path: Path, **options: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"sqlite:///{tmp_path}/queue.db" + (f"?{query}" if query else "")


def start(tmp_path: Path, url: str, tag: str, count: int) -> subprocess.Popen[str]:
    script = tmp_path / "submitter.py"
    script.write_text(SUBMITTER)
    child = subprocess.Popen([sys.executable, str(script), url, tag, str(count)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
    return child


def go(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


def test_two_processes_submitting_at_once_create_each_workflow_once(tmp_path: Path) -> None:
    url = url_of(tmp_path, journal_segment=8192)
    children = [start(tmp_path, url, tag, 60) for tag in ("a", "b")]
    for child in children:
        go(child)
    lines: list[str] = []
    for child in children:
        out, err = child.communicate(timeout=90)
        assert child.returncode == 0, err
        lines += out.split("\n")
    outcomes = [line.split() for line in lines if line]
    created = [wid for kind, wid, _ in outcomes if kind == "created"]
    assert sorted(created) == sorted(f"w{i}" for i in range(30))  # once each
    with TaskQueue.open(url) as queue:
        assert sorted(w.workflow_id for w in queue.list_workflows()) == sorted(created)
        variants = {wid: _variant(queue, wid) for wid in created}
        for kind, wid, variant in outcomes:
            assert (variants[wid] == variant) == (kind != "conflict"), (kind, wid, variant)
        check_consistency(queue)
        assert queue.ready_count() == 30
        segments = sorted((tmp_path / f"queue.db{JOURNAL_SUFFIX}").glob("*.seg"))
        assert 1 <= len(segments) <= 4  # 120 records of ~300 bytes in 8 KiB segments: recycled


def _variant(queue: TaskQueue, wid: str) -> str:
    rows = queue._read(lambda tx: tx.all(
        "SELECT t.spec FROM tasks t JOIN workflows w ON w.id = t.wf"
        " WHERE w.workflow_id = ? AND t.task_id = 't0'", (wid,)), drain=False)
    return str(json.loads(rows[0][0])["command"]).split()[1]


def test_a_killed_submitter_loses_no_acknowledged_submit(tmp_path: Path) -> None:
    url = url_of(tmp_path, journal_segment=8192)
    child = start(tmp_path, url, "solo", 100_000)
    go(child)
    assert child.stdout is not None
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(line.split()[1])
        if len(acknowledged) == 150:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    child.stderr.close()
    with TaskQueue.open(url) as queue:
        assert check_intake(queue) == []
        stored = {w.workflow_id: w for w in queue.list_workflows(limit=100_000)}
        assert set(acknowledged) <= set(stored)
        assert all(w.total == 3 for w in stored.values())
        assert queue.ready_count() == len(stored)
        check_consistency(queue)
        queue.submit(workflow("after", task("a")), now=T0)
        assert "after" in {w.workflow_id for w in queue.list_workflows(limit=100_000)}


def test_a_torn_tail_record_is_ignored_at_open(tmp_path: Path) -> None:
    url = url_of(tmp_path)
    with TaskQueue.open(url) as queue:
        queue.submit(workflow("kept", task("a")), now=T0)
        queue.submit(workflow("torn", task("a")), now=T0)
        segment = sorted((tmp_path / f"queue.db{JOURNAL_SUFFIX}").glob("*.seg"))[0]
    start_of_torn = _record_starts(segment.read_bytes())[1]
    with open(segment, "r+b") as f:  # the power went out half way through its write
        f.seek(start_of_torn + HEADER_SIZE + 40)
        f.write(bytes(64))
    with TaskQueue.open(url) as queue:
        assert [w.workflow_id for w in queue.list_workflows()] == ["kept"]
        assert queue.submit(workflow("torn", task("a")), now=T0 + 1).created
        assert queue.submit(workflow("later", task("a")), now=T0 + 2).created
        assert sorted(w.workflow_id for w in queue.list_workflows()) == ["kept", "later", "torn"]
        check_consistency(queue)


def _record_starts(data: bytes) -> list[int]:
    starts, pos = [], 0
    while True:
        length = int.from_bytes(data[pos:pos + 4], "little")
        if length == 0:
            return starts
        starts.append(pos)
        pos += HEADER_SIZE + length


def test_reopening_folds_what_a_closed_submitter_left(tmp_path: Path) -> None:
    url = url_of(tmp_path)
    submitter = TaskQueue.open(url)
    heard: list[int] = []
    submitter.add_listener(heard.append)
    submitter.submit(workflow("w", task("a"), task("b", "a"), task("c")), now=T0)
    assert heard == [2]
    assert intake_ids(submitter) == ["w"]
    submitter.close()
    with TaskQueue.open(url) as queue:
        assert intake_ids(queue) == []
        assert sorted(r.task_id for r in queue.ready_tasks(now=T0)) == ["a", "c"]
        assert queue.get_workflow("w").created_at == T0
        check_consistency(queue)


def test_ids_waiting_in_the_journal_are_taken_for_every_process(tmp_path: Path) -> None:
    url = url_of(tmp_path)
    first, second = TaskQueue.open(url), TaskQueue.open(url)
    try:
        first.submit(workflow("w", task("a")), now=T0)
        again = second.submit(workflow("w", task("a")), now=T0 + 1)
        assert (again.created, again.ready) == (False, 0)
        with pytest.raises(WorkflowConflict):
            second.submit(workflow("w", task("a"), task("b")), now=T0 + 1)
        with pytest.raises(WorkflowConflict):
            second.submit_many([workflow("w", task("z"))], now=T0 + 1)
        assert intake_ids(first) == ["w"]  # the refused submit_many wrote nothing
        assert second.submit_many([workflow("w", task("a"))], now=T0 + 2)[0].created is False
        assert intake_ids(first) == []  # submit_many folded the journal first
        with pytest.raises(SpecError):
            first.submit(workflow("bad", task("a", cpus=-1.0)), now=T0)
        assert intake_ids(first) == []
        assert [w.workflow_id for w in second.list_workflows()] == ["w"]
        check_consistency(second)
    finally:
        first.close()
        second.close()


def test_a_workflow_too_large_for_a_segment_is_written_in_full(tmp_path: Path) -> None:
    url = url_of(tmp_path, journal_segment=4096)
    with TaskQueue.open(url) as queue:
        queue.submit(workflow("small", task("a")), now=T0)
        big = workflow("big", *(task(f"t{i}") for i in range(60)))
        assert queue.submit(big, now=T0).ready == 60
        assert intake_ids(queue) == []
        assert queue.submit(big, now=T0 + 1).created is False
        assert queue.ready_count() == 61
        check_consistency(queue)


def test_synchronous_normal_recycles_folded_segments_and_keeps_every_workflow(
    tmp_path: Path,
) -> None:
    url = url_of(tmp_path, synchronous="normal", journal_segment=4096)
    with TaskQueue.open(url) as queue:
        for i in range(60):
            queue.submit(workflow(f"w{i}", task("a")), now=T0)
            if i % 10 == 9:
                assert queue.ready_count() == i + 1
        segments = list((tmp_path / f"queue.db{JOURNAL_SUFFIX}").glob("*.seg"))
        assert len(segments) <= 4
    with TaskQueue.open(url) as queue:
        assert queue.ready_count() == 60


def test_a_new_store_does_not_fold_the_journal_of_a_deleted_one(tmp_path: Path) -> None:
    url = url_of(tmp_path)
    with TaskQueue.open(url) as queue:
        queue.submit(workflow("old", task("a")), now=T0)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"queue.db{suffix}").unlink(missing_ok=True)
    with TaskQueue.open(url) as queue:
        assert queue.list_workflows() == []
        assert queue.submit(workflow("new", task("a")), now=T0).created
        assert [w.workflow_id for w in queue.list_workflows()] == ["new"]
