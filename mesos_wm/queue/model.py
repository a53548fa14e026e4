"""The Airavata task model: workflows of typed tasks with resources, retries and staging.

These are plain immutable values, built by the workflow file parser
(:mod:`mesos_wm.queue.spec`) or directly by library users, and checked by
:func:`mesos_wm.queue.validation.problems`.  Times are POSIX seconds, durations seconds.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mesos_wm.queue.states import RunOn

BUILTIN_TYPES: frozenset[str] = frozenset(
    {
        "ENV_SETUP",
        "DATA_STAGING",
        "JOB_SUBMISSION",
        "MONITORING",
        "OUTPUT_FETCHING",
        "ENV_CLEANUP",
        "COMMAND",
    }
)
"""The task types of the Airavata model; any other type names a plug-in handler."""

PRIORITY_NAMES: Mapping[str, int] = {"LOW": -50, "NORMAL": 0, "HIGH": 50, "URGENT": 100}
"""Named priorities; higher runs first."""

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}")
"""Workflow and task ids: 1-128 characters, no slashes or spaces (they name directories)."""


class Direction(enum.StrEnum):
    """Which way a DATA_STAGING task moves data."""

    INPUT = "INPUT"
    OUTPUT = "OUTPUT"
    ARCHIVE_OUTPUT = "ARCHIVE_OUTPUT"


class Operator(enum.StrEnum):
    """Placement constraint operators (Marathon's vocabulary)."""

    EQ = "EQ"  # attribute equals value
    NE = "NE"  # attribute differs from value (or is absent)
    LIKE = "LIKE"  # attribute matches the regular expression value
    UNLIKE = "UNLIKE"  # attribute does not match the regular expression value
    UNIQUE = "UNIQUE"  # at most one task of the workflow per attribute value
    GROUP_BY = "GROUP_BY"  # spread evenly over the attribute's values (value: how many)
    MAX_PER = "MAX_PER"  # at most value tasks of the workflow per attribute value


OPERATORS_WITH_VALUE: frozenset[Operator] = frozenset(
    {Operator.EQ, Operator.NE, Operator.LIKE, Operator.UNLIKE, Operator.MAX_PER}
)
OPERATORS_WITHOUT_VALUE: frozenset[Operator] = frozenset({Operator.UNIQUE})


@dataclass(frozen=True, slots=True)
class Resources:
    """What one attempt of a task asks for: Mesos scalars plus a number of ports."""

    cpus: float = 0.1
    mem: float = 64.0
    disk: float = 0.0
    gpus: float = 0.0
    ports: int = 0
    custom: tuple[tuple[str, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the resources as a JSON object (custom scalars under ``custom``)."""
        doc: dict[str, Any] = {"cpus": self.cpus, "mem": self.mem}
        if self.disk:
            doc["disk"] = self.disk
        if self.gpus:
            doc["gpus"] = self.gpus
        if self.ports:
            doc["ports"] = self.ports
        if self.custom:
            doc["custom"] = dict(self.custom)
        return doc

    def scalars(self) -> dict[str, float]:
        """Return every scalar resource that is asked for, by Mesos name."""
        out = {"cpus": self.cpus, "mem": self.mem, "disk": self.disk, "gpus": self.gpus}
        out.update(self.custom)
        return {name: value for name, value in out.items() if value}


@dataclass(frozen=True, slots=True)
class Constraint:
    """A placement constraint: ``[field, OPERATOR, value?]``; field is hostname or an agent
    attribute."""

    field: str
    operator: Operator
    value: str | None = None

    def to_json(self) -> list[str]:
        """Return the constraint in its workflow-file form."""
        return [self.field, self.operator.value] + ([self.value] if self.value is not None else [])


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of failed attempts.

    Attributes:
        max: retries after failures of the task itself (0 = run once).
        backoff: delay before the first retry; doubled for each further one.
        max_backoff: cap of the delay.
        max_infra: relaunches after infrastructure losses (agent lost, offer invalid),
            which do not consume ``max``.
    """

    max: int = 0
    backoff: float = 5.0
    max_backoff: float = 300.0
    max_infra: int = 5

    def delay(self, retry_number: int) -> float:
        """Return the backoff before retry ``retry_number`` (1 for the first retry)."""
        exponent = min(max(retry_number - 1, 0), 62)
        return float(min(self.backoff * (2**exponent), self.max_backoff))


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a task may wait for an offer and spend staging data (None = no limit)."""

    offer_wait: float | None = None
    staging: float | None = None


@dataclass(frozen=True, slots=True)
class StagingSource:
    """One input of an INPUT staging task."""

    uri: str
    destination: str
    sha256: str | None = None
    max_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Staging:
    """The data a DATA_STAGING (or OUTPUT_FETCHING) task moves."""

    direction: Direction
    sources: tuple[StagingSource, ...] = ()
    outputs: tuple[str, ...] = ()
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class TaskShape:
    """What the matcher needs to place a task; shared (interned) by tasks that agree."""

    resources: Resources = Resources()
    constraints: tuple[Constraint, ...] = ()
    image: str | None = None
    offer_wait: float | None = None
    retries: RetryPolicy = RetryPolicy()

    def to_json(self) -> dict[str, Any]:
        """Return the shape as a JSON object."""
        doc: dict[str, Any] = {"resources": self.resources.to_json()}
        if self.constraints:
            doc["constraints"] = [c.to_json() for c in self.constraints]
        if self.image is not None:
            doc["image"] = self.image
        if self.offer_wait is not None:
            doc["offer_wait"] = self.offer_wait
        r = self.retries
        doc["retries"] = [r.max, r.backoff, r.max_backoff, r.max_infra]
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TaskShape:
        """Rebuild a shape from :meth:`to_json` output."""
        res = dict(doc["resources"])
        custom = tuple(sorted((str(k), float(v)) for k, v in res.pop("custom", {}).items()))
        return cls(
            resources=Resources(custom=custom, **res),
            constraints=tuple(
                Constraint(c[0], Operator(c[1]), c[2] if len(c) > 2 else None)
                for c in doc.get("constraints", ())
            ),
            image=doc.get("image"),
            offer_wait=doc.get("offer_wait"),
            retries=RetryPolicy(*doc["retries"]),
        )


@dataclass(frozen=True, slots=True)
class TaskDef:
    """One node of a workflow.

    Attributes:
        id: unique within the workflow.
        type: a name of :data:`BUILTIN_TYPES` or of a plug-in handler.
        depends_on: ids of the tasks that must settle first.
        run_on: when to run, given how the parents settled.
        priority: higher runs first; None takes the workflow's priority.
        shape: resources, constraints, image, offer-wait timeout and retry policy.
        command: an argv list (tuple) or one shell string.
        env: environment variables of the command.
        wall_time: seconds the attempt may run before it is killed.
        staging: what a DATA_STAGING or OUTPUT_FETCHING task moves.
        staging_timeout: seconds staging may take.
        params: free-form parameters for plug-in handlers.
        kill_grace_period: seconds between SIGTERM and SIGKILL.
        permissions: POSIX mode of the working directory (ENV_SETUP).
        fetch_period: seconds between fetches (OUTPUT_FETCHING, MONITORING).
    """

    id: str
    type: str
    depends_on: tuple[str, ...] = ()
    run_on: RunOn = RunOn.SUCCESS
    priority: int | None = None
    shape: TaskShape = TaskShape()
    command: tuple[str, ...] | str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    wall_time: float | None = None
    staging: Staging | None = None
    staging_timeout: float | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    kill_grace_period: float | None = None
    permissions: int | None = None
    fetch_period: float | None = None

    def spec_json(self) -> dict[str, Any]:
        """Return what the executor needs (everything but placement and the DAG), with keys
        in a fixed order, so :func:`compact` of it is canonical."""
        doc: dict[str, Any] = {"type": self.type}
        if self.command is not None:
            doc["command"] = self.command if isinstance(self.command, str) else list(self.command)
        if self.env:
            doc["env"] = dict(sorted(self.env.items()))
        if self.wall_time is not None:
            doc["wall_time"] = self.wall_time
        if self.staging is not None:
            doc["staging"] = _staging_json(self.staging)
        if self.staging_timeout is not None:
            doc["staging_timeout"] = self.staging_timeout
        if self.params:
            doc["params"] = dict(sorted(self.params.items()))
        if self.kill_grace_period is not None:
            doc["kill_grace_period"] = self.kill_grace_period
        if self.permissions is not None:
            doc["permissions"] = self.permissions
        if self.fetch_period is not None:
            doc["fetch_period"] = self.fetch_period
        return doc


def _staging_json(staging: Staging) -> dict[str, Any]:
    doc: dict[str, Any] = {"direction": staging.direction.value}
    if staging.sources:
        doc["sources"] = [
            {k: v for k, v in (("uri", s.uri), ("destination", s.destination),
                               ("sha256", s.sha256), ("max_bytes", s.max_bytes)) if v is not None}
            for s in staging.sources
        ]
    if staging.outputs:
        doc["outputs"] = list(staging.outputs)
    if staging.destination is not None:
        doc["destination"] = staging.destination
    return doc


@dataclass(frozen=True, slots=True)
class Workflow:
    """A DAG of tasks submitted as one unit (an Airavata experiment/process).

    Attributes:
        id: chosen by the client; submitting the same content again is a no-op.
        tasks: the tasks, in file order.
        name: free text.
        owner: the gateway user or tenant; the unit of fair sharing.
        priority: default priority of the tasks; higher runs first.
        labels: free string labels, used to filter ``list``.
        not_before: earliest start (POSIX seconds) of any task.
        working_directory: directory name shared by the tasks (default: derived from id).
    """

    id: str
    tasks: tuple[TaskDef, ...]
    name: str | None = None
    owner: str = "default"
    priority: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    not_before: float | None = None
    working_directory: str | None = None

    def header_json(self) -> dict[str, Any]:
        """Return the workflow's own fields (not its tasks) as a JSON object."""
        doc: dict[str, Any] = {"id": self.id, "owner": self.owner, "priority": self.priority}
        if self.name is not None:
            doc["name"] = self.name
        if self.labels:
            doc["labels"] = dict(self.labels)
        if self.not_before is not None:
            doc["not_before"] = self.not_before
        if self.working_directory is not None:
            doc["working_directory"] = self.working_directory
        return doc

    def directory(self) -> str:
        """Return the working directory name of the workflow's tasks."""
        return self.working_directory or safe_name(self.id)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical(doc: Any) -> str:
    """Serialize ``doc`` as canonical JSON (sorted keys, no spaces), used for digests."""
    return _CANONICAL.encode(doc)


def compact(doc: Any) -> str:
    """Serialize ``doc`` as JSON in its own key order (for documents built in a fixed order,
    such as :meth:`TaskDef.spec_json`)."""
    return _COMPACT.encode(doc)


def digest(parts: list[str]) -> str:
    """Return the sha256 hex digest of canonical JSON parts, one per line."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


_SAFE = re.compile(r"[A-Za-z0-9_-]")
_ALL_SAFE = re.compile(r"[A-Za-z0-9_-]*")


def safe_name(text: str) -> str:
    """Escape ``text`` into ``[A-Za-z0-9_-~]`` characters, injectively (``.`` is ``~2e``)."""
    if _ALL_SAFE.fullmatch(text):
        return text
    return "".join(
        ch if _SAFE.fullmatch(ch) else "".join(f"~{b:02x}" for b in ch.encode()) for ch in text
    )


MAX_MESOS_ID = 200


def mesos_task_id(workflow_id: str, task_id: str, attempt: int) -> str:
    """Derive the Mesos TaskID of an attempt, deterministically.

    The id is ``<workflow>.<task>.a<attempt>`` with both names escaped by
    :func:`safe_name`, so distinct triples give distinct ids and the id has no ``/``,
    spaces or dot-only names.  Ids over 200 characters are shortened with a hash.

    Args:
        workflow_id: the workflow's id.
        task_id: the task's id within the workflow.
        attempt: the attempt number, 1 for the first launch.

    Returns:
        The Mesos task id.
    """
    value = f"{safe_name(workflow_id)}.{safe_name(task_id)}.a{attempt}"
    if len(value) <= MAX_MESOS_ID:
        return value
    h = hashlib.sha256(f"{workflow_id}\0{task_id}".encode()).hexdigest()[:24]
    return f"{value[:MAX_MESOS_ID - 40]}~h{h}.a{attempt}"


def resolve_priority(value: int | str) -> int:
    """Map a priority name (URGENT, NORMAL, ...) or integer to an integer.

    Raises:
        ValueError: an unknown name.
    """
    if isinstance(value, int):
        return value
    try:
        return PRIORITY_NAMES[value.upper()]
    except KeyError:
        names = ", ".join(PRIORITY_NAMES)
        raise ValueError(f"unknown priority {value!r} (use {names} or an integer)") from None
