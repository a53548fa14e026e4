"""The Mesos v1 wire protocol, sans-IO: RecordIO framing, call builders, event parsing.

Nothing in this package does I/O, reads a clock or imports asyncio/aiohttp; drivers in
``mesos_wm.drivers`` move the bytes.
"""

from __future__ import annotations

from mesos_wm.wire.recordio import DEFAULT_MAX_RECORD_SIZE, RecordIODecoder, encode
from mesos_wm.wire.states import TERMINAL_STATES, Reason, Source, TaskState, is_terminal

__all__ = [
    "DEFAULT_MAX_RECORD_SIZE",
    "TERMINAL_STATES",
    "Reason",
    "RecordIODecoder",
    "Source",
    "TaskState",
    "encode",
    "is_terminal",
]
