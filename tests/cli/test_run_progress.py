"""Progress output: a redrawn line on a terminal, plain lines otherwise; the summary table."""

from __future__ import annotations

import io

from mesos_wm.cli.progress import Progress, bar, problem_lines, summary_table
from mesos_wm.framework import StatusEvent
from mesos_wm.queue import AttemptRecord, TaskRecord, TaskState, WorkflowRecord, WorkflowState
from mesos_wm.queue.model import TaskShape


def event(state: str, task_state: TaskState, workflow_state: WorkflowState | None = None,
          message: str | None = None) -> StatusEvent:
    return StatusEvent("wf", "run", 1, "wf.run.a1", state, task_state, workflow_state, True,
                       False, None, message, None, 0.0)


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.event(event("TASK_STARTING", TaskState.STARTING))
    progress.event(event("TASK_FINISHED", TaskState.FINISHED, WorkflowState.COMPLETED, "exit 0"))
    progress.status("1 running")
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "wf/run FINISHED: exit 0", "workflow wf COMPLETED"]
    assert "\r" not in out.getvalue()


def test_a_live_line_on_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True)
    progress.status("2 waiting")
    progress.line("something happened")
    progress.close()
    text = out.getvalue()
    assert text.count("\r\x1b[2K") == 3
    assert "2 waiting" in text and "something happened\n" in text


def test_summary_and_problems() -> None:
    record = WorkflowRecord("wf", None, "alice", 100, {}, WorkflowState.FAILED, None, 10.0, 75.0,
                            6, 6, 1)
    table = summary_table([record]).splitlines()
    assert table[1].split() == ["wf", "alice", "100", "FAILED", "6/6", "1", "01:05"]
    attempt = AttemptRecord(1, "wf.run.a1", "TASK_FAILED", "S1", "e", 1.0, 2.0, 2.0, None,
                            "boom", 3, False)
    task = TaskRecord(1, "wf", "run", "JOB_SUBMISSION", TaskState.FAILED, (), "success", 0,
                      TaskShape(), 0, 0, None, None, False, 2.0, (attempt,))
    assert problem_lines([task]) == ["  wf/run: FAILED exit 3 - boom"]
    assert bar(1, 4, width=8) == "[##......]"
