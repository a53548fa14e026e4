"""Benchmarks of the durable task queue (SQLite), each against a peer in the same run.

1. Durable submit, one caller: 100,000 one-task workflows, one ``submit`` (one committed
   transaction) each, against Huey's ``SqliteHuey`` enqueueing 100,000 tasks (fewer if a
   slow disk would take more than the time budget; the count is reported).  Both at
   the same durability (``synchronous=FULL``: every commit survives power loss; Huey with
   ``fsync=True``), and both at their fast setting (ours ``synchronous=normal``, which
   still survives process crashes; Huey ``fsync=False``, i.e. ``synchronous=OFF``).
   The two run interleaved in rounds, so drifts of the machine hit both alike.
   ``submit_vs_huey`` = Huey's time / ours (target >= 1.5).
2. Batched submit: 100 workflows x 1,000 tasks (half with a dependency) in one
   ``submit_many``, against raw ``sqlite3`` ``executemany`` of exactly the same rows into
   the same schema in one transaction.  ``batched_vs_raw`` = raw time / ours (target >= 0.5).
3. Ready-index memory at 1,000,000 queued tasks, measured with tracemalloc, against a dict
   per task holding the same fields.  ``bytes_per_task`` (target <= 300).
4. Recovery: reopening a store with 100,000 queued and 10,000 running tasks (``open``
   rebuilds the ready index), against a raw ``SELECT *`` of those rows.
   ``recovery_vs_raw_select`` = ours / raw (target <= 1.2).

Timings are the best of several repeats (the machine is shared).  The last line printed
is one JSON object with every figure.  ``--quick`` scales everything down for a smoke run.

Run: ``python benchmarks/bench_queue.py [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from mesos_wm.queue import Resources, TaskDef, TaskQueue, TaskShape, Workflow
from mesos_wm.queue.ready import ReadyIndex

SHAPE = TaskShape(resources=Resources(cpus=1.0, mem=512.0))


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def sqlite_url(path: Path, synchronous: str) -> str:
    return f"sqlite:///{path}?synchronous={synchronous}"


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- 1. one caller -------------------------------------------------------------------------


def single_caller(tmp: Path, n: int, budget: float, durable: bool) -> dict[str, float]:
    """Submit up to ``n`` tasks each way, in interleaved rounds, within ``budget`` seconds."""
    from huey import SqliteHuey

    sync = "full" if durable else "normal"
    ours_db, huey_db = tmp / f"single_{sync}.db", tmp / f"huey_{sync}.db"
    remove_db(ours_db)
    remove_db(huey_db)
    queue = TaskQueue.open(sqlite_url(ours_db, sync))
    huey = SqliteHuey(filename=str(huey_db), fsync=durable)

    @huey.task()
    def job(i: int) -> int:
        return i

    per_round = min(2000, n)
    ours = theirs = 0.0
    done = 0
    started = time.perf_counter()
    while done < n and time.perf_counter() - started < budget:
        workflows = [
            Workflow(f"w{done + i}", (TaskDef("t", "COMMAND", shape=SHAPE, command="true"),))
            for i in range(per_round)
        ]
        gc.collect()
        start = time.perf_counter()
        for w in workflows:
            queue.submit(w)
        ours += time.perf_counter() - start
        start = time.perf_counter()
        for i in range(per_round):
            job(i)
        theirs += time.perf_counter() - start
        done += per_round
    assert queue.ready_count() == done
    queue.close()
    huey.storage.close()
    return {"tasks": done, "ours_us": ours / done * 1e6, "huey_us": theirs / done * 1e6,
            "ratio": theirs / ours}


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
    states = "('QUEUED', 'LAUNCHING', 'STAGING', 'STARTING', 'RUNNING')"
    ours_best = raw_best = same_best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        q = TaskQueue.open(url)
        ours_best = min(ours_best, time.perf_counter() - start)
        assert q.ready_count() == queued
        q.close()
        gc.collect()
        start = time.perf_counter()
        conn = sqlite3.connect(db)
        rows = conn.execute(f"SELECT * FROM tasks WHERE state IN {states}").fetchall()
        raw_best = min(raw_best, time.perf_counter() - start)
        conn.close()
        assert len(rows) == total
        gc.collect()
        start = time.perf_counter()
        conn = sqlite3.connect(db)
        rows = conn.execute(
            "SELECT id, wf, task_id, shape, priority, attempts, queued_at FROM tasks"
            f" WHERE state IN {states}").fetchall()
        same_best = min(same_best, time.perf_counter() - start)
        conn.close()
    return {"ours_s": ours_best, "raw_select_s": raw_best, "ratio": ours_best / raw_best,
            "raw_select_same_columns_s": same_best, "ratio_same_columns": ours_best / same_best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    scale = 0.05 if args.quick else 1.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_queue_", dir=os.environ.get("TMPDIR")) as d:
        tmp = Path(d)
        log("one caller, synchronous=FULL vs Huey fsync=True ...")
        full = single_caller(tmp, int(100_000 * scale), 110 * scale, durable=True)
        log(full)
        log("one caller, synchronous=normal vs Huey fsync=False ...")
        fast = single_caller(tmp, int(100_000 * scale), 50 * scale, durable=False)
        log(fast)
        log("batched ...")
        batch = batched(tmp, 100, int(1000 * scale) or 1, 3)
        log(batch)
        log("ready-index memory ...")
        mem = memory(int(1_000_000 * scale))
        log(mem)
        log("recovery ...")
        rec = recovery(tmp, int(100_000 * scale), int(10_000 * scale), 5)
        log(rec)
    result = {
        "submit_vs_huey": round(full["ratio"], 3),
        "submit_vs_huey_fast_settings": round(fast["ratio"], 3),
        "submit_tasks": full["tasks"],
        "submit_us": round(full["ours_us"], 1),
        "huey_enqueue_us": round(full["huey_us"], 1),
        "submit_fast_tasks": fast["tasks"],
        "submit_fast_us": round(fast["ours_us"], 1),
        "huey_enqueue_fast_us": round(fast["huey_us"], 1),
        "batched_vs_raw": round(batch["ratio"], 3),
        "batched_tasks_per_s": round(batch["ours_tasks_per_s"]),
        "raw_tasks_per_s": round(batch["raw_tasks_per_s"]),
        "bytes_per_task": round(mem["bytes_per_task"], 1),
        "dict_bytes_per_task": round(mem["dict_bytes_per_task"], 1),
        "recovery_vs_raw_select": round(rec["ratio"], 3),
        "recovery_vs_raw_select_same_columns": round(rec["ratio_same_columns"], 3),
        "recovery_s": round(rec["ours_s"], 4),
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
