"""Builders of scheduler ``Call`` messages (``/api/v1/scheduler``) as exact Mesos JSON.

Every call builder returns the whole ``Call`` as a plain ``dict`` with the proto's
snake_case field names, ready for ``json.dumps``.  Ids are passed as plain strings and
wrapped as ``{"value": ...}``; ``bytes`` fields are base64; uuids must be 16 raw bytes.
The shapes follow ``include/mesos/v1/scheduler/scheduler.proto`` (not the prose docs):
REVIVE and SUPPRESS take ``roles``, REQUEST nests ``requests``, filters are
``{"refuse_seconds": ...}``.

Message builders for what goes inside calls (``TaskInfo``, ``CommandInfo``, ...) live in
:mod:`mesos_wm.wire.messages`; they are re-exported here.

Builders raise :class:`~mesos_wm.errors.LocalProtocolError` for a call the master would
refuse (an empty id, a uuid that is not 16 bytes, a negative duration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mesos_wm.errors import LocalProtocolError
from mesos_wm.ids import encode_bytes, encode_uuid
from mesos_wm.wire._common import (
    JsonDict,
    filters_json,
    id_json,
    ids_json,
    labels_json,
    seconds,
    string_list,
)
from mesos_wm.wire.messages import (
    command_info,
    docker_container,
    executor_info,
    kill_policy,
    launch,
    launch_group,
    task_info,
)

__all__ = [
    "FRAMEWORK_CAPABILITIES",
    "JsonDict",
    "accept",
    "accept_inverse_offers",
    "acknowledge",
    "acknowledge_operation_status",
    "command_info",
    "decline",
    "decline_inverse_offers",
    "docker_container",
    "executor_info",
    "framework_info",
    "kill",
    "kill_policy",
    "launch",
    "launch_group",
    "message",
    "reconcile",
    "reconcile_operations",
    "request",
    "resource_request",
    "revive",
    "shutdown",
    "subscribe",
    "suppress",
    "task_info",
    "teardown",
    "update_framework",
]

FRAMEWORK_CAPABILITIES = frozenset(
    {
        "REVOCABLE_RESOURCES",
        "TASK_KILLING_STATE",
        "GPU_RESOURCES",
        "SHARED_RESOURCES",
        "PARTITION_AWARE",
        "MULTI_ROLE",
        "RESERVATION_REFINEMENT",
        "REGION_AWARE",
    }
)
"""``FrameworkInfo.Capability.Type`` names a Mesos 1.x master understands."""


def framework_info(
    *,
    user: str,
    name: str,
    roles: Iterable[str] = (),
    failover_timeout: float | None = None,
    checkpoint: bool = False,
    principal: str | None = None,
    capabilities: Iterable[str] = (),
    hostname: str | None = None,
    webui_url: str | None = None,
    labels: Mapping[str, str] | None = None,
    framework_id: str | None = None,
) -> JsonDict:
    """Build a ``FrameworkInfo``.

    Args:
        user: the OS user tasks run as (required over HTTP; the master does not fill it).
        name: the framework's name.
        roles: roles to subscribe as; when given, ``MULTI_ROLE`` is added to the
            capabilities (the deprecated single ``role`` is never used).
        failover_timeout: seconds the master waits for a disconnected framework before
            tearing it down (Mesos default 0: at once).
        checkpoint: let executors survive agent restarts.
        principal: the authentication principal.
        capabilities: ``FrameworkInfo.Capability.Type`` names, e.g. ``"PARTITION_AWARE"``.
        hostname: the host the scheduler runs on.
        webui_url: the framework's web UI.
        labels: free-form key/value pairs.
        framework_id: the id from an earlier SUBSCRIBED, to resubscribe.

    Returns:
        The ``FrameworkInfo`` dict.

    Raises:
        LocalProtocolError: an unknown capability, an empty user/name/role, or a negative
            failover timeout.
    """
    if not user or not name:
        raise LocalProtocolError("FrameworkInfo needs a non-empty user and name")
    info: JsonDict = {"user": user, "name": name}
    if framework_id is not None:
        info["id"] = id_json(framework_id, "framework_id")
    if failover_timeout is not None:
        info["failover_timeout"] = seconds(failover_timeout, "failover_timeout")
    info["checkpoint"] = bool(checkpoint)
    role_list = string_list(roles, "roles")
    if any(not r for r in role_list):
        raise LocalProtocolError(f"roles must be non-empty strings, got {role_list!r}")
    caps = string_list(capabilities, "capabilities")
    unknown = sorted(set(caps) - FRAMEWORK_CAPABILITIES)
    if unknown:
        raise LocalProtocolError(
            f"unknown framework capabilities {unknown}; known: {sorted(FRAMEWORK_CAPABILITIES)}"
        )
    if role_list:
        info["roles"] = role_list
        if "MULTI_ROLE" not in caps:
            caps.append("MULTI_ROLE")
    if hostname is not None:
        info["hostname"] = hostname
    if principal is not None:
        info["principal"] = principal
    if webui_url is not None:
        info["webui_url"] = webui_url
    if caps:
        info["capabilities"] = [{"type": c} for c in dict.fromkeys(caps)]
    if labels:
        info["labels"] = labels_json(labels)
    return info


def _call(call_type: str, framework_id: str | None, body: Any = None) -> JsonDict:
    call: JsonDict = {"type": call_type}
    if framework_id is not None or call_type != "SUBSCRIBE":
        call["framework_id"] = id_json(framework_id, "framework_id")
    if body is not None:
        call[call_type.lower()] = body
    return call


def subscribe(framework_info: Mapping[str, Any], suppressed_roles: Iterable[str] = ()) -> JsonDict:
    """Build SUBSCRIBE.

    Args:
        framework_info: from :func:`framework_info`; with ``id`` set to resubscribe.
        suppressed_roles: roles to subscribe with offers suppressed.

    Returns:
        The call; top-level ``framework_id`` is set iff ``framework_info`` has an ``id``
        (the master requires the two to agree).
    """
    body: JsonDict = {"framework_info": dict(framework_info)}
    suppressed = string_list(suppressed_roles, "suppressed_roles")
    if suppressed:
        body["suppressed_roles"] = suppressed
    return _call("SUBSCRIBE", _framework_id_of(framework_info), body)


def update_framework(
    framework_info: Mapping[str, Any], suppressed_roles: Iterable[str] = ()
) -> JsonDict:
    """Build UPDATE_FRAMEWORK (Mesos 1.9+): change roles, capabilities, labels, ...

    Args:
        framework_info: the new ``FrameworkInfo``; must carry the framework's ``id``.
        suppressed_roles: the roles whose offers stay suppressed.

    Returns:
        The call.

    Raises:
        LocalProtocolError: ``framework_info`` has no ``id``.
    """
    framework_id = _framework_id_of(framework_info)
    if framework_id is None:
        raise LocalProtocolError("UPDATE_FRAMEWORK needs a framework_info with its id")
    body: JsonDict = {
        "framework_info": dict(framework_info),
        "suppressed_roles": string_list(suppressed_roles, "suppressed_roles"),
    }
    return _call("UPDATE_FRAMEWORK", framework_id, body)


def _framework_id_of(info: Mapping[str, Any]) -> str | None:
    fid = info.get("id")
    if fid is None:
        return None
    value = fid.get("value") if isinstance(fid, Mapping) else None
    if not isinstance(value, str) or not value:
        raise LocalProtocolError(f"framework_info.id must be {{'value': str}}, got {fid!r}")
    return value


def teardown(framework_id: str) -> JsonDict:
    """Build TEARDOWN: the master removes the framework and kills its tasks."""
    return _call("TEARDOWN", framework_id)


def accept(
    framework_id: str,
    offer_ids: Iterable[str],
    operations: Iterable[Mapping[str, Any]],
    *,
    refuse_seconds: float | None = None,
) -> JsonDict:
    """Build ACCEPT.

    Args:
        framework_id: our framework id.
        offer_ids: the offers used (all from one agent); each usable once.
        operations: ``Offer.Operation`` dicts, e.g. from :func:`launch`, applied in order.
        refuse_seconds: how long the unused resources are not re-offered to us.

    Returns:
        The call.

    Raises:
        LocalProtocolError: no offer ids, or a bad ``refuse_seconds``.
    """
    body: JsonDict = {
        "offer_ids": _nonempty_ids(offer_ids, "offer_ids"),
        "operations": [dict(op) for op in operations],
    }
    _add_filters(body, refuse_seconds)
    return _call("ACCEPT", framework_id, body)


def decline(
    framework_id: str, offer_ids: Iterable[str], *, refuse_seconds: float | None = None
) -> JsonDict:
    """Build DECLINE for ``offer_ids``; ``refuse_seconds`` as in :func:`accept`."""
    body: JsonDict = {"offer_ids": _nonempty_ids(offer_ids, "offer_ids")}
    _add_filters(body, refuse_seconds)
    return _call("DECLINE", framework_id, body)


def accept_inverse_offers(
    framework_id: str, inverse_offer_ids: Iterable[str], *, refuse_seconds: float | None = None
) -> JsonDict:
    """Build ACCEPT_INVERSE_OFFERS: we can release the resources before the maintenance."""
    body: JsonDict = {"inverse_offer_ids": _nonempty_ids(inverse_offer_ids, "inverse_offer_ids")}
    _add_filters(body, refuse_seconds)
    return _call("ACCEPT_INVERSE_OFFERS", framework_id, body)


def decline_inverse_offers(
    framework_id: str, inverse_offer_ids: Iterable[str], *, refuse_seconds: float | None = None
) -> JsonDict:
    """Build DECLINE_INVERSE_OFFERS: we cannot release the resources in time."""
    body: JsonDict = {"inverse_offer_ids": _nonempty_ids(inverse_offer_ids, "inverse_offer_ids")}
    _add_filters(body, refuse_seconds)
    return _call("DECLINE_INVERSE_OFFERS", framework_id, body)


def _nonempty_ids(values: Iterable[str], what: str) -> list[JsonDict]:
    ids = ids_json(values, what)
    if not ids:
        raise LocalProtocolError(f"{what} must name at least one offer")
    return ids


def _add_filters(body: JsonDict, refuse_seconds: float | None) -> None:
    filters = filters_json(refuse_seconds)
    if filters is not None:
        body["filters"] = filters


def revive(framework_id: str, roles: Iterable[str] = ()) -> JsonDict:
    """Build REVIVE: clear filters and un-suppress ``roles`` (empty: all our roles)."""
    return _call("REVIVE", framework_id, {"roles": string_list(roles, "roles")})


def suppress(framework_id: str, roles: Iterable[str] = ()) -> JsonDict:
    """Build SUPPRESS: stop offers for ``roles`` (empty: all our roles)."""
    return _call("SUPPRESS", framework_id, {"roles": string_list(roles, "roles")})


def kill(
    framework_id: str,
    task_id: str,
    agent_id: str | None = None,
    *,
    grace_period_seconds: float | None = None,
) -> JsonDict:
    """Build KILL.

    Args:
        framework_id: our framework id.
        task_id: the task to kill (unknown to the master ⇒ it answers TASK_LOST).
        agent_id: the task's agent, if known.
        grace_period_seconds: overrides the task's kill policy grace period.

    Returns:
        The call.
    """
    body: JsonDict = {"task_id": id_json(task_id, "task_id")}
    if agent_id is not None:
        body["agent_id"] = id_json(agent_id, "agent_id")
    if grace_period_seconds is not None:
        body["kill_policy"] = kill_policy(grace_period_seconds)
    return _call("KILL", framework_id, body)


def shutdown(framework_id: str, executor_id: str, agent_id: str) -> JsonDict:
    """Build SHUTDOWN of a custom executor on an agent."""
    body = {
        "executor_id": id_json(executor_id, "executor_id"),
        "agent_id": id_json(agent_id, "agent_id"),
    }
    return _call("SHUTDOWN", framework_id, body)


def acknowledge(framework_id: str, agent_id: str, task_id: str, uuid: bytes) -> JsonDict:
    """Build ACKNOWLEDGE of a status update that carried ``uuid``.

    Raises:
        LocalProtocolError: ``uuid`` is not 16 bytes.
    """
    body = {
        "agent_id": id_json(agent_id, "agent_id"),
        "task_id": id_json(task_id, "task_id"),
        "uuid": encode_uuid(uuid),
    }
    return _call("ACKNOWLEDGE", framework_id, body)


def reconcile(framework_id: str, tasks: Iterable[tuple[str, str | None]] = ()) -> JsonDict:
    """Build RECONCILE.

    Args:
        framework_id: our framework id.
        tasks: ``(task_id, agent_id or None)`` pairs for explicit reconciliation; empty
            asks for every task the master knows (implicit reconciliation).

    Returns:
        The call.
    """
    entries: list[JsonDict] = []
    for task_id, agent_id in tasks:
        entry: JsonDict = {"task_id": id_json(task_id, "task_id")}
        if agent_id is not None:
            entry["agent_id"] = id_json(agent_id, "agent_id")
        entries.append(entry)
    return _call("RECONCILE", framework_id, {"tasks": entries})


def message(framework_id: str, agent_id: str, executor_id: str, data: bytes) -> JsonDict:
    """Build MESSAGE: unreliable bytes for an executor."""
    body = {
        "agent_id": id_json(agent_id, "agent_id"),
        "executor_id": id_json(executor_id, "executor_id"),
        "data": encode_bytes(data),
    }
    return _call("MESSAGE", framework_id, body)


def resource_request(
    resources: Iterable[Mapping[str, Any]], agent_id: str | None = None
) -> JsonDict:
    """Build a ``Request`` (resources wanted, optionally on one agent) for :func:`request`."""
    entry: JsonDict = {"resources": [dict(r) for r in resources]}
    if agent_id is not None:
        entry["agent_id"] = id_json(agent_id, "agent_id")
    return entry


def request(
    framework_id: str,
    requests: Iterable[Mapping[str, Any] | tuple[str | None, Iterable[Mapping[str, Any]]]],
) -> JsonDict:
    """Build REQUEST (the default allocator ignores it).

    Args:
        framework_id: our framework id.
        requests: each a ``Request`` dict (see :func:`resource_request`) or an
            ``(agent_id or None, resources)`` pair.

    Returns:
        The call, ``{"request": {"requests": [...]}}``.
    """
    entries = [
        dict(r) if isinstance(r, Mapping) else resource_request(r[1], r[0]) for r in requests
    ]
    return _call("REQUEST", framework_id, {"requests": entries})


def acknowledge_operation_status(
    framework_id: str,
    uuid: bytes,
    operation_id: str,
    *,
    agent_id: str | None = None,
    resource_provider_id: str | None = None,
) -> JsonDict:
    """Build ACKNOWLEDGE_OPERATION_STATUS (Mesos 1.6+).

    Args:
        framework_id: our framework id.
        uuid: the 16 bytes of ``OperationStatus.uuid.value`` from the update.
        operation_id: the id we gave the operation.
        agent_id: the agent, for operations on agent or SLRP resources.
        resource_provider_id: the resource provider, for SLRP/SERP resources.

    Returns:
        The call.
    """
    body: JsonDict = {}
    if agent_id is not None:
        body["agent_id"] = id_json(agent_id, "agent_id")
    if resource_provider_id is not None:
        body["resource_provider_id"] = id_json(resource_provider_id, "resource_provider_id")
    body["uuid"] = encode_uuid(uuid)
    body["operation_id"] = id_json(operation_id, "operation_id")
    return _call("ACKNOWLEDGE_OPERATION_STATUS", framework_id, body)


def reconcile_operations(
    framework_id: str, operations: Iterable[tuple[str, str | None]] = ()
) -> JsonDict:
    """Build RECONCILE_OPERATIONS for ``(operation_id, agent_id or None)`` pairs (empty: all)."""
    entries: list[JsonDict] = []
    for operation_id, agent_id in operations:
        entry: JsonDict = {"operation_id": id_json(operation_id, "operation_id")}
        if agent_id is not None:
            entry["agent_id"] = id_json(agent_id, "agent_id")
        entries.append(entry)
    return _call("RECONCILE_OPERATIONS", framework_id, {"operations": entries})
