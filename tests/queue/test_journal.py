"""The submission journal's files: framing, torn tails, segment switches, recycling and the
hints a killed appender or a lost control file leave behind (real files, no mocks)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mesos_wm.errors import StoreError
from mesos_wm.queue.journal import HEADER_SIZE, Journal, RecordTooLarge

SEG = 4096


def payloads(n: int, size: int = 300, tag: str = "r") -> list[bytes]:
    return [(f"{tag}{i}:".encode() + bytes([65 + i % 26]) * size)[:size] for i in range(n)]


def append_all(journal: Journal, items: list[bytes]) -> list[int]:
    positions = []
    with journal.locked():
        end = journal.end()
        for item in items:
            pos, end = journal.append(end, item)
            positions.append(pos)
    return positions


def test_records_read_back_in_order_across_segments_and_reopen(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j"), segment_size=SEG)
    items = payloads(40)
    positions = append_all(journal, items)
    assert positions == sorted(positions) and positions[0] == 0
    assert {p // SEG for p in positions} == set(range(4))  # 12 records of 316 bytes per segment
    end = journal.end()
    assert [p for _, p in journal.read(0, end)] == items
    assert journal.read(positions[5], end)[0] == (positions[5], items[5])
    journal.close()
    again = Journal(str(tmp_path / "j"), segment_size=8192)
    assert again.segment_size == SEG
    assert again.end() == end
    assert [p for _, p in again.read(0, again.end())] == items


def test_a_torn_tail_record_is_ignored_and_overwritten(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j"), segment_size=SEG)
    items = payloads(3)
    positions = append_all(journal, items)
    end = journal.end()
    journal.close()
    segment = tmp_path / "j" / f"{0:016x}.seg"
    with open(segment, "r+b") as f:  # the last record was only partly written
        f.seek(positions[2] + HEADER_SIZE + 100)
        f.write(bytes(200))
    for start in (0, positions[2]):  # whatever the end hint says
        with open(tmp_path / "j" / "control", "r+b") as f:
            f.seek(16)
            f.write(start.to_bytes(8, "little"))
        journal = Journal(str(tmp_path / "j"), segment_size=SEG)
        assert journal.recover(0) == positions[2] < end
        assert journal.end() == positions[2]
        assert [p for _, p in journal.read(0, positions[2])] == items[:2]
        journal.close()
    journal = Journal(str(tmp_path / "j"), segment_size=SEG)
    short = b"short record"
    assert append_all(journal, [short]) == [positions[2]]
    assert [p for _, p in journal.read(0, journal.end())] == [*items[:2], short]


def test_records_left_after_the_end_hint_are_found_and_kept(tmp_path: Path) -> None:
    writer = Journal(str(tmp_path / "j"), segment_size=SEG)
    append_all(writer, payloads(20))
    true_end = writer.end()
    with open(tmp_path / "j" / "control", "r+b") as f:  # hint lost (power loss, killed writer)
        f.seek(16)
        f.write((0).to_bytes(8, "little"))
    other = Journal(str(tmp_path / "j"), segment_size=SEG)
    assert other.end() == 0  # appenders and readers go by the hint; opening recovers it
    assert other.recover(0) == true_end
    assert other.hints()[0] == true_end == other.end()
    with open(tmp_path / "j" / "control", "wb") as f:  # control file lost entirely
        f.truncate(0)
    fresh = Journal(str(tmp_path / "j"), segment_size=SEG)
    assert fresh.recover(0) == true_end
    assert fresh.end(floor=true_end) == true_end


def test_folded_segments_are_recycled_and_their_old_records_never_read(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j"), segment_size=SEG, spare=1)
    first = payloads(24, tag="old")
    append_all(journal, first)
    end = journal.end()
    assert journal.segments() == [0, 1]
    old_inode = os.stat(tmp_path / "j" / f"{0:016x}.seg").st_ino
    journal.set_folded(end)
    second = payloads(40, tag="new")
    positions = append_all(journal, second)
    assert journal.segments() == [1, 2, 3, 4, 5]
    assert os.stat(tmp_path / "j" / f"{2:016x}.seg").st_ino == old_inode
    assert [p for _, p in journal.read(end, journal.end())] == second
    assert positions[0] == 2 * SEG
    reopened = Journal(str(tmp_path / "j"), segment_size=SEG)
    assert reopened.recover(end) == journal.end()
    journal.set_folded(journal.end())
    append_all(journal, payloads(30, tag="more"))
    assert len(journal.segments()) <= 4  # 5 recycled; 1-4 fully folded, only 1 spare kept


def test_a_record_that_does_not_fit_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    journal = Journal(str(tmp_path / "j"), segment_size=SEG)
    assert not journal.fits(SEG)
    with pytest.raises(RecordTooLarge), journal.locked():
        journal.append(journal.end(), bytes(SEG))
    assert journal.end() == 0
    exact = SEG - 2 * HEADER_SIZE
    assert journal.fits(exact)
    append_all(journal, [b"x" * 100, bytes([7]) * exact])
    assert [len(p) for _, p in journal.read(0, journal.end())] == [100, exact]


def test_a_damaged_record_inside_the_journal_is_reported(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j"), segment_size=SEG)
    positions = append_all(journal, payloads(5))
    end = journal.end()
    with open(tmp_path / "j" / f"{0:016x}.seg", "r+b") as f:
        f.seek(positions[1] + HEADER_SIZE + 3)
        f.write(b"!")
    with pytest.raises(StoreError, match="damaged"):
        journal.read(0, end)


def test_a_directory_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "control").write_bytes(b"something else entirely" * 2)
    with pytest.raises(StoreError, match="does not hold"):
        Journal(str(tmp_path / "j"))
