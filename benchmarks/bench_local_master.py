"""Benchmark of the embedded master: 1,000 simulated agents, 10,000 running tasks.

Measured in one process on loopback, next to the ceiling of the same machine:

1. ``http_ceiling_per_s``: POSTs/s an empty handler on the master's own stack answers
   (the lean front of :mod:`mesos_wm.local.fast_http` before aiohttp, see ``_common``),
   sent by one aiohttp session at the same concurrency as the scheduler side below.
2. ``offers_per_s``: offers issued per second while the scheduler declines every offer
   with ``refuse_seconds: 0`` (one DECLINE call per OFFERS event).
3. Launch: every agent's offer is accepted with 10 tasks; all 10,000 TASK_RUNNING updates
   are acknowledged; the master must then hold 10,000 running tasks without errors.
4. ``updates_per_s``: the 10,000 tasks finish at once; TASK_FINISHED updates delivered
   on the stream and acknowledged (one ACKNOWLEDGE request each) per second.

Prints progress lines, then one JSON line with the figures.  Finishes well within 5
minutes on 2 cores.  Run: ``python benchmarks/bench_local_master.py [--agents N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
from _common import start_empty_server

from mesos_wm.local import AgentConfig, LocalMaster, MasterConfig
from mesos_wm.wire.recordio import RecordIODecoder

CONCURRENCY = 32


async def http_ceiling(requests: int) -> float:
    """Requests/s of an empty handler on loopback, same client as the scheduler side."""

    runner, base = await start_empty_server()
    url = base + "/api/v1/scheduler"
    body = json.dumps(
        {
            "type": "ACKNOWLEDGE",
            "framework_id": {"value": "x"},
            "acknowledge": {
                "agent_id": {"value": "a"},
                "task_id": {"value": "t"},
                "uuid": "A" * 22 + "==",
            },
        }
    )
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    await r.read()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
    await runner.cleanup()
    return requests / elapsed


class Scheduler:
    """A raw-HTTP scheduler: one reader of the event stream, a pool of call senders."""

    def __init__(self, url: str) -> None:
        self.url = url + "/api/v1/scheduler"
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY * 2))
        self.framework_id = ""
        self.stream_id = ""
        self.handlers: dict[str, Any] = {}
        self.errors: list[str] = []
        self.calls: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        call = {
            "type": "SUBSCRIBE",
            "subscribe": {
                "framework_info": {
                    "user": "bench",
                    "name": "bench",
                    "failover_timeout": 60,
                    "capabilities": [{"type": "PARTITION_AWARE"}],
                }
            },
        }
        response = await self.session.post(
            self.url, json=call, timeout=aiohttp.ClientTimeout(total=None)
        )
        assert response.status == 200, response.status
        self.stream_id = response.headers["Mesos-Stream-Id"]
        subscribed = asyncio.get_running_loop().create_future()
        self.tasks.append(asyncio.create_task(self._read(response, subscribed)))
        self.framework_id = await subscribed
        self.tasks += [asyncio.create_task(self._send()) for _ in range(CONCURRENCY)]

    async def _read(
        self, response: aiohttp.ClientResponse, subscribed: asyncio.Future[str]
    ) -> None:
        decoder = RecordIODecoder()
        async for chunk in response.content.iter_any():
            for record in decoder.feed(chunk):
                event = json.loads(record)
                kind = event["type"]
                if kind == "SUBSCRIBED":
                    subscribed.set_result(event["subscribed"]["framework_id"]["value"])
                elif kind == "ERROR":
                    self.errors.append(event["error"]["message"])
                handler = self.handlers.get(kind)
                if handler is not None:
                    handler(event)

    async def _send(self) -> None:
        headers = {"Content-Type": "application/json", "Mesos-Stream-Id": self.stream_id}
        while True:
            call = await self.calls.get()
            async with self.session.post(self.url, data=json.dumps(call), headers=headers) as r:
                if r.status != 202:
                    self.errors.append(f"{call['type']}: {r.status} {await r.text()}")
                await r.read()
            self.calls.task_done()

    def call(self, kind: str, body: dict[str, Any]) -> None:
        self.calls.put_nowait(
            {"type": kind, "framework_id": {"value": self.framework_id}, kind.lower(): body}
        )

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()


def task_infos(offer: dict[str, Any], per_agent: int, prefix: str) -> list[dict[str, Any]]:
    agent_id = offer["agent_id"]["value"]
    return [
        {
            "name": "bench",
            "task_id": {"value": f"{prefix}-{agent_id[-6:]}-{i}"},
            "agent_id": {"value": agent_id},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 128}},
            ],
            "command": {"value": "sleep forever"},
            "labels": {"labels": [{"key": "mesos_wm.local/duration", "value": "inf"}]},
        }
        for i in range(per_agent)
    ]


async def bench(
    agents: int, per_agent: int, offer_seconds: float, ceiling_requests: int
) -> dict[str, Any]:
    print(f"measuring the loopback HTTP ceiling ({ceiling_requests} requests)...", flush=True)
    ceiling = await http_ceiling(ceiling_requests)
    print(f"  http ceiling: {ceiling:.0f} requests/s", flush=True)

    config = MasterConfig(
        heartbeat_interval=15,
        allocation_interval=0.02,
        update_retry_initial=60,
        update_retry_max=600,
    )
    agent = AgentConfig(
        resources=f"cpus:{per_agent};mem:{per_agent * 128};disk:1000", simulated=True
    )
    master = LocalMaster(agents=[agent] * agents, config=config, seed=1)
    await master.start()
    scheduler = Scheduler(master.url)
    await scheduler.start()
    total_tasks = agents * per_agent
    result: dict[str, Any] = {"agents": agents, "tasks": total_tasks}
    try:
        # 2. offers issued per second (decline everything, refuse 0 s)
        offers_seen = 0

        def decline(event: dict[str, Any]) -> None:
            nonlocal offers_seen
            offers = event["offers"]["offers"]
            offers_seen += len(offers)
            scheduler.call(
                "DECLINE",
                {"offer_ids": [o["id"] for o in offers], "filters": {"refuse_seconds": 0}},
            )

        scheduler.handlers["OFFERS"] = decline
        print(f"offer cycling for {offer_seconds:.0f} s...", flush=True)
        await asyncio.sleep(0.5)
        base, start = offers_seen, time.perf_counter()
        await asyncio.sleep(offer_seconds)
        offers_per_s = (offers_seen - base) / (time.perf_counter() - start)
        print(f"  offers: {offers_per_s:.0f}/s", flush=True)

        # 3. launch 10 tasks per agent, acknowledge every TASK_RUNNING
        running = 0
        launched: set[str] = set()
        all_running = asyncio.Event()

        def accept(event: dict[str, Any]) -> None:
            for offer in event["offers"]["offers"]:
                agent_id = offer["agent_id"]["value"]
                if agent_id in launched:
                    scheduler.call(
                        "DECLINE", {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 3600}}
                    )
                    continue
                launched.add(agent_id)
                scheduler.call(
                    "ACCEPT",
                    {
                        "offer_ids": [offer["id"]],
                        "operations": [
                            {
                                "type": "LAUNCH",
                                "launch": {"task_infos": task_infos(offer, per_agent, "t")},
                            }
                        ],
                        "filters": {"refuse_seconds": 3600},
                    },
                )

        def on_update(event: dict[str, Any]) -> None:
            nonlocal running
            status = event["update"]["status"]
            if "uuid" in status:
                scheduler.call(
                    "ACKNOWLEDGE",
                    {
                        "agent_id": status["agent_id"],
                        "task_id": status["task_id"],
                        "uuid": status["uuid"],
                    },
                )
            if status["state"] == "TASK_RUNNING":
                running += 1
                if running == total_tasks:
                    all_running.set()
            elif status["state"] != "TASK_FINISHED":
                scheduler.errors.append(f"{status['state']}: {status.get('message')}")

        scheduler.handlers["OFFERS"] = accept
        scheduler.handlers["UPDATE"] = on_update
        print(f"launching {total_tasks} tasks on {agents} agents...", flush=True)
        start = time.perf_counter()
        await asyncio.wait_for(all_running.wait(), 180)
        await scheduler.calls.join()
        result["launch_s"] = round(time.perf_counter() - start, 2)
        result["launch_updates_per_s"] = round(total_tasks / result["launch_s"], 1)
        async with (
            aiohttp.ClientSession() as session,
            session.get(master.url + "/metrics/snapshot") as response,
        ):
            metrics = await response.json()
        result["running_held"] = int(metrics["master/tasks_running"])
        print(f"  {result['running_held']} tasks running after {result['launch_s']} s", flush=True)

        # 4. all tasks finish: TASK_FINISHED delivered and acknowledged
        finished = 0
        all_finished = asyncio.Event()

        def on_finish(event: dict[str, Any]) -> None:
            nonlocal finished
            status = event["update"]["status"]
            scheduler.call(
                "ACKNOWLEDGE",
                {
                    "agent_id": status["agent_id"],
                    "task_id": status["task_id"],
                    "uuid": status["uuid"],
                },
            )
            if status["state"] == "TASK_FINISHED":
                finished += 1
                if finished == total_tasks:
                    all_finished.set()

        scheduler.handlers["UPDATE"] = on_finish
        print("finishing every task...", flush=True)
        start = time.perf_counter()
        master.faults.finish_simulated_tasks()
        await asyncio.wait_for(all_finished.wait(), 120)
        await scheduler.calls.join()
        elapsed = time.perf_counter() - start
        acked = master.state.metrics["master/valid_status_update_acknowledgements"]
        result["acknowledged_total"] = int(acked)
        updates_per_s = total_tasks / elapsed
        print(f"  updates: {updates_per_s:.0f}/s", flush=True)
        result["errors"] = len(scheduler.errors) + (0 if acked == 2 * total_tasks else 1)
        if scheduler.errors:
            print("  errors:", scheduler.errors[:5], flush=True)
        result.update(
            offers_per_s=round(offers_per_s, 1),
            updates_per_s=round(updates_per_s, 1),
            http_ceiling_per_s=round(ceiling, 1),
            updates_vs_ceiling=round(updates_per_s / ceiling, 3),
            offers_vs_ceiling=round(offers_per_s / ceiling, 3),
        )
    finally:
        await scheduler.close()
        await master.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--tasks-per-agent", type=int, default=10)
    parser.add_argument("--offer-seconds", type=float, default=5.0)
    parser.add_argument("--ceiling-requests", type=int, default=20000)
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(
        bench(args.agents, args.tasks_per_agent, args.offer_seconds, args.ceiling_requests)
    )
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if result["errors"] == 0 and result["running_held"] == result["tasks"] else 1


if __name__ == "__main__":
    sys.exit(main())
