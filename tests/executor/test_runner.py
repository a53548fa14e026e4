"""ExecutorRunner: executor events in, status reports out (no network: events are fed)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from addict import Dict

from mesos_wm.executor.context import ExecutorSettings
from mesos_wm.executor.registry import HandlerRegistry
from mesos_wm.executor.runner import ExecutorRunner, StatusReport
from mesos_wm.ids import encode_bytes
from mesos_wm.proto.taskspec_pb2 import TaskResult, TaskSpec
from mesos_wm.wire.executor_events import Kill, Launch, LaunchGroup, Shutdown
from mesos_wm.wire.states import Reason, TaskState
from tests.executor.helpers import make_spec, pid_alive, read_pids
from tests.executor.test_job import STUBBORN


class Recorder:
    def __init__(self) -> None:
        self.reports: list[StatusReport] = []
        self.changed = asyncio.Event()

    async def __call__(self, report: StatusReport) -> None:
        self.reports.append(report)
        self.changed.set()

    def states(self, task_id: str) -> list[TaskState]:
        return [r.state for r in self.reports if r.task_id == task_id]

    def last(self, task_id: str) -> StatusReport:
        return [r for r in self.reports if r.task_id == task_id][-1]

    async def until_terminal(self, task_id: str, timeout: float = 30) -> StatusReport:
        deadline = time.monotonic() + timeout
        while True:
            mine = [r for r in self.reports if r.task_id == task_id]
            if mine and mine[-1].state in (
                TaskState.FINISHED, TaskState.FAILED, TaskState.KILLED, TaskState.ERROR
            ):
                return mine[-1]
            assert time.monotonic() < deadline, f"no terminal update for {task_id}"
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.1)
            except TimeoutError:
                pass


def task_info(task_id: str, data: bytes | str | None) -> Dict:
    info = Dict(task_id={"value": task_id}, name=task_id, agent_id={"value": "a1"})
    if isinstance(data, bytes):
        info.data = encode_bytes(data)
    elif isinstance(data, str):
        info.data = data
    return info


def launch(spec: TaskSpec, task_id: str | None = None) -> Launch:
    return Launch(task_info(task_id or spec.task_id, spec.SerializeToString()))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def runner(settings: ExecutorSettings, recorder: Recorder) -> ExecutorRunner:
    return ExecutorRunner(
        settings, recorder, registry=HandlerRegistry(plugins={}), shutdown_grace_seconds=2.0
    )


async def test_a_task_goes_starting_running_finished_with_its_result(
    runner: ExecutorRunner, recorder: Recorder, sandbox: Path
) -> None:
    await runner.handle(launch(make_spec("COMMAND", shell="echo hi", task_id="note")))
    final = await recorder.until_terminal("note")
    assert recorder.states("note") == [TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]
    result = TaskResult.FromString(final.data)
    assert (result.task_id, result.workflow_id, result.attempt) == ("note", "wf-1", 1)
    assert result.exit_code == 0
    assert result.finished_at >= result.started_at > 0
    assert (sandbox / "note.stdout").read_text() == "hi\n"
    assert runner.active_task_ids == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (None, "TaskInfo.data is empty"),
        ("%%% not base64 %%%", "not base64"),
        (b"\xff\xff\xff\xff", "not a TaskSpec"),
        (TaskSpec(task_id="x").SerializeToString(), "no task_id or no workflow_id"),
    ],
)
async def test_malformed_specs_are_task_errors(
    runner: ExecutorRunner, recorder: Recorder, data: bytes | str | None, words: str
) -> None:
    await runner.handle(Launch(task_info("bad", data)))
    [report] = recorder.reports
    assert report.state is TaskState.ERROR
    assert report.reason is Reason.TASK_INVALID
    assert words in (report.message or "")
    assert TaskResult.FromString(report.data).message == report.message
    await runner.handle(launch(make_spec("COMMAND", shell="true", task_id="after")))
    assert (await recorder.until_terminal("after")).state is TaskState.FINISHED


async def test_unknown_type_and_escaping_workdir_are_task_errors(
    runner: ExecutorRunner, recorder: Recorder
) -> None:
    future = make_spec("COMMAND", task_id="future")
    future.type = 42  # type: ignore[assignment]
    escaping = make_spec("ENV_SETUP", task_id="escape", working_directory="../../etc")
    await runner.handle(launch(future))
    await runner.handle(launch(escaping))
    for task_id, words in (("future", "unknown task type 42"), ("escape", "'..'")):
        report = await recorder.until_terminal(task_id)
        assert report.state is TaskState.ERROR
        assert report.reason is Reason.TASK_INVALID
        assert words in (report.message or "")


async def test_kill_escalates_and_reports_killed(
    runner: ExecutorRunner, recorder: Recorder, sandbox: Path
) -> None:
    spec = make_spec("JOB_SUBMISSION", task_id="job", argv=[sys.executable, "-c", STUBBORN])
    await runner.handle(launch(spec))
    pids_file = sandbox / "wf-1" / "pids"
    for _ in range(500):
        if pids_file.exists() and pids_file.read_text().count("\n") == 2:
            break
        await asyncio.sleep(0.02)
    leader, child = read_pids(pids_file)
    began = time.monotonic()
    await runner.handle(Kill("job", Dict(grace_period={"nanoseconds": 300_000_000})))
    final = await recorder.until_terminal("job")
    assert final.state is TaskState.KILLED
    assert 0.3 <= time.monotonic() - began < 5
    assert not pid_alive(leader)
    assert not pid_alive(child)
    await runner.handle(Kill("job", None))
    assert recorder.states("job").count(TaskState.KILLED) == 1


async def test_shutdown_kills_everything_within_the_grace_period(
    runner: ExecutorRunner, recorder: Recorder, sandbox: Path
) -> None:
    for n in range(3):
        await runner.handle(
            launch(make_spec("COMMAND", task_id=f"sleep-{n}", argv=["sleep", "60"]))
        )
    group = Dict(tasks=[launch(make_spec("COMMAND", task_id="g", argv=["sleep", "60"])).task])
    await runner.handle(LaunchGroup(group))
    while sum(r.state is TaskState.RUNNING for r in recorder.reports) < 4:
        await asyncio.sleep(0.02)
    began = time.monotonic()
    await runner.handle(Shutdown())
    assert runner.finished.is_set()
    assert time.monotonic() - began < 2.0
    for task_id in ("sleep-0", "sleep-1", "sleep-2", "g"):
        final = recorder.last(task_id)
        assert final.state is TaskState.KILLED
        assert final.message == "the executor is shutting down"
    await runner.handle(launch(make_spec("COMMAND", task_id="late", shell="true")))
    assert recorder.last("late").state is TaskState.KILLED


async def test_progress_of_monitoring_goes_out_as_running_updates(
    runner: ExecutorRunner, recorder: Recorder, sandbox: Path
) -> None:
    job = make_spec("JOB_SUBMISSION", task_id="job", argv=["sleep", "0.5"])
    monitor = make_spec(
        "MONITORING", task_id="mon", params={"job": "job"}, output_fetch_period_seconds=0.1
    )
    await runner.handle(launch(monitor))
    await runner.handle(launch(job))
    final = await recorder.until_terminal("mon")
    assert final.state is TaskState.FINISHED
    progress = [r for r in recorder.reports if r.task_id == "mon" and r.message
                and r.state is TaskState.RUNNING]
    assert progress
    assert progress[0].message.startswith("job job running for")


async def test_duplicate_launch_is_ignored(
    runner: ExecutorRunner, recorder: Recorder
) -> None:
    spec = make_spec("COMMAND", task_id="once", argv=["sleep", "0.3"])
    await runner.handle(launch(spec))
    await runner.handle(launch(spec))
    await recorder.until_terminal("once")
    assert recorder.states("once") == [TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]
