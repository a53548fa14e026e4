"""The pending index: buckets, submit order, tombstones, snapshots, incremental updates."""

from __future__ import annotations

import random

from mesos_wm.matcher import PendingIndex
from mesos_wm.matcher.index import ChangeLog

from .builders import task


def keys_by_bucket(index: PendingIndex) -> dict[tuple[int, str, str], list[str]]:
    return {(b.priority, b.owner, b.shape.describe()): b.live_keys() for b in index.buckets()
            if not b.sig.constraints}


def test_tasks_with_equal_priority_owner_shape_and_constraints_share_a_bucket() -> None:
    index = PendingIndex()
    index.add_many([
        task("a", 1, 100, submitted=3), task("b", 1, 100, submitted=1),
        task("c", 2, 100, submitted=2), task("d", 1, 100, owner="bob"),
        task("e", 1, 100, priority=5), task("f", 1, 100, constraints=[["rack", "EQ", "r1"]]),
        task("g", 1, 100, submitted=1),
    ])
    assert len(index) == 7
    assert index.bucket_count() == 5
    buckets = keys_by_bucket(index)
    assert buckets[(0, "default", "cpus:1;mem:100")] == ["b", "g", "a"]
    assert [b.priority for b in index.buckets()][0] == 5
    assert [s.describe() for s in index.shapes()] == ["cpus:1;mem:100", "cpus:2;mem:100"]
    assert index.resource_names() == {"cpus", "mem"}


def test_remove_and_replace() -> None:
    index = PendingIndex()
    index.add_many([task(str(i), submitted=i) for i in range(5)])
    assert index.remove("0") and index.remove("3")
    assert not index.remove("3") and not index.remove("nope")
    assert index.discard_many(["1", "x"]) == 1
    assert list(keys_by_bucket(index).values()) == [["2", "4"]]
    index.add(task("2", cpus=3, submitted=9))
    assert keys_by_bucket(index) == {(0, "default", "cpus:1;mem:128"): ["4"],
                                     (0, "default", "cpus:3;mem:128"): ["2"]}
    index.discard_many(["2", "4"])
    assert len(index) == 0 and index.bucket_count() == 0 and index.shapes() == []
    assert index.get("4") is None


def test_matches_a_sorted_reference_under_random_churn() -> None:
    rng = random.Random(7)
    index = PendingIndex()
    live: dict[str, float] = {}
    serial = 0
    for _ in range(3000):
        if live and rng.random() < 0.45:
            key = rng.choice(sorted(live)) if rng.random() < 0.5 else min(
                live, key=lambda k: (live[k], k))
            index.remove(key)
            del live[key]
        else:
            serial += 1
            key = f"k{serial % 400}"
            sub = float(rng.randrange(50)) if rng.random() < 0.3 else float(serial)
            index.add(task(key, submitted=sub))
            live[key] = sub
        if live:
            (bucket,) = index.buckets()
            assert bucket.first == min(live.values())
            assert bucket.tombstones == len(bucket.dead)
    (bucket,) = index.buckets()
    assert bucket.live_keys() == sorted(live, key=lambda k: (live[k], k))
    assert bucket.live == len(live) == len(index)


def test_a_frozen_state_survives_later_changes() -> None:
    index = PendingIndex()
    index.add_many([task(f"t{i}", submitted=i) for i in range(10)])
    (bucket,) = index.buckets()
    index.remove("t5")
    log = index.freeze()
    index.remove("t0")
    index.remove("t7")
    index.add(task("t2b", submitted=2.5))
    index.add(task("t99", submitted=99))
    keys, start, end, dead = log.states()[bucket]
    assert [k for k in keys[start:end] if k not in dead] == [
        "t0", "t1", "t2", "t3", "t4", "t6", "t7", "t8", "t9"]
    assert bucket.live_keys() == ["t1", "t2", "t2b", "t3", "t4", "t6", "t8", "t9", "t99"]


def test_signatures_of_groups_are_released() -> None:
    index = PendingIndex()
    for g in range(50):
        index.add(task(f"t{g}", constraints=[["hostname", "UNIQUE"]], group=f"g{g}"))
    assert index.bucket_count() == 50
    index.discard_many([f"t{g}" for g in range(50)])
    assert len(index._sigs) <= 2


def layout(index: PendingIndex) -> list[tuple[int, list[tuple[str, list[str]]]]]:
    return [(p, [(o, [b.shape.describe() for b in buckets]) for o, buckets in owners])
            for p, owners in index.levels()]


def test_levels_are_reused_until_a_bucket_is_made_or_emptied() -> None:
    index = PendingIndex()
    index.add_many([task("a", 1, 100), task("b", 1, 100, owner="bob", priority=2)])
    first = index.levels()
    index.add(task("c", 1, 100))
    assert index.levels() is first
    index.add(task("d", 2, 100))
    assert layout(index) == [(2, [("bob", ["cpus:1;mem:100"])]),
                             (0, [("default", ["cpus:1;mem:100", "cpus:2;mem:100"])])]
    again = index.levels()
    index.remove("a")
    assert index.levels() is again
    index.remove("b")
    assert layout(index) == [(0, [("default", ["cpus:1;mem:100", "cpus:2;mem:100"])])]
    index.discard_many(["c", "d"])
    assert index.levels() == []


def test_group_signatures_are_reused_until_one_appears_or_goes() -> None:
    index = PendingIndex()
    unique = [["hostname", "UNIQUE"]]
    index.add_many([task("a", group="g1", constraints=unique), task("plain", group="g1")])
    first = index.group_signatures()
    assert {g: [s.describe() for s in sigs] for g, sigs in first.items()} == {
        "g1": ["hostname UNIQUE"]}
    index.add(task("b", 2, group="g1", constraints=unique))
    assert index.group_signatures() is first
    index.add(task("c", group="g1", constraints=[["rack", "MAX_PER", 2]]))
    second = index.group_signatures()
    assert second is not first and len(second["g1"]) == 2
    assert first == {"g1": first["g1"]} and len(first["g1"]) == 1
    index.remove("c")
    assert [s.describe() for s in index.group_signatures()["g1"]] == ["hostname UNIQUE"]
    index.discard_many(["a", "b"])
    assert index.group_signatures() == {}


def test_a_change_log_gives_each_bucket_as_it_was_at_its_freeze() -> None:
    index = PendingIndex()
    index.add_many([task(f"t{i}", submitted=i) for i in range(5)])
    (bucket,) = index.buckets()
    first = index.freeze()
    index.remove("t0")
    index.add(task("t9", submitted=9))
    second = index.freeze()
    index.remove("t3")
    index.add(task("t1b", submitted=1.5))

    def live(log: ChangeLog) -> list[str]:
        keys, head, end, dead = log.states()[bucket]
        return [k for k in keys[head:end] if k not in dead]

    assert live(first) == ["t0", "t1", "t2", "t3", "t4"]
    assert live(second) == ["t1", "t2", "t3", "t4", "t9"]
    assert bucket.live_keys() == ["t1", "t1b", "t2", "t4", "t9"]
    assert index.freeze().states() == {}
