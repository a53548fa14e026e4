"""A tiny custom executor speaking the v1 executor API over raw HTTP (for tests).

Behaviour per task, chosen by the task's ``data`` (base64 JSON ``{"action": ...}``):
``finish`` (RUNNING then FINISHED), ``run`` (RUNNING until killed), ``crash`` (RUNNING,
then the process exits with status 7), ``stubborn`` (RUNNING, then ignores KILL and is
not reported on SHUTDOWN), ``hold`` (no update; the task is listed in
``unacknowledged_tasks`` when the executor resubscribes) and ``forget`` (no update, not
remembered).  KILL answers TASK_KILLED, MESSAGE is echoed back, SHUTDOWN kills the tasks
and exits.  Every event received is appended to ``$MESOS_SANDBOX/events.jsonl``; the
environment is written to ``env.json``.  With ``TEST_EXECUTOR_STAY_AWAY=1`` in its
environment a checkpointing executor never subscribes again once its stream ended.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
import uuid

import aiohttp

from mesos_wm.wire.recordio import RecordIODecoder

ENV = os.environ
URL = f"http://{ENV['MESOS_AGENT_ENDPOINT']}/api/v1/executor"
FID = ENV["MESOS_FRAMEWORK_ID"]
EID = ENV["MESOS_EXECUTOR_ID"]
SANDBOX = ENV["MESOS_SANDBOX"]
HEADERS = {"Content-Type": "application/json"}
if "MESOS_EXECUTOR_AUTHENTICATION_TOKEN" in ENV:
    HEADERS["Authorization"] = "Bearer " + ENV["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"]

unacked: dict[str, dict] = {}
tasks: dict[str, dict] = {}
held: dict[str, dict] = {}
stubborn: set[str] = set()


def base(kind: str) -> dict:
    return {"type": kind, "framework_id": {"value": FID}, "executor_id": {"value": EID}}


async def post(session: aiohttp.ClientSession, call: dict) -> int:
    async with session.post(URL, data=json.dumps(call), headers=HEADERS) as response:
        return response.status


async def update(
    session: aiohttp.ClientSession, task_id: str, state: str, message: str = ""
) -> None:
    status = {
        "task_id": {"value": task_id},
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
        "timestamp": time.time(),
    }
    if message:
        status["message"] = message
    unacked[status["uuid"]] = status
    call = base("UPDATE")
    call["update"] = {"status": status}
    await post(session, call)


async def handle(session: aiohttp.ClientSession, event: dict) -> bool:
    kind = event["type"]
    if kind == "LAUNCH":
        task = event["launch"]["task"]
        task_id = task["task_id"]["value"]
        action = json.loads(base64.b64decode(task.get("data", "") or "e30=")).get(
            "action", "finish"
        )
        if action == "hold":
            held[task_id] = task
            return True
        if action == "forget":
            return True
        tasks[task_id] = task
        if action == "stubborn":
            stubborn.add(task_id)
        await update(session, task_id, "TASK_RUNNING")
        if action == "finish":
            await update(session, task_id, "TASK_FINISHED", "done")
        elif action == "crash":
            await asyncio.sleep(0.1)
            os._exit(7)
    elif kind == "LAUNCH_GROUP":
        for task in event["launch_group"]["task_group"]["tasks"]:
            await update(session, task["task_id"]["value"], "TASK_RUNNING")
            await update(session, task["task_id"]["value"], "TASK_FINISHED")
    elif kind == "KILL":
        if event["kill"]["task_id"]["value"] not in stubborn:
            await update(session, event["kill"]["task_id"]["value"], "TASK_KILLED", "killed")
    elif kind == "ACKNOWLEDGED":
        unacked.pop(event["acknowledged"]["uuid"], None)
    elif kind == "MESSAGE":
        call = base("MESSAGE")
        call["message"] = {"data": event["message"]["data"]}
        await post(session, call)
    elif kind == "SHUTDOWN":
        for task_id in tasks:
            if task_id not in stubborn:
                await update(session, task_id, "TASK_KILLED", "shutdown")
        return False
    return True


async def subscribe_once(session: aiohttp.ClientSession) -> bool:
    call = base("SUBSCRIBE")
    call["subscribe"] = {
        "unacknowledged_tasks": list(held.values()),
        "unacknowledged_updates": [{"status": s} for s in unacked.values()],
    }
    async with session.post(URL, data=json.dumps(call), headers=HEADERS) as response:
        if response.status != 200:
            return True
        decoder = RecordIODecoder()
        async for chunk in response.content.iter_any():
            for record in decoder.feed(chunk):
                event = json.loads(record)
                with open(os.path.join(SANDBOX, "events.jsonl"), "a") as log:
                    log.write(json.dumps(event) + "\n")
                if not await handle(session, event):
                    return False
    return True


async def main() -> int:
    with open(os.path.join(SANDBOX, "env.json"), "w") as out:
        json.dump({k: v for k, v in ENV.items() if k.startswith("MESOS_")}, out)
    checkpoint = ENV.get("MESOS_CHECKPOINT") == "1"
    deadline = time.monotonic() + 10
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                again = await subscribe_once(session)
            except aiohttp.ClientError:
                again = True
            if not again or not checkpoint or time.monotonic() > deadline:
                return 0
            if ENV.get("TEST_EXECUTOR_STAY_AWAY") == "1":
                await asyncio.sleep(3600)
            await asyncio.sleep(0.1)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
