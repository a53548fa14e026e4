"""Tests of RecordIO framing, in the style of h11's test_io: every input is fed whole,
byte by byte, split at every offset and with trailing partial data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.wire.recordio import DEFAULT_MAX_RECORD_SIZE, RecordIODecoder, encode

RECORDS = [b'{"type":"HEARTBEAT"}', b"x", b"\n" * 10, b"0123456789" * 30, bytes(range(256))]
STREAM = b"".join(encode(r) for r in RECORDS)


def feed_all(decoder: RecordIODecoder, chunks: Iterator[bytes] | list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


def test_encode() -> None:
    assert encode(b"hello") == b"5\nhello"
    assert encode(b"\n") == b"1\n\n"
    assert encode(b"a" * 1234) == b"1234\n" + b"a" * 1234


def test_encode_refuses_an_empty_record() -> None:
    with pytest.raises(ValueError, match="empty"):
        encode(b"")


def test_whole_stream_in_one_chunk() -> None:
    decoder = RecordIODecoder()
    assert decoder.feed(STREAM) == RECORDS
    assert decoder.pending() == 0


def test_byte_by_byte() -> None:
    decoder = RecordIODecoder()
    assert feed_all(decoder, (STREAM[i : i + 1] for i in range(len(STREAM)))) == RECORDS
    assert decoder.pending() == 0


def test_split_at_every_offset() -> None:
    for cut in range(len(STREAM) + 1):
        decoder = RecordIODecoder()
        assert feed_all(decoder, [STREAM[:cut], STREAM[cut:]]) == RECORDS, cut


def test_split_at_every_pair_of_offsets_of_a_short_stream() -> None:
    stream = encode(b"ab") + encode(b"c" * 12) + encode(b"d")
    expected = [b"ab", b"c" * 12, b"d"]
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            decoder = RecordIODecoder()
            assert feed_all(decoder, [stream[:i], stream[i:j], stream[j:]]) == expected


def test_records_are_returned_as_soon_as_they_are_complete() -> None:
    decoder = RecordIODecoder()
    first = encode(b"one")
    assert decoder.feed(first[:-1]) == []
    assert decoder.pending() == len(first) - 1
    assert decoder.feed(first[-1:]) == [b"one"]


def test_trailing_partial_data_stays_pending() -> None:
    for tail_len in range(1, len(encode(b"tail-record"))):
        decoder = RecordIODecoder()
        tail = encode(b"tail-record")[:tail_len]
        assert decoder.feed(STREAM + tail) == RECORDS
        assert decoder.pending() == tail_len
        assert decoder.feed(encode(b"tail-record")[tail_len:]) == [b"tail-record"]
        assert decoder.pending() == 0


def test_empty_feed_is_harmless() -> None:
    decoder = RecordIODecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"3\nab") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"c") == [b"abc"]


def test_record_of_exactly_the_maximum_size() -> None:
    decoder = RecordIODecoder(max_record_size=10)
    assert decoder.feed(encode(b"z" * 10)) == [b"z" * 10]


def test_default_maximum_is_64_mib() -> None:
    assert RecordIODecoder().max_record_size == DEFAULT_MAX_RECORD_SIZE == 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"11\n", "exceeds"),
        (b"99\n", "exceeds"),
        (b"123", "longer than"),
        (b"0\n", "zero"),
        (b"00\n", "zero"),
        (b"\n", "empty"),
        (b"a\n", "non-digit"),
        (b"-1\n", "non-digit"),
        (b" 5\n", "non-digit"),
        (b"5 \n", "non-digit"),
        (b"+5\n", "non-digit"),
        (b"5\r\n", "non-digit"),
        (b"{\"type\":", "non-digit"),
    ],
)
def test_bad_prefixes_fail_at_once(data: bytes, message: str) -> None:
    for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
        decoder = RecordIODecoder(max_record_size=10)
        with pytest.raises(RemoteProtocolError, match=message):
            feed_all(decoder, chunks)
        assert decoder.pending() == 0


def test_overlong_prefix_fails_before_the_newline_arrives() -> None:
    decoder = RecordIODecoder(max_record_size=999)
    assert decoder.feed(b"999") == []
    with pytest.raises(RemoteProtocolError, match="longer than"):
        decoder.feed(b"9")


def test_endless_digits_never_buffer_unboundedly() -> None:
    decoder = RecordIODecoder()
    with pytest.raises(RemoteProtocolError):
        for _ in range(100):
            decoder.feed(b"1" * 5)
            assert decoder.pending() <= len(str(DEFAULT_MAX_RECORD_SIZE))


def test_oversized_record_is_refused_before_its_body_is_buffered() -> None:
    decoder = RecordIODecoder(max_record_size=1024)
    with pytest.raises(RemoteProtocolError, match="1025 bytes exceeds the maximum of 1024"):
        decoder.feed(b"1025\n" + b"x" * 100)
    assert decoder.pending() == 0


def test_bad_prefix_after_good_records() -> None:
    decoder = RecordIODecoder()
    assert decoder.feed(encode(b"good")) == [b"good"]
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"x\n")


def test_decoder_stays_broken_after_an_error() -> None:
    decoder = RecordIODecoder()
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"0\n")
    with pytest.raises(RemoteProtocolError, match="zero"):
        decoder.feed(encode(b"fine"))


def test_invalid_maximum() -> None:
    with pytest.raises(ValueError):
        RecordIODecoder(max_record_size=0)


def test_pending_is_bounded_by_max_record_size_plus_prefix() -> None:
    decoder = RecordIODecoder(max_record_size=100)
    decoder.feed(b"100\n" + b"y" * 99)
    assert decoder.pending() == 4 + 99
    assert decoder.feed(b"y" + b"3\nab") == [b"y" * 100]
    assert decoder.pending() == 4


def test_pending_counts_a_parsed_prefix_so_a_cut_stream_is_detectable() -> None:
    decoder = RecordIODecoder()
    assert decoder.feed(b"12\n") == []
    assert decoder.pending() == 3
