"""Builders of the Mesos messages that travel inside calls: tasks, commands, executors,
containers, operations and task statuses (``include/mesos/v1/mesos.proto``).

They return plain ``dict`` with exact proto field names.  Both call modules re-export
them.  Invalid arguments raise :class:`~mesos_wm.errors.LocalProtocolError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mesos_wm.errors import LocalProtocolError
from mesos_wm.ids import encode_bytes, encode_uuid
from mesos_wm.wire._common import JsonDict, duration_json, id_json, labels_json, string_list
from mesos_wm.wire.states import Reason, Source, TaskState

__all__ = [
    "DOCKER_NETWORKS",
    "command_info",
    "docker_container",
    "executor_info",
    "kill_policy",
    "launch",
    "launch_group",
    "task_info",
    "task_status",
]

DOCKER_NETWORKS = frozenset({"HOST", "BRIDGE", "NONE", "USER"})


def kill_policy(grace_period_seconds: float) -> JsonDict:
    """Build a ``KillPolicy``: ``{"grace_period": {"nanoseconds": int}}``."""
    return {"grace_period": duration_json(grace_period_seconds, "grace_period_seconds")}


def command_info(
    value: str | None = None,
    *,
    shell: bool = True,
    arguments: Iterable[str] = (),
    environment: Mapping[str, str] | None = None,
    uris: Iterable[str | Mapping[str, Any]] = (),
    user: str | None = None,
) -> JsonDict:
    """Build a ``CommandInfo``.

    Args:
        value: with ``shell=True`` a shell command run as ``/bin/sh -c value``; with
            ``shell=False`` the program (argv[0]) run with ``arguments``.
        shell: see ``value``.
        arguments: argv (including argv[0]) when ``shell`` is False.
        environment: variables set for the command.
        uris: files the fetcher downloads first: URL strings, or ``CommandInfo.URI``
            dicts (``value``, ``executable``, ``extract``, ``cache``, ``output_file``).
        user: run as this user instead of the framework's.

    Returns:
        The ``CommandInfo`` dict.

    Raises:
        LocalProtocolError: ``shell`` is True without a ``value``.
    """
    if shell and not value:
        raise LocalProtocolError("a shell CommandInfo needs a value (the command line)")
    info: JsonDict = {"shell": bool(shell)}
    if value is not None:
        info["value"] = value
    args = string_list(arguments, "arguments")
    if args:
        info["arguments"] = args
    if environment:
        info["environment"] = {
            "variables": [
                {"name": str(k), "type": "VALUE", "value": str(v)} for k, v in environment.items()
            ]
        }
    uri_list = [{"value": u} if isinstance(u, str) else dict(u) for u in uris]
    if uri_list:
        info["uris"] = uri_list
    if user is not None:
        info["user"] = user
    return info


def docker_container(image: str, *, network: str = "HOST", force_pull: bool = False) -> JsonDict:
    """Build a ``ContainerInfo`` of type DOCKER.

    Raises:
        LocalProtocolError: empty ``image`` or an unknown ``network``.
    """
    if not image:
        raise LocalProtocolError("a Docker container needs an image")
    if network not in DOCKER_NETWORKS:
        raise LocalProtocolError(f"docker network must be one of {sorted(DOCKER_NETWORKS)}")
    return {
        "type": "DOCKER",
        "docker": {"image": image, "network": network, "force_pull_image": bool(force_pull)},
    }


def executor_info(
    *,
    executor_id: str,
    command: Mapping[str, Any],
    framework_id: str | None = None,
    resources: Iterable[Mapping[str, Any]] = (),
    name: str | None = None,
    shutdown_grace_period_seconds: float | None = None,
    labels: Mapping[str, str] | None = None,
    container: Mapping[str, Any] | None = None,
    data: bytes | None = None,
) -> JsonDict:
    """Build an ``ExecutorInfo`` of type CUSTOM (our own executor program).

    Args:
        executor_id: unique per framework while the executor runs.
        command: how the agent starts the executor (:func:`command_info`).
        framework_id: our framework id (Mesos fills it in when absent).
        resources: resources for the executor itself.
        name: a human-readable name.
        shutdown_grace_period_seconds: time the executor gets to shut down.
        labels: free-form key/value pairs.
        container: a ``ContainerInfo`` (e.g. :func:`docker_container`).
        data: opaque bytes for the executor.

    Returns:
        The ``ExecutorInfo`` dict.
    """
    info: JsonDict = {
        "type": "CUSTOM",
        "executor_id": id_json(executor_id, "executor_id"),
        "command": dict(command),
    }
    if framework_id is not None:
        info["framework_id"] = id_json(framework_id, "framework_id")
    resource_list = [dict(r) for r in resources]
    if resource_list:
        info["resources"] = resource_list
    if name is not None:
        info["name"] = name
    if container is not None:
        info["container"] = dict(container)
    if data is not None:
        info["data"] = encode_bytes(data)
    if shutdown_grace_period_seconds is not None:
        info["shutdown_grace_period"] = duration_json(
            shutdown_grace_period_seconds, "shutdown_grace_period_seconds"
        )
    if labels:
        info["labels"] = labels_json(labels)
    return info


def task_info(
    *,
    name: str,
    task_id: str,
    agent_id: str,
    resources: Iterable[Mapping[str, Any]],
    command: Mapping[str, Any] | None = None,
    executor: Mapping[str, Any] | None = None,
    container: Mapping[str, Any] | None = None,
    data: bytes | None = None,
    labels: Mapping[str, str] | None = None,
    kill_grace_period_seconds: float | None = None,
) -> JsonDict:
    """Build a ``TaskInfo``.

    Args:
        name: a human-readable name.
        task_id: unique within the framework.
        agent_id: the agent of the offer the task is launched with.
        resources: ``Resource`` dicts (e.g. ``ResourceSet.to_json(role)``).
        command: a command task (run by the agent's command executor) ...
        executor: ... or a task for our custom executor; exactly one of the two.
        container: a ``ContainerInfo``.
        data: opaque bytes passed to the executor (our TaskSpec).
        labels: free-form key/value pairs.
        kill_grace_period_seconds: the task's ``kill_policy`` grace period.

    Returns:
        The ``TaskInfo`` dict.

    Raises:
        LocalProtocolError: both or neither of ``command`` and ``executor`` given.
    """
    if (command is None) == (executor is None):
        raise LocalProtocolError("a TaskInfo needs exactly one of command and executor")
    info: JsonDict = {
        "name": name,
        "task_id": id_json(task_id, "task_id"),
        "agent_id": id_json(agent_id, "agent_id"),
        "resources": [dict(r) for r in resources],
    }
    if command is not None:
        info["command"] = dict(command)
    if executor is not None:
        info["executor"] = dict(executor)
    if container is not None:
        info["container"] = dict(container)
    if data is not None:
        info["data"] = encode_bytes(data)
    if labels:
        info["labels"] = labels_json(labels)
    if kill_grace_period_seconds is not None:
        info["kill_policy"] = kill_policy(kill_grace_period_seconds)
    return info


def launch(task_infos: Iterable[Mapping[str, Any]], *, operation_id: str | None = None) -> JsonDict:
    """Build an ``Offer.Operation`` of type LAUNCH.

    Args:
        task_infos: ``TaskInfo`` dicts (:func:`task_info`).
        operation_id: ask for operation status updates (Mesos 1.6+; leave None for
            ordinary task launches, whose feedback is task status updates).

    Returns:
        The operation dict.
    """
    operation: JsonDict = {
        "type": "LAUNCH",
        "launch": {"task_infos": [dict(t) for t in task_infos]},
    }
    if operation_id is not None:
        operation["id"] = id_json(operation_id, "operation_id")
    return operation


def launch_group(
    executor_info: Mapping[str, Any],
    task_infos: Iterable[Mapping[str, Any]],
    *,
    operation_id: str | None = None,
) -> JsonDict:
    """Build an ``Offer.Operation`` of type LAUNCH_GROUP: tasks started atomically by one
    executor.

    Args:
        executor_info: the executor that runs the group.
        task_infos: the tasks; the group gets them in one LAUNCH_GROUP event.
        operation_id: as in :func:`launch`.

    Returns:
        The operation dict.
    """
    operation: JsonDict = {
        "type": "LAUNCH_GROUP",
        "launch_group": {
            "executor": dict(executor_info),
            "task_group": {"tasks": [dict(t) for t in task_infos]},
        },
    }
    if operation_id is not None:
        operation["id"] = id_json(operation_id, "operation_id")
    return operation


def task_status(
    *,
    task_id: str,
    state: str | TaskState,
    uuid: bytes | None = None,
    message: str | None = None,
    reason: str | Reason | None = None,
    data: bytes | None = None,
    agent_id: str | None = None,
    executor_id: str | None = None,
    source: str | Source = Source.EXECUTOR,
    timestamp: float | None = None,
    healthy: bool | None = None,
) -> JsonDict:
    """Build a ``TaskStatus``.

    Args:
        task_id: the task.
        state: a :class:`TaskState` or its name.
        uuid: 16 raw bytes identifying this update (required in executor UPDATE calls).
        message: human-readable detail.
        reason: a :class:`Reason` or its name.
        data: opaque bytes for the scheduler.
        agent_id: the agent.
        executor_id: the executor.
        source: who generated the update (default SOURCE_EXECUTOR).
        timestamp: seconds since the epoch (the caller's clock).
        healthy: the task's health check result.

    Returns:
        The ``TaskStatus`` dict.

    Raises:
        LocalProtocolError: unknown state, reason or source; a uuid that is not 16 bytes;
            a non-finite timestamp.
    """
    status: JsonDict = {
        "task_id": id_json(task_id, "task_id"),
        "state": _enum_value(TaskState, state, "state"),
        "source": _enum_value(Source, source, "source"),
    }
    if uuid is not None:
        status["uuid"] = encode_uuid(uuid)
    if message is not None:
        status["message"] = message
    if reason is not None:
        status["reason"] = _enum_value(Reason, reason, "reason")
    if data is not None:
        status["data"] = encode_bytes(data)
    if agent_id is not None:
        status["agent_id"] = id_json(agent_id, "agent_id")
    if executor_id is not None:
        status["executor_id"] = id_json(executor_id, "executor_id")
    if timestamp is not None:
        if not math.isfinite(timestamp):
            raise LocalProtocolError(f"timestamp must be finite, got {timestamp!r}")
        status["timestamp"] = float(timestamp)
    if healthy is not None:
        status["healthy"] = bool(healthy)
    return status


def _enum_value(
    enum_type: type[TaskState] | type[Source] | type[Reason], value: str, what: str
) -> str:
    try:
        return str(enum_type(value).value)
    except ValueError as exc:
        raise LocalProtocolError(f"unknown {what} {value!r}") from exc
