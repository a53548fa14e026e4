"""Model values: Mesos task ids, priorities, shapes, TaskSpecs; the pure layers do no I/O."""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from mesos_wm import proto
from mesos_wm.queue import TaskShape, mesos_task_id
from mesos_wm.queue.model import (
    Constraint,
    Direction,
    Operator,
    Resources,
    RetryPolicy,
    Staging,
    StagingSource,
    TaskDef,
    resolve_priority,
    safe_name,
)
from mesos_wm.queue.taskspec import build_task_spec

IDS = st.text(min_size=1, max_size=140)
MESOS_ID = re.compile(r"[A-Za-z0-9_~.-]+")


@given(IDS, IDS, st.integers(1, 10_000))
def test_mesos_task_ids_are_safe_and_bounded(workflow_id: str, task_id: str, attempt: int) -> None:
    value = mesos_task_id(workflow_id, task_id, attempt)
    assert MESOS_ID.fullmatch(value) and value not in (".", "..")
    assert len(value) <= 220
    assert value == mesos_task_id(workflow_id, task_id, attempt)


@given(st.tuples(IDS, IDS, st.integers(1, 50)), st.tuples(IDS, IDS, st.integers(1, 50)))
def test_mesos_task_ids_are_distinct_for_distinct_attempts(
    a: tuple[str, str, int], b: tuple[str, str, int]
) -> None:
    if a != b:
        assert mesos_task_id(*a) != mesos_task_id(*b)


def test_mesos_task_id_examples() -> None:
    assert mesos_task_id("exp-42", "stage-in", 3) == "exp-42.stage-in.a3"
    assert mesos_task_id("a.b", "c", 1) == "a~2eb.c.a1"
    assert safe_name("ü/x") == "~c3~bc~2fx"


def test_priorities() -> None:
    assert [resolve_priority(p) for p in ("URGENT", "normal", 7, -3)] == [100, 0, 7, -3]


def test_shapes_round_trip_through_json() -> None:
    shape = TaskShape(
        resources=Resources(cpus=2, mem=1024, disk=10, gpus=1, ports=2,
                            custom=(("fpga", 1.0),)),
        constraints=(Constraint("rack", Operator.EQ, "r1"),
                     Constraint("hostname", Operator.UNIQUE)),
        image="python:3.12", offer_wait=60.0,
        retries=RetryPolicy(max=2, backoff=1.0, max_backoff=8.0, max_infra=4),
    )
    assert TaskShape.from_json(shape.to_json()) == shape
    assert shape.resources.scalars() == {"cpus": 2, "mem": 1024, "disk": 10, "gpus": 1,
                                         "fpga": 1.0}


def test_task_specs_carry_everything_the_executor_needs() -> None:
    stage = TaskDef(
        "stage-in", "DATA_STAGING", env={"B": "2", "A": "1"}, staging_timeout=30.0,
        staging=Staging(Direction.INPUT, sources=(
            StagingSource("https://x/in.dat", "inputs/in.dat", "ab" * 32, 1000),)),
    )
    spec = build_task_spec("exp-42", "stage-in", 2, "exp-42", stage.spec_json())
    assert (spec.workflow_id, spec.task_id, spec.attempt, spec.working_directory) == (
        "exp-42", "stage-in", 2, "exp-42")
    assert proto.task_type_name(spec) == "DATA_STAGING"
    assert spec.staging.direction == proto.INPUT and spec.staging_timeout_seconds == 30.0
    source = spec.staging.sources[0]
    assert (source.uri, source.destination, source.sha256, source.max_bytes) == (
        "https://x/in.dat", "inputs/in.dat", "ab" * 32, 1000)
    out = TaskDef("out", "DATA_STAGING", staging=Staging(
        Direction.ARCHIVE_OUTPUT, outputs=("o/*",), destination="file:///srv/x/"))
    spec = build_task_spec("w", "out", 1, "w", out.spec_json())
    assert spec.staging.direction == proto.ARCHIVE_OUTPUT
    assert list(spec.staging.output_globs) == ["o/*"]
    assert spec.staging.destination_uri == "file:///srv/x/"
    job = TaskDef("run", "gsissh", command=("a", "b"), wall_time=60.0, params={"h": "x"},
                  kill_grace_period=5.0, permissions=0o750, fetch_period=10.0)
    spec = build_task_spec("w", "run", 1, "w", job.spec_json())
    assert (spec.type, spec.plugin_type, list(spec.command.argv)) == (proto.PLUGIN, "gsissh",
                                                                      ["a", "b"])
    assert (spec.wall_time_seconds, spec.kill_grace_period_seconds, spec.directory_mode,
            spec.output_fetch_period_seconds, dict(spec.params)) == (60.0, 5.0, 0o750, 10.0,
                                                                      {"h": "x"})


def test_pure_modules_import_no_io_libraries() -> None:
    code = (
        "import sys\n"
        "import mesos_wm.queue.states, mesos_wm.queue.model, mesos_wm.queue.spec,"
        " mesos_wm.queue.validation, mesos_wm.queue.dag, mesos_wm.queue.policy,"
        " mesos_wm.queue.ready, mesos_wm.queue.encode, mesos_wm.queue.prepare\n"
        "bad = {'sqlite3', 'psycopg', 'asyncio', 'aiohttp'} & set(sys.modules)\n"
        "print(sorted(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_opening_sqlite_does_not_import_psycopg() -> None:
    code = (
        "import sys\n"
        "from mesos_wm.queue import TaskQueue\n"
        "TaskQueue.open('sqlite:///:memory:').close()\n"
        "print('psycopg' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
