"""Workflow files (YAML or JSON, see WORKFLOW_FORMAT.md) into :class:`Workflow` values.

Every problem is collected with its location (``workflows[1].tasks[2].resources.cpus``)
and reported together in one :class:`~mesos_wm.errors.SpecError`; unknown keys are errors.
Only :func:`load_file` touches the file system.

Local paths in a file (a staging ``source``/``sources[].uri``, an OUTPUT or ARCHIVE_OUTPUT
``destination``) are relative to the file's directory, as in docker-compose files:
:func:`load_file` turns them into absolute ``file://`` URIs (:func:`resolve_paths`).
A task's staging keys and those paths are handled in :mod:`~mesos_wm.queue.spec_staging`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any, TypeVar

import yaml

from mesos_wm.errors import SpecError, SpecProblem
from mesos_wm.queue import validation
from mesos_wm.queue.model import (
    Constraint,
    Operator,
    Resources,
    RetryPolicy,
    TaskDef,
    TaskShape,
    Workflow,
    resolve_priority,
)
from mesos_wm.queue.reader import Reader, parse_duration, parse_time
from mesos_wm.queue.spec_staging import read_staging, resolve_paths
from mesos_wm.queue.states import RunOn

WORKFLOW_KEYS = frozenset(
    {"id", "name", "owner", "priority", "labels", "not_before", "defaults", "tasks",
     "working_directory"}
)
DEFAULT_KEYS = frozenset(
    {"resources", "retries", "timeouts", "wall_time", "env", "image", "constraints",
     "priority", "run_on", "kill_grace_period", "params"}
)
TASK_KEYS = DEFAULT_KEYS | frozenset(
    {"id", "type", "depends_on", "command", "direction", "source", "sources", "destination",
     "outputs", "sha256", "max_bytes", "permissions", "fetch_period"}
)
MERGED = frozenset({"resources", "retries", "timeouts", "env", "params"})
RESOURCE_KEYS = frozenset({"cpus", "mem", "disk", "gpus", "ports", "custom"})
RETRY_KEYS = frozenset({"max", "backoff", "max_backoff", "max_infra"})
TIMEOUT_KEYS = frozenset({"offer_wait", "staging"})
T = TypeVar("T")

def parse_workflows(doc: object, source: str | None = None) -> list[Workflow]:
    """Turn a parsed YAML/JSON document into workflows, checking everything.

    Args:
        doc: one workflow mapping, or a mapping with a ``workflows`` list.
        source: the file name, for error messages.

    Returns:
        The workflows, in file order.

    Raises:
        SpecError: with every problem found, each located.
    """
    if isinstance(doc, Mapping) and "workflows" in doc:
        reader = Reader("")
        reader.mapping(doc, "", frozenset({"workflows"}))
        items = doc["workflows"]
        if not isinstance(items, list) or not items:
            reader.add("workflows", "must be a non-empty list of workflows")
            raise SpecError(reader.problems, source)
        problems = list(reader.problems)
        workflows = []
        for k, item in enumerate(items):
            workflow, found = _workflow(item, f"workflows[{k}].")
            workflows.append(workflow)
            problems.extend(found)
        seen: dict[str, int] = {}
        for k, w in enumerate(workflows):
            if w.id in seen:
                problems.append(
                    SpecProblem(f"workflows[{k}].id", f"duplicate workflow id {w.id!r}")
                )
            seen.setdefault(w.id, k)
    else:
        workflow, problems = _workflow(doc, "")
        workflows = [workflow]
    if problems:
        raise SpecError(problems, source)
    return workflows


def _workflow(doc: object, prefix: str) -> tuple[Workflow, list[SpecProblem]]:
    r = Reader(prefix)
    if not isinstance(doc, Mapping):
        r.add("", f"a workflow must be a mapping, not {type(doc).__name__}")
        return Workflow(id="", tasks=()), r.problems
    raw = r.mapping(doc, "", WORKFLOW_KEYS)
    for key in ("id", "tasks"):
        if key not in doc:
            r.add(key, "is required")
    defaults = r.mapping(raw.get("defaults"), "defaults", DEFAULT_KEYS)
    tasks_raw = raw.get("tasks", [])
    if not isinstance(tasks_raw, list):
        r.add("tasks", "must be a list of tasks")
        tasks_raw = []
    priority = r.convert(raw.get("priority", 0), "priority", _priority, 0)
    shapes: dict[TaskShape, TaskShape] = {}
    tasks = tuple(
        _task(r, item, f"tasks[{i}]", defaults, shapes) for i, item in enumerate(tasks_raw)
    )
    workflow = Workflow(
        id=r.string(raw.get("id", ""), "id"),
        tasks=tasks,
        name=None if raw.get("name") is None else r.string(raw["name"], "name"),
        owner=r.string(raw.get("owner", "default"), "owner", "default"),
        priority=priority,
        labels=r.str_map(raw.get("labels"), "labels"),
        not_before=None
        if raw.get("not_before") is None
        else r.convert(raw["not_before"], "not_before", parse_time, None),
        working_directory=None
        if raw.get("working_directory") is None
        else r.string(raw["working_directory"], "working_directory"),
    )
    known = {p.location for p in r.problems}
    for p in validation.problems(workflow):
        if prefix + r.locate(p.location) not in known:
            r.add(p.location, p.message)
    return workflow, r.problems


def _priority(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be URGENT, NORMAL or an integer, not {value!r}")
    return resolve_priority(value)


def _task(
    r: Reader,
    item: object,
    loc: str,
    defaults: dict[str, Any],
    shapes: dict[TaskShape, TaskShape],
) -> TaskDef:
    own = r.mapping(item, loc, TASK_KEYS)
    if not isinstance(item, Mapping):
        return TaskDef(id="", type="COMMAND")
    raw: dict[str, Any] = dict(defaults)
    where: dict[str, str] = {key: f"defaults.{key}" for key in defaults}
    r.moved.update({f"{loc}.{key}": f"defaults.{key}" for key in defaults if key not in own})
    for key, value in own.items():
        inherited = raw.get(key)
        if key in MERGED and isinstance(inherited, Mapping) and isinstance(value, Mapping):
            raw[key] = {**inherited, **value}
            r.moved.update({f"{loc}.{key}.{sub}": f"defaults.{key}.{sub}"
                            for sub in inherited if sub not in value})
        else:
            raw[key] = value
        where[key] = f"{loc}.{key}"
    for key in ("id", "type"):
        if key not in raw:
            r.add(f"{loc}.{key}", "is required")

    def at(key: str) -> str:
        return where.get(key, f"{loc}.{key}")

    timeouts = _timeouts(r, raw.get("timeouts"), at("timeouts"))
    shape = TaskShape(
        resources=_resources(r, raw.get("resources"), at("resources")),
        constraints=_constraints(r, raw.get("constraints"), at("constraints")),
        image=None if raw.get("image") is None else r.string(raw["image"], at("image")),
        offer_wait=timeouts.get("offer_wait"),
        retries=_retries(r, raw.get("retries"), at("retries")),
    )
    shape = shapes.setdefault(shape, shape)
    command: tuple[str, ...] | str | None = None
    if raw.get("command") is not None:
        c = raw["command"]
        command = c if isinstance(c, str) else r.str_list(c, at("command"))

    def opt(key: str, fn: Callable[[object], T]) -> T | None:
        return None if raw.get(key) is None else r.convert(raw[key], at(key), fn, None)

    return TaskDef(
        id=r.string(raw.get("id", ""), at("id")),
        type=r.string(raw.get("type", "COMMAND"), at("type"), "COMMAND"),
        depends_on=()
        if raw.get("depends_on") is None
        else r.str_list(raw["depends_on"], at("depends_on")),
        run_on=r.convert(raw.get("run_on", "success"), at("run_on"), _run_on, RunOn.SUCCESS),
        priority=opt("priority", _priority),
        shape=shape,
        command=command,
        env=r.str_map(raw.get("env"), at("env")),
        wall_time=opt("wall_time", parse_duration),
        staging=read_staging(r, raw, at),
        staging_timeout=timeouts.get("staging"),
        params=r.str_map(raw.get("params"), at("params")),
        kill_grace_period=opt("kill_grace_period", parse_duration),
        permissions=None
        if raw.get("permissions") is None
        else r.convert(raw["permissions"], at("permissions"), _permissions, None),
        fetch_period=opt("fetch_period", parse_duration),
    )


def _run_on(value: object) -> RunOn:
    try:
        return RunOn(str(value).lower())
    except ValueError:
        raise ValueError(f"must be success, failure or always, not {value!r}") from None


def _permissions(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"0?o?[0-7]{3,4}", value):
        return int(value.lstrip("0o") or "0", 8)
    raise ValueError(f"must be an octal mode such as '0750', not {value!r}")


def _resources(r: Reader, value: object, loc: str) -> Resources:
    raw = r.mapping(value, loc, RESOURCE_KEYS)
    base = Resources()
    custom = r.mapping(raw.get("custom"), f"{loc}.custom", None)
    return Resources(
        cpus=r.number(raw.get("cpus", base.cpus), f"{loc}.cpus", base.cpus),
        mem=r.number(raw.get("mem", base.mem), f"{loc}.mem", base.mem),
        disk=r.number(raw.get("disk", 0.0), f"{loc}.disk", 0.0),
        gpus=r.number(raw.get("gpus", 0.0), f"{loc}.gpus", 0.0),
        ports=r.integer(raw.get("ports", 0), f"{loc}.ports", 0),
        custom=tuple(
            sorted((k, r.number(v, f"{loc}.custom.{k}", 0.0)) for k, v in custom.items())
        ),
    )


def _constraints(r: Reader, value: object, loc: str) -> tuple[Constraint, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.add(loc, "must be a list of [field, OPERATOR, value?]")
        return ()
    out = []
    for j, item in enumerate(value):
        where = f"{loc}[{j}]"
        if not isinstance(item, list) or not 2 <= len(item) <= 3:
            r.add(where, "must be [field, OPERATOR] or [field, OPERATOR, value]")
            continue
        field = r.string(item[0], where)
        try:
            op = Operator(str(item[1]).upper())
        except ValueError:
            r.add(where, f"unknown operator {item[1]!r} (use {', '.join(Operator)})")
            continue
        val = item[2] if len(item) == 3 else None
        if val is not None and not isinstance(val, str):
            val = str(val) if isinstance(val, int | float) and not isinstance(val, bool) else None
            if val is None:
                r.add(where, "the value must be a string or a number")
        out.append(Constraint(field, op, val))
    return tuple(out)


def _retries(r: Reader, value: object, loc: str) -> RetryPolicy:
    base = RetryPolicy()
    if isinstance(value, int) and not isinstance(value, bool):
        return RetryPolicy(max=value)
    raw = r.mapping(value, loc, RETRY_KEYS)
    return RetryPolicy(
        max=r.integer(raw.get("max", base.max), f"{loc}.max", base.max),
        backoff=r.convert(raw.get("backoff", base.backoff), f"{loc}.backoff", parse_duration,
                          base.backoff),
        max_backoff=r.convert(raw.get("max_backoff", base.max_backoff), f"{loc}.max_backoff",
                              parse_duration, base.max_backoff),
        max_infra=r.integer(raw.get("max_infra", base.max_infra), f"{loc}.max_infra",
                            base.max_infra),
    )


def _timeouts(r: Reader, value: object, loc: str) -> dict[str, float | None]:
    raw = r.mapping(value, loc, TIMEOUT_KEYS)
    return {
        key: r.convert(item, f"{loc}.{key}", parse_duration, None)
        for key, item in raw.items()
        if item is not None
    }


def load_text(text: str, source: str, *, json_format: bool | None = None,
              base_dir: str | PurePath | None = None) -> list[Workflow]:
    """Parse workflow file contents.

    Args:
        text: the file's contents.
        source: its name, for messages; a ``.json`` suffix selects JSON.
        json_format: force JSON (True) or YAML (False) instead of guessing from ``source``.
        base_dir: resolve local staging paths against this absolute directory (see
            :func:`resolve_paths`); None leaves them as written.

    Returns:
        The workflows.

    Raises:
        SpecError: the text is not valid YAML/JSON or not a valid workflow.
    """
    use_json = source.endswith(".json") if json_format is None else json_format
    try:
        doc = json.loads(text) if use_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError([SpecProblem(f"line {exc.lineno}, column {exc.colno}",
                                     f"invalid JSON: {exc.msg}")], source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecProblem(where, f"invalid YAML: {what}")], source) from exc
    if doc is None:
        raise SpecError([SpecProblem("", "the file is empty")], source)
    if not isinstance(doc, Mapping):
        raise SpecError([SpecProblem("", "a workflow file must hold a mapping")], source)
    workflows = parse_workflows(doc, source)
    return workflows if base_dir is None else resolve_paths(workflows, base_dir)


def load_file(path: str | Path) -> list[Workflow]:
    """Read and parse a workflow file (``.json`` is JSON, anything else YAML); local
    staging paths are taken relative to the file's directory (:func:`resolve_paths`).

    Raises:
        SpecError: the file cannot be read or is not valid.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
        base_dir = Path(path).resolve().parent
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecProblem("", f"cannot read the file: {exc}")], str(path)) from exc
    return load_text(text, str(path), base_dir=base_dir)


__all__ = ["load_file", "load_text", "parse_duration", "parse_time", "parse_workflows",
           "resolve_paths"]
