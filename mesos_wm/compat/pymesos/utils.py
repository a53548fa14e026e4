"""pymesos's helpers: base64 ``data`` fields and Mesos durations."""

from __future__ import annotations

import base64
import binascii

from mesos_wm.drivers.executor_env import parse_duration

__all__ = ["DAY", "decode_data", "encode_data", "parse_duration"]

DAY = 86400
"""Seconds in a (POSIX) day; pymesos's default driver timeout."""


def encode_data(data: bytes | str) -> str:
    """Base64-encode bytes for a Mesos ``data`` field, as pymesos does.

    Args:
        data: the raw bytes (text is encoded as UTF-8 first, a convenience pymesos's
            Python 2 examples relied on).

    Returns:
        Standard base64 text.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def decode_data(data: str | bytes) -> bytes:
    """Decode a base64 Mesos ``data`` field.

    Args:
        data: base64 text (or its ASCII bytes).

    Returns:
        The raw bytes.

    Raises:
        ValueError: ``data`` is not valid base64.
    """
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64 data: {str(data)[:40]!r}") from exc
