"""Builders and process inspection shared by the executor tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mesos_wm.proto import taskspec_pb2
from mesos_wm.proto.taskspec_pb2 import StagingSource, TaskSpec


def make_spec(
    type: str = "COMMAND",
    *,
    argv: list[str] | None = None,
    shell: str = "",
    sources: list[dict[str, Any]] | None = None,
    direction: str = "",
    globs: list[str] | None = None,
    destination_uri: str = "",
    **fields: Any,
) -> TaskSpec:
    """A TaskSpec with sensible ids; ``type`` and ``direction`` are enum names."""
    spec = TaskSpec(
        workflow_id=fields.pop("workflow_id", "wf-1"),
        task_id=fields.pop("task_id", "t-1"),
        attempt=fields.pop("attempt", 1),
        type=taskspec_pb2.TaskType.Value(type) if type != "PLUGIN_RAW" else 0,
        **fields,
    )
    if argv is not None:
        spec.command.argv.extend(argv)
    if shell:
        spec.command.shell = shell
    if direction:
        spec.staging.direction = taskspec_pb2.StagingDirection.Value(direction)
    for source in sources or ():
        spec.staging.sources.append(StagingSource(**source))
    spec.staging.output_globs.extend(globs or ())
    if destination_uri:
        spec.staging.destination_uri = destination_uri
    return spec


def process_table() -> list[tuple[int, int, str]]:
    """``(pid, pgid, state)`` of every process on the machine (zombies included)."""
    rows = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        rows.append((int(entry), int(fields[2]), fields[0]))
    return rows


def live_members(pgid: int) -> list[int]:
    """Pids of the non-zombie processes of group ``pgid``."""
    return [pid for pid, group, state in process_table() if group == pgid and state != "Z"]


def read_pids(path: Path) -> list[int]:
    """The pids a test script wrote into ``path``, one per line."""
    return [int(line) for line in path.read_text().split()]


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
