"""DATA_STAGING with direction INPUT: fetch each source into the working directory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.handlers.env_setup import ensure_directory
from mesos_wm.executor.outcome import TaskOutcome, finished, invalid
from mesos_wm.executor.paths import confine, file_uri_path, redact_uri, safe_name
from mesos_wm.executor.transfer import DownloadSink, Transport
from mesos_wm.proto.taskspec_pb2 import OutputFile, StagingSource, TaskResult, TaskSpec

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class _Plan:
    source: StagingSource
    relative: str
    destination: Path
    transport: Transport
    limit: int


def default_destination(uri: str) -> str:
    """``inputs/<last path segment of uri>``, used when a source names no destination."""
    name = PurePosixPath(unquote(urlsplit(uri).path)).name
    return f"inputs/{safe_name(name, 'input')}"


def _plan(spec: TaskSpec, context: TaskContext) -> list[_Plan] | TaskOutcome:
    sources = list(spec.staging.sources)
    if not sources:
        return invalid("DATA_STAGING INPUT needs at least one source")
    plans = []
    for index, source in enumerate(sources):
        where = f"staging.sources[{index}]"
        if source.sha256 and not _SHA256.fullmatch(source.sha256):
            return invalid(f"{where}.sha256 is not 64 hexadecimal digits")
        transport = context.transports.for_uri(source.uri)
        if urlsplit(source.uri).scheme.lower() == "file":
            file_uri_path(source.uri, context.settings.storage_roots, f"{where}.uri")
        relative = source.destination or default_destination(source.uri)
        destination = confine(context.workdir, relative, f"{where}.destination")
        limit = context.settings.max_download_bytes
        if source.max_bytes:
            limit = min(limit, source.max_bytes)
        plans.append(_Plan(source, relative, destination, transport, limit))
    return plans


async def stage_in(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Fetch every ``staging.sources`` entry into the working directory.

    Every source is checked before anything is fetched (scheme known, ``file://`` inside a
    storage root, destination inside the working directory, checksum well formed).  Each
    download is streamed to a temporary file, bounded by ``max_bytes`` and the executor's
    own limit, verified against ``sha256`` and only then renamed into place; a failed
    source leaves no partial file behind (sources fetched before it are kept).

    Args:
        spec: the task spec, with ``staging.sources``.
        context: supplies the working directory, transports and limits.

    Returns:
        FINISHED with every staged file (path, size, sha256, source URI) in the result;
        ERROR for an invalid spec; FAILED when a transfer, limit or checksum fails.

    Raises:
        ExecutorError: a transfer failed (the runner reports FAILED).
        PathEscapeError: a path escapes (the runner reports ERROR).
    """
    plans = _plan(spec, context)
    if isinstance(plans, TaskOutcome):
        return plans
    result = TaskResult()
    total = 0
    mode = context.settings.default_directory_mode
    ensure_directory(context.workdir, context.sandbox, mode)
    for plan in plans:
        if plan.destination.parent != context.workdir:
            ensure_directory(plan.destination.parent, context.workdir, mode)
        label = redact_uri(plan.source.uri)
        context.logger.info("staging %s into %s", label, plan.relative)
        with DownloadSink(plan.destination, plan.limit, plan.source.sha256, label) as sink:
            await plan.transport.fetch(plan.source.uri, sink, context)
        total += sink.size
        result.outputs.append(
            OutputFile(path=plan.relative, size_bytes=sink.size, sha256=sink.sha256, uri=label)
        )
    return finished(f"staged {len(plans)} input(s), {total} bytes", result)
