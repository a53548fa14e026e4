"""Identifiers and bytes fields of the Mesos v1 JSON protocol.

Mesos carries every ``bytes`` field (``TaskStatus.uuid``, ``TaskInfo.data``, message
``data``) as standard base64 in JSON.  Status-update uuids must be **exactly 16 raw bytes**
(``uuid.uuid4().bytes``); a master or agent answers 400 to anything else, so we refuse to
accept or produce other lengths.
"""

from __future__ import annotations

import base64
import binascii
import random
import uuid

from mesos_wm.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "UUID_SIZE",
    "decode_bytes",
    "decode_uuid",
    "encode_bytes",
    "encode_uuid",
    "new_uuid",
    "uuid_to_str",
]

UUID_SIZE = 16


def new_uuid(rng: random.Random | None = None) -> bytes:
    """Return 16 raw bytes of a fresh version-4 UUID.

    Args:
        rng: where the random bits come from; ``None`` (the default) uses the operating
            system's source, as ``uuid.uuid4()`` does.  Tests pass a seeded
            ``random.Random`` to get reproducible ids.

    Returns:
        The 16 bytes, ready for :func:`encode_uuid`.
    """
    if rng is None:
        return uuid.uuid4().bytes
    return uuid.UUID(int=rng.getrandbits(128), version=4).bytes


def encode_bytes(data: bytes) -> str:
    """Encode a protobuf ``bytes`` field for JSON (standard base64 with padding).

    Args:
        data: the raw bytes.

    Returns:
        The base64 text.
    """
    return base64.b64encode(data).decode("ascii")


def decode_bytes(text: str) -> bytes:
    """Decode a protobuf ``bytes`` field received in JSON.

    Args:
        text: standard base64 text, as Mesos writes it.

    Returns:
        The raw bytes.

    Raises:
        RemoteProtocolError: ``text`` is not a string of valid base64.
    """
    if not isinstance(text, str):
        raise RemoteProtocolError(f"bytes field must be a base64 string, got {type(text).__name__}")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise RemoteProtocolError(f"bytes field is not valid base64: {text[:40]!r}") from exc


def encode_uuid(data: bytes) -> str:
    """Encode a 16-byte status-update uuid for JSON.

    Args:
        data: exactly 16 raw bytes (e.g. from :func:`new_uuid`).

    Returns:
        The base64 text.

    Raises:
        LocalProtocolError: ``data`` is not 16 bytes long (the master would answer 400).
    """
    if len(data) != UUID_SIZE:
        raise LocalProtocolError(f"a Mesos uuid is exactly {UUID_SIZE} raw bytes, got {len(data)}")
    return encode_bytes(data)


def decode_uuid(text: str) -> bytes:
    """Decode a status-update uuid received in JSON.

    Args:
        text: base64 text of the uuid.

    Returns:
        The 16 raw bytes.

    Raises:
        RemoteProtocolError: ``text`` is not base64 or does not hold exactly 16 bytes.
    """
    raw = decode_bytes(text)
    if len(raw) != UUID_SIZE:
        raise RemoteProtocolError(f"uuid must be exactly {UUID_SIZE} bytes, got {len(raw)}")
    return raw


def uuid_to_str(data: bytes) -> str:
    """Return the canonical ``8-4-4-4-12`` hex form of a 16-byte uuid, for logs.

    Args:
        data: exactly 16 raw bytes.

    Returns:
        The text form, e.g. ``"0f3c...-..."``.

    Raises:
        ValueError: ``data`` is not 16 bytes long.
    """
    return str(uuid.UUID(bytes=data))
