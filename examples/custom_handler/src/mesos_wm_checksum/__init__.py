"""CHECKSUM: an example mesos_wm task handler plug-in.

It writes ``SHA256SUMS`` (in ``sha256sum`` format) for the files of the workflow's working
directory that match the ``glob`` parameter (default ``outputs/*``), into the file named by
the ``output`` parameter (default ``outputs/SHA256SUMS``).

A handler is an async callable ``(spec, context) -> TaskOutcome``.  It uses the helpers of
``mesos_wm.executor`` for what every handler must get right: paths from the spec are
confined to the working directory, blocking work runs in a thread, and failures are
returned as outcomes rather than raised.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from mesos_wm.executor import TaskContext, TaskOutcome, failed, finished
from mesos_wm.executor.paths import check_relative, confine, is_within
from mesos_wm.proto.taskspec_pb2 import OutputFile, TaskResult, TaskSpec

__all__ = ["checksum"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_sums(workdir: Path, pattern: str, output: Path) -> list[tuple[str, str]]:
    sums = []
    for path in sorted(workdir.glob(pattern)):
        if path.is_file() and path != output and is_within(path, workdir):
            sums.append((_sha256(path), path.relative_to(workdir).as_posix()))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(f"{digest}  {name}\n" for digest, name in sums))
    return sums


async def checksum(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Write SHA256SUMS for the files matching ``params["glob"]``.

    Args:
        spec: ``params["glob"]`` (default ``outputs/*``), ``params["output"]`` (default
            ``outputs/SHA256SUMS``), both relative to the working directory.
        context: gives the working directory and the logger.

    Returns:
        FINISHED with the sums file in the result; FAILED when nothing matched.

    Raises:
        PathEscapeError: a parameter points outside the working directory (the executor
            reports TASK_ERROR).
    """
    pattern = spec.params.get("glob", "outputs/*")
    check_relative(pattern, "params.glob")
    output = confine(context.workdir, spec.params.get("output", "outputs/SHA256SUMS"), "output")
    sums = await asyncio.to_thread(_write_sums, context.workdir, pattern, output)
    if not sums:
        return failed(f"no file matches {pattern!r}")
    context.logger.info("wrote %d checksums to %s", len(sums), output.name)
    result = TaskResult()
    result.outputs.append(
        OutputFile(
            path=output.relative_to(context.workdir).as_posix(),
            size_bytes=output.stat().st_size,
            sha256=_sha256(output),
        )
    )
    return finished(f"{len(sums)} checksum(s) in {output.name}", result)
