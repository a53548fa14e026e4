"""Semantic checks of a :class:`~mesos_wm.queue.model.Workflow`, each with its location.

The workflow file parser checks syntax and types; these checks apply to every workflow,
however it was built, and run again in ``TaskQueue.submit``.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from collections.abc import Iterator

from mesos_wm.errors import SpecProblem
from mesos_wm.queue.dag import check_dag
from mesos_wm.queue.encode import ENV_NAME, NEEDS_COMMAND, STAGING_TYPES, plain_spec
from mesos_wm.queue.model import (
    BUILTIN_TYPES,
    ID_PATTERN,
    OPERATORS_WITH_VALUE,
    OPERATORS_WITHOUT_VALUE,
    Direction,
    Operator,
    Staging,
    TaskDef,
    TaskShape,
    Workflow,
)
from mesos_wm.queue.states import RunOn

PLUGIN_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
SHA256 = re.compile(r"[0-9a-f]{64}")


def problems(workflow: Workflow) -> list[SpecProblem]:
    """Check a workflow and return every problem found (empty when it is valid).

    Args:
        workflow: the workflow to check.

    Returns:
        Problems with locations such as ``tasks[2].resources.cpus``.
    """
    out = [SpecProblem(loc, msg) for loc, msg in header_problems(workflow)]
    shape_cache: dict[int, list[tuple[str, str]]] = {}
    for i, task in enumerate(workflow.tasks):
        prefix = f"tasks[{i}]"
        found = shape_cache.get(id(task.shape))
        if found is None:
            found = shape_cache[id(task.shape)] = shape_problems(task.shape)
        out.extend(SpecProblem(f"{prefix}.{loc}", msg) for loc, msg in found)
        if plain_spec(task) is None:
            out.extend(SpecProblem(f"{prefix}.{loc}", msg) for loc, msg in _task(task))
    dag = check_dag([t.id for t in workflow.tasks], [t.depends_on for t in workflow.tasks])
    for p in dag:
        location = "tasks" if p.index is None else f"tasks[{p.index}].{p.field}"
        out.append(SpecProblem(location, p.message))
    return out


def header_problems(w: Workflow) -> Iterator[tuple[str, str]]:
    """Check a workflow's own fields (not its tasks); yields (location, message)."""
    if not isinstance(w.id, str) or not ID_PATTERN.fullmatch(w.id):
        yield "id", f"{w.id!r} is not a valid id (letters, digits, _.:@+- ; at most 128)"
    if not w.owner or not isinstance(w.owner, str):
        yield "owner", "must be a non-empty string"
    if not _is_int(w.priority):
        yield "priority", "must be an integer"
    for key, value in w.labels.items():
        if not isinstance(key, str) or not NAME.fullmatch(key):
            yield "labels", f"{key!r} is not a valid label name"
        elif not isinstance(value, str):
            yield f"labels.{key}", "must be a string"
    if w.not_before is not None and not _finite(w.not_before):
        yield "not_before", "must be a finite time"
    if w.working_directory is not None and not _relative_path(w.working_directory):
        yield "working_directory", "must be a relative path without '..'"
    if not w.tasks:
        yield "tasks", "a workflow needs at least one task"


def shape_problems(shape: TaskShape) -> list[tuple[str, str]]:
    """Check a task shape (remembering recent shapes); returns (location, message) pairs."""
    try:
        return list(_cached_shape_problems(shape))
    except TypeError:  # an unhashable value where the model expects a hashable one
        return list(_shape(shape))


@functools.lru_cache(maxsize=4096)
def _cached_shape_problems(shape: TaskShape) -> tuple[tuple[str, str], ...]:
    return tuple(_shape(shape))


def _shape(shape: TaskShape) -> Iterator[tuple[str, str]]:
    r = shape.resources
    for name in ("cpus", "mem", "disk", "gpus"):
        value = getattr(r, name)
        if not _finite(value) or value < 0:
            yield f"resources.{name}", f"must be a finite number >= 0, not {value!r}"
    if not _is_int(r.ports) or r.ports < 0:
        yield "resources.ports", f"must be an integer >= 0 (how many ports), not {r.ports!r}"
    for name, value in r.custom:
        if not NAME.fullmatch(name):
            yield "resources.custom", f"{name!r} is not a valid resource name"
        elif not _finite(value) or value < 0:
            yield f"resources.custom.{name}", f"must be a finite number >= 0, not {value!r}"
    if _finite(r.cpus) and _finite(r.mem) and r.cpus <= 0 and r.mem <= 0:
        yield "resources", "a task must ask for some cpus or mem"
    for j, c in enumerate(shape.constraints):
        yield from ((f"constraints[{j}]", m) for m in _constraint(c.field, c.operator, c.value))
    if shape.image is not None and (not isinstance(shape.image, str) or not shape.image):
        yield "image", "must be a non-empty string"
    yield from _positive("timeouts.offer_wait", shape.offer_wait)
    p = shape.retries
    if not _is_int(p.max) or p.max < 0:
        yield "retries.max", "must be an integer >= 0"
    if not _is_int(p.max_infra) or p.max_infra < 0:
        yield "retries.max_infra", "must be an integer >= 0"
    if not _finite(p.backoff) or p.backoff < 0:
        yield "retries.backoff", "must be a duration >= 0"
    if not _finite(p.max_backoff) or p.max_backoff < 0:
        yield "retries.max_backoff", "must be a duration >= 0"
    elif _finite(p.backoff) and p.max_backoff < p.backoff:
        yield "retries.max_backoff", "must not be shorter than backoff"


def _constraint(field: str, operator: Operator, value: str | None) -> Iterator[str]:
    if not field or not isinstance(field, str):
        yield "the field (hostname or an attribute name) must be a non-empty string"
    if operator in OPERATORS_WITH_VALUE and value is None:
        yield f"{operator} needs a value: [field, {operator}, value]"
    if operator in OPERATORS_WITHOUT_VALUE and value is not None:
        yield f"{operator} takes no value: [field, {operator}]"
    if value is None:
        return
    if operator in (Operator.LIKE, Operator.UNLIKE):
        try:
            re.compile(value)
        except re.error as exc:
            yield f"{value!r} is not a valid regular expression: {exc}"
    if operator in (Operator.MAX_PER, Operator.GROUP_BY) and (
        not value.isdigit() or int(value) < 1
    ):
        yield f"{operator} needs a positive integer value, not {value!r}"


def _task(t: TaskDef) -> Iterator[tuple[str, str]]:
    if not isinstance(t.id, str) or not ID_PATTERN.fullmatch(t.id):
        yield "id", f"{t.id!r} is not a valid id (letters, digits, _.:@+- ; at most 128)"
    if t.type not in BUILTIN_TYPES and not (
        isinstance(t.type, str) and PLUGIN_TYPE.fullmatch(t.type) and not t.type.isupper()
    ):
        yield "type", _type_message(t.type)
    if t.priority is not None and not _is_int(t.priority):
        yield "priority", "must be an integer"
    if t.run_on not in _RUN_ON:
        yield "run_on", f"must be success, failure or always, not {t.run_on!r}"
    elif t.run_on == RunOn.FAILURE and not t.depends_on:
        yield "run_on", "run_on failure needs depends_on: a task without dependencies always runs"
    yield from _command(t)
    for key, value in t.env.items():
        if not isinstance(key, str) or not ENV_NAME.fullmatch(key):
            yield "env", f"{key!r} is not a valid environment variable name"
        elif not isinstance(value, str) or "\0" in value:
            yield f"env.{key}", "must be a string without NUL characters"
    for key, value in t.params.items():
        if not isinstance(key, str) or not isinstance(value, str):
            yield "params", f"{key!r}: parameters are strings"
    yield from _positive("wall_time", t.wall_time)
    yield from _positive("timeouts.staging", t.staging_timeout)
    yield from _positive("fetch_period", t.fetch_period)
    if t.kill_grace_period is not None and (
        not _finite(t.kill_grace_period) or t.kill_grace_period < 0
    ):
        yield "kill_grace_period", "must be a duration >= 0"
    mode = t.permissions
    if mode is not None and (not _is_int(mode) or not 0 <= mode <= 0o7777):
        yield "permissions", "must be a POSIX mode between 0 and 0o7777"
    yield from _staging(t)


_RUN_ON = frozenset(r.value for r in RunOn)


def _type_message(value: object) -> str:
    import difflib

    names = sorted(BUILTIN_TYPES)
    close = difflib.get_close_matches(str(value).upper(), names, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return (
        f"unknown task type {value!r} (built-in: {', '.join(names)}; plug-in type names are "
        f"not all upper-case){hint}"
    )


def _command(t: TaskDef) -> Iterator[tuple[str, str]]:
    c = t.command
    if c is None:
        if t.type in NEEDS_COMMAND:
            yield "command", f"a {t.type} task needs a command"
        return
    if isinstance(c, str):
        if not c.strip():
            yield "command", "must not be empty"
    elif not c:
        yield "command", "must not be empty"
    else:
        for j, arg in enumerate(c):
            if not isinstance(arg, str) or "\0" in arg:
                yield f"command[{j}]", "must be a string without NUL characters"


def _staging(t: TaskDef) -> Iterator[tuple[str, str]]:
    s = t.staging
    if s is None:
        if t.type in STAGING_TYPES:
            yield "direction", f"a {t.type} task needs direction and what to move"
        return
    if t.type in BUILTIN_TYPES and t.type not in STAGING_TYPES:
        yield "direction", f"staging keys are for DATA_STAGING and OUTPUT_FETCHING, not {t.type}"
        return
    if t.type == "OUTPUT_FETCHING" and s.direction != Direction.OUTPUT:
        yield "direction", "an OUTPUT_FETCHING task copies outputs: direction OUTPUT"
    yield from _staging_fields(s)


def _staging_fields(s: Staging) -> Iterator[tuple[str, str]]:
    if s.direction == Direction.INPUT:
        if not s.sources:
            yield "source", "an INPUT staging task needs a source (or sources)"
        if s.outputs:
            yield "outputs", "outputs are for OUTPUT and ARCHIVE_OUTPUT staging"
        for j, src in enumerate(s.sources):
            where = "source" if len(s.sources) == 1 else f"sources[{j}]"
            if not src.uri or not isinstance(src.uri, str):
                yield f"{where}", "must be a non-empty URI"
            if not _relative_path(src.destination):
                yield f"{where}.destination" if len(s.sources) > 1 else "destination", (
                    "must be a relative path without '..' (inside the working directory)"
                )
            if src.sha256 is not None and not SHA256.fullmatch(src.sha256):
                yield f"{where}.sha256" if len(s.sources) > 1 else "sha256", (
                    "must be 64 lower-case hex digits"
                )
            if src.max_bytes is not None and (not _is_int(src.max_bytes) or src.max_bytes < 1):
                yield f"{where}.max_bytes" if len(s.sources) > 1 else "max_bytes", (
                    "must be a positive integer"
                )
        return
    if s.sources:
        yield "source", "a source is for INPUT staging; OUTPUT staging uses outputs"
    if not s.outputs:
        yield "outputs", f"{s.direction} staging needs outputs (globs)"
    if not s.destination:
        yield "destination", f"{s.direction} staging needs a destination URI"
    for j, pattern in enumerate(s.outputs):
        if not _relative_path(pattern):
            yield f"outputs[{j}]", "must be a relative glob without '..'"


def _relative_path(path: object) -> bool:
    if not isinstance(path, str) or not path or path.startswith("/") or "\0" in path:
        return False
    return ".." not in posixpath.normpath(path).split("/")


def _positive(location: str, value: float | None) -> Iterator[tuple[str, str]]:
    if value is not None and (not _finite(value) or value <= 0):
        yield location, f"must be a positive duration, not {value!r}"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
