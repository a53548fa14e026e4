"""Recovery benchmark: SIGKILL the framework with 100,000 queued and 10,000 running tasks.

1. The embedded master runs in a child process with simulated agents that hold exactly
   ``--running`` tasks (tasks run until told to finish).  A SQLite queue gets
   ``--running + --queued`` single-task workflows.
2. A framework process (a child of this script) launches tasks until ``--running`` are
   RUNNING in the queue, and is killed with SIGKILL.  One more agent joins the master.
3. The framework is started again.  It reports ``rebuild_s`` (opening the queue, which
   rebuilds its ready index) and ``first_accept_s`` (from the same start to its first
   ACCEPT, on the new agent's offer): ``first_accept_after_rebuild_s`` is the difference,
   against the target of 1 s.
4. The master then finishes every running task; the benchmark waits until the queue has
   committed them and counts ``lost`` (a task that ran before the kill and did not end
   FINISHED with its one attempt) and ``duplicated`` (a Mesos task id launched twice, or a
   task launched in more than one attempt).

Prints progress lines, then one JSON line.  Run: ``python benchmarks/bench_recovery.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import stop_child

from mesos_wm.framework import Framework, FrameworkConfig
from mesos_wm.local import AgentConfig, LocalMaster, MasterConfig
from mesos_wm.queue import Resources, TaskDef, TaskQueue, TaskShape, Workflow

TASK = TaskShape(resources=Resources(cpus=0.1, mem=16))
SLOTS_PER_AGENT = 500


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def agent(slots: int = SLOTS_PER_AGENT) -> AgentConfig:
    return AgentConfig(resources=f"cpus:{slots * 0.1:g};mem:{slots * 16};disk:1000",
                       simulated=True, task_duration=float("inf"))


# -- the master child --------------------------------------------------------------------


async def serve_master(agents: int) -> None:
    config = MasterConfig(allocation_interval=0.25, heartbeat_interval=5.0,
                          update_retry_initial=60.0, update_retry_max=600.0,
                          max_completed_tasks_per_framework=1_000_000,
                          max_body_size=256 * 1024 * 1024)
    async with LocalMaster(agents=[agent()] * agents, config=config) as master:
        print(master.url, flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line in ("", "quit"):
                return
            if line == "add-agent":
                await master.add_agent(agent(10))
                print("ok", flush=True)
            elif line == "finish":
                master.faults.finish_simulated_tasks()
                print("ok", flush=True)
            elif line == "report":
                counts: Counter[str] = Counter()
                for framework in master.state.all_frameworks():
                    for task in [*framework.tasks.values(), *framework.completed_tasks]:
                        counts[task.task_id] += 1
                print(json.dumps({"tasks": len(counts),
                                  "duplicated": sum(c - 1 for c in counts.values())}),
                      flush=True)


class Master:
    def __init__(self, agents: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-master", str(agents)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        self.url = self.command(None)

    def command(self, line: str | None) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if line is not None:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def stop(self) -> None:
        stop_child(self.process, 20)


# -- the framework child -----------------------------------------------------------------


async def run_framework(master: str, queue_url: str) -> None:
    started = time.time()
    queue = TaskQueue.open(queue_url)
    opened = time.time()
    print(json.dumps({"rebuild_s": opened - started, "ready": queue.ready_count()}),
          flush=True)
    config = FrameworkConfig(command_executor=True, refuse_seconds=0.25,
                             revive_interval=0.1, reconcile_interval=3600.0,
                             reasons_interval=60.0, give_up_after=60.0)
    framework = Framework(queue=queue, master=master, config=config)
    await framework.start()
    while framework.stats.first_accept_at is None:
        await asyncio.sleep(0.005)
    print(json.dumps({"first_accept_s": framework.stats.first_accept_at - started}),
          flush=True)
    await asyncio.Event().wait()


def start_framework(master: Master, queue_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, "--framework", master.url, queue_url],
                            stdout=subprocess.PIPE, text=True)


def read_json(process: subprocess.Popen[str], key: str, timeout: float) -> dict[str, Any]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("{") and key in line:
            doc: dict[str, Any] = json.loads(line)
            return doc
    raise RuntimeError(f"the framework did not report {key}")


# -- main --------------------------------------------------------------------------------


def submit(queue: TaskQueue, count: int) -> None:
    for start in range(0, count, 20_000):
        queue.submit_many([
            Workflow(f"w{i}", (TaskDef("t", "COMMAND", command="true", shape=TASK),))
            for i in range(start, min(count, start + 20_000))])


def running_attempts(queue: TaskQueue) -> list[str]:
    return [a.mesos_task_id for a in queue.active_attempts() if a.state == "TASK_RUNNING"]


def main(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    queue_url = f"sqlite:///{directory}/queue.db?synchronous=normal"
    agents = args.running // SLOTS_PER_AGENT
    master = Master(agents)
    framework: subprocess.Popen[str] | None = None
    try:
        queue = TaskQueue.open(queue_url)
        started = time.perf_counter()
        submit(queue, args.running + args.queued)
        log(f"submitted {args.running + args.queued} tasks in "
            f"{time.perf_counter() - started:.1f}s; master with {agents} simulated agents "
            f"({args.running} slots)")
        framework = start_framework(master, queue_url)
        started = time.perf_counter()
        while len(running := running_attempts(queue)) < args.running:
            if time.perf_counter() - started > 180:
                raise RuntimeError(f"only {len(running)} tasks running after 180s")
            time.sleep(0.5)
        framework.send_signal(signal.SIGKILL)
        framework.wait()
        framework = None
        queued = queue.ready_count()
        queue.close()
        queue = TaskQueue.open(queue_url)
        queued = queue.ready_count()
        log(f"SIGKILL with {len(running)} running and {queued} queued "
            f"({time.perf_counter() - started:.1f}s after the start)")
        assert master.command("add-agent") == "ok"
        framework = start_framework(master, queue_url)
        rebuild = read_json(framework, "rebuild_s", 120)
        first = read_json(framework, "first_accept_s", 120)
        log(f"restarted: queue rebuilt in {rebuild['rebuild_s']:.2f}s "
            f"({rebuild['ready']} ready), first ACCEPT {first['first_accept_s']:.2f}s after "
            "the start")
        assert master.command("finish") == "ok"
        deadline = time.monotonic() + 180
        pending = set(running)
        while pending and time.monotonic() < deadline:
            time.sleep(1)
            alive = {a.mesos_task_id for a in queue.active_attempts()}
            pending = {m for m in pending if m in alive}
        lost = 0
        multiple = 0
        for mid in running:
            found = queue.find_attempt(mid)
            assert found is not None
            task = queue.get_task(found[0], found[1])
            launched = [a for a in task.attempts if a.state != "LAUNCHING"]
            if task.state.value != "FINISHED" or task.attempts[-1].mesos_task_id != mid:
                lost += 1
            if len(launched) > 1:
                multiple += 1
        report = json.loads(master.command("report"))
        log(f"after recovery: {lost} lost, {report['duplicated']} Mesos task ids launched "
            f"twice, {multiple} tasks launched in more than one attempt")
        queue.close()
    finally:
        if framework is not None:
            framework.kill()
            framework.wait()
        master.stop()
    return {
        "benchmark": "bench_recovery",
        "queued": queued,
        "running": len(running),
        "rebuild_s": round(rebuild["rebuild_s"], 3),
        "first_accept_s": round(first["first_accept_s"], 3),
        "first_accept_after_rebuild_s": round(first["first_accept_s"] - rebuild["rebuild_s"], 3),
        "target_s": 1.0,
        "lost": lost,
        "duplicated": report["duplicated"] + multiple,
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-master":
        asyncio.run(serve_master(int(sys.argv[2])))
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--framework":
        try:
            asyncio.run(run_framework(sys.argv[2], sys.argv[3]))
        except KeyboardInterrupt:
            pass
        os._exit(0)
    parser = argparse.ArgumentParser(description="framework recovery benchmark")
    parser.add_argument("--queued", type=int, default=100_000)
    parser.add_argument("--running", type=int, default=10_000)
    figures = main(parser.parse_args())
    print(json.dumps(figures), flush=True)
