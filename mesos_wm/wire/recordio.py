"""RecordIO framing of Mesos event streams (``docs/recordio.md``), sans-IO.

A stream is records back to back, each ``<decimal byte length>\\n<exactly that many
bytes>``; there is no trailing newline and a length is never zero.  HTTP chunk boundaries
have nothing to do with record boundaries, so the decoder accepts any split of the bytes
and returns whole records only.

Theory of operation: the decoder is in one of two states.  *Reading the prefix*: it scans
for ``\\n`` and checks every digit as it arrives, so a prefix that is not decimal, is
longer than the digits ``max_record_size`` needs, is zero, or names a record larger than
``max_record_size`` fails at once, before any of the record is buffered.  *Reading the
body*: it collects exactly ``length`` bytes, then emits the record and goes back to the
prefix.  It therefore never holds more than ``max_record_size`` plus the longest allowed
prefix, and never waits on bytes that could not form a valid record.

After a :class:`~mesos_wm.errors.RemoteProtocolError` the decoder is broken: every later
:meth:`RecordIODecoder.feed` raises again, since the stream can no longer be re-framed.
"""

from __future__ import annotations

from mesos_wm.errors import RemoteProtocolError

__all__ = ["DEFAULT_MAX_RECORD_SIZE", "RecordIODecoder", "encode"]

DEFAULT_MAX_RECORD_SIZE = 64 * 1024 * 1024
_DIGITS = frozenset(b"0123456789")


def encode(record: bytes) -> bytes:
    """Frame one record.

    Args:
        record: the record's bytes (a JSON event or call); must not be empty.

    Returns:
        ``b"<len>\\n" + record``.

    Raises:
        ValueError: ``record`` is empty (RecordIO has no zero-length records).
    """
    if not record:
        raise ValueError("RecordIO records cannot be empty")
    return b"%d\n%s" % (len(record), record)


class RecordIODecoder:
    """Incremental RecordIO decoder: bytes in, whole records out.

    Args:
        max_record_size: the largest record accepted, in bytes (default 64 MiB).

    Raises:
        ValueError: ``max_record_size`` is not positive.
    """

    def __init__(self, max_record_size: int = DEFAULT_MAX_RECORD_SIZE) -> None:
        if max_record_size < 1:
            raise ValueError(f"max_record_size must be at least 1, got {max_record_size}")
        self._max_record_size = max_record_size
        self._max_digits = len(str(max_record_size))
        self._prefix = bytearray()
        self._body = bytearray()
        self._length: int | None = None
        self._header_size = 0
        self._error: RemoteProtocolError | None = None

    @property
    def max_record_size(self) -> int:
        """The largest record this decoder accepts, in bytes."""
        return self._max_record_size

    def pending(self) -> int:
        """Return how many bytes were fed but not yet returned as part of a record.

        Non-zero when the stream ends means it was cut in the middle of a record.
        """
        return len(self._prefix) + self._header_size + len(self._body)

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the stream and return the records they complete.

        Args:
            data: any number of bytes (possibly none, possibly several records and a part).

        Returns:
            The whole records completed by ``data``, in stream order (maybe empty).

        Raises:
            RemoteProtocolError: a length prefix is not decimal, zero, has more digits than
                ``max_record_size`` needs, or exceeds ``max_record_size``.  The records
                before the bad prefix are lost to the caller; the decoder stays broken.
        """
        if self._error is not None:
            raise self._error
        records: list[bytes] = []
        view = memoryview(data)
        pos = 0
        end = len(view)
        while pos < end:
            if self._length is None:
                pos = self._read_prefix(view, pos)
            else:
                take = min(self._length - len(self._body), end - pos)
                self._body += view[pos : pos + take]
                pos += take
                if len(self._body) == self._length:
                    records.append(bytes(self._body))
                    self._body.clear()
                    self._length = None
                    self._header_size = 0
        return records

    def _read_prefix(self, view: memoryview, pos: int) -> int:
        end = len(view)
        while pos < end:
            byte = view[pos]
            pos += 1
            if byte == 0x0A:
                self._finish_prefix()
                return pos
            if byte not in _DIGITS:
                self._fail(f"RecordIO length prefix has a non-digit byte {bytes([byte])!r}")
            self._prefix.append(byte)
            if len(self._prefix) > self._max_digits:
                self._fail(
                    f"RecordIO length prefix {bytes(self._prefix[:20])!r}... is longer than "
                    f"the {self._max_digits} digits of the maximum record size "
                    f"{self._max_record_size}"
                )
        return pos

    def _finish_prefix(self) -> None:
        if not self._prefix:
            self._fail("RecordIO length prefix is empty")
        length = int(self._prefix)
        if length == 0:
            self._fail("RecordIO record length is zero")
        if length > self._max_record_size:
            self._fail(
                f"RecordIO record of {length} bytes exceeds the maximum of "
                f"{self._max_record_size} bytes"
            )
        self._header_size = len(self._prefix) + 1
        self._prefix.clear()
        self._length = length

    def _fail(self, message: str) -> None:
        self._error = RemoteProtocolError(message)
        self._prefix.clear()
        self._body.clear()
        raise self._error
