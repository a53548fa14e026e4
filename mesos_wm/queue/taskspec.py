"""Build the :class:`~mesos_wm.proto.TaskSpec` of an attempt from a stored task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mesos_wm import proto


def build_task_spec(
    workflow_id: str, task_id: str, attempt: int, directory: str, doc: Mapping[str, Any]
) -> proto.TaskSpec:
    """Return the executor's specification of one attempt.

    Args:
        workflow_id: the workflow's id.
        task_id: the task's id.
        attempt: the attempt number (1 for the first launch).
        directory: the workflow's working directory name.
        doc: the task's stored spec (:meth:`~mesos_wm.queue.model.TaskDef.spec_json`).

    Returns:
        The TaskSpec message.
    """
    spec = proto.TaskSpec(
        workflow_id=workflow_id,
        task_id=task_id,
        attempt=attempt,
        working_directory=directory,
        env=doc.get("env", {}),
        params=doc.get("params", {}),
        wall_time_seconds=doc.get("wall_time", 0.0),
        kill_grace_period_seconds=doc.get("kill_grace_period", 0.0),
        directory_mode=doc.get("permissions", 0),
        output_fetch_period_seconds=doc.get("fetch_period", 0.0),
        staging_timeout_seconds=doc.get("staging_timeout", 0.0),
    )
    proto.set_task_type(spec, doc["type"])
    command = doc.get("command")
    if isinstance(command, str):
        spec.command.shell = command
    elif command is not None:
        spec.command.argv.extend(command)
    staging = doc.get("staging")
    if staging is not None:
        spec.staging.direction = proto.StagingDirection.Value(staging["direction"])
        for source in staging.get("sources", ()):
            spec.staging.sources.append(
                proto.StagingSource(
                    uri=source["uri"],
                    destination=source["destination"],
                    sha256=source.get("sha256", ""),
                    max_bytes=source.get("max_bytes", 0),
                )
            )
        spec.staging.output_globs.extend(staging.get("outputs", ()))
        spec.staging.destination_uri = staging.get("destination", "")
    return spec
