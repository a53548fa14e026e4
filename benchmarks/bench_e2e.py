"""End-to-end benchmark: 100,000 zero-duration tasks through the Mesos HTTP APIs.

The embedded master runs in a child process with simulated agents (tasks report
TASK_RUNNING at once and TASK_FINISHED at the next tick), so both cores work: the master
on one, the framework on the other.  Measured in the same run:

1. ``http_ceiling_per_s``: POSTs/s an empty handler in a child process answers, on the
   server stack of the embedded master's port (its lean front,
   :mod:`mesos_wm.local.fast_http`, in front of aiohttp), sent by the client the
   framework's calls use, configured as the driver configures it (the keep-alive,
   pipelining HTTP/1.1 client :mod:`mesos_wm.drivers.http11`, 16 connections, up to 4
   requests in flight on each): the better of 16 and of 64 requests in flight.
2. ``tasks_per_s``: :class:`mesos_wm.Framework` drives ``--tasks`` single-task workflows
   (plain commands, run by the command executor) from a SQLite queue to completion:
   submit is not timed; the clock runs from the framework's start to the last
   TASK_FINISHED committed.  ``calls_per_task`` counts every HTTP call it made (ACCEPT,
   DECLINE, ACKNOWLEDGE, REVIVE, SUPPRESS, RECONCILE, ...) per task, so
   ``fraction_of_ceiling`` = tasks/s ÷ (ceiling ÷ calls per task).
3. ``speedup_vs_naive``: a naive framework written below — one offer per task, a scan of
   the whole ready list for every offer, one ACCEPT per task — on the same kind of queue,
   for ``--naive-seconds``.
4. ``p99_ready_to_running_ms``: with the framework idle, single-task workflows arrive at
   ``--rate`` per second for ``--latency-seconds``; the time from a task becoming ready
   (queued) to its TASK_RUNNING being committed, against the target of one allocation
   interval + 100 ms.

The queue is SQLite in WAL mode with ``synchronous=normal`` (commits survive a process
crash, not a power loss); with ``synchronous=full`` every status update waits for an
fsync and the disk, not the framework, sets the pace.

Prints progress lines, then one JSON line.  Run: ``python benchmarks/bench_e2e.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import start_empty_server, stop_child

from mesos_wm.drivers.scheduler import (
    CALL_CONNECTIONS,
    CALL_PIPELINE,
    DriverEvent,
    SchedulerDriver,
)
from mesos_wm.drivers.transport import HttpOptions
from mesos_wm.errors import MesosWmError
from mesos_wm.framework import Framework, FrameworkConfig, StatusEvent
from mesos_wm.local import AgentConfig, LocalMaster, MasterConfig
from mesos_wm.queue import Resources, TaskDef, TaskQueue, TaskShape, Workflow
from mesos_wm.resources import ResourceSet, scalar
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.messages import command_info, task_info
from mesos_wm.wire.scheduler_events import Offers, Update

AGENT_RESOURCES = "cpus:16;mem:65536;disk:100000;ports:[31000-32000]"
TASK = TaskShape(resources=Resources(cpus=0.1, mem=16))


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- child processes --------------------------------------------------------------------


async def serve_master(agents: int, allocation_interval: float) -> None:
    config = MasterConfig(allocation_interval=allocation_interval, heartbeat_interval=5.0,
                          update_retry_initial=60.0, update_retry_max=600.0,
                          max_completed_tasks_per_framework=100,
                          max_body_size=64 * 1024 * 1024)
    agent = AgentConfig(resources=AGENT_RESOURCES, simulated=True, task_duration=0.0)
    async with LocalMaster(agents=[agent] * agents, config=config) as master:
        print(master.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def serve_empty() -> None:
    runner, url = await start_empty_server()
    print(url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


class Child:
    """A child process of this script that prints its URL and runs until stdin closes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, *args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def stop(self) -> None:
        stop_child(self.process, 10)


# -- the ceiling --------------------------------------------------------------------------


async def ceiling(url: str, seconds: float) -> float:
    rates = [await ceiling_at(url, seconds, callers)
             for callers in (CALL_CONNECTIONS, CALL_CONNECTIONS * CALL_PIPELINE)]
    log("loopback ceiling with 16 / 64 requests in flight: "
        + " / ".join(f"{rate:.0f}" for rate in rates) + " calls/s")
    return max(rates)


async def ceiling_at(url: str, seconds: float, concurrency: int) -> float:
    body = json.dumps(scheduler_calls.acknowledge("F", "S1", "wf.t.a1", bytes(16))).encode()
    headers = {**HttpOptions().headers(), "Mesos-Stream-Id": "x"}
    done = 0
    deadline = time.perf_counter() + seconds
    client = HttpOptions().new_client(limit=CALL_CONNECTIONS, pipeline=CALL_PIPELINE)
    try:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.post(url + "/api/v1/scheduler", body, headers)
                assert response.status == 202
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - start)
    finally:
        await client.close()


# -- queues ------------------------------------------------------------------------------


def workflows(prefix: str, count: int, start: int = 0) -> list[Workflow]:
    return [Workflow(f"{prefix}{i}", (TaskDef("t", "COMMAND", command="true", shape=TASK),))
            for i in range(start, start + count)]


def fresh_queue(directory: Path, name: str, tasks: int) -> TaskQueue:
    queue = TaskQueue.open(f"sqlite:///{directory}/{name}.db?synchronous=normal")
    for start in range(0, tasks, 20_000):
        queue.submit_many(workflows("w", min(20_000, tasks - start), start))
    return queue


def config(allocation_interval: float) -> FrameworkConfig:
    return FrameworkConfig(
        command_executor=True, refuse_seconds=allocation_interval,
        revive_interval=allocation_interval / 2, suppress_after=2.0, reconcile_interval=3600.0,
        reasons_interval=30.0, refresh_interval=1.0, give_up_after=30.0, ack_concurrency=64)


# -- mesos_wm ----------------------------------------------------------------------------


async def run_mesos_wm(url: str, queue: TaskQueue, tasks: int, args: argparse.Namespace
                       ) -> dict[str, Any]:
    running_at: dict[str, float] = {}
    done = asyncio.Event()
    finished = 0

    def on_status(event: StatusEvent) -> None:
        nonlocal finished
        if event.state == "TASK_RUNNING" and event.workflow_id is not None:
            running_at[event.workflow_id] = event.at
        elif event.state == "TASK_FINISHED" and event.applied:
            finished += 1
            if finished >= target:
                done.set()

    target = tasks
    framework = Framework(queue=queue, master=url, config=config(args.allocation_interval),
                          on_status=on_status)
    start = time.perf_counter()
    await framework.start()
    last = 0
    stopped = asyncio.ensure_future(framework.join())
    try:
        while not done.is_set():
            waiter = asyncio.ensure_future(done.wait())
            await asyncio.wait([waiter, stopped], timeout=10,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if stopped.done():
                await framework.stop()
                stopped.result()
                raise RuntimeError("the framework stopped before the tasks finished")
            if not done.is_set():
                rate = (finished - last) / 10
                last = finished
                log(f"mesos_wm: {finished}/{tasks} finished ({rate:.0f}/s)")
    finally:
        stopped.cancel()
    elapsed = time.perf_counter() - start
    stats = framework.stats
    result = {"tasks": tasks, "seconds": elapsed, "tasks_per_s": tasks / elapsed,
              "calls_per_task": stats.calls / tasks, "accepts": stats.accepts,
              "declines": stats.declines, "acks": stats.acknowledged}
    log(f"mesos_wm: {tasks} tasks in {elapsed:.1f}s = {tasks / elapsed:.0f}/s, "
        f"{stats.calls / tasks:.3f} calls/task ({stats.accepts} ACCEPT, {stats.declines} "
        f"DECLINE, {stats.acknowledged} ACKNOWLEDGE)")

    await asyncio.sleep(3 * args.allocation_interval + 2.5)
    running_at.clear()
    ready_at: dict[str, float] = {}
    finished, target = 0, 0
    done.clear()
    batch = max(1, round(args.rate / 20))
    end = time.perf_counter() + args.latency_seconds
    count = 0
    while time.perf_counter() < end:
        wfs = workflows("late", batch, count)
        count += batch
        target += batch
        now = time.time()
        framework.submit(wfs)
        for w in wfs:
            ready_at[w.id] = now
        await asyncio.sleep(1 / 20)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and not all(w in running_at for w in ready_at):
        await asyncio.sleep(0.05)
    latencies = sorted((running_at[w] - ready_at[w]) * 1000 for w in ready_at
                       if w in running_at)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    result.update(latency_tasks=len(latencies),
                  p50_ready_to_running_ms=statistics.median(latencies),
                  p99_ready_to_running_ms=p99)
    log(f"mesos_wm: ready -> RUNNING of {len(latencies)} tasks arriving at {args.rate}/s: "
        f"p50 {statistics.median(latencies):.0f} ms, p99 {p99:.0f} ms")
    await framework.stop(teardown=True)
    return result


# -- the naive framework -----------------------------------------------------------------


class NaiveFramework:
    """One offer per task: for every offer, scan the whole ready list for the first task
    that fits, record the intent, and ACCEPT that one task; acknowledge after commit."""

    def __init__(self, url: str, queue: TaskQueue) -> None:
        self.queue = queue
        self.finished = 0
        info = scheduler_calls.framework_info(user="bench", name="naive", roles=["*"])
        self.driver = SchedulerDriver(url, info, self.handle)

    async def handle(self, event: DriverEvent) -> None:
        if isinstance(event, Offers):
            for offer in event.offers:
                await self.use(offer)
        elif isinstance(event, Update):
            status = event.status
            self.queue.apply_status(event.task_id, event.state,
                                    agent_id=event.agent_id)
            if event.state == "TASK_FINISHED":
                self.finished += 1
            with contextlib.suppress(MesosWmError):
                await self.driver.acknowledge(status)

    async def use(self, offer: Any) -> None:
        offer_id, agent_id = str(offer.id.value), str(offer.agent_id.value)
        have = ResourceSet.from_json(offer.resources)
        for task in self.queue.ready_tasks():
            want = task.shape.resources
            if have.scalars.get("cpus", 0) >= want.cpus and have.scalars.get("mem", 0) >= want.mem:
                launch = self.queue.mark_launching(task.key, agent_id=agent_id)
                info = task_info(
                    name=launch.mesos_task_id, task_id=launch.mesos_task_id, agent_id=agent_id,
                    resources=[scalar("cpus", want.cpus, role="*"),
                               scalar("mem", want.mem, role="*")],
                    command=command_info("true"))
                with contextlib.suppress(MesosWmError):
                    await self.driver.accept([offer_id], [scheduler_calls.launch([info])],
                                             refuse_seconds=0)
                return
        with contextlib.suppress(MesosWmError):
            await self.driver.decline([offer_id], refuse_seconds=1)


async def run_naive(url: str, queue: TaskQueue, seconds: float) -> float:
    naive = NaiveFramework(url, queue)
    await naive.driver.start()
    await naive.driver.wait_subscribed(30)
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    rate = naive.finished / (time.perf_counter() - start)
    await naive.driver.stop(teardown=True)
    with contextlib.suppress(MesosWmError):
        await naive.driver.join()
    log(f"naive: {naive.finished} tasks in {seconds:.0f}s = {rate:.1f}/s")
    return rate


# -- main --------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    begun = time.perf_counter()
    empty = Child("--serve-empty")
    try:
        ceiling_per_s = await ceiling(empty.url, 2.0)
    finally:
        empty.stop()
    log(f"loopback ceiling: {ceiling_per_s:.0f} calls/s (empty handler in another process, "
        "on the master's server stack)")
    master = Child("--serve-master", str(args.agents), str(args.allocation_interval))
    try:
        log(f"master with {args.agents} simulated agents at {master.url}")
        queue = fresh_queue(directory, "naive", 20_000)
        naive = await run_naive(master.url, queue, args.naive_seconds)
        queue.close()
        started = time.perf_counter()
        queue = fresh_queue(directory, "mesos_wm", args.tasks)
        log(f"submitted {args.tasks} single-task workflows in "
            f"{time.perf_counter() - started:.1f}s")
        result = await run_mesos_wm(master.url, queue, args.tasks, args)
        log(f"total so far {time.perf_counter() - begun:.0f}s")
        queue.close()
    finally:
        master.stop()
    ceiling_tasks = ceiling_per_s / result["calls_per_task"]
    return {
        "benchmark": "bench_e2e",
        "tasks": args.tasks,
        "agents": args.agents,
        "allocation_interval_s": args.allocation_interval,
        "tasks_per_s": round(result["tasks_per_s"], 1),
        "calls_per_task": round(result["calls_per_task"], 3),
        "http_ceiling_per_s": round(ceiling_per_s, 1),
        "ceiling_tasks_per_s": round(ceiling_tasks, 1),
        "fraction_of_ceiling": round(result["tasks_per_s"] / ceiling_tasks, 3),
        "naive_tasks_per_s": round(naive, 2),
        "speedup_vs_naive": round(result["tasks_per_s"] / max(naive, 1e-9), 1),
        "p50_ready_to_running_ms": round(result["p50_ready_to_running_ms"], 1),
        "p99_ready_to_running_ms": round(result["p99_ready_to_running_ms"], 1),
        "p99_target_ms": round(args.allocation_interval * 1000 + 100, 1),
        "queue": "sqlite synchronous=normal",
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-master":
        asyncio.run(serve_master(int(sys.argv[2]), float(sys.argv[3])))
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-empty":
        asyncio.run(serve_empty())
        sys.exit(0)
    parser = argparse.ArgumentParser(description="end-to-end framework benchmark")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--allocation-interval", type=float, default=0.5)
    parser.add_argument("--naive-seconds", type=float, default=10.0)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    figures = asyncio.run(main(parser.parse_args()))
    print(json.dumps(figures), flush=True)
