"""Semantic checks of scheduler calls and launch operations, with Mesos's error texts.

Mirrors ``src/master/validation.cpp``: :func:`scheduler_call` is
``validation::scheduler::call::validate`` (its text follows ``Failed to validate
scheduler::Call:`` in a 400), :func:`offers` the offer checks of ACCEPT, :func:`task` and
:func:`task_group` the per-task checks whose failures become TASK_ERROR.  Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.ids import decode_uuid
from mesos_wm.local.messages import duration_seconds
from mesos_wm.resources import ResourceSet

__all__ = [
    "LaunchContext",
    "describe",
    "executor_call",
    "framework_info",
    "offers",
    "resources_of",
    "scheduler_call",
    "task",
    "task_group",
]

JsonDict = dict[str, Any]

_BODY_OF = {
    "ACCEPT": "accept",
    "DECLINE": "decline",
    "ACCEPT_INVERSE_OFFERS": "accept_inverse_offers",
    "DECLINE_INVERSE_OFFERS": "decline_inverse_offers",
    "KILL": "kill",
    "SHUTDOWN": "shutdown",
    "ACKNOWLEDGE": "acknowledge",
    "RECONCILE": "reconcile",
    "MESSAGE": "message",
    "REQUEST": "request",
    "UPDATE_FRAMEWORK": "update_framework",
}

MIN_CPUS = 0.01
MIN_MEM = 32.0


def _value(obj: Mapping[str, Any] | None) -> str | None:
    if not obj:
        return None
    value = obj.get("value")
    return value if isinstance(value, str) else None


def _uuid_error(text: str) -> str | None:
    try:
        decode_uuid(text)
    except RemoteProtocolError:
        return "Not a valid UUID"
    return None


def scheduler_call(call: JsonDict) -> str | None:
    """Return the reason a scheduler call is invalid, or None.

    Args:
        call: a body that passed :func:`mesos_wm.local.schema.check`.

    Returns:
        The text Mesos puts after ``Failed to validate scheduler::Call:``.
    """
    kind = call.get("type")
    if kind is None:
        return "Expecting 'type' to be present"
    if kind == "SUBSCRIBE":
        if "subscribe" not in call:
            return "Expecting 'subscribe' to be present"
        info_id = _value(call["subscribe"]["framework_info"].get("id"))
        if info_id != _value(call.get("framework_id")):
            return "'framework_id' differs from 'subscribe.framework_info.id'"
        return None
    if "framework_id" not in call:
        return "Expecting 'framework_id' to be present"
    body = _BODY_OF.get(kind)
    if body is not None and body not in call:
        return f"Expecting '{body}' to be present"
    if kind == "ACKNOWLEDGE":
        return _uuid_error(call["acknowledge"]["uuid"])
    if kind == "UPDATE_FRAMEWORK":
        info_id = _value(call["update_framework"]["framework_info"].get("id"))
        if info_id != _value(call.get("framework_id")):
            return "'framework_id' differs from 'update_framework.framework_info.id'"
    return None


def executor_call(call: JsonDict) -> str | None:
    """Return the reason an executor call is invalid, or None (``executor::call::validate``)."""
    kind = call.get("type")
    if kind is None:
        return "Expecting 'type' to be present"
    if kind == "SUBSCRIBE" and "subscribe" not in call:
        return "Expecting 'subscribe' to be present"
    if kind == "MESSAGE" and "message" not in call:
        return "Expecting 'message' to be present"
    if kind == "UPDATE":
        if "update" not in call:
            return "Expecting 'update' to be present"
        status = call["update"]["status"]
        if "uuid" not in status:
            return "Expecting 'uuid' to be present"
        error = _uuid_error(status["uuid"])
        if error:
            return error
        executor_id = call["executor_id"]["value"]
        framework_id = call["framework_id"]["value"]
        status_executor = _value(status.get("executor_id"))
        if status_executor is not None and status_executor != executor_id:
            return (
                f"ExecutorID in Call: {executor_id} does not match ExecutorID in TaskStatus: "
                f"{status_executor}"
            )
        if status.get("source", "SOURCE_EXECUTOR") != "SOURCE_EXECUTOR":
            return (
                f"Received Call from executor {executor_id} of framework {framework_id} with "
                "invalid source, expecting 'SOURCE_EXECUTOR'"
            )
        if status["state"] == "TASK_STAGING":
            return (
                f"Received TASK_STAGING from executor {executor_id} of framework "
                f"{framework_id} which is not allowed"
            )
    return None


def _valid_role(role: str) -> str | None:
    if role in ("", ".", ".."):
        return f"Role '{role}' cannot be '.', '..' or empty"
    if role.startswith("-"):
        return f"Role '{role}' cannot start with '-'"
    if any(c in role for c in " \t\n\r\x0b\x0c\\") or any(ord(c) < 32 for c in role):
        return f"Role '{role}' cannot contain whitespace, control characters or '\\'"
    return None


def framework_info(info: JsonDict, suppressed: Sequence[str]) -> str | None:
    """Validate a FrameworkInfo of SUBSCRIBE/UPDATE_FRAMEWORK (roles and suppressed roles)."""
    capabilities = {c.get("type") for c in info.get("capabilities", [])}
    multi_role = "MULTI_ROLE" in capabilities
    roles = info.get("roles", [])
    if multi_role:
        if "role" in info:
            return "'FrameworkInfo.role' must not be set when framework is MULTI_ROLE capable"
        if len(set(roles)) != len(roles):
            return "'FrameworkInfo.roles' contains duplicate items"
    elif roles:
        return "'FrameworkInfo.roles' is set for a framework that is not MULTI_ROLE capable"
    for role in roles if multi_role else [info.get("role", "*")]:
        if role != "*":
            error = _valid_role(role)
            if error:
                return error
    effective = roles if multi_role else [info.get("role", "*")]
    for role in suppressed:
        if role not in effective:
            return f"Suppressed role '{role}' is not contained in the list of roles"
    return None


def offers(offer_ids: Sequence[str], known: Mapping[str, Any], framework_id: str) -> str | None:
    """Validate the offer ids of ACCEPT (``validation::offer::validate``).

    Args:
        offer_ids: the ids, in call order.
        known: outstanding offers by id, each with ``framework_id`` and ``agent_id``.
        framework_id: the accepting framework.

    Returns:
        The error, or None.
    """
    seen: set[str] = set()
    for offer_id in offer_ids:
        if offer_id in seen:
            return f"Duplicate offer {offer_id} in offer list"
        seen.add(offer_id)
    for offer_id in offer_ids:
        if offer_id not in known:
            return f"Offer {offer_id} is no longer valid"
    for offer_id in offer_ids:
        owner = known[offer_id].framework_id
        if owner != framework_id:
            return (
                f"Offer {offer_id} has invalid framework {owner} while framework "
                f"{framework_id} is expected"
            )
    agent_id: str | None = None
    for offer_id in offer_ids:
        offer_agent = known[offer_id].agent_id
        if agent_id is None:
            agent_id = offer_agent
        if offer_agent != agent_id:
            return (
                "Aggregated offers must belong to one single agent. Offer "
                f"{offer_id} uses agent {offer_agent} and agent {agent_id}"
            )
    return None


def describe(resources: ResourceSet, role: str | None = None) -> str:
    """Format resources the way Mesos's ``stringify(Resources)`` does, for messages."""
    tag = f"(allocated: {role})" if role else ""
    parts: list[str] = []
    for name, value in sorted(resources.scalars.items()):
        parts.append(f"{name}{tag}:{value:g}")
    for name, spans in sorted(resources.ranges.items()):
        text = ", ".join(f"{b}-{e}" for b, e in spans)
        parts.append(f"{name}{tag}:[{text}]")
    for name, items in sorted(resources.sets.items()):
        parts.append(f"{name}{tag}:{{{', '.join(sorted(items))}}}")
    return "; ".join(parts) if parts else "{}"


def _resource_error(resources: list[JsonDict]) -> str | None:
    for resource in resources:
        kind = resource.get("type")
        name = resource.get("name", "")
        if not name:
            return "Invalid resources: Empty resource name"
        if kind == "SCALAR":
            scalar = resource.get("scalar")
            if scalar is None:
                return f"Invalid resources: Invalid scalar resource {name}: missing 'scalar'"
            if float(scalar["value"]) < 0:
                return f"Invalid resources: Invalid scalar resource {name}: negative value"
        elif kind == "RANGES":
            for span in resource.get("ranges", {}).get("range", []):
                if int(span["begin"]) > int(span["end"]):
                    return f"Invalid resources: Invalid ranges resource {name}: begin > end"
        elif kind == "SET":
            if "set" not in resource:
                return f"Invalid resources: Invalid set resource {name}: missing 'set'"
        elif kind == "TEXT":
            return f"Invalid resources: Unsupported resource type TEXT for {name}"
    gpus = sum(
        float(r.get("scalar", {}).get("value", 0)) for r in resources if r.get("name") == "gpus"
    )
    if gpus != int(gpus):
        return "Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer"
    return None


def resources_of(resources: list[JsonDict], role: str, multi_role: bool) -> ResourceSet | None:
    """Return the resources a task uses, or None when any is not allocated to ``role``.

    Mesos injects ``allocation_info`` for frameworks without MULTI_ROLE; MULTI_ROLE
    frameworks must name the offer's role on every resource.
    """
    if multi_role:
        for resource in resources:
            if resource.get("allocation_info", {}).get("role") != role:
                return None
    return ResourceSet.from_json(resources)


def _bad_id(value: str) -> bool:
    return any(ord(c) < 32 or c in "/\\" or ord(c) == 127 for c in value)


def _executor_error(executor: JsonDict, framework_id: str, existing: JsonDict | None) -> str | None:
    kind = executor.get("type")
    if kind == "DEFAULT" and "command" in executor:
        return "'ExecutorInfo.command' must not be set for 'DEFAULT' executor"
    if kind == "CUSTOM" and "command" not in executor:
        return "'ExecutorInfo.command' must be set for 'CUSTOM' executor"
    owner = _value(executor.get("framework_id"))
    if owner is None:
        return "'ExecutorInfo.framework_id' must be set"
    if owner != framework_id:
        return (
            f"ExecutorInfo has an invalid FrameworkID (Actual: {owner} vs Expected: {framework_id})"
        )
    if duration_seconds(executor.get("shutdown_grace_period"), 0.0) < 0:
        return "ExecutorInfo's 'shutdown_grace_period' must be non-negative"
    error = _resource_error(executor.get("resources", []))
    if error:
        return f"Executor uses invalid resources: {error}"
    if existing is not None and existing != executor:
        return "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID)."
    return None


def _task_error(info: JsonDict, agent_id: str, framework_tasks: Mapping[str, Any]) -> str | None:
    task_id = info["task_id"]["value"]
    if _bad_id(task_id):
        return f"TaskID '{task_id}' contains invalid characters"
    if task_id in framework_tasks:
        return f"Task has duplicate ID: {task_id}"
    task_agent = info["agent_id"]["value"]
    if task_agent != agent_id:
        return f"Task uses invalid agent {task_agent} while agent {agent_id} is expected"
    policy = info.get("kill_policy")
    if policy and duration_seconds(policy.get("grace_period"), 0.0) < 0:
        return "Task's 'kill_policy.grace_period' must be non-negative"
    if not info.get("resources"):
        return "Task uses no resources"
    error = _resource_error(info["resources"])
    if error:
        return f"Task uses invalid resources: {error}"
    return None


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """What a LAUNCH or LAUNCH_GROUP on one agent is validated against.

    Attributes:
        framework_id: the launching framework.
        agent_id: the agent of the offers.
        role: the role the offers were allocated to.
        multi_role: whether the framework has the MULTI_ROLE capability.
        framework_tasks: the framework's known tasks by id.
        existing_executor: the ``ExecutorInfo`` of the executor already on the agent with
            the launch's executor id, None if there is none.
        offered: the resources still offered.
    """

    framework_id: str
    agent_id: str
    role: str
    multi_role: bool
    framework_tasks: Mapping[str, Any]
    existing_executor: JsonDict | None
    offered: ResourceSet

    @property
    def executor_running(self) -> bool:
        """Whether the executor already runs (its resources are not taken again)."""
        return self.existing_executor is not None


def task(info: JsonDict, ctx: LaunchContext) -> tuple[str | None, ResourceSet]:
    """Validate one TaskInfo of a LAUNCH (``validation::task::validate``).

    Returns:
        ``(error, needed)``: the error (None if valid) and the resources the task and its
        new executor take from ``offered``.
    """
    error = _task_error(info, ctx.agent_id, ctx.framework_tasks)
    if error:
        return error, ResourceSet.from_json([])
    if ("executor" in info) == ("command" in info):
        return (
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
            ResourceSet.from_json([]),
        )
    needed_json = list(info["resources"])
    if "executor" in info:
        executor = info["executor"]
        error = _executor_error(executor, ctx.framework_id, ctx.existing_executor)
        if error:
            return error, ResourceSet.from_json([])
        if executor.get("type", "CUSTOM") != "CUSTOM":
            return "'ExecutorInfo.type' must be 'CUSTOM'", ResourceSet.from_json([])
        if "command" not in executor:
            return "'ExecutorInfo.command' must be set", ResourceSet.from_json([])
        if not ctx.executor_running:
            needed_json += executor.get("resources", [])
    needed = resources_of(needed_json, ctx.role, ctx.multi_role)
    if needed is None or not ctx.offered.contains(needed):
        total = ResourceSet.from_json(needed_json)
        return (
            f"Total resources {describe(total, ctx.role)} required by task and its executor is "
            f"more than available {describe(ctx.offered, ctx.role)}",
            ResourceSet.from_json([]),
        )
    return None, needed


def task_group(
    executor: JsonDict, tasks: Sequence[JsonDict], ctx: LaunchContext
) -> tuple[str | None, ResourceSet]:
    """Validate a LAUNCH_GROUP (``validation::task::group::validate``).

    Returns:
        ``(error, needed)`` as :func:`task`.
    """
    nothing = ResourceSet.from_json([])
    seen: dict[str, Any] = dict(ctx.framework_tasks)
    for info in tasks:
        error = _task_error(info, ctx.agent_id, seen)
        if error is None and "executor" not in info:
            error = "'TaskInfo.executor' must be set"
        if error is None and info.get("container", {}).get("type") == "DOCKER":
            error = "Docker ContainerInfo is not supported on the task"
        if error:
            return f"Task '{info['task_id']['value']}' is invalid: {error}", nothing
        seen[info["task_id"]["value"]] = info
    error = _executor_error(executor, ctx.framework_id, ctx.existing_executor)
    if error:
        return error, nothing
    if "type" not in executor:
        return "'ExecutorInfo.type' must be set", nothing
    if executor["type"] == "UNKNOWN":
        return "Unknown executor type", nothing
    executor_id = executor["executor_id"]["value"]
    for info in tasks:
        if "executor" in info and info["executor"] != executor:
            return (
                f"The `ExecutorInfo` of task '{info['task_id']['value']}' is different from "
                f"executor '{executor_id}'"
            ), nothing
    own = ResourceSet.from_json(executor.get("resources", []))
    cpus = own.scalars.get("cpus")
    if cpus is None or cpus < MIN_CPUS:
        shown = "None" if cpus is None else f"{cpus:g}"
        return (
            f"Executor '{executor_id}' uses less CPUs ({shown}) than the minimum required "
            f"({MIN_CPUS:g})"
        ), nothing
    mem = own.scalars.get("mem")
    if mem is None or mem < MIN_MEM:
        shown = "None" if mem is None else f"{mem:g}"
        return (
            f"Executor '{executor_id}' uses less memory ({shown}) than the minimum required "
            f"({MIN_MEM:g})"
        ), nothing
    if "disk" not in own.scalars:
        return f"Executor '{executor_id}' uses no disk", nothing
    needed_json = [r for info in tasks for r in info["resources"]]
    if not ctx.executor_running:
        needed_json += executor.get("resources", [])
    needed = resources_of(needed_json, ctx.role, ctx.multi_role)
    if needed is None or not ctx.offered.contains(needed):
        total = ResourceSet.from_json(needed_json)
        return (
            f"Total resources {describe(total, ctx.role)} required by task group and its executor "
            f"are more than available {describe(ctx.offered, ctx.role)}"
        ), nothing
    return None, needed
