"""Progress output of ``mesos-wm run`` and ``mesos-wm submit --wait``, and the summary table.

On a terminal one status line is redrawn in place (tasks by state, throughput, elapsed
time) and notable events are printed above it; otherwise every event is one plain,
timestamped log line, which is what log files and CI want.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from mesos_wm.framework.status import StatusEvent
from mesos_wm.queue import TaskRecord, WorkflowRecord, WorkflowState

__all__ = ["Progress", "bar", "problem_lines", "summary_table", "table"]

_CLEAR = "\r\x1b[2K"
_SHOWN_STATES = frozenset({"TASK_RUNNING", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
                           "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE"})


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )


def bar(done: int, total: int, width: int = 30) -> str:
    """``[#########.....]`` for ``done`` of ``total``."""
    filled = width if total <= 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """Writes progress lines for status events and a redrawn status line on a terminal.

    Args:
        stream: where to write (default stdout).
        live: redraw one line in place (default: when ``stream`` is a terminal).
    """

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.started = time.time()
        self._status = ""

    def event(self, event: StatusEvent) -> None:
        """Report one committed status update (only the interesting ones)."""
        if event.workflow_id is None or not event.applied:
            return
        name = f"{event.workflow_id}/{event.task_id}"
        if event.state in _SHOWN_STATES:
            state = event.task_state.value if event.task_state else event.state
            detail = f" (attempt {event.attempt})" if event.attempt and event.attempt > 1 else ""
            if event.retry:
                detail += ", will be retried"
            if event.message and event.state != "TASK_RUNNING":
                detail += f": {event.message}"
            self.line(f"{name} {state}{detail}")
        if event.workflow_state is not None and event.workflow_state in (
                WorkflowState.COMPLETED, WorkflowState.FAILED, WorkflowState.CANCELED):
            self.line(f"workflow {event.workflow_id} {event.workflow_state.value}")

    def line(self, text: str) -> None:
        """Print one message (above the status line on a terminal)."""
        stamp = time.strftime("%H:%M:%S")
        if self.live:
            self.stream.write(f"{_CLEAR}{stamp} {text}\n{self._status}")
        else:
            self.stream.write(f"{stamp} {text}\n")
        self.stream.flush()

    def status(self, text: str) -> None:
        """Redraw the status line (terminal only)."""
        if not self.live:
            return
        self._status = f"[{_duration(time.time() - self.started)}] {text}"
        self.stream.write(_CLEAR + self._status)
        self.stream.flush()

    def close(self) -> None:
        """End the status line."""
        if self.live and self._status:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._status = ""


def summary_table(workflows: Sequence[WorkflowRecord]) -> str:
    """The final table: one row per workflow with its outcome."""
    rows = [["WORKFLOW", "OWNER", "PRIORITY", "STATE", "TASKS", "FAILED", "TIME"]]
    for w in workflows:
        rows.append([w.workflow_id, w.owner, str(w.priority), w.state.value,
                     f"{w.settled}/{w.total}", str(w.unsuccessful),
                     _duration(w.updated_at - w.created_at)])
    return table(rows)


def problem_lines(tasks: Sequence[TaskRecord]) -> list[str]:
    """One line per task that did not finish, with its last attempt's reason."""
    out = []
    for t in tasks:
        if t.state.value in ("FINISHED", "SKIPPED"):
            continue
        last = t.attempts[-1] if t.attempts else None
        detail = t.reason or (last.message or last.reason if last else None) or ""
        exit_code = f" exit {last.exit_code}" if last and last.exit_code is not None else ""
        out.append(f"  {t.workflow_id}/{t.task_id}: {t.state.value}{exit_code}"
                   + (f" - {detail}" if detail else ""))
    return out
