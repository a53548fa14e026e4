"""Benchmarks of the durable task queue (SQLite), each against a peer in the same run.

1. Durable submit, one caller: one-task workflows, one ``submit`` each, against Huey's
   ``SqliteHuey`` enqueueing as many tasks, at equal durability: every call returns only
   once its submission survives power loss (Huey ``fsync=True``: WAL mode with
   ``synchronous=FULL``, every call commits and fsyncs the WAL; ours ``synchronous=FULL``).
   A ``submit`` of ours appends one framed record (length, CRC32, position, the workflow's
   document) to the store's submission journal, ``<db>-submits/``: segment files written
   full of zeros when created and recycled once folded, opened with ``O_DSYNC``, so the
   call costs one data write to an already allocated block instead of a WAL append and its
   fsync.  The two run interleaved, one call of each in turn, so drifts of the shared
   machine hit both alike; 100,000 tasks each unless a slow disk would take more than the
   time budget (the count is reported).  ``submit_vs_huey`` = Huey's time / ours (target
   >= 1.5).  The journal is folded into task rows at the next read, so each round ends with
   one (``ready_count``), timed apart: ``submit_vs_huey_with_expansion`` charges it to ours.
   Also timed in the same rounds, every 10th call: ``bare_commit_us``, a raw ``sqlite3``
   transaction inserting one row into a one-B-tree table at the same settings (what any
   design that commits to SQLite once per call costs at least), and ``journal_append_us``,
   a bare :class:`~mesos_wm.queue.journal.Journal` append of a record of the same size
   (the journal's own per-call cost, without checking and encoding the workflow).
2. The same at process-crash durability: both ``synchronous=NORMAL`` in WAL mode (a commit
   survives any crash of the process, not of the machine; Huey's ``fsync=False`` would be
   ``synchronous=OFF``, so its connection is set to NORMAL instead); our journal then
   writes without ``O_DSYNC`` (and syncs the database before recycling a segment).
3. Batched submit: 100 workflows x 1,000 tasks (half with a dependency) in one
   ``submit_many``, against raw ``sqlite3`` ``executemany`` of exactly the same rows into
   the same schema in one transaction, both ``synchronous=FULL``.
   ``batched_vs_raw`` = raw time / ours (target >= 0.5).
4. Ready-index memory at 1,000,000 queued tasks, measured with tracemalloc, against a dict
   per task holding the same fields.  ``bytes_per_task`` (target <= 300).
5. Recovery: reopening a store with 100,000 queued and 10,000 running tasks (``open``
   rebuilds the ready index: one ordered scan of the QUEUED rows, fetched in small pieces
   and split into columns, from which the index's arrays are built), against a raw
   ``SELECT`` of the same columns of those 110,000 rows (``fetchall``) on a fresh
   connection.  ``recovery_vs_raw_select`` = ours / raw (target
   <= 1.2).  Also reported: against selecting only the 100,000 QUEUED rows recovery reads
   (which the same covering index serves), and against the old ``SELECT *``.

Timings are the best of several repeats, except the interleaved totals of 1 and 2.  The
last line printed is one JSON object with every figure and the settings used.  ``--quick``
scales everything down for a smoke run.

Run: ``python benchmarks/bench_queue.py [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from mesos_wm.queue import Resources, TaskDef, TaskQueue, TaskShape, Workflow
from mesos_wm.queue.journal import Journal
from mesos_wm.queue.prepare import ShapeMemo, prepare
from mesos_wm.queue.ready import ReadyIndex
from mesos_wm.queue.states import WorkflowState
from mesos_wm.queue.submissions import encode

SHAPE = TaskShape(resources=Resources(cpus=1.0, mem=512.0))


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def sqlite_url(path: Path, synchronous: str) -> str:
    return f"sqlite:///{path}?synchronous={synchronous}"


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{path}-submits", ignore_errors=True)


# -- 1. one caller -------------------------------------------------------------------------


def single_caller(tmp: Path, n: int, budget: float, durable: bool) -> dict[str, float]:
    """Submit up to ``n`` tasks each way, in interleaved rounds, within ``budget`` seconds."""
    from huey import SqliteHuey

    sync = "full" if durable else "normal"
    ours_db, huey_db, bare_db = (tmp / f"{name}_{sync}.db" for name in ("single", "huey", "bare"))
    for db in (ours_db, huey_db, bare_db):
        remove_db(db)
    queue = TaskQueue.open(sqlite_url(ours_db, sync))
    huey = SqliteHuey(filename=str(huey_db), fsync=True if durable else None)
    if not durable:
        huey.storage.conn.execute("PRAGMA synchronous = NORMAL")
    huey_sync = huey.storage.conn.execute("PRAGMA synchronous").fetchone()[0]
    huey_journal = huey.storage.conn.execute("PRAGMA journal_mode").fetchone()[0]
    bare = sqlite3.connect(bare_db, isolation_level=None)
    bare.execute("PRAGMA journal_mode = WAL")
    bare.execute(f"PRAGMA synchronous = {sync}")
    bare.execute("CREATE TABLE intake (id TEXT PRIMARY KEY, doc TEXT) WITHOUT ROWID")
    journal_dir = tmp / f"bare_journal_{sync}"
    shutil.rmtree(journal_dir, ignore_errors=True)
    journal = Journal(str(journal_dir), durable=durable)
    journal.provide(0)
    sample = prepare(Workflow("w0", (TaskDef("t", "COMMAND", shape=SHAPE, command="true"),)),
                     ShapeMemo())
    record = encode(sample, 0.0, WorkflowState.SCHEDULED, {})  # one submit's record

    @huey.task()
    def job(i: int) -> int:
        return i

    per_round = min(1000, n)
    ours = expansion = theirs = bare_time = journal_time = 0.0
    done = bare_done = 0
    doc = "x" * 150
    clock = time.perf_counter
    started = clock()
    while done < n and clock() - started < budget:
        workflows = [
            Workflow(f"w{done + i}", (TaskDef("t", "COMMAND", shape=SHAPE, command="true"),))
            for i in range(per_round)
        ]
        gc.collect()
        for i, w in enumerate(workflows):  # one call of each in turn: same disk weather
            start = clock()
            queue.submit(w)
            middle = clock()
            job(i)
            end = clock()
            ours += middle - start
            theirs += end - middle
            if i % 10 == 0:
                start = clock()
                bare.execute("BEGIN IMMEDIATE")
                bare.execute("INSERT INTO intake VALUES (?, ?)", (f"w{bare_done}", doc))
                bare.execute("COMMIT")
                bare_time += clock() - start
                start = clock()
                with journal.locked():
                    journal.append(journal.end(), record)
                journal_time += clock() - start
                bare_done += 1
        start = clock()
        queue.ready_count()
        expansion += clock() - start
        done += per_round
    assert queue.ready_count() == done
    queue.close()
    huey.storage.close()
    bare.close()
    journal.close()
    return {"tasks": done, "ours_us": ours / done * 1e6, "expansion_us": expansion / done * 1e6,
            "huey_us": theirs / done * 1e6, "bare_commit_us": bare_time / bare_done * 1e6,
            "journal_append_us": journal_time / bare_done * 1e6,
            "ratio": theirs / ours, "ratio_with_expansion": theirs / (ours + expansion),
            "huey_settings": f"journal_mode={huey_journal}, synchronous={huey_sync}"}


# -- 2. batched ----------------------------------------------------------------------------


def batch_workflows(n_workflows: int, per_workflow: int, tag: str) -> list[Workflow]:
    out = []
    for i in range(n_workflows):
        tasks = tuple(
            TaskDef(f"t{j}", "JOB_SUBMISSION", depends_on=(f"t{j - 1}",) if j % 2 else (),
                    shape=SHAPE, command=("python3", "run.py", str(j)), env={"N": str(j)})
            for j in range(per_workflow)
        )
        out.append(Workflow(f"{tag}-{i}", tasks, owner=f"user{i % 7}"))
    return out


def batched(tmp: Path, n_workflows: int, per_workflow: int, repeats: int) -> dict[str, float]:
    ours_best = raw_best = float("inf")
    for rep in range(repeats):
        workflows = batch_workflows(n_workflows, per_workflow, f"b{rep}")
        db = tmp / "batched.db"
        remove_db(db)
        queue = TaskQueue.open(sqlite_url(db, "full"))
        gc.collect()
        start = time.perf_counter()
        queue.submit_many(workflows)
        ours_best = min(ours_best, time.perf_counter() - start)
        queue.close()
        tables = _dump(db)
        raw_db = tmp / "raw.db"
        remove_db(raw_db)
        TaskQueue.open(sqlite_url(raw_db, "full")).close()
        conn = sqlite3.connect(raw_db, isolation_level=None)
        conn.execute("PRAGMA synchronous = FULL")
        gc.collect()
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for name, (columns, rows) in tables.items():
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        raw_best = min(raw_best, time.perf_counter() - start)
        conn.close()
    tasks = n_workflows * per_workflow
    return {"ours_s": ours_best, "raw_s": raw_best, "ratio": raw_best / ours_best,
            "ours_tasks_per_s": tasks / ours_best, "raw_tasks_per_s": tasks / raw_best}


def _dump(db: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    conn = sqlite3.connect(db)
    out = {}
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if name == "meta":
            continue
        cur = conn.execute(f"SELECT * FROM {name}")
        rows = cur.fetchall()
        if rows:
            out[name] = ([d[0] for d in cur.description], rows)
    conn.close()
    return out


# -- 3. memory -----------------------------------------------------------------------------


def memory(n: int) -> dict[str, float]:
    per_workflow = 100

    def index_rows() -> ReadyIndex:
        index = ReadyIndex()
        for i in range(n):
            index.add((i + 1, i // per_workflow + 1, f"t{i % per_workflow}-{i}", 1, i % 3, 0,
                       1.7e9 + i))
        return index

    def dict_rows() -> dict[int, dict[str, Any]]:
        return {
            i + 1: {"key": i + 1, "workflow": i // per_workflow + 1,
                    "task_id": f"t{i % per_workflow}-{i}", "shape": 1, "priority": i % 3,
                    "attempts": 0, "queued_at": 1.7e9 + i}
            for i in range(n)
        }

    sizes = {}
    for name, build in (("index", index_rows), ("dict", dict_rows)):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        sizes[name] = (after - before) / n
        del kept
    return {"bytes_per_task": sizes["index"], "dict_bytes_per_task": sizes["dict"]}


# -- 4. recovery ---------------------------------------------------------------------------


def recovery(tmp: Path, queued: int, running: int, repeats: int) -> dict[str, float]:
    db = tmp / "recovery.db"
    remove_db(db)
    url = sqlite_url(db, "full")
    queue = TaskQueue.open(sqlite_url(db, "normal"))
    per = 1000
    total = queued + running
    queue.submit_many([
        Workflow(f"r{i}", tuple(TaskDef(f"t{j}", "COMMAND", shape=SHAPE, command="true")
                                for j in range(min(per, total - i * per))))
        for i in range((total + per - 1) // per)
    ])
    keys = [r.key for r in queue.ready_tasks(limit=running)]
    for start in range(0, len(keys), 500):
        claims = queue.mark_launching_many(keys[start:start + 500], agent_id="agent-1")
        for launch in claims.launched:
            queue.apply_status(launch.mesos_task_id, "TASK_RUNNING")
    assert queue.ready_count() == queued
    queue.close()
    columns = "id, wf, task_id, shape, priority, attempts, queued_at"
    states = "('QUEUED', 'LAUNCHING', 'STAGING', 'STARTING', 'RUNNING')"
    raw = {
        "same_columns": (f"SELECT {columns} FROM tasks WHERE state IN {states}", total),
        "queued_only": (f"SELECT {columns} FROM tasks WHERE state = 'QUEUED'", queued),
        "star": (f"SELECT * FROM tasks WHERE state IN {states}", total),
    }
    best = dict.fromkeys(["ours", *raw], float("inf"))
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        q = TaskQueue.open(url)
        best["ours"] = min(best["ours"], time.perf_counter() - start)
        assert q.ready_count() == queued
        q.close()
        for name, (sql, count) in raw.items():
            gc.collect()
            start = time.perf_counter()
            conn = sqlite3.connect(db)
            rows = conn.execute(sql).fetchall()
            best[name] = min(best[name], time.perf_counter() - start)
            conn.close()
            assert len(rows) == count
            del rows
    return {"ours_s": best["ours"], **{f"raw_{k}_s": best[k] for k in raw},
            **{f"ratio_{k}": best["ours"] / best[k] for k in raw}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    scale = 0.05 if args.quick else 1.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_queue_", dir=os.environ.get("TMPDIR")) as d:
        tmp = Path(d)
        log("one caller, synchronous=FULL, vs Huey fsync=True ...")
        full = single_caller(tmp, int(100_000 * scale), 150 * scale, durable=True)
        log(full)
        log("one caller, synchronous=NORMAL, vs Huey with synchronous=NORMAL ...")
        fast = single_caller(tmp, int(100_000 * scale), 40 * scale, durable=False)
        log(fast)
        log("batched ...")
        batch = batched(tmp, 100, int(1000 * scale) or 1, 5)
        log(batch)
        log("ready-index memory ...")
        mem = memory(int(1_000_000 * scale))
        log(mem)
        log("recovery ...")
        rec = recovery(tmp, int(100_000 * scale), int(10_000 * scale), 7)
        log(rec)
    result = {
        "submit_vs_huey": round(full["ratio"], 3),
        "submit_vs_huey_with_expansion": round(full["ratio_with_expansion"], 3),
        "submit_tasks": full["tasks"],
        "submit_us": round(full["ours_us"], 1),
        "expansion_us": round(full["expansion_us"], 1),
        "huey_enqueue_us": round(full["huey_us"], 1),
        "bare_commit_us": round(full["bare_commit_us"], 1),
        "journal_append_us": round(full["journal_append_us"], 1),
        "huey_vs_bare_commit": round(full["huey_us"] / full["bare_commit_us"], 3),
        "submit_vs_huey_process_crash_durability": round(fast["ratio"], 3),
        "submit_vs_huey_process_crash_durability_with_expansion":
            round(fast["ratio_with_expansion"], 3),
        "submit_normal_tasks": fast["tasks"],
        "submit_normal_us": round(fast["ours_us"], 1),
        "expansion_normal_us": round(fast["expansion_us"], 1),
        "huey_enqueue_normal_us": round(fast["huey_us"], 1),
        "bare_commit_normal_us": round(fast["bare_commit_us"], 1),
        "journal_append_normal_us": round(fast["journal_append_us"], 1),
        "huey_vs_bare_commit_process_crash_durability":
            round(fast["huey_us"] / fast["bare_commit_us"], 3),
        "batched_vs_raw": round(batch["ratio"], 3),
        "batched_tasks_per_s": round(batch["ours_tasks_per_s"]),
        "raw_tasks_per_s": round(batch["raw_tasks_per_s"]),
        "bytes_per_task": round(mem["bytes_per_task"], 1),
        "dict_bytes_per_task": round(mem["dict_bytes_per_task"], 1),
        "recovery_vs_raw_select": round(rec["ratio_same_columns"], 3),
        "recovery_vs_raw_select_queued_only": round(rec["ratio_queued_only"], 3),
        "recovery_vs_raw_select_star": round(rec["ratio_star"], 3),
        "recovery_s": round(rec["ours_s"], 4),
        "raw_select_s": round(rec["raw_same_columns_s"], 4),
        "settings": {
            "submit": "ours journal_mode=wal, synchronous=FULL, submission journal O_DSYNC;"
                      " huey fsync=True (" + full["huey_settings"] + ")",
            "submit_process_crash_durability": "ours journal_mode=wal, synchronous=NORMAL,"
                                               " submission journal without O_DSYNC;"
                                               " huey " + fast["huey_settings"],
            "batched": "both journal_mode=wal, synchronous=FULL, one transaction",
            "recovery": "reopen with synchronous=FULL; raw: fresh sqlite3 connection",
            "synchronous_codes": "0=OFF 1=NORMAL 2=FULL",
        },
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
