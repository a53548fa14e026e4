"""The on-disk format of the submission journal (:mod:`~mesos_wm.queue.journal`): the
layout of its ``control`` file and the framing of its records.

Theory of operation
-------------------
A record lives at a **position** (``segment number * segment_size + offset``) and is framed
as ``length (4) | crc32 (4) | position (8) | payload``; the CRC covers the length, the
position and the payload.  A record is valid only at the position it names, so zeros, a
torn (partly written) record, and the old records of a recycled segment all read as "not
a record here": the journal ends at the first position without a valid record.  A record
never spans segments: when the next one does not fit, the writer puts a *switch* marker
(length ``0xFFFFFFFF``) where it would have gone (nothing, when fewer than 16 bytes are
left) and continues at the start of the next segment.

The ``control`` file starts with a magic string, the segment size and two hints, ``end``
and ``folded`` (see :mod:`~mesos_wm.queue.journal`).
"""

from __future__ import annotations

import struct
import zlib

DEFAULT_SEGMENT_SIZE = 4 << 20
HEADER_SIZE = 16
MAGIC = b"MWMJRNL1"
CONTROL = struct.Struct("<8sQQQ")  # magic, segment size, end hint, folded hint
END_AT, FOLDED_AT = 16, 24
HINTS = struct.Struct("<QQ")
HEADER = struct.Struct("<IIQ")  # payload length, crc32, position
FRAME = struct.Struct("<IQ")  # what the crc covers before the payload
SWITCH = 0xFFFFFFFF


class RecordTooLarge(ValueError):
    """A record does not fit in one segment."""


def fits(segment_size: int, payload_size: int) -> bool:
    """Tell whether a record of this payload size fits in one segment of this size."""
    return HEADER_SIZE + payload_size <= segment_size - HEADER_SIZE


def normal(pos: int, segment_size: int) -> int:
    """Move a position too close to its segment's end for a header to the next one."""
    off = pos % segment_size
    return pos - off + segment_size if off + HEADER_SIZE > segment_size else pos


def switch_marker(position: int) -> bytes:
    """Return the switch marker to write at ``position``."""
    return HEADER.pack(SWITCH, zlib.crc32(FRAME.pack(SWITCH, position)), position)


def encode(position: int, payload: bytes) -> bytes:
    """Return the framed record of ``payload`` at ``position`` (header and payload)."""
    frame = FRAME.pack(len(payload), position)
    return HEADER.pack(len(payload), zlib.crc32(payload, zlib.crc32(frame)), position) + payload


def valid_switch(crc: int, where: int) -> bool:
    """Tell whether a header with the switch length and this CRC is a switch marker."""
    return crc == zlib.crc32(FRAME.pack(SWITCH, where))


def valid_payload(length: int, crc: int, where: int, payload: bytes | memoryview) -> bool:
    """Tell whether ``payload`` is whole and matches its header's CRC."""
    return len(payload) >= length and crc == zlib.crc32(
        payload, zlib.crc32(FRAME.pack(length, where))
    )


def parse(data: bytes, start: int, segment_size: int, out: list[tuple[int, bytes]]) -> int:
    """Append the valid records of ``data`` (read from ``start``, within one segment) to
    ``out``.

    Returns:
        The position after the last one (the next segment's start after a switch,
        ``start`` when none is valid).
    """
    size = segment_size
    view = memoryview(data)
    pos, base, end = start, start, start + len(data)
    while pos + HEADER_SIZE <= end:
        length, crc, where = HEADER.unpack_from(view, pos - base)
        if where != pos:
            break
        if length == SWITCH:
            if valid_switch(crc, where):
                return (pos // size + 1) * size
            break
        first = pos - base + HEADER_SIZE
        payload = view[first : first + length]
        if not valid_payload(length, crc, where, payload):
            break
        out.append((pos, payload.tobytes()))
        pos = normal(pos + HEADER_SIZE + length, size)
        if pos % size == 0 and pos != start:
            return pos
    return pos
