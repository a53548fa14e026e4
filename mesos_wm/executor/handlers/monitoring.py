"""MONITORING: follow a job this executor runs and report its progress until it ends.

Airavata monitors jobs it submitted to a remote resource; here the job runs in the same
executor, so monitoring watches the job board.  The monitored job is the one named by the
``job`` parameter (its task id), or else the newest running job of the workflow.  Progress
goes out as TASK_RUNNING updates every period; the task ends with the job: FINISHED when the
job finished, FAILED when it did not.
"""

from __future__ import annotations

import asyncio
import time

from mesos_wm.executor.context import JobRecord, TaskContext
from mesos_wm.executor.outcome import Outcome, TaskOutcome, failed, finished
from mesos_wm.proto.taskspec_pb2 import TaskSpec

DEFAULT_JOB_WAIT_SECONDS = 60.0


def job_wait_seconds(spec: TaskSpec) -> float:
    """How long to wait for the job to appear: the ``job_wait_seconds`` parameter or 60 s."""
    try:
        return max(0.0, float(spec.params.get("job_wait_seconds", DEFAULT_JOB_WAIT_SECONDS)))
    except ValueError:
        return DEFAULT_JOB_WAIT_SECONDS


def period_seconds(spec: TaskSpec, context: TaskContext) -> float:
    """The reporting/copying period: the spec's, else the executor default."""
    return spec.output_fetch_period_seconds or context.settings.default_output_fetch_period


def progress(job: JobRecord, now: float) -> str:
    """One line describing a running job."""
    sizes = []
    for path in (job.stdout, job.stderr):
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)
    pid = job.group.pid if job.group is not None else "-"
    return (
        f"job {job.task_id} running for {now - job.started_at:.1f}s "
        f"(pid {pid}, stdout {sizes[0]} bytes, stderr {sizes[1]} bytes)"
    )


async def wait_done_or(job: JobRecord, seconds: float) -> bool:
    """Wait until the job ends or ``seconds`` pass; True if it ended."""
    try:
        await asyncio.wait_for(job.done.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def monitoring(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Report the progress of the workflow's job until it ends.

    Args:
        spec: ``params["job"]`` names the job's task id (optional);
            ``params["job_wait_seconds"]`` bounds the wait for it to start (default 60);
            ``output_fetch_period_seconds`` sets the reporting period.
        context: supplies the job board and the progress reporter.

    Returns:
        FINISHED when the job finished, FAILED when it failed, was killed, or never
        appeared.
    """
    wanted = spec.params.get("job") or None
    job = await context.jobs.wait_for(wanted, job_wait_seconds(spec))
    if job is None:
        what = f"job {wanted}" if wanted else "no job"
        return failed(f"{what} did not start in this executor within {job_wait_seconds(spec)}s")
    period = period_seconds(spec, context)
    reports = 0
    while not await wait_done_or(job, 0 if reports == 0 else period):
        await context.report(progress(job, time.time()))
        reports += 1
    ended = job.outcome
    if ended is None:
        return failed(f"job {job.task_id} ended without an outcome")
    summary = f"job {job.task_id} {ended.state.value}: {ended.message} ({reports} report(s))"
    result = ended.result.__class__()
    result.CopyFrom(ended.result)
    if ended.state is Outcome.FINISHED:
        return finished(summary, result)
    return failed(summary, result=result)
