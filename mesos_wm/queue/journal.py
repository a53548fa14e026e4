"""A durable, append-only journal of records in pre-allocated, recycled segment files.

Theory of operation
-------------------
The journal is a directory: a ``control`` file and segment files
(:mod:`~mesos_wm.queue.journal_segments`) holding framed records
(:mod:`~mesos_wm.queue.journal_format`); the journal ends at the first position without a
valid record.  This module appends, reads and recovers them.

Appending: the segment is opened with ``O_DSYNC``, so ``pwrite`` returns once the record
is on stable storage (for an overwrite of allocated blocks that is one data write, no
metadata).  Appenders of every process serialize on an exclusive ``flock`` of ``control``,
which also holds two hints, mapped into memory and read and written under that lock:
``end`` (where the next record goes, moved after each append) and ``folded`` (everything
before it has been consumed by the reader and may be recycled).  While the store is open,
appenders and readers go by the ``end`` hint alone: a record after it was written by an
appender that died before its call returned, and the next append overwrites it.  Neither
hint is synced; :meth:`Journal.recover`, when the store is opened, reads every record from
the consumer's own durable folded position on and sets ``end`` to what it finds (after a
power loss the hint may lag the records; it is never ahead of them, since it moves only
after the ``O_DSYNC`` write returned).  ``folded`` only ever lags the consumer's own durable
record of it.

Nothing before ``folded`` is ever read again, and nothing at or after it is recycled, so
readers read without the lock.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from mesos_wm.errors import StoreError
from mesos_wm.queue import journal_format as fmt
from mesos_wm.queue.journal_format import (
    CONTROL,
    DEFAULT_SEGMENT_SIZE,
    END_AT,
    FOLDED_AT,
    HEADER,
    HEADER_SIZE,
    HINTS,
    MAGIC,
    SWITCH,
    RecordTooLarge,
)
from mesos_wm.queue.journal_segments import (
    list_segments,
    open_segment,
    provide_segment,
    segment_path,
    sync_dir,
    write_all,
)

__all__ = ["DEFAULT_SEGMENT_SIZE", "HEADER_SIZE", "Journal", "RecordTooLarge"]


class Journal:
    """One journal directory, opened by one process (several may open the same one).

    Args:
        directory: the journal's directory (created if missing).
        segment_size: the size of new journals' segments (an existing journal keeps its own).
        spare: fully folded segments kept for recycling.
        durable: write records with ``O_DSYNC`` (else they survive a crash of the
            process, not of the machine).

    Raises:
        StoreError: the directory cannot be used, or ``control`` is not a journal's.
    """

    def __init__(
        self, directory: str, *, segment_size: int = DEFAULT_SEGMENT_SIZE, spare: int = 2,
        durable: bool = True,
    ) -> None:
        if segment_size < 4096 or segment_size % 4096:
            raise ValueError("segment_size must be a positive multiple of 4096")
        self.directory = directory
        self.spare = spare
        self._sync_flag = os.O_DSYNC if durable else 0
        self._held = 0
        self._write: tuple[int, int] | None = None
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, exist_ok=True)
                sync_dir(os.path.dirname(os.path.abspath(directory)))
            self._dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            self._fd = os.open(os.path.join(directory, "control"), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the submission journal {directory!r}: {exc}") from exc
        try:
            with self.locked():
                self.segment_size = self._init_control(segment_size)
            self._control = mmap.mmap(self._fd, CONTROL.size)
        except BaseException:
            self.close()
            raise

    def _init_control(self, segment_size: int) -> int:
        raw = os.pread(self._fd, CONTROL.size, 0)
        if len(raw) < CONTROL.size or raw[:8] == bytes(8):
            os.pwrite(self._fd, CONTROL.pack(MAGIC, segment_size, 0, 0), 0)
            os.fdatasync(self._fd)
            os.fsync(self._dir_fd)
            return segment_size
        magic, size, _end, _folded = CONTROL.unpack(raw)
        if magic != MAGIC or size < 4096 or size % 4096:
            raise StoreError(f"{self.directory!r} does not hold a submission journal")
        return int(size)

    # -- locking and hints -----------------------------------------------------------------

    def lock(self) -> None:
        """Take the journal's exclusive lock (re-entrant within this object)."""
        if not self._held:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._held += 1

    def unlock(self) -> None:
        """Release one :meth:`lock`."""
        self._held -= 1
        if not self._held:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's exclusive lock (re-entrant within this object)."""
        self.lock()
        try:
            yield
        finally:
            self.unlock()

    def hints(self) -> tuple[int, int]:
        """Return the ``end`` and ``folded`` hints (under a shared lock unless held)."""
        if self._held:
            return self._hints()
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        try:
            return self._hints()
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _hints(self) -> tuple[int, int]:
        end, folded = HINTS.unpack_from(self._control, END_AT)
        return int(end), int(folded)

    def set_folded(self, position: int) -> None:
        """Record (locked) that everything before ``position`` has been consumed."""
        with self.locked():
            if position > self._hints()[1]:
                struct.pack_into("<Q", self._control, FOLDED_AT, position)

    # -- reading -----------------------------------------------------------------------------

    def end(self, floor: int = 0) -> int:
        """Return (locked) the position after the last record: the ``end`` hint.

        Args:
            floor: a position known to be at or before the end (the consumer's folded
                position), in case the hint was lost.
        """
        return self.tail(floor)[0]

    def tail(self, floor: int = 0) -> tuple[int, int]:
        """Return (locked) :meth:`end` and the ``folded`` hint."""
        with self.locked():
            hint, folded = self._hints()
            return self._normal(max(hint, floor)), folded

    def recover(self, floor: int) -> int:
        """Find (locked) the end by reading every record from ``floor`` (the consumer's
        folded position) on, sync the records found after the ``end`` hint (written by an
        appender that died before moving it), and set the hint; for opening the store.

        Returns:
            The end.
        """
        with self.locked():
            hint = self._hints()[0]
            start = end = self._normal(floor)
            for _pos, _payload, after in self._scan(start, None):
                end = after
            if end > hint:
                for segno in range(max(start, hint) // self.segment_size,
                                   end // self.segment_size + 1):
                    fd = self._open(segno, write=False)
                    if fd is not None:
                        os.fdatasync(fd)
                        os.close(fd)
            struct.pack_into("<Q", self._control, END_AT, end)
            return end

    def read(self, start: int, stop: int) -> list[tuple[int, bytes]]:
        """Return the records (position, payload) from ``start`` up to ``stop`` (an end
        returned by :meth:`end`), in order.

        Raises:
            StoreError: a record before ``stop`` is missing or damaged.
        """
        out: list[tuple[int, bytes]] = []
        size = self.segment_size
        pos = self._normal(start)
        while pos < stop:
            segno, off = divmod(pos, size)
            fd = self._open(segno, write=False)
            if fd is None:
                break
            try:
                data = os.pread(fd, min(size, stop - segno * size) - off, off)
            finally:
                os.close(fd)
            after = fmt.parse(data, pos, size, out)
            if after == pos:
                break
            pos = after
        if pos != stop:
            raise StoreError(f"the submission journal {self.directory!r} is damaged at "
                             f"position {pos} (expected records up to {stop})")
        return out

    def _scan(self, start: int, stop: int | None) -> Iterator[tuple[int, bytes, int]]:
        """Yield (position, payload, next position) of the valid records from ``start``."""
        size = self.segment_size
        pos = start
        fds: dict[int, int | None] = {}
        try:
            while stop is None or pos < stop:
                segno, off = divmod(pos, size)
                if self._write is not None and self._write[0] == segno:
                    fd: int | None = self._write[1]
                else:
                    if segno not in fds:
                        fds[segno] = self._open(segno, write=False)
                    fd = fds[segno]
                if fd is None:
                    return
                header = os.pread(fd, HEADER_SIZE, off)
                if len(header) < HEADER_SIZE:
                    return
                length, crc, where = HEADER.unpack(header)
                if where != pos:
                    return
                if length == SWITCH:
                    if not fmt.valid_switch(crc, where):
                        return
                    pos = (segno + 1) * size
                    continue
                if off + HEADER_SIZE + length > size:
                    return
                payload = os.pread(fd, length, off + HEADER_SIZE)
                if not fmt.valid_payload(length, crc, where, payload):
                    return
                after = self._normal(pos + HEADER_SIZE + length)
                yield pos, payload, after
                pos = after
        finally:
            for fd in fds.values():
                if fd is not None:
                    os.close(fd)

    # -- writing ---------------------------------------------------------------------------

    def fits(self, payload_size: int) -> bool:
        """Tell whether a record of this payload size fits in one segment."""
        return fmt.fits(self.segment_size, payload_size)

    def append(self, end: int, payload: bytes) -> tuple[int, int]:
        """Write (locked, at ``end`` as returned by :meth:`end`) one record durably.

        Returns:
            The record's position and the new end.

        Raises:
            RecordTooLarge: the payload does not fit in a segment.
            OSError: the write failed (the record is not in the journal).
        """
        if not self.fits(len(payload)):
            raise RecordTooLarge(f"a journal record of {len(payload)} bytes does not fit")
        size = self.segment_size
        segno, off = divmod(end, size)
        record_size = HEADER_SIZE + len(payload)
        self.lock()
        try:
            if off + record_size > size:
                write_all(self._segment(segno), fmt.switch_marker(end), off)
                segno, off = segno + 1, 0
                end = segno * size
            write_all(self._segment(segno), fmt.encode(end, payload), off)
            new_end = self._normal(end + record_size)
            struct.pack_into("<Q", self._control, END_AT, new_end)
        finally:
            self.unlock()
        return end, new_end

    def provide(self, position: int) -> None:
        """Make sure (locked) the segment that ``position`` falls in exists, so the first
        append there does not pay for creating it."""
        with self.locked():
            self._segment(self._normal(position) // self.segment_size)

    def _normal(self, pos: int) -> int:
        """Move a position too close to its segment's end for a header to the next one."""
        return fmt.normal(pos, self.segment_size)

    def _segment(self, segno: int) -> int:
        """Return the write descriptor of a segment, providing the segment if needed."""
        if self._write is not None:
            if self._write[0] == segno:
                return self._write[1]
            os.close(self._write[1])
            self._write = None
        fd = self._open(segno, write=True)
        if fd is None:
            self._provide(segno)
            fd = self._open(segno, write=True)
            if fd is None:
                raise FileNotFoundError(self._path(segno))
        self._write = (segno, fd)
        return fd

    def _provide(self, segno: int) -> None:
        """Create segment ``segno`` by recycling a fully folded segment, or anew."""
        provide_segment(self.directory, self._dir_fd, segno, size=self.segment_size,
                        folded=self._hints()[1], spare=self.spare)

    def segments(self) -> list[int]:
        """Return the numbers of the segment files present."""
        return list_segments(self.directory)

    def _path(self, segno: int) -> str:
        return segment_path(self.directory, segno)

    def _open(self, segno: int, *, write: bool) -> int | None:
        return open_segment(self.directory, segno,
                            os.O_RDWR | self._sync_flag if write else os.O_RDONLY)

    def close(self) -> None:
        """Close the files (idempotent)."""
        if self._write is not None:
            os.close(self._write[1])
            self._write = None
        control = getattr(self, "_control", None)
        if control is not None and not control.closed:
            control.close()
        for name in ("_fd", "_dir_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)
