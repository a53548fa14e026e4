"""Small builders for the framework's unit tests: queue records and Mesos JSON by hand."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from mesos_wm import proto
from mesos_wm.queue.model import Constraint, Operator, Resources, TaskShape, mesos_task_id
from mesos_wm.queue.records import ActiveAttempt, Launch, ReadyTask
from mesos_wm.queue.taskspec import build_task_spec


def shape(cpus: float = 0.5, mem: float = 128, *, ports: int = 0, image: str | None = None,
          offer_wait: float | None = None,
          constraints: tuple[tuple[str, str, str | None], ...] = ()) -> TaskShape:
    return TaskShape(
        resources=Resources(cpus=cpus, mem=mem, ports=ports),
        constraints=tuple(Constraint(f, Operator(o), v) for f, o, v in constraints),
        image=image, offer_wait=offer_wait,
    )


def ready(key: int, workflow_id: str = "wf", task_id: str | None = None, *, owner: str = "u",
          priority: int = 0, attempt: int = 1, queued_at: float = 0.0,
          task_shape: TaskShape | None = None) -> ReadyTask:
    return ReadyTask(key, workflow_id, task_id or f"t{key}", owner, priority, attempt,
                     task_shape or shape(), queued_at)


def launch(workflow_id: str = "wf", task_id: str = "run", *, type_: str = "JOB_SUBMISSION",
           command: Any = ("python3", "x.py"), attempt: int = 1, agent_id: str = "S1",
           task_shape: TaskShape | None = None, **doc: Any) -> Launch:
    spec_doc: dict[str, Any] = {"type": type_, **doc}
    if command is not None:
        spec_doc["command"] = command if isinstance(command, str) else list(command)
    spec = build_task_spec(workflow_id, task_id, attempt, workflow_id, spec_doc)
    return Launch(7, workflow_id, task_id, attempt, mesos_task_id(workflow_id, task_id, attempt),
                  agent_id, spec, task_shape or shape())


def active(mid: str, *, agent: str | None = "S1", state: str = "TASK_RUNNING",
           kill: bool = False) -> ActiveAttempt:
    wf, task, att = mid.split(".")
    return ActiveAttempt(mid, agent, state, wf, task, int(att[1:]), kill)


def status(task_id: str, state: str, *, agent_id: str | None = "S1", uuid_bytes: bool = True,
           reason: str | None = None, message: str | None = None,
           data: bytes | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"task_id": {"value": task_id}, "state": state,
                           "source": "SOURCE_EXECUTOR"}
    if agent_id:
        doc["agent_id"] = {"value": agent_id}
    if uuid_bytes:
        doc["uuid"] = base64.b64encode(uuid.uuid4().bytes).decode()
    if reason:
        doc["reason"] = reason
    if message:
        doc["message"] = message
    if data is not None:
        doc["data"] = base64.b64encode(data).decode()
    return doc


def result_bytes(exit_code: int | None) -> bytes:
    result = proto.TaskResult(workflow_id="wf", task_id="t", attempt=1)
    if exit_code is not None:
        result.exit_code = exit_code
    return proto.encode_task_result(result)


def offer(offer_id: str, agent_id: str, *, cpus: float = 4, mem: float = 4096,
          role: str = "*", hostname: str = "h1") -> dict[str, Any]:
    def scalar(name: str, value: float) -> dict[str, Any]:
        return {"name": name, "type": "SCALAR", "scalar": {"value": value},
                "allocation_info": {"role": role}}

    return {
        "id": {"value": offer_id}, "framework_id": {"value": "F"},
        "agent_id": {"value": agent_id}, "hostname": hostname,
        "resources": [scalar("cpus", cpus), scalar("mem", mem),
                      {"name": "ports", "type": "RANGES",
                       "ranges": {"range": [{"begin": 31000, "end": 31010}]},
                       "allocation_info": {"role": role}}],
        "allocation_info": {"role": role},
    }
