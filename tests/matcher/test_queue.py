"""The owners' bucket queues: draining one gives the tasks in (submit time, key) order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.matcher._queue import Run, RunQueue
from mesos_wm.matcher._state import Cursor
from mesos_wm.matcher.index import Bucket
from mesos_wm.matcher.request import Shape, Signature

SHAPE = Shape(0, (("cpus", 1000),))
SIG = Signature(0, (), None, None)
CURSOR = Cursor(SHAPE, SIG)

# Coarse submit times, so that many next tasks of different buckets tie.
tasks = st.lists(st.tuples(st.integers(0, 5).map(float), st.integers(0, 40)), min_size=1,
                 max_size=60, unique_by=lambda t: t[1])


def _buckets(spec: list[tuple[float, int]], n: int) -> list[Bucket]:
    buckets = [Bucket(5, "alice", SHAPE, SIG) for _ in range(n)]
    for i, (sub, k) in enumerate(spec):
        buckets[i % n]._insert(sub, f"t{k:03d}")
    return [b for b in buckets if b.keys]


@settings(max_examples=150, deadline=None)
@given(tasks, st.integers(1, 7))
def test_drain_is_submit_then_key_order(spec: list[tuple[float, int]], n: int) -> None:
    queue = RunQueue([Run(b, CURSOR) for b in _buckets(spec, n)])
    drained = []
    while queue.runs:
        run = queue.runs[0]
        drained.append((run.sub, run.bucket.keys[run.pos]))
        run.pos += 1
        if run.pos < len(run.bucket.keys):
            run.sub = run.bucket.subs[run.pos]
            queue.moved()
        else:
            queue.pop()
    assert drained == sorted((sub, f"t{k:03d}") for sub, k in spec)


def test_popped_runs_leave_and_the_rest_stay_queued() -> None:
    queue = RunQueue([Run(b, CURSOR) for b in _buckets([(1.0, 1), (1.0, 2), (0.0, 3)], 3)])
    assert queue.pop().bucket.keys == ["t003"]
    assert sorted(run.bucket.keys[0] for run in queue.runs) == ["t001", "t002"]
    assert queue.runs[0].bucket.keys == ["t001"]


def test_a_reset_run_starts_at_the_live_head_and_skips_tombstones() -> None:
    a, b = _buckets([(0.0, 1), (1.0, 2), (2.0, 3), (3.0, 4)], 2)
    a._remove("t001")
    a._insert(4.0, "t005")
    a._remove("t005")
    run = Run(b, CURSOR)
    run.reset(a, CURSOR)
    assert (run.bucket.keys[run.pos], run.sub) == ("t003", 2.0)
    run.pos += 1
    run.skip_dead()
    assert run.pos == len(a.keys)
