"""A workflow as the store writes it: checked, encoded once, and decodable again.

A workflow's **document** is its canonical text, a header line (canonical JSON of the
workflow's own fields) and one line per task::

    id TAB depends_on (comma-separated) TAB run_on TAB priority (or "") TAB shape digest TAB spec

Its sha256 is the workflow's **digest**: equal content, equal digest, so resubmitting is a
no-op and different content under one id a conflict.  The intake (see
:mod:`~mesos_wm.queue.intake`) stores the document itself and :func:`decode` turns it back
into a :class:`Prepared`, so a workflow is encoded once whichever way it is written.  Ids
contain no tab, comma or newline, and JSON text no raw control character, so the fields
split unambiguously.  Shapes are named by digest; their documents live in ``shapes``.

:func:`prepare` checks and encodes in one pass: plain tasks go through
:func:`~mesos_wm.queue.encode.plain_spec`; anything else, and any doubt (a shape with
problems, a dependency on a later task), runs the full checks of
:mod:`~mesos_wm.queue.validation`, which raise with every problem located.  Pure.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from mesos_wm.errors import DagCycleError, SpecError
from mesos_wm.queue import validation
from mesos_wm.queue.encode import header_text, labels_text, plain_spec, run_on_value
from mesos_wm.queue.model import TaskShape, Workflow, canonical, compact, safe_name


@dataclass(slots=True)
class Prepared:
    """A valid workflow as rows (row ids are allocated when it is inserted).

    Attributes:
        digest: sha256 of ``doc``.
        doc: the canonical document (see the module docstring).
        labels_json: canonical JSON of ``labels``.
        names: task ids, in order; ``deps``, ``run_ons``, ``priorities`` (resolved: a task
            without its own takes the workflow's), ``shape_refs`` (shape digests) and
            ``specs`` (spec JSON) have one entry per task too.
        shapes: shape documents by digest, for shapes the store may not know yet.
    """

    workflow_id: str
    name: str | None
    owner: str
    priority: int
    labels: dict[str, str]
    labels_json: str
    not_before: float | None
    directory: str
    digest: str
    doc: str
    names: list[str]
    deps: list[tuple[str, ...]]
    run_ons: list[str]
    priorities: list[int]
    shape_refs: list[str]
    specs: list[str]
    shapes: dict[str, TaskShape]


def check(workflow: Workflow) -> None:
    """Run every check on a workflow built in Python.

    Raises:
        DagCycleError: its dependencies form a cycle (and nothing else is wrong).
        SpecError: anything else is wrong, with every problem located.
    """
    found = validation.problems(workflow)
    if not found:
        return
    if all(p.location == "tasks" and "cycle" in p.message for p in found):
        raise DagCycleError(f"workflow {workflow.id!r}: {found[0].message}")
    raise SpecError(found, source=f"workflow {workflow.id!r}")


def shape_digest_of(shape: TaskShape) -> str:
    """Return the digest that names a shape in the ``shapes`` table."""
    return hashlib.sha256(canonical(shape.to_json()).encode()).hexdigest()


class ShapeMemo:
    """Digests of shapes found valid, by identity (cheaper than hashing a shape's value).

    Holds the shapes themselves, so an id cannot be reused by another object while it is
    remembered; forgets everything when ``limit`` is reached.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._by_id: dict[int, tuple[TaskShape, str]] = {}

    def get(self, shape: TaskShape) -> str | None:
        """Return the digest of a shape seen before, or None."""
        hit = self._by_id.get(id(shape))
        return hit[1] if hit is not None and hit[0] is shape else None

    def check(self, shape: TaskShape) -> str | None:
        """Return the shape's digest if it is valid (remembering it), else None."""
        if validation.shape_problems(shape):
            return None
        if len(self._by_id) >= self._limit:
            self._by_id.clear()
        digest = shape_digest_of(shape)
        self._by_id[id(shape)] = (shape, digest)
        return digest


def prepare(workflow: Workflow, memo: ShapeMemo) -> Prepared:
    """Check a workflow and encode it (no database access).

    Args:
        workflow: the workflow.
        memo: shapes found valid before; new ones are added.

    Returns:
        The prepared workflow.

    Raises:
        DagCycleError, SpecError: as :func:`check`; nothing is returned then.
    """
    w = workflow
    doubt = next(validation.header_problems(w), None) is not None
    tasks = w.tasks
    n = len(tasks)
    names: list[str] = [""] * n
    deps: list[tuple[str, ...]] = [()] * n
    run_ons: list[str] = [""] * n
    priorities: list[int] = [0] * n
    refs: list[str] = [""] * n
    specs: list[str] = [""] * n
    lines: list[str] = [""] * (n + 1)
    shapes: dict[str, TaskShape] = {}
    seen: set[str] = set()
    default = w.priority
    last_shape: TaskShape | None = None
    sd = ""
    for i, task in enumerate(tasks):
        shape = task.shape
        if shape is not last_shape:
            known = memo.get(shape)
            if known is None:
                known = memo.check(shape)
                if known is None:
                    doubt = True
                    continue
            sd, last_shape = known, shape
            if sd not in shapes:
                shapes[sd] = shape
        tid = task.id
        d = tuple(task.depends_on)
        if tid in seen or (d and (not seen.issuperset(d) or (len(d) > 1 and len(set(d)) < len(d)))):
            doubt = True
        seen.add(tid)
        prio = task.priority
        run_on = run_on_value(task.run_on) or ""
        spec = plain_spec(task)
        if spec is None:
            doubt = True
            spec = ""
        names[i], deps[i], run_ons[i], refs[i], specs[i] = tid, d, run_on, sd, spec
        priorities[i] = default if prio is None else prio
        lines[i + 1] = (
            f"{tid}\t{','.join(d)}\t{run_on}\t{'' if prio is None else prio}\t{sd}\t{spec}"
        )
    if doubt:
        check(w)
        for i, task in enumerate(tasks):
            if not specs[i]:
                specs[i] = compact(task.spec_json())
                lines[i + 1] += specs[i]
    lines[0] = header_text(w)
    doc = "\n".join(lines)
    labels = dict(w.labels)
    return Prepared(
        w.id, w.name, w.owner, w.priority, labels, labels_text(labels), w.not_before,
        w.directory(), hashlib.sha256(doc.encode()).hexdigest(), doc, names, deps, run_ons,
        priorities, refs, specs, shapes,
    )


_JSON = json.JSONDecoder()


def decode(digest: str, doc: str) -> Prepared:
    """Rebuild a prepared workflow from its document (as stored in the intake).

    Args:
        digest: the document's digest.
        doc: the document.

    Returns:
        The prepared workflow; ``shapes`` is empty (the store knows them).

    Raises:
        ValueError: the document is not one (a damaged store).
    """
    lines = doc.split("\n")
    head, end = _JSON.raw_decode(lines[0])
    if end != len(lines[0]):
        raise ValueError("trailing text after the workflow header")
    default = head["priority"]
    n = len(lines) - 1
    names: list[str] = [""] * n
    deps: list[tuple[str, ...]] = [()] * n
    run_ons: list[str] = [""] * n
    priorities: list[int] = [0] * n
    refs: list[str] = [""] * n
    specs: list[str] = [""] * n
    for i, line in enumerate(lines[1:]):
        tid, dep_text, run_on, prio, sd, spec = line.split("\t", 5)
        names[i], run_ons[i], refs[i], specs[i] = tid, run_on, sd, spec
        if dep_text:
            deps[i] = tuple(dep_text.split(","))
        priorities[i] = int(prio) if prio else default
    labels = head.get("labels", {})
    workflow_id = head["id"]
    return Prepared(
        workflow_id, head.get("name"), head["owner"], default, labels, labels_text(labels),
        head.get("not_before"), head.get("working_directory") or safe_name(workflow_id),
        digest, doc, names, deps, run_ons, priorities, refs, specs, {},
    )
