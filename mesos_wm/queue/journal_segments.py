"""The segment files of the submission journal (:mod:`~mesos_wm.queue.journal`): their
names, opening, listing, creation and recycling.

Theory of operation
-------------------
A journal directory holds segment files ``<number>.seg`` (the number in 16 hex digits) of
``segment_size`` bytes each, written full of zeros (and synced) when they are created, so
that appending later only overwrites blocks the file system has already allocated.  When
the writer needs the next segment and none exists under that name, it renames the oldest
fully folded segment to it (recycling; the directory is synced before the first record goes
in), or creates one.  Fully folded segments beyond ``spare`` are deleted.
"""

from __future__ import annotations

import os

SUFFIX = ".seg"
_ZEROS = bytes(1 << 20)


def segment_path(directory: str, segno: int) -> str:
    """Return the path of segment ``segno`` of the journal in ``directory``."""
    return os.path.join(directory, f"{segno:016x}{SUFFIX}")


def open_segment(directory: str, segno: int, flags: int) -> int | None:
    """Open segment ``segno`` with ``flags``; return its descriptor, or None if missing."""
    try:
        return os.open(segment_path(directory, segno), flags)
    except FileNotFoundError:
        return None


def list_segments(directory: str) -> list[int]:
    """Return the numbers of the segment files present in ``directory``."""
    out = []
    for name in os.listdir(directory):
        if name.endswith(SUFFIX):
            try:
                out.append(int(name[: -len(SUFFIX)], 16))
            except ValueError:
                continue
    return sorted(out)


def provide_segment(
    directory: str, dir_fd: int, segno: int, *, size: int, folded: int, spare: int
) -> None:
    """Create segment ``segno`` by recycling a fully folded segment, or anew, and sync the
    directory.

    Args:
        directory: the journal's directory.
        dir_fd: a descriptor of ``directory`` (to sync it).
        segno: the segment to create.
        size: the segment size.
        folded: the ``folded`` hint: segments wholly before it may be recycled.
        spare: fully folded segments to keep for recycling; older ones are deleted.
    """
    done = sorted(n for n in list_segments(directory) if (n + 1) * size <= folded and n < segno)
    target = segment_path(directory, segno)
    if done:
        os.rename(segment_path(directory, done[0]), target)
        for n in done[1:-spare] if spare else done[1:]:
            os.unlink(segment_path(directory, n))
    else:
        temp = target + ".new"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for start in range(0, size, len(_ZEROS)):
                write_all(fd, _ZEROS[: min(len(_ZEROS), size - start)], start)
            os.fdatasync(fd)
        finally:
            os.close(fd)
        os.rename(temp, target)
    os.fsync(dir_fd)


def write_all(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset`` of ``fd``."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def sync_dir(path: str) -> None:
    """Sync a directory (so that entries created or renamed in it are durable)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
