"""The fast path of submission: check a plain task and encode its spec in one pass.

Most tasks are *plain*: a built-in non-staging type, a command, environment variables,
parameters and perhaps a wall time.  :func:`plain_spec` checks such a task and returns its
spec as the exact text :func:`~mesos_wm.queue.model.compact` gives for
:meth:`~mesos_wm.queue.model.TaskDef.spec_json` (strings through json's own C escaper),
several times faster than building the dict and running the JSON encoder.  It returns None
for anything else; the caller then runs the full checks of :mod:`~mesos_wm.queue.validation`
and the general encoder.  It accepts only tasks in which the full checks find no problem,
so the two paths never disagree about validity.  Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from json.encoder import encode_basestring

from mesos_wm.queue.model import BUILTIN_TYPES, ID_PATTERN, TaskDef, Workflow, canonical
from mesos_wm.queue.states import RunOn

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NEEDS_COMMAND = frozenset({"JOB_SUBMISSION", "COMMAND"})
STAGING_TYPES = frozenset({"DATA_STAGING", "OUTPUT_FETCHING"})
_RUN_ON_TEXT = frozenset(r.value for r in RunOn)

_PREFIX = {t: '{"type":' + encode_basestring(t) for t in BUILTIN_TYPES - STAGING_TYPES}
_CACHE_LIMIT = 1 << 16
_good_ids: set[str] = set()
_good_env: set[str] = set()


def good_id(value: object) -> bool:
    """Tell whether ``value`` is a valid workflow or task id (remembering recent ones)."""
    if type(value) is not str:
        return False
    if value in _good_ids:
        return True
    if ID_PATTERN.fullmatch(value) is None:
        return False
    if len(_good_ids) >= _CACHE_LIMIT:
        _good_ids.clear()
    _good_ids.add(value)
    return True


def _good_env_name(key: str) -> bool:
    if ENV_NAME.fullmatch(key) is None:
        return False
    if len(_good_env) >= _CACHE_LIMIT:
        _good_env.clear()
    _good_env.add(key)
    return True


def _env_text(env: Mapping[str, str]) -> str | None:
    for key, value in env.items():
        if type(key) is not str or type(value) is not str or "\0" in value:
            return None
        if key not in _good_env and not _good_env_name(key):
            return None
    return _object_text(env)


def _params_text(params: Mapping[str, str]) -> str | None:
    for key, value in params.items():
        if type(key) is not str or type(value) is not str:
            return None
    return _object_text(params)


def _object_text(items: Mapping[str, str]) -> str:
    """JSON of a string-to-string mapping with sorted keys (checked by the caller)."""
    if not items:
        return "{}"
    return "{" + ",".join(f"{encode_basestring(k)}:{encode_basestring(v)}"
                          for k, v in sorted(items.items())) + "}"


def labels_text(labels: Mapping[str, str]) -> str:
    """Return ``canonical(dict(labels))``."""
    if not labels:
        return "{}"
    if all(type(k) is str and type(v) is str for k, v in labels.items()):
        return _object_text(labels)
    return canonical(dict(labels))


def header_text(w: Workflow) -> str:
    """Return ``canonical(w.header_json())``, quickly for the usual field types."""
    name, nb, wd = w.name, w.not_before, w.working_directory
    if (
        type(w.id) is not str
        or type(w.owner) is not str
        or type(w.priority) is not int
        or (name is not None and type(name) is not str)
        or (wd is not None and type(wd) is not str)
        or (nb is not None and (type(nb) not in (int, float) or not math.isfinite(nb)))
    ):
        return canonical(w.header_json())
    parts = ['{"id":', encode_basestring(w.id)]
    if w.labels:
        parts += [',"labels":', labels_text(w.labels)]
    if name is not None:
        parts += [',"name":', encode_basestring(name)]
    if nb is not None:
        parts += [',"not_before":', repr(nb)]
    parts += [',"owner":', encode_basestring(w.owner), ',"priority":', int.__repr__(w.priority)]
    if wd is not None:
        parts += [',"working_directory":', encode_basestring(wd)]
    parts.append("}")
    return "".join(parts)


def _number_text(value: object) -> str | None:
    """JSON of a positive finite duration, or None."""
    if type(value) is float:
        return float.__repr__(value) if 0.0 < value < math.inf else None
    if type(value) is int:
        return int.__repr__(value) if value > 0 else None
    return None


def run_on_value(value: object) -> str | None:
    """Return the stored form of a ``run_on`` (a :class:`RunOn` or its value), or None."""
    if type(value) is RunOn:
        return value._value_
    return value if type(value) is str and value in _RUN_ON_TEXT else None


def plain_spec(task: TaskDef) -> str | None:
    """Check a plain task and return its compact spec JSON; None if it is not plain or
    not valid (the caller then runs the full checks and the general encoder).

    Args:
        task: the task.

    Returns:
        ``compact(task.spec_json())``, or None.
    """
    prefix = _PREFIX.get(task.type)
    run_on = run_on_value(task.run_on)
    tid = task.id
    if (
        prefix is None
        or run_on is None
        or (run_on == "failure" and not task.depends_on)
        or task.staging is not None
        or type(tid) is not str
        or (tid not in _good_ids and not good_id(tid))
        or (task.priority is not None and type(task.priority) is not int)
        or task.kill_grace_period is not None
        or task.permissions is not None
        or task.staging_timeout is not None
        or task.fetch_period is not None
    ):
        return None
    text = prefix
    command = task.command
    if command is None:
        if task.type in NEEDS_COMMAND:
            return None
    elif type(command) is str:
        if not command.strip():
            return None
        text += ',"command":' + encode_basestring(command)
    elif type(command) in (tuple, list) and command:
        for arg in command:
            if type(arg) is not str or "\0" in arg:
                return None
        text += ',"command":[' + ",".join(map(encode_basestring, command)) + "]"
    else:
        return None
    env = task.env
    if env:
        if len(env) == 1:
            ((key, value),) = env.items()
            if (type(key) is not str or type(value) is not str or "\0" in value
                    or (key not in _good_env and not _good_env_name(key))):
                return None
            text += f',"env":{{{encode_basestring(key)}:{encode_basestring(value)}}}'
        else:
            env_text = _env_text(env)
            if env_text is None:
                return None
            text += ',"env":' + env_text
    if task.wall_time is not None:
        wall = _number_text(task.wall_time)
        if wall is None:
            return None
        text += ',"wall_time":' + wall
    if task.params:
        params = _params_text(task.params)
        if params is None:
            return None
        text += ',"params":' + params
    return text + "}"
