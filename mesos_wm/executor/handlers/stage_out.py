"""DATA_STAGING with direction OUTPUT or ARCHIVE_OUTPUT: copy outputs to storage.

Outputs are named by glob patterns relative to the working directory.  A matched
directory contributes every file below it.  A match that is (or passes through) a symbolic
link leading outside the working directory is skipped and named in the message, so a job
cannot use stage-out to copy files it should not read.  Globs that match nothing are named
in the message; the task fails only when nothing at all matched, so a ``run_on: always``
stage-out after a failed job still saves the logs.
"""

from __future__ import annotations

import asyncio
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.outcome import TaskOutcome, failed, finished, invalid
from mesos_wm.executor.paths import check_relative, is_within, redact_uri, safe_name
from mesos_wm.executor.transfer import sha256_file
from mesos_wm.proto.taskspec_pb2 import OutputFile, TaskResult, TaskSpec


@dataclass
class Collected:
    """The files a set of output globs selected.

    Attributes:
        files: ``(relative posix path, absolute path)`` pairs, in glob order, no duplicates.
        unmatched: globs that selected nothing.
        refused: matches skipped because they lead outside the working directory.
    """

    files: list[tuple[str, Path]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def notes(self) -> str:
        """A message fragment naming unmatched globs and refused matches ('' if none)."""
        parts = []
        if self.unmatched:
            parts.append("no match for " + ", ".join(self.unmatched))
        if self.refused:
            parts.append("refused (outside the working directory): " + ", ".join(self.refused))
        return "; ".join(parts)


def collect_outputs(workdir: Path, globs: list[str]) -> Collected:
    """Expand output globs inside ``workdir`` (blocking; run it in a thread).

    Raises:
        PathEscapeError: a glob is absolute or contains ``..``.
    """
    for pattern in globs:
        check_relative(pattern, "output glob")
    collected = Collected()
    seen: set[str] = set()

    def add(path: Path) -> None:
        relative = path.relative_to(workdir).as_posix()
        if relative in seen:
            return
        if not is_within(path, workdir):
            collected.refused.append(relative)
        elif path.is_file():
            seen.add(relative)
            collected.files.append((relative, path))

    if not workdir.is_dir():
        collected.unmatched.extend(globs)
        return collected
    for pattern in globs:
        before = len(collected.files) + len(collected.refused)
        for match in sorted(workdir.glob(pattern)):
            if match.is_dir() and not match.is_symlink() and is_within(match, workdir):
                for dirpath, _dirs, names in os.walk(match):
                    for name in sorted(names):
                        add(Path(dirpath) / name)
            else:
                add(match)
        if len(collected.files) + len(collected.refused) == before:
            collected.unmatched.append(pattern)
    return collected


def join_uri(base: str, relative: str) -> str:
    """``base`` (a directory URI) joined with a relative posix path."""
    return base.rstrip("/") + "/" + quote(relative)


def _globs_and_destination(spec: TaskSpec) -> tuple[list[str], str] | TaskOutcome:
    globs = list(spec.staging.output_globs)
    if not globs:
        return invalid("output staging needs at least one entry in staging.output_globs")
    if not spec.staging.destination_uri:
        return invalid("output staging needs staging.destination_uri")
    return globs, spec.staging.destination_uri


async def stage_out(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Copy the files matching ``staging.output_globs`` below ``staging.destination_uri``.

    Each file keeps its path relative to the working directory (``outputs/a.dat`` goes to
    ``<destination>/outputs/a.dat``) and is written under a temporary name first.

    Returns:
        FINISHED with every copied file (path, size, sha256, URI) in the result; FAILED
        when nothing matched or a copy failed; ERROR for an invalid spec.
    """
    checked = _globs_and_destination(spec)
    if isinstance(checked, TaskOutcome):
        return checked
    globs, destination = checked
    transport = context.transports.for_uri(destination)
    collected = await asyncio.to_thread(collect_outputs, context.workdir, globs)
    if not collected.files:
        return failed("no output file to stage: " + (collected.notes() or "nothing matched"))
    result = TaskResult()
    total = 0
    for relative, path in collected.files:
        uri = join_uri(destination, relative)
        await transport.store(path, uri, context)
        size = path.stat().st_size
        digest = await asyncio.to_thread(sha256_file, path)
        total += size
        result.outputs.append(
            OutputFile(path=relative, size_bytes=size, sha256=digest, uri=redact_uri(uri))
        )
    count = len(collected.files)
    message = f"staged {count} output(s), {total} bytes, to {redact_uri(destination)}"
    if notes := collected.notes():
        message += f" ({notes})"
    return finished(message, result)


def archive_name(spec: TaskSpec) -> tuple[str, bool]:
    """The archive's destination: ``(uri, True)`` if the URI names the file itself."""
    destination = spec.staging.destination_uri
    path = urlsplit(destination).path
    if path.endswith((".tar.gz", ".tgz")):
        return destination, True
    name = f"{safe_name(spec.workflow_id, 'workflow')}-{safe_name(spec.task_id)}.tar.gz"
    return join_uri(destination, name), False


def write_archive(target: Path, files: list[tuple[str, Path]]) -> None:
    """Write ``files`` into a gzip-compressed tar at ``target`` (blocking)."""
    with tarfile.open(target, "w:gz") as archive:
        for relative, path in files:
            archive.add(path, arcname=relative, recursive=False)


async def archive_out(spec: TaskSpec, context: TaskContext) -> TaskOutcome:
    """Pack the files matching ``staging.output_globs`` into one tar.gz at the destination.

    The destination URI names the archive itself when it ends in ``.tar.gz``/``.tgz``;
    otherwise it is a directory and the archive is ``<workflow>-<task>.tar.gz`` in it.

    Returns:
        FINISHED with the archive (path, size, sha256, URI) in the result; FAILED when
        nothing matched or the copy failed; ERROR for an invalid spec.
    """
    checked = _globs_and_destination(spec)
    if isinstance(checked, TaskOutcome):
        return checked
    globs, _ = checked
    uri, _ = archive_name(spec)
    transport = context.transports.for_uri(uri)
    collected = await asyncio.to_thread(collect_outputs, context.workdir, globs)
    if not collected.files:
        return failed("no output file to archive: " + (collected.notes() or "nothing matched"))
    fd, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".tar.gz", dir=context.sandbox)
    os.close(fd)
    archive = Path(tmp)
    try:
        await asyncio.to_thread(write_archive, archive, collected.files)
        await transport.store(archive, uri, context)
        size = archive.stat().st_size
        digest = await asyncio.to_thread(sha256_file, archive)
    finally:
        archive.unlink(missing_ok=True)
    name = urlsplit(uri).path.rsplit("/", 1)[-1]
    result = TaskResult()
    result.outputs.append(
        OutputFile(path=name, size_bytes=size, sha256=digest, uri=redact_uri(uri))
    )
    message = f"archived {len(collected.files)} file(s) into {redact_uri(uri)} ({size} bytes)"
    if notes := collected.notes():
        message += f" ({notes})"
    return finished(message, result)
