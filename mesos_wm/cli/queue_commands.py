"""``mesos-wm submit|list|show|cancel|retry|why``: the queue from the command line.

Each command opens the queue named by ``--queue`` (or ``$MESOS_WM_QUEUE``, default
``sqlite:///./mesos_wm_queue.db``), does one thing and exits: 0 on success, 1 when the
queue refuses (conflict, not found, not retryable, database error), 2 for a bad file or URL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from mesos_wm.errors import MesosWmError, QueueError, SpecError
from mesos_wm.queue import DEFAULT_URL, TaskQueue, WorkflowRecord, WorkflowState, load_file
from mesos_wm.queue.spec import parse_duration, parse_time

F = TypeVar("F", bound=Callable[..., Any])
QUEUE_ENV = "MESOS_WM_QUEUE"


class Failed(click.ClickException):
    """The queue refused (exit code 1)."""


class BadInput(click.ClickException):
    """A bad workflow file or queue URL (exit code 2)."""

    exit_code = 2


def _fail(message: str, exit_code: int) -> click.ClickException:
    return BadInput(message) if exit_code == 2 else Failed(message)


def queue_option(fn: F) -> F:
    """Add ``--queue URL`` (env ``MESOS_WM_QUEUE``)."""
    return click.option(
        "--queue",
        "queue_url",
        envvar=QUEUE_ENV,
        default=DEFAULT_URL,
        show_default=True,
        metavar="URL",
        help=f"The queue: sqlite:///path.db or postgresql://user@host/db (env {QUEUE_ENV}).",
    )(fn)


@contextmanager
def opened(url: str) -> Iterator[TaskQueue]:
    """Open the queue, turning every failure into a clear message and exit code."""
    try:
        queue = TaskQueue.open(url)
    except ValueError as exc:
        raise _fail(f"bad queue URL: {exc}", 2) from exc
    except MesosWmError as exc:
        raise _fail(f"cannot open the queue {url}: {exc}", 1) from exc
    try:
        yield queue
    except SpecError as exc:
        raise _fail(str(exc), 2) from exc
    except (QueueError, ValueError) as exc:
        raise _fail(str(exc), 1) from exc
    finally:
        queue.close()


def _stamp(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _split(ident: str) -> tuple[str, str | None]:
    workflow_id, sep, task_id = ident.partition("/")
    if not workflow_id or (sep and not task_id):
        raise click.BadParameter(f"{ident!r}: use WORKFLOW_ID or WORKFLOW_ID/TASK_ID")
    return workflow_id, task_id or None


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _when(value: str) -> float:
    try:
        return parse_time(value)
    except ValueError:
        pass
    try:
        return time.time() - parse_duration(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use an RFC 3339 time or a duration ago "
                                 "such as 2h") from None


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@queue_option
@click.option("--wait", is_flag=True,
              help="Then follow the workflows (a progress bar on a terminal) until they "
                   "settle; exit 0 only if all completed.  A framework (mesos-wm run) "
                   "must serve the queue meanwhile.")
def submit(files: tuple[str, ...], queue_url: str, wait: bool) -> None:
    """Submit the workflows in FILES (YAML or JSON) to the queue.

    Every file is checked first; if anything is wrong, every problem is printed with its
    file and location (e.g. tasks[2].resources.cpus) and nothing is submitted.  All
    workflows go in one transaction.  Submitting a workflow again with the same content
    changes nothing; the same id with different content is an error.
    """
    workflows, problems = [], []
    for path in files:
        try:
            workflows += load_file(path)
        except SpecError as exc:
            problems.append(str(exc))
    if problems:
        raise _fail("invalid workflow file:\n" + "\n".join(problems), 2)
    with opened(queue_url) as queue:
        results = queue.submit_many(workflows)
        for r in results:
            if r.created:
                click.echo(f"{r.workflow_id}: submitted, {r.state.value}, {r.ready} task(s) "
                           "ready")
            else:
                click.echo(f"{r.workflow_id}: already in the queue with the same content "
                           f"({r.state.value}), nothing changed")
        if wait:
            from mesos_wm.cli.progress import Progress
            from mesos_wm.cli.status_commands import wait_for_workflows

            if not wait_for_workflows(queue, [r.workflow_id for r in results], Progress()):
                raise _fail("not every workflow completed", 1)


@click.command(name="list")
@click.option("--state", "states", multiple=True,
              type=click.Choice([s.value for s in WorkflowState], case_sensitive=False),
              help="Only workflows in this state (repeatable).")
@click.option("--owner", help="Only this owner's workflows.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="Only workflows with this label (repeatable; all must match).")
@click.option("--since", metavar="TIME", help="Created at or after TIME (RFC 3339, or 2h ago).")
@click.option("--until", metavar="TIME", help="Created before TIME (RFC 3339, or 2h ago).")
@click.option("--limit", default=100, show_default=True, help="At most this many workflows.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@queue_option
def list_command(
    *,
    states: tuple[str, ...], owner: str | None, labels: tuple[str, ...], since: str | None,
    until: str | None, limit: int, as_json: bool, queue_url: str,
) -> None:
    """List workflows, newest first."""
    label_map = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--label")
        label_map[key] = value
    with opened(queue_url) as queue:
        found = queue.list_workflows(
            state=[s.upper() for s in states] or None, owner=owner, label=label_map,
            since=_when(since) if since else None, until=_when(until) if until else None,
            limit=limit,
        )
    if as_json:
        click.echo(json.dumps({"workflows": [w.to_json() for w in found]}, indent=2))
        return
    if not found:
        click.echo("no workflows")
        return
    rows = [["ID", "STATE", "OWNER", "PRIORITY", "TASKS", "CREATED", "NAME"]]
    rows += [[w.workflow_id, w.state.value, w.owner, str(w.priority),
              f"{w.settled}/{w.total}", _stamp(w.created_at), w.name or ""] for w in found]
    click.echo(_table(rows))


@click.command()
@click.argument("workflow_id")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document: the workflow, its tasks with their attempts "
                   "(and Mesos task ids), and its history.")
@queue_option
def show(workflow_id: str, as_json: bool, queue_url: str) -> None:
    """Show a workflow: its tasks, every attempt, and its history."""
    with opened(queue_url) as queue:
        record = queue.get_workflow(workflow_id)
        history = queue.history(workflow_id)
    if as_json:
        doc = record.to_json()
        doc.setdefault("tasks", [])
        doc["history"] = [h.to_json() for h in history]
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(_describe(record))
    click.echo("\nTASKS")
    rows = [["TASK", "TYPE", "STATE", "ATTEMPTS", "RETRIES", "REASON"]]
    rows += [[t.task_id, t.type, t.state.value, str(len(t.attempts)),
              f"{t.retries_used}+{t.infra_retries_used}", t.reason or ""] for t in record.tasks]
    click.echo(_table(rows))
    attempts = [(t.task_id, a) for t in record.tasks for a in t.attempts]
    if attempts:
        click.echo("\nATTEMPTS")
        rows = [["TASK", "#", "MESOS TASK ID", "STATE", "AGENT", "LAUNCHED", "EXIT", "DETAIL"]]
        rows += [[name, str(a.number), a.mesos_task_id, a.state, a.agent_id or "-",
                  _stamp(a.launched_at), "-" if a.exit_code is None else str(a.exit_code),
                  " ".join(x for x in (a.reason, a.message) if x)] for name, a in attempts]
        click.echo(_table(rows))
    click.echo("\nHISTORY")
    rows = [["TIME", "TASK", "STATE", "DETAIL"]]
    rows += [[_stamp(h.at), h.task_id or "(workflow)", h.state,
              " ".join(x for x in (h.reason, h.message) if x)] for h in history]
    click.echo(_table(rows))


def _describe(w: WorkflowRecord) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(w.labels.items())) or "-"
    lines = [
        f"workflow {w.workflow_id}" + (f"  ({w.name})" if w.name else ""),
        f"  state     {w.state.value}",
        f"  owner     {w.owner}    priority {w.priority}",
        f"  labels    {labels}",
        f"  created   {_stamp(w.created_at)}    updated {_stamp(w.updated_at)}",
        f"  tasks     {w.settled}/{w.total} settled, {w.unsuccessful} unsuccessful",
    ]
    if w.not_before is not None:
        lines.append(f"  not before {_stamp(w.not_before)}")
    return "\n".join(lines)


@click.command()
@click.argument("ident", metavar="ID")
@queue_option
def cancel(ident: str, queue_url: str) -> None:
    """Cancel a workflow (ID) or one task (WORKFLOW_ID/TASK_ID).

    Waiting tasks are cancelled at once; running ones are killed by the framework.
    """
    workflow_id, task_id = _split(ident)
    with opened(queue_url) as queue:
        result = queue.cancel(workflow_id, task_id)
    click.echo(f"{ident}: {len(result.changed)} task(s) cancelled, {len(result.kills)} to "
               f"kill; workflow {result.workflow_state.value}")


@click.command()
@click.argument("ident", metavar="ID")
@queue_option
def retry(ident: str, queue_url: str) -> None:
    """Retry a workflow's failed tasks (ID) or one task (WORKFLOW_ID/TASK_ID).

    The tasks and everything that depends on them run again, with fresh retry budgets.
    """
    workflow_id, task_id = _split(ident)
    with opened(queue_url) as queue:
        result = queue.retry(workflow_id, task_id)
    click.echo(f"{ident}: {len(result.changed)} task(s) reset "
               f"({', '.join(sorted(result.changed))}); workflow {result.workflow_state.value}")


@click.command()
@click.argument("task", metavar="TASK_ID")
@queue_option
def why(task: str, queue_url: str) -> None:
    """Say why a task is in its state: what a waiting task waits for, or the reason the
    scheduler recorded for not placing it.  TASK_ID is WORKFLOW_ID/TASK_ID or a Mesos
    task id.
    """
    with opened(queue_url) as queue:
        workflow_id, task_id = _split(task)
        if task_id is None:
            found = queue.find_attempt(task)
            if found is None:
                raise click.BadParameter(f"{task!r}: use WORKFLOW_ID/TASK_ID or a Mesos task id")
            workflow_id, task_id = found[0], found[1]
        click.echo(f"{workflow_id}/{task_id}: {queue.why(workflow_id, task_id)}")


COMMANDS = (submit, list_command, show, cancel, retry, why)


def register(group: click.Group) -> None:
    """Add the queue commands to the ``mesos-wm`` group."""
    for command in COMMANDS:
        group.add_command(command)

