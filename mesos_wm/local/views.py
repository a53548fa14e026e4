"""Read-only views of the master state: operator API answers and the legacy JSON endpoints.

Pure functions of :class:`~mesos_wm.local.state.MasterState`.  The legacy endpoints
(``/state``, ``/master/frameworks``, ``/slaves``, ``/tasks``, ``/metrics/snapshot``) keep
their historic shapes, which differ from the v1 messages: resources are maps
(``{"cpus": 2, "mem": 1024, "ports": "[31000-32000]"}``), agents are ``slaves`` with a
libprocess ``pid``, and tasks carry ``slave_id`` and a short ``statuses`` list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local.model import Agent, Framework, Task, empty
from mesos_wm.local.state import MESOS_VERSION, MasterState
from mesos_wm.resources import ResourceSet
from mesos_wm.wire.states import is_terminal

__all__ = [
    "legacy_frameworks",
    "legacy_slaves",
    "legacy_state",
    "legacy_tasks",
    "metrics_snapshot",
    "operator_response",
]

JsonDict = dict[str, Any]


def resource_map(resources: ResourceSet) -> JsonDict:
    """Return the legacy map form of resources (cpus/mem/disk/gpus always present)."""
    out: JsonDict = {"cpus": 0.0, "disk": 0.0, "gpus": 0.0, "mem": 0.0}
    out.update(resources.scalars)
    for name, spans in resources.ranges.items():
        out[name] = "[" + ", ".join(f"{b}-{e}" for b, e in spans) + "]"
    for name, items in resources.sets.items():
        out[name] = "{" + ", ".join(sorted(items)) + "}"
    return out


def _task_resources(task: Task) -> ResourceSet:
    return task.resources


def legacy_task(task: Task) -> JsonDict:
    """Return a task in the ``/state`` and ``/tasks`` shape."""
    body: JsonDict = {
        "id": task.task_id,
        "name": task.info.get("name", ""),
        "framework_id": task.framework_id,
        "executor_id": task.executor_id or "",
        "slave_id": task.agent_id,
        "state": task.state,
        "resources": resource_map(_task_resources(task)),
        "role": task.role,
        "statuses": [
            {"state": s["state"], "timestamp": s["timestamp"]}
            for s in task.statuses
            if s["state"] != "TASK_STAGING"
        ],
    }
    if "labels" in task.info:
        body["labels"] = task.info["labels"].get("labels", [])
    if "container" in task.info:
        body["container"] = task.info["container"]
    return body


def _agent_used(agent: Agent) -> ResourceSet:
    used = empty()
    for task in agent.tasks.values():
        if not is_terminal(task.state):
            used = used + task.resources
    for executors in agent.executors.values():
        for executor in executors.values():
            used = used + executor.resources
    return used


def _agent_offered(state: MasterState, agent: Agent) -> ResourceSet:
    offered = empty()
    for offer_id in agent.offers:
        offered = offered + state.offers[offer_id].resources
    return offered


def legacy_agent(state: MasterState, agent: Agent) -> JsonDict:
    """Return an agent in the ``/slaves`` shape."""
    used = _agent_used(agent)
    return {
        "id": agent.agent_id,
        "pid": agent.pid,
        "hostname": agent.hostname,
        "port": agent.port,
        "registered_time": agent.registered_time,
        "resources": resource_map(agent.total),
        "used_resources": resource_map(used),
        "offered_resources": resource_map(_agent_offered(state, agent)),
        "reserved_resources": {},
        "unreserved_resources": resource_map(agent.total),
        "attributes": dict(agent.attributes),
        "active": agent.active,
        "deactivated": not agent.active,
        "version": MESOS_VERSION,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
        "reserved_resources_full": {},
        "unreserved_resources_full": agent.total.to_json(),
        "used_resources_full": used.to_json(),
        "offered_resources_full": _agent_offered(state, agent).to_json(),
    }


def _framework_used(framework: Framework) -> ResourceSet:
    used = empty()
    for task in framework.tasks.values():
        if not is_terminal(task.state):
            used = used + task.resources
    return used


def legacy_framework(state: MasterState, framework: Framework) -> JsonDict:
    """Return a framework in the ``/master/frameworks`` shape."""
    info = framework.info
    offered = empty()
    offers = []
    for offer_id in sorted(framework.offers):
        offer = state.offers[offer_id]
        offered = offered + offer.resources
        offers.append(
            {
                "id": offer_id,
                "framework_id": offer.framework_id,
                "slave_id": offer.agent_id,
                "resources": resource_map(offer.resources),
            }
        )
    used = _framework_used(framework)
    executors = []
    for agent in state.agents.values():
        for executor in agent.executors.get(framework.framework_id, {}).values():
            executors.append(
                {
                    "executor_id": executor.executor_id,
                    "name": executor.info.get("name", ""),
                    "framework_id": framework.framework_id,
                    "command": executor.info.get("command", {}),
                    "resources": resource_map(executor.resources),
                    "slave_id": agent.agent_id,
                }
            )
    body: JsonDict = {
        "id": framework.framework_id,
        "name": info.get("name", ""),
        "pid": "",
        "used_resources": resource_map(used),
        "offered_resources": resource_map(offered),
        "resources": resource_map(used + offered),
        "capabilities": sorted(framework.capabilities),
        "hostname": info.get("hostname", ""),
        "webui_url": info.get("webui_url", ""),
        "active": framework.active,
        "connected": framework.connected,
        "recovered": False,
        "role": framework.roles[0] if len(framework.roles) == 1 else "*",
        "roles": list(framework.roles),
        "user": info.get("user", ""),
        "failover_timeout": float(info.get("failover_timeout", 0.0)),
        "checkpoint": bool(info.get("checkpoint", False)),
        "registered_time": framework.registered_time,
        "reregistered_time": framework.reregistered_time,
        "unregistered_time": framework.unregistered_time or 0.0,
        "tasks": [legacy_task(t) for t in framework.tasks.values()],
        "unreachable_tasks": [legacy_task(t) for t in framework.unreachable_tasks.values()],
        "completed_tasks": [legacy_task(t) for t in framework.completed_tasks],
        "offers": offers,
        "executors": executors,
        "completed_executors": [],
    }
    if framework.principal:
        body["principal"] = framework.principal
    if "labels" in info:
        body["labels"] = info["labels"].get("labels", [])
    return body


def legacy_frameworks(state: MasterState) -> JsonDict:
    """The ``/master/frameworks`` answer."""
    return {
        "frameworks": [legacy_framework(state, f) for f in state.frameworks.values()],
        "completed_frameworks": [legacy_framework(state, f) for f in state.completed_frameworks],
        "unregistered_frameworks": [],
    }


def legacy_slaves(state: MasterState) -> JsonDict:
    """The ``/slaves`` answer."""
    return {
        "slaves": [legacy_agent(state, a) for a in state.agents.values()],
        "recovered_slaves": [],
    }


def legacy_state(state: MasterState, now: float, flags: JsonDict) -> JsonDict:
    """The ``/state`` (= ``/master/state``) answer."""
    pid = f"master@{state.ip}:{state.port}"
    frameworks = legacy_frameworks(state)
    return {
        "version": MESOS_VERSION,
        "build_date": "",
        "build_time": 0,
        "build_user": "",
        "start_time": state.start_time,
        "elected_time": state.start_time,
        "id": state.master_id,
        "pid": pid,
        "hostname": state.hostname,
        "capabilities": ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
        "activated_slaves": sum(1 for a in state.agents.values() if a.active),
        "deactivated_slaves": sum(1 for a in state.agents.values() if not a.active),
        "unreachable_slaves": sum(1 for h in state.removed_agents.values() if h == "unreachable"),
        "leader": pid,
        "leader_info": state.master_info(),
        "flags": flags,
        "slaves": legacy_slaves(state)["slaves"],
        "recovered_slaves": [],
        "frameworks": frameworks["frameworks"],
        "completed_frameworks": frameworks["completed_frameworks"],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    }


def _all_tasks(state: MasterState) -> Iterable[Task]:
    for framework in state.all_frameworks():
        yield from framework.tasks.values()
        yield from framework.unreachable_tasks.values()
        yield from framework.completed_tasks


def legacy_tasks(
    state: MasterState,
    *,
    limit: int = 100,
    offset: int = 0,
    order: str = "desc",
    framework_id: str | None = None,
    task_id: str | None = None,
) -> JsonDict:
    """The ``/tasks`` answer (``limit`` < 0 means all; ``order`` asc or desc by start)."""
    tasks = [
        t
        for t in _all_tasks(state)
        if (framework_id is None or t.framework_id == framework_id)
        and (task_id is None or t.task_id == task_id)
    ]
    tasks.sort(key=lambda t: t.statuses[0]["timestamp"], reverse=order != "asc")
    tasks = tasks[max(offset, 0) :]
    if limit >= 0:
        tasks = tasks[:limit]
    return {"tasks": [legacy_task(t) for t in tasks]}


def metrics_snapshot(state: MasterState, now: float) -> JsonDict:
    """The ``/metrics/snapshot`` answer (a flat map)."""
    counts: dict[str, int] = {}
    for task in _all_tasks(state):
        key = task.state.removeprefix("TASK_").lower()
        counts[key] = counts.get(key, 0) + 1
    totals = empty()
    used = empty()
    for agent in state.agents.values():
        totals = totals + agent.total
        used = used + _agent_used(agent)
    out: JsonDict = {
        "master/elected": 1.0,
        "master/uptime_secs": now - state.start_time,
        "master/frameworks_active": sum(1 for f in state.frameworks.values() if f.active),
        "master/frameworks_connected": sum(1 for f in state.frameworks.values() if f.connected),
        "master/frameworks_disconnected": sum(
            1 for f in state.frameworks.values() if not f.connected
        ),
        "master/slaves_active": sum(1 for a in state.agents.values() if a.active),
        "master/slaves_connected": len(state.agents),
        "master/slaves_unreachable": sum(
            1 for h in state.removed_agents.values() if h == "unreachable"
        ),
        "master/outstanding_offers": len(state.offers),
    }
    for name in (
        "staging",
        "starting",
        "running",
        "killing",
        "finished",
        "failed",
        "killed",
        "lost",
        "error",
        "dropped",
        "unreachable",
        "gone",
        "gone_by_operator",
    ):
        out[f"master/tasks_{name}"] = float(counts.get(name, 0))
    for name in ("cpus", "mem", "disk", "gpus"):
        total = totals.scalars.get(name, 0.0)
        in_use = used.scalars.get(name, 0.0)
        out[f"master/{name}_total"] = total
        out[f"master/{name}_used"] = in_use
        out[f"master/{name}_percent"] = in_use / total if total else 0.0
    out.update(state.metrics)
    return out


# -- operator API v1 -------------------------------------------------------------------


def _get_tasks(state: MasterState) -> JsonDict:
    return {
        "pending_tasks": [],
        "tasks": [state.task_json(t) for f in state.frameworks.values() for t in f.tasks.values()],
        "unreachable_tasks": [
            state.task_json(t)
            for f in state.frameworks.values()
            for t in f.unreachable_tasks.values()
        ],
        "completed_tasks": [
            state.task_json(t) for f in state.all_frameworks() for t in f.completed_tasks
        ],
        "orphan_tasks": [],
    }


def _get_agents(state: MasterState) -> JsonDict:
    return {"agents": [state.agent_json(a) for a in state.agents.values()], "recovered_agents": []}


def _get_frameworks(state: MasterState) -> JsonDict:
    return {
        "frameworks": [state.framework_json(f) for f in state.frameworks.values()],
        "completed_frameworks": [state.framework_json(f) for f in state.completed_frameworks],
        "recovered_frameworks": [],
    }


def _get_executors(state: MasterState) -> JsonDict:
    return {
        "executors": [
            {"executor_info": e.info, "agent_id": msg.id_of(a.agent_id)}
            for a in state.agents.values()
            for executors in a.executors.values()
            for e in executors.values()
        ],
        "orphan_executors": [],
    }


def get_state(state: MasterState) -> JsonDict:
    """The ``GetState`` message (also the first event of an operator SUBSCRIBE)."""
    return {
        "get_tasks": _get_tasks(state),
        "get_executors": _get_executors(state),
        "get_frameworks": _get_frameworks(state),
        "get_agents": _get_agents(state),
    }


def operator_response(state: MasterState, kind: str, now: float) -> JsonDict | None:
    """Answer an operator API call of type ``kind``; None when the type is not supported."""
    if kind == "GET_HEALTH":
        return {"type": kind, "get_health": {"healthy": True}}
    if kind == "GET_VERSION":
        return {"type": kind, "get_version": {"version_info": {"version": MESOS_VERSION}}}
    if kind == "GET_STATE":
        return {"type": kind, "get_state": get_state(state)}
    if kind == "GET_AGENTS":
        return {"type": kind, "get_agents": _get_agents(state)}
    if kind == "GET_FRAMEWORKS":
        return {"type": kind, "get_frameworks": _get_frameworks(state)}
    if kind == "GET_TASKS":
        return {"type": kind, "get_tasks": _get_tasks(state)}
    if kind == "GET_EXECUTORS":
        return {"type": kind, "get_executors": _get_executors(state)}
    if kind == "GET_MASTER":
        return {
            "type": kind,
            "get_master": {
                "master_info": state.master_info(),
                "start_time": state.start_time,
                "elected_time": state.start_time,
            },
        }
    if kind == "GET_METRICS":
        snapshot = metrics_snapshot(state, now)
        return {
            "type": kind,
            "get_metrics": {"metrics": [{"name": k, "value": v} for k, v in snapshot.items()]},
        }
    return None
