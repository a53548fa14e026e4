"""The TaskSpec protobuf: what the framework sends to the executor and what comes back.

The messages are defined in ``taskspec.proto`` next to this file; ``taskspec_pb2`` is
generated from it and checked in.  A :class:`TaskSpec` travels serialized in
``TaskInfo.data``; the executor answers with a :class:`TaskResult` in ``TaskStatus.data``.
Use the helpers here rather than the protobuf API directly, so decoding errors are mesos_wm
errors and task types are handled the same way everywhere.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from mesos_wm.errors import SpecError
from mesos_wm.proto.taskspec_pb2 import (
    ARCHIVE_OUTPUT,
    COMMAND,
    DATA_STAGING,
    ENV_CLEANUP,
    ENV_SETUP,
    INPUT,
    JOB_SUBMISSION,
    MONITORING,
    OUTPUT,
    OUTPUT_FETCHING,
    PLUGIN,
    Command,
    OutputFile,
    Staging,
    StagingDirection,
    StagingSource,
    TaskResult,
    TaskSpec,
    TaskType,
)

BUILTIN_TASK_TYPES: tuple[str, ...] = (
    "ENV_SETUP",
    "DATA_STAGING",
    "JOB_SUBMISSION",
    "MONITORING",
    "OUTPUT_FETCHING",
    "ENV_CLEANUP",
    "COMMAND",
)
"""The task type names of the Airavata model, as written in workflow files."""


def task_type_name(spec: TaskSpec) -> str:
    """Return the name a handler is registered under: a built-in type or the plug-in name.

    Args:
        spec: a task specification.

    Returns:
        ``"ENV_SETUP"`` ... ``"COMMAND"`` for built-in types, ``spec.plugin_type`` for
        ``PLUGIN``, and ``""`` when no type is set.
    """
    if spec.type == PLUGIN:
        return spec.plugin_type
    if spec.type == TaskType.Value("TASK_TYPE_UNSPECIFIED"):
        return ""
    name: str = TaskType.Name(spec.type)
    return name


def set_task_type(spec: TaskSpec, name: str) -> None:
    """Set ``spec.type`` (and ``plugin_type`` for names that are not built in).

    Args:
        spec: the specification to change in place.
        name: a built-in type name or a plug-in type name.

    Raises:
        ValueError: ``name`` is empty.
    """
    if not name:
        raise ValueError("a task type name must not be empty")
    if name in BUILTIN_TASK_TYPES:
        spec.type = TaskType.Value(name)
        spec.plugin_type = ""
    else:
        spec.type = PLUGIN
        spec.plugin_type = name


def encode_task_spec(spec: TaskSpec) -> bytes:
    """Serialize a TaskSpec for ``TaskInfo.data`` (deterministic byte order of maps).

    Args:
        spec: the specification.

    Returns:
        The protobuf bytes.
    """
    data: bytes = spec.SerializeToString(deterministic=True)
    return data


def decode_task_spec(data: bytes) -> TaskSpec:
    """Parse the bytes of ``TaskInfo.data``.

    Args:
        data: serialized TaskSpec bytes.

    Returns:
        The specification.

    Raises:
        SpecError: the bytes are not a valid TaskSpec.
    """
    spec = TaskSpec()
    try:
        spec.ParseFromString(data)
    except DecodeError as exc:
        raise SpecError([f"TaskInfo.data is not a TaskSpec: {exc}"]) from exc
    return spec


def encode_task_result(result: TaskResult) -> bytes:
    """Serialize a TaskResult for ``TaskStatus.data``.

    Args:
        result: the result.

    Returns:
        The protobuf bytes.
    """
    data: bytes = result.SerializeToString(deterministic=True)
    return data


def decode_task_result(data: bytes) -> TaskResult:
    """Parse the bytes of ``TaskStatus.data``.

    Args:
        data: serialized TaskResult bytes.

    Returns:
        The result.

    Raises:
        SpecError: the bytes are not a valid TaskResult.
    """
    result = TaskResult()
    try:
        result.ParseFromString(data)
    except DecodeError as exc:
        raise SpecError([f"TaskStatus.data is not a TaskResult: {exc}"]) from exc
    return result


__all__ = [
    "ARCHIVE_OUTPUT",
    "BUILTIN_TASK_TYPES",
    "COMMAND",
    "DATA_STAGING",
    "ENV_CLEANUP",
    "ENV_SETUP",
    "INPUT",
    "JOB_SUBMISSION",
    "MONITORING",
    "OUTPUT",
    "OUTPUT_FETCHING",
    "PLUGIN",
    "Command",
    "OutputFile",
    "Staging",
    "StagingDirection",
    "StagingSource",
    "TaskResult",
    "TaskSpec",
    "TaskType",
    "decode_task_result",
    "decode_task_spec",
    "encode_task_result",
    "encode_task_spec",
    "set_task_type",
    "task_type_name",
]
