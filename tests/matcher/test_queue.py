"""The owners' bucket queues: draining one gives the tasks in (submit time, key) order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mesos_wm.matcher._queue import BucketQueue
from mesos_wm.matcher.index import Bucket
from mesos_wm.matcher.request import Shape, Signature

SHAPE = Shape(0, (("cpus", 1000),))
SIG = Signature(0, (), None, None)

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
    buckets = _buckets(spec, n)
    heads = [b.head for b in buckets]
    queue = BucketQueue(buckets, heads)
    queue.fill(0, len(buckets))
    drained = []
    while len(queue):
        bi = queue.first()
        b = buckets[bi]
        drained.append((b.subs[heads[bi]], b.keys[heads[bi]]))
        heads[bi] += 1
        if heads[bi] < len(b.keys):
            queue.advance(b.subs[heads[bi]])
        else:
            queue.pop()
    assert drained == sorted((sub, f"t{k:03d}") for sub, k in spec)


def test_popped_buckets_leave_and_the_rest_stay_queued() -> None:
    buckets = _buckets([(1.0, 1), (1.0, 2), (0.0, 3)], 3)
    heads = [0, 0, 0]
    queue = BucketQueue(buckets, heads)
    queue.fill(0, 3)
    assert buckets[queue.first()].keys == ["t003"]
    queue.pop()
    assert sorted(buckets[bi].keys[0] for bi in queue.queued()) == ["t001", "t002"]
    assert buckets[queue.first()].keys == ["t001"]
