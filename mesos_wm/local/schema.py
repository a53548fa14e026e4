"""JSON-to-protobuf checks of incoming calls, as the Mesos master and agent apply them.

Mesos converts a JSON body into a protobuf message with stout's parser and then checks
``IsInitialized()``.  This module reproduces that for the messages the embedded master
reads, from a compact table of field descriptors, and returns the error text Mesos would
put into its 400 answer:

- a JSON value of the wrong kind: ``Not expecting a JSON string for field 'task_id'``;
- an unknown enum name: dropped for optional fields (forward compatibility), an error
  ``Failed to find enum for 'X'`` for required ones;
- ``null`` means unset; unknown field names are ignored, exactly like Mesos;
- then every missing required field, with its path:
  ``Missing required fields: subscribe.framework_info.user``.

Pure: no I/O.  The body is modified in place only to drop nulls and unknown enum values,
so later code sees what the C++ master would.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

__all__ = ["check"]

REQ, OPT, REP = "required", "optional", "repeated"

_ENUMS: dict[str, frozenset[str]] = {
    "scheduler.Call.Type": frozenset(
        {
            "UNKNOWN",
            "SUBSCRIBE",
            "TEARDOWN",
            "ACCEPT",
            "DECLINE",
            "ACCEPT_INVERSE_OFFERS",
            "DECLINE_INVERSE_OFFERS",
            "REVIVE",
            "KILL",
            "SHUTDOWN",
            "ACKNOWLEDGE",
            "ACKNOWLEDGE_OPERATION_STATUS",
            "RECONCILE",
            "RECONCILE_OPERATIONS",
            "MESSAGE",
            "REQUEST",
            "SUPPRESS",
            "UPDATE_FRAMEWORK",
        }
    ),
    "executor.Call.Type": frozenset({"UNKNOWN", "SUBSCRIBE", "UPDATE", "MESSAGE", "HEARTBEAT"}),
    "TaskState": frozenset(
        {
            "TASK_STAGING",
            "TASK_STARTING",
            "TASK_RUNNING",
            "TASK_KILLING",
            "TASK_FINISHED",
            "TASK_FAILED",
            "TASK_KILLED",
            "TASK_ERROR",
            "TASK_LOST",
            "TASK_DROPPED",
            "TASK_UNREACHABLE",
            "TASK_GONE",
            "TASK_GONE_BY_OPERATOR",
            "TASK_UNKNOWN",
        }
    ),
    "Source": frozenset({"SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"}),
    "Value.Type": frozenset({"SCALAR", "RANGES", "SET", "TEXT"}),
    "Operation.Type": frozenset(
        {
            "UNKNOWN",
            "LAUNCH",
            "LAUNCH_GROUP",
            "RESERVE",
            "UNRESERVE",
            "CREATE",
            "DESTROY",
            "GROW_VOLUME",
            "SHRINK_VOLUME",
            "CREATE_DISK",
            "DESTROY_DISK",
        }
    ),
    "Capability.Type": frozenset(
        {
            "UNKNOWN",
            "REVOCABLE_RESOURCES",
            "TASK_KILLING_STATE",
            "GPU_RESOURCES",
            "SHARED_RESOURCES",
            "PARTITION_AWARE",
            "MULTI_ROLE",
            "RESERVATION_REFINEMENT",
            "REGION_AWARE",
        }
    ),
    "ExecutorInfo.Type": frozenset({"UNKNOWN", "DEFAULT", "CUSTOM"}),
    "ContainerInfo.Type": frozenset({"DOCKER", "MESOS"}),
}

_ID = {"value": ("string", REQ)}
_FILTERED = {"offer_ids": ("ID", REP), "filters": ("Filters", OPT)}

_MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "ID": _ID,
    "Duration": {"nanoseconds": ("int", REQ)},
    "Filters": {"refuse_seconds": ("double", OPT)},
    "Labels": {"labels": ("Label", REP)},
    "Label": {"key": ("string", REQ), "value": ("string", OPT)},
    "Capability": {"type": ("enum:Capability.Type", OPT)},
    "FrameworkInfo": {
        "user": ("string", REQ),
        "name": ("string", REQ),
        "id": ("ID", OPT),
        "failover_timeout": ("double", OPT),
        "checkpoint": ("bool", OPT),
        "role": ("string", OPT),
        "roles": ("string", REP),
        "hostname": ("string", OPT),
        "principal": ("string", OPT),
        "webui_url": ("string", OPT),
        "capabilities": ("Capability", REP),
        "labels": ("Labels", OPT),
    },
    "scheduler.Call": {
        "framework_id": ("ID", OPT),
        "type": ("enum:scheduler.Call.Type", OPT),
        "subscribe": ("Subscribe", OPT),
        "accept": ("Accept", OPT),
        "decline": ("Decline", OPT),
        "accept_inverse_offers": ("InverseOffers", OPT),
        "decline_inverse_offers": ("InverseOffers", OPT),
        "revive": ("Roles", OPT),
        "suppress": ("Roles", OPT),
        "kill": ("Kill", OPT),
        "shutdown": ("Shutdown", OPT),
        "acknowledge": ("Acknowledge", OPT),
        "reconcile": ("Reconcile", OPT),
        "message": ("Message", OPT),
        "request": ("Request", OPT),
        "update_framework": ("UpdateFramework", OPT),
    },
    "Subscribe": {"framework_info": ("FrameworkInfo", REQ), "suppressed_roles": ("string", REP)},
    "UpdateFramework": {
        "framework_info": ("FrameworkInfo", REQ),
        "suppressed_roles": ("string", REP),
    },
    "Accept": {**_FILTERED, "operations": ("Operation", REP)},
    "Decline": _FILTERED,
    "InverseOffers": {"inverse_offer_ids": ("ID", REP), "filters": ("Filters", OPT)},
    "Roles": {"roles": ("string", REP), "role": ("string", OPT)},
    "KillPolicy": {"grace_period": ("Duration", OPT)},
    "Kill": {"task_id": ("ID", REQ), "agent_id": ("ID", OPT), "kill_policy": ("KillPolicy", OPT)},
    "Shutdown": {"executor_id": ("ID", REQ), "agent_id": ("ID", REQ)},
    "Acknowledge": {"agent_id": ("ID", REQ), "task_id": ("ID", REQ), "uuid": ("bytes", REQ)},
    "Reconcile": {"tasks": ("ReconcileTask", REP)},
    "ReconcileTask": {"task_id": ("ID", REQ), "agent_id": ("ID", OPT)},
    "Message": {"agent_id": ("ID", REQ), "executor_id": ("ID", REQ), "data": ("bytes", REQ)},
    "Request": {"requests": ("ResourceRequest", REP)},
    "ResourceRequest": {"agent_id": ("ID", OPT), "resources": ("Resource", REP)},
    "Operation": {
        "type": ("enum:Operation.Type", OPT),
        "launch": ("Launch", OPT),
        "launch_group": ("LaunchGroup", OPT),
    },
    "Launch": {"task_infos": ("TaskInfo", REP)},
    "LaunchGroup": {"executor": ("ExecutorInfo", REQ), "task_group": ("TaskGroupInfo", REQ)},
    "TaskGroupInfo": {"tasks": ("TaskInfo", REP)},
    "TaskInfo": {
        "name": ("string", REQ),
        "task_id": ("ID", REQ),
        "agent_id": ("ID", REQ),
        "resources": ("Resource", REP),
        "executor": ("ExecutorInfo", OPT),
        "command": ("CommandInfo", OPT),
        "container": ("ContainerInfo", OPT),
        "data": ("bytes", OPT),
        "kill_policy": ("KillPolicy", OPT),
        "labels": ("Labels", OPT),
        "max_completion_time": ("Duration", OPT),
    },
    "Resource": {
        "name": ("string", REQ),
        "type": ("enum:Value.Type", REQ),
        "scalar": ("Scalar", OPT),
        "ranges": ("Ranges", OPT),
        "set": ("Set", OPT),
        "role": ("string", OPT),
        "allocation_info": ("AllocationInfo", OPT),
    },
    "AllocationInfo": {"role": ("string", OPT)},
    "Scalar": {"value": ("double", REQ)},
    "Ranges": {"range": ("Range", REP)},
    "Range": {"begin": ("int", REQ), "end": ("int", REQ)},
    "Set": {"item": ("string", REP)},
    "ExecutorInfo": {
        "type": ("enum:ExecutorInfo.Type", OPT),
        "executor_id": ("ID", REQ),
        "framework_id": ("ID", OPT),
        "command": ("CommandInfo", OPT),
        "container": ("ContainerInfo", OPT),
        "resources": ("Resource", REP),
        "name": ("string", OPT),
        "data": ("bytes", OPT),
        "shutdown_grace_period": ("Duration", OPT),
        "labels": ("Labels", OPT),
    },
    "CommandInfo": {
        "uris": ("URI", REP),
        "environment": ("Environment", OPT),
        "shell": ("bool", OPT),
        "value": ("string", OPT),
        "arguments": ("string", REP),
        "user": ("string", OPT),
    },
    "URI": {
        "value": ("string", REQ),
        "executable": ("bool", OPT),
        "extract": ("bool", OPT),
        "cache": ("bool", OPT),
        "output_file": ("string", OPT),
    },
    "Environment": {"variables": ("Variable", REP)},
    "Variable": {"name": ("string", REQ), "value": ("string", OPT)},
    "ContainerInfo": {"type": ("enum:ContainerInfo.Type", REQ), "docker": ("DockerInfo", OPT)},
    "DockerInfo": {
        "image": ("string", REQ),
        "force_pull_image": ("bool", OPT),
        "privileged": ("bool", OPT),
    },
    "TaskStatus": {
        "task_id": ("ID", REQ),
        "state": ("enum:TaskState", REQ),
        "message": ("string", OPT),
        "source": ("enum:Source", OPT),
        "reason": ("string", OPT),
        "data": ("bytes", OPT),
        "agent_id": ("ID", OPT),
        "executor_id": ("ID", OPT),
        "timestamp": ("double", OPT),
        "uuid": ("bytes", OPT),
        "healthy": ("bool", OPT),
        "labels": ("Labels", OPT),
    },
    "executor.Call": {
        "executor_id": ("ID", REQ),
        "framework_id": ("ID", REQ),
        "type": ("enum:executor.Call.Type", OPT),
        "subscribe": ("ExecutorSubscribe", OPT),
        "update": ("ExecutorUpdate", OPT),
        "message": ("ExecutorMessage", OPT),
    },
    "ExecutorSubscribe": {
        "unacknowledged_tasks": ("TaskInfo", REP),
        "unacknowledged_updates": ("ExecutorUpdate", REP),
    },
    "ExecutorUpdate": {"status": ("TaskStatus", REQ)},
    "ExecutorMessage": {"data": ("bytes", REQ)},
    "master.Call": {"type": ("string", OPT)},
}


class _ParseError(Exception):
    pass


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"


def _wrong(name: str, value: Any) -> _ParseError:
    return _ParseError(f"Not expecting a JSON {_kind(value)} for field '{name}'")


def _check_scalar(name: str, ftype: str, value: Any) -> bool:
    """Return False when an optional enum value is unknown (the field is dropped)."""
    if ftype == "string":
        if not isinstance(value, str):
            raise _wrong(name, value)
    elif ftype.startswith("enum:"):
        if not isinstance(value, str):
            raise _wrong(name, value)
        return value in _ENUMS[ftype[5:]]
    elif ftype == "bytes":
        if not isinstance(value, str):
            raise _wrong(name, value)
        try:
            base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise _ParseError(f"Failed to base64-decode bytes field '{name}'") from exc
    elif ftype in ("double", "int"):
        if isinstance(value, str):
            try:
                float(value) if ftype == "double" else int(value)
            except ValueError as exc:
                raise _ParseError(f"Failed to convert '{value}' to {ftype}") from exc
        elif isinstance(value, bool | dict | list):
            raise _wrong(name, value)
    elif ftype == "bool" and not isinstance(value, bool):
        raise _wrong(name, value)
    return True


_REQUIRED: dict[str, tuple[str, ...]] = {
    message: tuple(name for name, (_, label) in fields.items() if label == REQ)
    for message, fields in _MESSAGES.items()
}

_Field = tuple[str, str, bool]
"""(type, label, whether the type is a message)."""

_FIELDS: dict[str, dict[str, _Field]] = {
    message: {name: (ftype, label, ftype in _MESSAGES) for name, (ftype, label) in fields.items()}
    for message, fields in _MESSAGES.items()
}


def _walk(message: str, obj: dict[str, Any], path: str, missing: list[str]) -> None:
    fields = _FIELDS[message]
    for name in _REQUIRED[message]:
        if obj.get(name) is None:
            missing.append(path + name)
    drop: list[str] | None = None
    for name, value in obj.items():
        if value is None:
            if drop is None:
                drop = []
            drop.append(name)
            continue
        spec = fields.get(name)
        if spec is None:
            continue
        ftype, label, nested = spec
        if label == REP:
            if not isinstance(value, list):
                raise _wrong(name, value)
            if nested:
                for index, item in enumerate(value):
                    if not isinstance(item, dict):
                        raise _wrong(name, item)
                    _walk(ftype, item, f"{path}{name}[{index}].", missing)
            else:
                kept = [item for item in value if _check_scalar(name, ftype, item)]
                if len(kept) != len(value):
                    value[:] = kept
        elif nested:
            if not isinstance(value, dict):
                raise _wrong(name, value)
            _walk(ftype, value, f"{path}{name}.", missing)
        elif not _check_scalar(name, ftype, value):
            if label == REQ:
                raise _ParseError(f"Failed to find enum for '{value}'")
            if drop is None:
                drop = []
            drop.append(name)
    if drop is not None:
        for name in drop:
            del obj[name]


def check(message: str, body: Any) -> str | None:
    """Check a parsed JSON body against a message type, as Mesos's JSON parser would.

    Args:
        message: ``"scheduler.Call"``, ``"executor.Call"``, ``"TaskInfo"``, ...
        body: the value ``json.loads`` returned.

    Returns:
        None when the body converts into the message, else the error text (without the
        ``Failed to convert JSON into Call protobuf:`` prefix the caller adds).

    Raises:
        KeyError: ``message`` is not in the table (a programming error).
    """
    if not isinstance(body, dict):
        return "Expecting a JSON object"
    missing: list[str] = []
    try:
        _walk(message, body, "", missing)
    except _ParseError as exc:
        return str(exc)
    except RecursionError:
        return "JSON nesting too deep"
    if missing:
        return "Missing required fields: " + ", ".join(missing)
    return None
