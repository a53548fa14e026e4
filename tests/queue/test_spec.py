"""Workflow files: the documented format parses; every mistake is reported with its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mesos_wm.errors import SpecError
from mesos_wm.queue import (
    Direction,
    Operator,
    RunOn,
    load_file,
    load_text,
    parse_duration,
)
from mesos_wm.queue.prepare import ShapeMemo, prepare

EXAMPLE = """\
id: exp-42                    # workflow id, chosen by the client; resubmitting is idempotent
name: Gaussian run 42         # optional, free text
owner: gateway-user-7         # optional (default "default"); the unit of fair sharing
priority: URGENT              # URGENT | NORMAL | integer (higher runs first); default NORMAL
labels: {gateway: seagrid}    # optional string map
not_before: 2026-12-01T08:00:00Z   # optional earliest start (RFC 3339)
defaults:                     # optional; merged into every task below
  resources: {cpus: 0.5, mem: 256}
  retries: {max: 3, backoff: 5s, max_backoff: 5m}
tasks:
  - id: setup
    type: ENV_SETUP
  - id: stage-in
    type: DATA_STAGING
    direction: INPUT                       # INPUT | OUTPUT | ARCHIVE_OUTPUT
    source: https://data.example.org/in.dat
    destination: inputs/in.dat             # relative to the workflow's working directory
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    depends_on: [setup]
  - id: run
    type: JOB_SUBMISSION
    command: [python3, compute.py, inputs/in.dat]   # argv list, or one shell string
    env: {OMP_NUM_THREADS: "2"}
    resources: {cpus: 2, mem: 2048, disk: 1000, gpus: 0, ports: 1}
    constraints:
      - [rack, EQ, r1]
      - [hostname, UNIQUE]
    image: python:3.12-slim                # optional: run in this Docker image
    wall_time: 30m                         # durations: 500ms, 30s, 5m, 2h, 1d
    depends_on: [stage-in]
  - id: stage-out
    type: DATA_STAGING
    direction: OUTPUT
    outputs: ["outputs/*.dat", "logs/*"]  # globs in the working directory
    destination: file:///srv/storage/exp-42/
    depends_on: [run]
    run_on: always                         # success (default) | failure | always
  - id: cleanup
    type: ENV_CLEANUP
    depends_on: [stage-out]
    run_on: always
  - id: note
    type: COMMAND                          # a plain command, no Airavata semantics
    command: "echo done"
    depends_on: [cleanup]
"""


def problems(text: str, source: str = "wf.yaml") -> list[str]:
    with pytest.raises(SpecError) as info:
        load_text(text, source)
    assert info.value.source == source
    return [str(p) for p in info.value.problems]


def test_the_documented_example_parses() -> None:
    [w] = load_text(EXAMPLE, "exp-42.yaml")
    assert (w.id, w.owner, w.priority, w.labels) == ("exp-42", "gateway-user-7", 100,
                                                     {"gateway": "seagrid"})
    assert w.not_before == 1796112000.0
    setup, stage_in, run, stage_out, cleanup, note = w.tasks
    assert setup.shape.resources.cpus == 0.5 and setup.shape.retries.max_backoff == 300.0
    assert stage_in.staging is not None and stage_in.staging.direction == Direction.INPUT
    assert stage_in.staging.sources[0].destination == "inputs/in.dat"
    assert run.command == ("python3", "compute.py", "inputs/in.dat")
    assert (run.shape.resources.cpus, run.shape.resources.ports) == (2.0, 1)
    assert run.shape.resources.mem == 2048 and run.shape.retries.max == 3
    assert [(c.field, c.operator, c.value) for c in run.shape.constraints] == [
        ("rack", Operator.EQ, "r1"), ("hostname", Operator.UNIQUE, None)]
    assert (run.shape.image, run.wall_time, run.env) == ("python:3.12-slim", 1800.0,
                                                         {"OMP_NUM_THREADS": "2"})
    assert stage_out.run_on == RunOn.ALWAYS and stage_out.staging is not None
    assert stage_out.staging.outputs == ("outputs/*.dat", "logs/*")
    assert cleanup.depends_on == ("stage-out",) and note.command == "echo done"
    assert setup.shape is cleanup.shape  # equal shapes are shared


def test_json_and_yaml_give_the_same_workflow(tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE)
    doc["not_before"] = doc["not_before"].isoformat()
    path = tmp_path / "exp-42.json"
    path.write_text(json.dumps(doc))
    [from_json] = load_file(path)
    [from_yaml] = load_text(EXAMPLE, "exp-42.yaml")
    assert from_json == from_yaml
    assert prepare(from_json, ShapeMemo()).digest == prepare(from_yaml, ShapeMemo()).digest


def test_key_order_does_not_change_the_content_digest() -> None:
    a = load_text("id: w\ntasks: [{id: t, type: COMMAND, command: x, env: {A: '1', B: '2'}}]",
                  "a.yaml")[0]
    b = load_text("id: w\ntasks: [{env: {B: '2', A: '1'}, command: x, type: COMMAND, id: t}]",
                  "b.yaml")[0]
    c = load_text("id: w\ntasks: [{id: t, type: COMMAND, command: y}]", "c.yaml")[0]
    memo = ShapeMemo()
    assert prepare(a, memo).digest == prepare(b, memo).digest != prepare(c, memo).digest


def test_a_file_can_hold_several_workflows() -> None:
    text = "workflows:\n  - {id: a, tasks: [{id: t, type: ENV_SETUP}]}\n" \
           "  - {id: b, tasks: [{id: t, type: ENV_SETUP}]}\n"
    assert [w.id for w in load_text(text, "many.yaml")] == ["a", "b"]
    text += "  - {id: a, tasks: [{id: t, type: ENV_SETUP}]}\n"
    assert problems(text) == ["workflows[2].id: duplicate workflow id 'a'"]


def test_every_problem_is_reported_with_its_location() -> None:
    text = """\
id: exp 1
priority: SOMETIMES
colour: blue
defaults:
  resources: {cpus: many}
tasks:
  - id: a
    type: JOB_SUBMISION
    resources: {mem: -5, disk: .inf, cpu: 1, ports: 1.5}
    constraints: [[rack, LIKE, "("], [host, UNIQUE, x], [host, NEAR, y], rack]
    wall_time: soon
    command: [python3, 7]
  - id: b
    type: DATA_STAGING
    direction: SIDEWAYS
    depends_on: [c]
  - id: c
    type: COMMAND
    command: ""
    depends_on: [b]
    retries: {max: -1, backoff: 10s, max_backoff: 1s, jitter: 3}
    timeouts: {offer_wait: 0s, boot: 1m}
  - {id: d, type: DATA_STAGING, direction: INPUT, source: "http://x/y", destination: ../y}
  - {id: e, type: DATA_STAGING, direction: OUTPUT, outputs: ["/etc/*"], sha256: abc}
  - {id: f, type: COMMAND, command: x, run_on: failure}
  - {id: g, type: COMMAND, command: x, not_before: 2026-01-01}
"""
    found = problems(text)
    expected = [
        "priority: unknown priority 'SOMETIMES'",
        "colour: unknown key",
        "defaults.resources.cpus: must be a number, not 'many'",
        "id: 'exp 1' is not a valid id",
        "tasks[0].type: unknown task type 'JOB_SUBMISION'",
        "did you mean JOB_SUBMISSION?",
        "tasks[0].resources.cpu: unknown key",
        "tasks[0].resources.ports: must be an integer, not 1.5",
        "tasks[0].resources.mem: must be a finite number >= 0, not -5.0",
        "tasks[0].resources.disk: must be a finite number >= 0, not inf",
        "tasks[0].constraints[0]: '(' is not a valid regular expression",
        "tasks[0].constraints[1]: UNIQUE takes no value",
        "tasks[0].constraints[2]: unknown operator 'NEAR'",
        "tasks[0].constraints[3]: must be [field, OPERATOR] or [field, OPERATOR, value]",
        "tasks[0].wall_time: 'soon' is not a duration",
        "tasks[0].command[1]: must be a string, not int",
        "tasks[1].direction: must be INPUT, OUTPUT or ARCHIVE_OUTPUT, not 'SIDEWAYS'",
        "tasks[2].command: must not be empty",
        "tasks[2].retries.jitter: unknown key",
        "tasks[2].retries.max: must be an integer >= 0",
        "tasks[2].retries.max_backoff: must not be shorter than backoff",
        "tasks[2].timeouts.boot: unknown key",
        "tasks[2].timeouts.offer_wait: must be a positive duration",
        "tasks[3].destination: must be a relative path without '..'",
        "tasks[4].outputs[0]: must be a relative glob without '..'",
        "tasks[4].destination: OUTPUT staging needs a destination URI",
        "tasks[4].sha256",
        "tasks[5].run_on: run_on failure needs depends_on",
        "tasks[6].not_before: unknown key",
        "tasks: dependency cycle: b -> c -> b",
    ]
    for piece in expected:
        assert any(piece in p for p in found), f"missing {piece!r} in:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "the file is empty"),
        ("[1, 2]", "a workflow file must hold a mapping"),
        ("id: [unclosed", "line 1, column"),
        ("id: w\n", "tasks: is required"),
        ("tasks: []\n", "id: is required"),
        ("id: w\ntasks: {a: 1}\n", "tasks: must be a list of tasks"),
        ("id: w\ntasks: [5]\n", "tasks[0]: must be a mapping, not int"),
        ("id: w\ntasks: [{id: a}]\n", "tasks[0].type: is required"),
        ("id: w\nnot_before: 2026-01-01T00:00:00\ntasks: [{id: a, type: ENV_SETUP}]\n",
         "not_before: a time needs a time zone"),
        ("workflows: []\n", "workflows: must be a non-empty list"),
    ],
)
def test_structural_mistakes(text: str, where: str) -> None:
    assert any(where in p for p in problems(text)), problems(text)


def test_invalid_json_names_line_and_column() -> None:
    assert problems('{"id": "w",\n "tasks": [}', "w.json")[0].startswith("line 2, column")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the file"):
        load_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400),
     (12, 12.0), (1.5, 1.5)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5", "5 m", "m", "-5s", "1.s", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_plug_in_types_params_and_sources_list() -> None:
    [w] = load_text("""\
id: w
tasks:
  - id: p
    type: gsissh
    params: {host: login.example.org, port: 22}
    permissions: "0750"
    kill_grace_period: 10s
  - id: s
    type: DATA_STAGING
    direction: input
    sources:
      - {uri: "https://x/a.dat"}
      - {uri: "s3://b/k", destination: in/k, max_bytes: 1000}
""", "w.yaml")
    plugin, staging = w.tasks
    assert plugin.type == "gsissh" and plugin.params == {"host": "login.example.org", "port": "22"}
    assert plugin.permissions == 0o750 and plugin.kill_grace_period == 10.0
    assert staging.staging is not None
    assert [(s.uri, s.destination, s.max_bytes) for s in staging.staging.sources] == [
        ("https://x/a.dat", "a.dat", None), ("s3://b/k", "in/k", 1000)]
