"""The compact ready index and the timers."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.queue import TaskShape
from mesos_wm.queue.ready import ReadyIndex, Row, Timers


def row(key: int, priority: int = 0, wf: int = 1) -> Row:
    return (key, wf, f"t{key}", 1, priority, 0, float(key))


def make() -> ReadyIndex:
    index = ReadyIndex()
    index.shapes[1] = TaskShape()
    index.workflows[1] = ("w", "alice")
    index.workflows[2] = ("v", "bob")
    return index


def test_order_is_priority_then_first_in() -> None:
    index = make()
    for key, prio in [(1, 0), (2, 5), (3, 0), (4, 5), (5, -1)]:
        assert index.add(row(key, prio))
    assert not index.add(row(3, 9))
    assert [r[0] for r in index.rows()] == [2, 4, 1, 3, 5]
    assert index.remove(2) and not index.remove(2)
    assert [t.key for t in index.tasks(2)] == [4, 1]
    ready = index.tasks(1)[0]
    assert (ready.workflow_id, ready.owner, ready.attempt, ready.task_id) == ("w", "alice", 1, "t4")
    assert len(index) == 4 and 4 in index and 2 not in index


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 300), st.integers(-2, 2)),
                max_size=400))
def test_matches_a_plain_model_under_any_adds_and_removes(
    ops: list[tuple[bool, int, int]],
) -> None:
    index = make()
    model: dict[int, tuple[int, int]] = {}
    seq = 0
    for add, key, prio in ops:
        if add:
            fresh = key not in model
            assert index.add(row(key, prio)) == fresh
            if fresh:
                model[key] = (prio, seq)
                seq += 1
        else:
            assert index.remove(key) == (model.pop(key, None) is not None)
    expected = sorted(model, key=lambda k: (-model[k][0], model[k][1]))
    assert [r[0] for r in index.rows()] == expected


def test_compaction_keeps_order_and_frees_memory() -> None:
    index = make()
    for key in range(1, 20_001):
        index.add(row(key, key % 3))
    for key in range(1, 20_001):
        if key % 10:
            index.remove(key)
    assert len(index._key) < 20_000  # compacted
    assert [r[0] for r in index.rows()] == sorted(
        (k for k in range(1, 20_001) if k % 10 == 0), key=lambda k: (-(k % 3), k))
    assert index.keys_of_workflow(1) and index.keys_of_workflow(2) == []


def test_bulk_load_and_add_many_equal_single_adds() -> None:
    rows = [row(k, k % 4, 1 + k % 2) for k in range(1, 500)]
    single, bulk, loaded = make(), make(), make()
    for r in rows:
        single.add(r)
    assert bulk.add_many(rows) == len(rows)
    assert bulk.add_many(rows[:3]) == 0
    loaded.load(sorted(rows, key=lambda r: (-r[4], r[6])))
    assert single.rows() == bulk.rows() == loaded.rows()
    assert sorted(single.keys_of_workflow(2)) == sorted(loaded.keys_of_workflow(2))


def test_memory_per_task_is_small() -> None:
    n = 100_000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = ReadyIndex()
    for i in range(n):
        index.add((i + 1, i // 100, f"t{i % 100}-{i}", 1, i % 3, 0, 1.0e9 + i))
    used = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    assert len(index) == n
    assert used < 300, used


def test_timers() -> None:
    timers = Timers()
    timers.set(1, 50.0)
    timers.set(2, 20.0)
    timers.set(3, 30.0)
    timers.set(2, 40.0)
    timers.discard(3)
    assert timers.next_time() == 40.0 and len(timers) == 2
    assert timers.pop_due(45.0) == [2]
    assert timers.pop_due(45.0) == [] and 1 in timers
    timers.load([(7, 1.0)])
    assert timers.pop_due(1.0) == [7] and timers.next_time() is None


def test_loading_columns_in_matching_order_equals_adding_rows() -> None:
    from mesos_wm.queue.ready import ReadyColumns, matching_order

    rows = sorted([row(k, k % 3 - 1, wf=1 + k % 2) for k in range(1, 200)], key=matching_order)
    added, loaded = make(), make()
    for r in rows:
        added.add(r)
    columns = ReadyColumns()
    columns.extend(rows)
    loaded.load_columns(columns)
    assert loaded.rows() == added.rows() == rows
    assert sorted(loaded.workflow_rows()) == [1, 2]
    assert loaded.remove(rows[0][0]) and added.remove(rows[0][0]) and rows[0][0] not in loaded
    for wf in (1, 2):
        assert sorted(loaded.keys_of_workflow(wf)) == sorted(added.keys_of_workflow(wf))
    assert loaded.rows() == added.rows() == rows[1:]
    empty = make()
    empty.load_columns(ReadyColumns())
    assert len(empty) == 0 and empty.rows() == []
    twice = ReadyColumns()
    twice.extend([row(1), row(1)])
    with pytest.raises(ValueError, match="duplicate"):
        make().load_columns(twice)
