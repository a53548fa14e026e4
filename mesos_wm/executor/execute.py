"""Run one attempt of a task: pick its handler, bound it by its wall time, never raise.

:func:`execute` is the one place where exceptions become outcomes: an escaping path, an
unknown type or URI scheme is ``TASK_ERROR`` (the spec is wrong; a retry cannot help), any
other error is ``TASK_FAILED`` with a message.  Only cancellation passes through, because
the caller (the runner, on KILL or SHUTDOWN) decides what to report then.
"""

from __future__ import annotations

import asyncio
import time

from mesos_wm.errors import ExecutorError
from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.outcome import WALL_TIME_REASON, Outcome, TaskOutcome, failed, invalid
from mesos_wm.executor.paths import PathEscapeError
from mesos_wm.executor.registry import HandlerRegistry, UnknownTaskType, type_name
from mesos_wm.executor.transfer import UnsupportedScheme
from mesos_wm.proto.taskspec_pb2 import TaskSpec


def fill_result(outcome: TaskOutcome, spec: TaskSpec, started: float, finished: float) -> None:
    """Stamp the identifiers, timings and message into ``outcome.result``."""
    result = outcome.result
    result.workflow_id = spec.workflow_id
    result.task_id = spec.task_id
    result.attempt = spec.attempt
    result.started_at = started
    result.finished_at = finished
    result.duration_seconds = max(0.0, finished - started)
    if not result.message:
        result.message = outcome.message


async def execute(spec: TaskSpec, context: TaskContext, registry: HandlerRegistry) -> TaskOutcome:
    """Run the attempt described by ``spec`` and return how it ended.

    Args:
        spec: the decoded task spec.
        context: the attempt's context.
        registry: where the handler comes from.

    Returns:
        the outcome, with identifiers and timings filled in.

    Raises:
        asyncio.CancelledError: the attempt was cancelled; processes it started have been
            ended (SIGTERM, ``context.kill_grace_seconds``, SIGKILL) before this propagates.
    """
    started = time.time()
    wall = spec.wall_time_seconds if spec.wall_time_seconds > 0 else None
    timeout = asyncio.timeout(wall)
    try:
        handler = registry.resolve(spec)
        async with timeout:
            outcome = await handler(spec, context)
        if not isinstance(outcome, TaskOutcome):
            outcome = failed(f"handler for {type_name(spec)} returned {type(outcome).__name__}")
    except (PathEscapeError, UnknownTaskType, UnsupportedScheme) as exc:
        outcome = invalid(str(exc))
    except TimeoutError as exc:
        if not timeout.expired():
            outcome = failed(f"timed out: {exc}")
        else:
            outcome = failed(
                f"wall time of {wall:g}s expired; the task was killed",
                WALL_TIME_REASON,
            )
            job = context.jobs.get(spec.task_id)
            if job is not None and job.outcome is not None and job.outcome.state is Outcome.KILLED:
                outcome.result.MergeFrom(job.outcome.result)
                job.outcome = outcome
    except ExecutorError as exc:
        outcome = failed(str(exc))
    except OSError as exc:
        outcome = failed(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:
        context.logger.exception("handler for %s crashed", type_name(spec))
        outcome = failed(f"handler for {type_name(spec)} crashed: {type(exc).__name__}: {exc}")
    fill_result(outcome, spec, started, time.time())
    return outcome
