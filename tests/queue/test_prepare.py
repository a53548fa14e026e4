"""The one-pass check and encoding of submissions: the fast paths give exactly what the
general encoder gives, documents decode back to the same rows, and anything doubtful goes
through the full checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.errors import DagCycleError, SpecError
from mesos_wm.queue import RetryPolicy, TaskDef, TaskShape, Workflow
from mesos_wm.queue.encode import header_text, labels_text, plain_spec
from mesos_wm.queue.model import (
    Direction,
    Resources,
    Staging,
    StagingSource,
    canonical,
    compact,
)
from mesos_wm.queue.prepare import ShapeMemo, decode, prepare

TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,10}", fullmatch=True)
ENV_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
DURATIONS = st.none() | st.integers(1, 10**6) | st.floats(1e-3, 1e6)


@st.composite
def plain_tasks(draw: st.DrawFn) -> TaskDef:
    kind = draw(st.sampled_from(["COMMAND", "JOB_SUBMISSION", "ENV_SETUP", "MONITORING",
                                 "ENV_CLEANUP"]))
    command = draw(st.none() | TEXT.filter(str.strip) | st.lists(TEXT, min_size=1, max_size=4)
                   .map(tuple))
    if command is None and kind in ("COMMAND", "JOB_SUBMISSION"):
        command = "true"
    return TaskDef(
        draw(IDS), kind, command=command,
        env=draw(st.dictionaries(ENV_KEYS, TEXT.filter(lambda v: "\0" not in v), max_size=4)),
        params=draw(st.dictionaries(TEXT, TEXT, max_size=3)),
        wall_time=draw(DURATIONS),
        priority=draw(st.none() | st.integers(-100, 100)),
    )


@settings(max_examples=300, deadline=None)
@given(plain_tasks())
def test_plain_specs_are_encoded_exactly_like_the_general_encoder(task: TaskDef) -> None:
    if task.command is not None and not isinstance(task.command, str) and any(
            "\0" in a for a in task.command):
        assert plain_spec(task) is None
        return
    assert plain_spec(task) == compact(task.spec_json())


@settings(max_examples=200, deadline=None)
@given(IDS, st.one_of(st.none(), TEXT), TEXT.filter(bool),
       st.integers(-1000, 1000), st.dictionaries(ENV_KEYS, TEXT, max_size=3),
       st.none() | st.integers(0, 2**40) | st.floats(0, 1e12), st.none() | IDS)
def test_headers_and_labels_are_encoded_exactly_like_canonical_json(
    wid: str, name: str | None, owner: str, priority: int, labels: dict[str, str],
    not_before: float | None, directory: str | None,
) -> None:
    w = Workflow(wid, (TaskDef("t", "ENV_SETUP"),), name=name, owner=owner, priority=priority,
                 labels=labels, not_before=not_before, working_directory=directory)
    assert header_text(w) == canonical(w.header_json())
    assert labels_text(w.labels) == canonical(dict(w.labels))


def test_tasks_that_are_not_plain_take_the_general_path() -> None:
    staging = TaskDef("in", "DATA_STAGING", staging=Staging(
        direction=Direction.INPUT, sources=(StagingSource("https://x/y", "y"),)))
    odd = [
        staging,
        TaskDef("p", "gsissh", params={"host": "h"}),
        TaskDef("k", "COMMAND", command="x", kill_grace_period=3.0),
        TaskDef("w", "COMMAND", command="x", wall_time=True),  # type: ignore[arg-type]
        TaskDef("e", "COMMAND", command="x", env={1: "x", "A": "y"}),  # type: ignore[dict-item]
        TaskDef("c", "COMMAND", command=("a", 7)),  # type: ignore[arg-type]
    ]
    for task in odd:
        assert plain_spec(task) is None
    good = Workflow("w", (odd[0], odd[1], odd[2]))
    p = prepare(good, ShapeMemo())
    assert p.specs == [compact(t.spec_json()) for t in good.tasks]


def _workflow(**kw: object) -> Workflow:
    shape_a = TaskShape(resources=Resources(cpus=1.0, mem=128.0))
    shape_b = TaskShape(resources=Resources(cpus=2.0, mem=64.0), retries=RetryPolicy(max=2))
    tasks = (
        TaskDef("late", "COMMAND", ("early",), command="x", shape=shape_b, priority=7),
        TaskDef("early", "ENV_SETUP", shape=shape_a),
        TaskDef("both", "JOB_SUBMISSION", ("early", "late"), run_on="always",  # type: ignore
                command=["a", "b"], env={"B": "2", "A": "é\n"}, shape=shape_a),
    )
    return Workflow("wf-1", tasks, **kw)  # type: ignore[arg-type]


def test_documents_decode_to_the_same_rows() -> None:
    w = _workflow(name="n", owner="o", priority=3, labels={"k": "v"}, not_before=5.0,
                  working_directory="dir")
    p = prepare(w, ShapeMemo())
    q = decode(p.digest, p.doc)
    for name in ("workflow_id", "name", "owner", "priority", "labels", "labels_json",
                 "not_before", "directory", "digest", "doc", "names", "deps", "run_ons",
                 "priorities", "shape_refs", "specs"):
        assert getattr(q, name) == getattr(p, name), name
    assert p.priorities == [7, 3, 3]
    assert len(set(p.shape_refs)) == 2 and len(p.shapes) == 2


def test_the_digest_follows_content_only() -> None:
    memo = ShapeMemo()
    assert prepare(_workflow(), memo).digest == prepare(_workflow(), ShapeMemo()).digest
    assert prepare(_workflow(), memo).digest != prepare(_workflow(priority=1), memo).digest
    a = Workflow("w", (TaskDef("None", "ENV_SETUP"), TaskDef("x", "ENV_SETUP", ("None",))))
    b = Workflow("w", (TaskDef("None", "ENV_SETUP"), TaskDef("x", "ENV_SETUP")))
    assert prepare(a, memo).digest != prepare(b, memo).digest


def test_doubtful_workflows_get_the_full_checks() -> None:
    memo = ShapeMemo()
    with pytest.raises(DagCycleError, match="a -> b -> a"):
        prepare(Workflow("w", (TaskDef("a", "ENV_SETUP", ("b",)),
                               TaskDef("b", "ENV_SETUP", ("a",)))), memo)
    bad_shape = TaskShape(resources=Resources(cpus=-1.0))
    with pytest.raises(SpecError, match=r"tasks\[1\].resources.cpus"):
        prepare(Workflow("w", (TaskDef("a", "ENV_SETUP"),
                               TaskDef("b", "ENV_SETUP", shape=bad_shape))), memo)
    with pytest.raises(SpecError, match=r"tasks\[1\].id: duplicate"):
        prepare(Workflow("w", (TaskDef("a", "ENV_SETUP", ("a",)),
                               TaskDef("a", "ENV_SETUP"))), memo)
    with pytest.raises(SpecError, match="id"):
        prepare(Workflow("bad id", (TaskDef("a", "ENV_SETUP"),)), memo)
    assert memo.get(bad_shape) is None
