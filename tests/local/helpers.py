"""Builders shared by the embedded-master tests."""

from __future__ import annotations

import base64
import json
from typing import Any

from mesos_wm.resources import scalar
from mesos_wm.testing.raw import RawScheduler


def command_task(
    task_id: str, agent_id: str, command: str, *, cpus: float = 0.1, mem: float = 32, **extra: Any
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
        "command": {"value": command},
    }
    info.update(extra)
    return info


def executor_task(
    task_id: str,
    agent_id: str,
    executor: dict[str, Any],
    action: str = "finish",
) -> dict[str, Any]:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32)],
        "executor": executor,
        "data": base64.b64encode(json.dumps({"action": action}).encode()).decode(),
    }


async def first_offer(scheduler: RawScheduler) -> dict[str, Any]:
    event = await scheduler.next_event("OFFERS")
    offer: dict[str, Any] = event["offers"]["offers"][0]
    return offer


async def launch(
    scheduler: RawScheduler,
    offer: dict[str, Any],
    *tasks: dict[str, Any],
    refuse_seconds: float | None = None,
) -> int:
    body: dict[str, Any] = {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}],
    }
    if refuse_seconds is not None:
        body["filters"] = {"refuse_seconds": refuse_seconds}
    status, text = await scheduler.call("ACCEPT", body)
    assert status == 202, text
    return status
