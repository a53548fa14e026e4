"""Tests of mesos_wm.ids: base64 bytes fields and 16-byte status-update uuids."""

from __future__ import annotations

import base64
import random
import uuid

import pytest

from mesos_wm.errors import LocalProtocolError, RemoteProtocolError
from mesos_wm.ids import (
    decode_bytes,
    decode_uuid,
    encode_bytes,
    encode_uuid,
    new_uuid,
    uuid_to_str,
)


def test_new_uuid_is_16_bytes_of_a_version_4_uuid() -> None:
    raw = new_uuid()
    assert len(raw) == 16
    assert uuid.UUID(bytes=raw).version == 4
    assert new_uuid() != raw


def test_new_uuid_from_a_seeded_rng_is_reproducible() -> None:
    first = new_uuid(random.Random(7))
    assert first == new_uuid(random.Random(7))
    assert len(first) == 16
    assert uuid.UUID(bytes=first).version == 4
    assert new_uuid(random.Random(8)) != first


def test_uuid_round_trip_is_standard_base64() -> None:
    raw = bytes(range(16))
    text = encode_uuid(raw)
    assert text == base64.b64encode(raw).decode()
    assert decode_uuid(text) == raw


@pytest.mark.parametrize("size", [0, 15, 17, 36])
def test_encode_uuid_refuses_other_lengths(size: int) -> None:
    with pytest.raises(LocalProtocolError, match="16"):
        encode_uuid(b"x" * size)


@pytest.mark.parametrize("size", [0, 15, 17])
def test_decode_uuid_refuses_other_lengths(size: int) -> None:
    with pytest.raises(RemoteProtocolError, match=f"got {size}"):
        decode_uuid(base64.b64encode(b"x" * size).decode())


def test_decode_uuid_refuses_the_text_form_used_in_the_mesos_docs() -> None:
    with pytest.raises(RemoteProtocolError):
        decode_uuid(str(uuid.uuid4()))


@pytest.mark.parametrize("text", ["not base64!", "abc", "ab=c"])
def test_decode_bytes_refuses_invalid_base64(text: str) -> None:
    with pytest.raises(RemoteProtocolError, match="base64"):
        decode_bytes(text)


def test_decode_bytes_refuses_non_strings() -> None:
    with pytest.raises(RemoteProtocolError, match="int"):
        decode_bytes(12)  # type: ignore[arg-type]


def test_decode_bytes_refuses_non_ascii() -> None:
    with pytest.raises(RemoteProtocolError):
        decode_bytes("ü")


@pytest.mark.parametrize("data", [b"", b"\x00", b"hello world", bytes(range(256))])
def test_bytes_round_trip(data: bytes) -> None:
    assert decode_bytes(encode_bytes(data)) == data


def test_uuid_to_str_is_canonical() -> None:
    value = uuid.uuid4()
    assert uuid_to_str(value.bytes) == str(value)
