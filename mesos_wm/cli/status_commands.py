"""``mesos-wm status``, and waiting for submitted workflows (``mesos-wm submit --wait``).

Both only read the queue, so they work while a framework (``mesos-wm run``) serves the same
queue from another process or host.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence

import click

from mesos_wm.cli.progress import Progress, bar, table
from mesos_wm.cli.queue_commands import opened, queue_option
from mesos_wm.queue import TaskQueue, WorkflowRecord, WorkflowState

__all__ = ["status", "wait_for_workflows"]

SETTLED = frozenset({WorkflowState.COMPLETED, WorkflowState.FAILED, WorkflowState.CANCELED})
_ALL = 1_000_000_000


def wait_for_workflows(
    queue: TaskQueue,
    workflow_ids: Sequence[str],
    out: Progress,
    *,
    interval: float = 0.5,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Follow workflows until every one has settled, showing progress.

    Args:
        queue: the queue the workflows are in.
        workflow_ids: the workflows to follow.
        out: where progress goes (a bar on a terminal, a line per settled workflow
            otherwise).
        interval: seconds between looks at the queue.
        timeout: give up after this many seconds (None: wait as long as it takes).
        sleep: how to wait (tests pass their own).

    Returns:
        True if every workflow COMPLETED.

    Raises:
        TimeoutError: ``timeout`` passed first.
        WorkflowNotFound: a workflow is not in the queue.
    """
    ids = list(dict.fromkeys(workflow_ids))
    announced: set[str] = set()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        records = [queue.get_workflow(w, tasks=False) for w in ids]
        for record in records:
            if record.state in SETTLED and record.workflow_id not in announced:
                announced.add(record.workflow_id)
                out.line(f"workflow {record.workflow_id} {record.state.value} "
                         f"({record.settled}/{record.total} tasks settled, "
                         f"{record.unsuccessful} unsuccessful)")
        total = sum(r.total for r in records)
        done = sum(r.settled for r in records)
        out.status(f"{bar(done, total)} {done}/{total} tasks settled, "
                   f"{len(announced)}/{len(ids)} workflows done")
        if len(announced) == len(ids):
            out.close()
            return all(r.state == WorkflowState.COMPLETED for r in records)
        if deadline is not None and time.monotonic() >= deadline:
            out.close()
            raise TimeoutError(f"{len(ids) - len(announced)} workflow(s) still running")
        sleep(interval)


def _summary(queue: TaskQueue) -> dict[str, object]:
    workflows: list[WorkflowRecord] = queue.list_workflows(limit=_ALL)
    by_state = Counter(w.state.value for w in workflows)
    alive = Counter(a.state for a in queue.active_attempts())
    return {
        "framework_id": queue.get_framework_id(),
        "workflows": {s.value: by_state.get(s.value, 0) for s in WorkflowState},
        "tasks": {
            "total": sum(w.total for w in workflows),
            "settled": sum(w.settled for w in workflows),
            "unsuccessful": sum(w.unsuccessful for w in workflows),
            "ready": queue.ready_count(),
            "running": dict(sorted(alive.items())),
        },
    }


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@queue_option
def status(as_json: bool, queue_url: str) -> None:
    """Summarise the queue: workflows by state, tasks settled, ready and running, and the
    framework id the framework subscribes with."""
    with opened(queue_url) as queue:
        doc = _summary(queue)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    tasks = doc["tasks"]
    assert isinstance(tasks, dict)
    click.echo(f"queue        {queue_url}")
    click.echo(f"framework id {doc['framework_id'] or '- (never subscribed)'}")
    workflows = doc["workflows"]
    assert isinstance(workflows, dict)
    rows = [["WORKFLOWS", "COUNT"]] + [[s, str(n)] for s, n in workflows.items() if n]
    click.echo("")
    click.echo(table(rows) if len(rows) > 1 else "no workflows")
    running = tasks["running"]
    alive = ", ".join(f"{n} {s}" for s, n in running.items()) or "none"
    click.echo("")
    click.echo(f"tasks        {tasks['settled']}/{tasks['total']} settled "
               f"({tasks['unsuccessful']} unsuccessful), {tasks['ready']} ready, "
               f"alive attempts: {alive}")
