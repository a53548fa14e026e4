"""OUTPUT_FETCHING: copy intermediate outputs to storage, periodically, while a job runs.

Each round copies the files matching ``staging.output_globs`` that are new or changed
(size or modification time) since the previous round to ``staging.destination_uri``, like
OUTPUT staging does.  Rounds repeat every ``output_fetch_period_seconds`` while the job
(``params["job"]`` or the newest running job) runs, and once more after it ended.
"""

from __future__ import annotations

import asyncio

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.handlers.monitoring import job_wait_seconds, period_seconds, wait_done_or
from mesos_wm.executor.handlers.stage_out import collect_outputs, join_uri
from mesos_wm.executor.outcome import TaskOutcome, finished, invalid
from mesos_wm.executor.paths import redact_uri
from mesos_wm.executor.transfer import sha256_file
from mesos_wm.proto.taskspec_pb2 import OutputFile, TaskResult, TaskSpec


async def _round(
    spec: TaskSpec,
    context: TaskContext,
    seen: dict[str, tuple[int, int]],
    latest: dict[str, OutputFile],
) -> int:
    globs = list(spec.staging.output_globs)
    destination = spec.staging.destination_uri
    transport = context.transports.for_uri(destination)
    collected = await asyncio.to_thread(collect_outputs, context.workdir, globs)
    copied = 0
    for relative, path in collected.files:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        stamp = (stat.st_size, stat.st_mtime_ns)
        if seen.get(relative) == stamp:
            continue
        uri = join_uri(destination, relative)
        await transport.store(path, uri, context)
        seen[relative] = stamp
        digest = await asyncio.to_thread(sha256_file, path)
        latest[relative] = OutputFile(
            path=relative, size_bytes=stat.st_size, sha256=digest, uri=redact_uri(uri)
        )
        copied += 1
    return copied


async def output_fetching(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Copy changed outputs every period while the job runs, and once after it ends.

    Returns:
        FINISHED with the last copy of every file in the result (also when no job ran:
        then exactly one round is made); ERROR for an invalid spec.

    Raises:
        ExecutorError: a copy failed (the runner reports FAILED).
    """
    if not spec.staging.output_globs or not spec.staging.destination_uri:
        return invalid("OUTPUT_FETCHING needs staging.output_globs and staging.destination_uri")
    context.transports.for_uri(spec.staging.destination_uri)
    wanted = spec.params.get("job") or None
    job = await context.jobs.wait_for(wanted, job_wait_seconds(spec) if wanted else 0)
    period = period_seconds(spec, context)
    seen: dict[str, tuple[int, int]] = {}
    latest: dict[str, OutputFile] = {}
    rounds = copies = 0
    while True:
        done = job is None or job.done.is_set()
        copies += await _round(spec, context, seen, latest)
        rounds += 1
        if done:
            break
        assert job is not None
        await wait_done_or(job, period)
    result = TaskResult()
    result.outputs.extend(latest[key] for key in sorted(latest))
    following = f" while job {job.task_id} ran" if job is not None else ""
    summary = f"{copies} copy(ies) of {len(latest)} file(s) in {rounds} round(s){following}"
    return finished(summary, result)
