"""The staging part of workflow files (:mod:`~mesos_wm.queue.spec`): a task's staging
keys into a :class:`~mesos_wm.queue.model.Staging`, and local staging paths into absolute
``file://`` URIs.

Local paths in a file (a staging ``source``/``sources[].uri``, an OUTPUT or ARCHIVE_OUTPUT
``destination``) are relative to the file's directory, as in docker-compose files:
:func:`~mesos_wm.queue.spec.load_file` turns them into absolute ``file://`` URIs
(:func:`resolve_paths`).  Pure: the file system is not consulted.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Callable, Iterable
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, urlsplit

from mesos_wm.queue.model import Direction, Staging, StagingSource, TaskDef, Workflow
from mesos_wm.queue.reader import Reader

SOURCE_KEYS = frozenset({"uri", "destination", "sha256", "max_bytes"})


def read_staging(r: Reader, raw: dict[str, Any], at: Callable[[str], str]) -> Staging | None:
    """Read the staging keys of a task entry (after its defaults were merged in).

    Args:
        r: the reader collecting problems.
        raw: the task's keys.
        at: the location of one of the task's keys (in the task or in ``defaults``).

    Returns:
        The staging, or None when the task has no ``direction`` (or a wrong one).
    """
    if raw.get("direction") is None:
        for key in ("source", "sources", "outputs", "sha256", "max_bytes"):
            if key in raw:
                r.add(at(key), "staging keys need a direction (INPUT, OUTPUT, ARCHIVE_OUTPUT)")
        if "destination" in raw:
            r.add(at("destination"), "staging keys need a direction")
        return None
    try:
        direction = Direction(str(raw["direction"]).upper())
    except ValueError:
        r.add(at("direction"), f"must be INPUT, OUTPUT or ARCHIVE_OUTPUT, not {raw['direction']!r}")
        return None
    if raw.get("source") is None:
        for key in ("sha256", "max_bytes"):
            if key in raw:
                r.add(at(key), "applies to a single source (INPUT staging); use sources: "
                               "[{uri, sha256, max_bytes}] for several")
    sources: list[StagingSource] = []
    destination = None if raw.get("destination") is None else r.string(
        raw["destination"], at("destination")
    )
    if raw.get("source") is not None:
        uri = r.string(raw["source"], at("source"))
        dest = destination or posixpath.basename(urlsplit(uri).path) or "input"
        sha = None if raw.get("sha256") is None else r.string(raw["sha256"], at("sha256"))
        limit = None if raw.get("max_bytes") is None else r.integer(
            raw["max_bytes"], at("max_bytes"), 0
        )
        sources.append(StagingSource(uri, dest, sha, limit))
    if raw.get("sources") is not None:
        items = raw["sources"]
        if not isinstance(items, list):
            r.add(at("sources"), "must be a list of {uri, destination, sha256?, max_bytes?}")
            items = []
        for j, item in enumerate(items):
            where = f"{at('sources')}[{j}]"
            s = r.mapping(item, where, SOURCE_KEYS)
            uri = r.string(s.get("uri", ""), f"{where}.uri")
            dest = r.string(s.get("destination", ""), f"{where}.destination")
            if not dest:
                dest = posixpath.basename(urlsplit(uri).path)
            sha = None if s.get("sha256") is None else r.string(s["sha256"], f"{where}.sha256")
            limit = None if s.get("max_bytes") is None else r.integer(
                s["max_bytes"], f"{where}.max_bytes", 0
            )
            sources.append(StagingSource(uri, dest, sha, limit))
    outputs = () if raw.get("outputs") is None else r.str_list(raw["outputs"], at("outputs"))
    return Staging(
        direction=direction,
        sources=tuple(sources),
        outputs=outputs,
        destination=None if direction == Direction.INPUT else destination,
    )


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _local_uri(text: str, base_dir: str) -> str:
    if _SCHEME.match(text):
        return text
    path = posixpath.normpath(posixpath.join(base_dir, text))
    if text.endswith("/") and not path.endswith("/"):
        path += "/"
    return "file://" + quote(path)


def _resolve_task(task: TaskDef, base_dir: str) -> TaskDef:
    staging = task.staging
    if staging is None:
        return task
    sources = tuple(dataclasses.replace(s, uri=_local_uri(s.uri, base_dir))
                    for s in staging.sources)
    destination = staging.destination
    if destination and staging.direction != Direction.INPUT:
        destination = _local_uri(destination, base_dir)
    return dataclasses.replace(
        task, staging=dataclasses.replace(staging, sources=sources, destination=destination))


def resolve_paths(workflows: Iterable[Workflow], base_dir: str | PurePath) -> list[Workflow]:
    """Turn local paths of staging tasks into absolute ``file://`` URIs.

    A staging source, or the destination of an OUTPUT/ARCHIVE_OUTPUT staging, that has no
    URI scheme is a path: absolute as it is, or relative to ``base_dir``.  URIs with a
    scheme (``file://``, ``https://``, ``sftp://``...) and the destinations of INPUT
    staging (paths inside the working directory) are left as they are.  Pure: the file
    system is not consulted.

    Args:
        workflows: parsed workflows.
        base_dir: an absolute directory, normally the workflow file's.

    Returns:
        The workflows with resolved paths.
    """
    base = str(base_dir)
    return [dataclasses.replace(w, tasks=tuple(_resolve_task(t, base) for t in w.tasks))
            for w in workflows]


__all__ = ["SOURCE_KEYS", "read_staging", "resolve_paths"]
