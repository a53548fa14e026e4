"""DATA_STAGING: dispatch on the direction, bounded by the staging timeout."""

from __future__ import annotations

import asyncio

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.handlers.stage_in import stage_in
from mesos_wm.executor.handlers.stage_out import archive_out, stage_out
from mesos_wm.executor.outcome import TaskOutcome, failed, invalid
from mesos_wm.proto.taskspec_pb2 import ARCHIVE_OUTPUT, INPUT, OUTPUT, TaskSpec

_BY_DIRECTION = {INPUT: stage_in, OUTPUT: stage_out, ARCHIVE_OUTPUT: archive_out}


async def data_staging(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Stage data in (INPUT) or out (OUTPUT, ARCHIVE_OUTPUT).

    ``staging_timeout_seconds`` (0 = none) bounds the whole transfer; on expiry partial
    files are removed and the task fails.

    Returns:
        the direction handler's outcome; ERROR without a direction; FAILED on timeout.
    """
    handler = _BY_DIRECTION.get(spec.staging.direction)
    if handler is None:
        return invalid("DATA_STAGING needs staging.direction INPUT, OUTPUT or ARCHIVE_OUTPUT")
    limit = spec.staging_timeout_seconds or None
    timeout = asyncio.timeout(limit)
    try:
        async with timeout:
            return await handler(spec, context)
    except TimeoutError:
        if not timeout.expired():
            raise
        return failed(f"staging did not finish within {limit:g}s")
