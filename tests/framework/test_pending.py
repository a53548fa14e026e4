"""The ready set as the matcher sees it: sync with the queue, pins, constraint mapping."""

from __future__ import annotations

from mesos_wm.framework.pending import ReadySet, matcher_constraints, matcher_resources, request_key
from mesos_wm.matcher import Constraint
from tests.framework.builders import ready, shape


def test_sync_adds_new_tasks_and_removes_the_ones_no_longer_ready() -> None:
    rs = ReadySet(lambda wf: None)
    added, removed, rejected = rs.sync([ready(1), ready(2)])
    assert [t.key for t in added] == [1, 2] and not removed and not rejected
    added, removed, _ = rs.sync([ready(2), ready(3)])
    assert [t.key for t in added] == [3]
    assert [t.key for t in removed] == [1]
    assert sorted(rs.tasks) == [2, 3]
    assert sorted(int(k) for k in rs.index) == [2, 3]


def test_a_requeued_task_with_a_new_attempt_is_replaced() -> None:
    rs = ReadySet(lambda wf: None)
    rs.sync([ready(1, attempt=1)])
    added, _, _ = rs.sync([ready(1, attempt=2)])
    assert [t.attempt for t in added] == [2]
    assert rs.tasks[1].attempt == 2


def test_tasks_are_pinned_to_their_workflows_home_unless_they_name_an_image() -> None:
    homes = {"wf": "S9"}
    rs = ReadySet(homes.get)
    rs.sync([ready(1, "wf"), ready(2, "other"), ready(3, "wf", task_shape=shape(image="x"))])
    assert rs.index.get(request_key(1)).colocate_with_agent == "S9"  # type: ignore[union-attr]
    assert rs.index.get(request_key(2)).colocate_with_agent is None  # type: ignore[union-attr]
    assert rs.index.get(request_key(3)).colocate_with_agent is None  # type: ignore[union-attr]
    homes["other"] = "S2"
    rs.repin(["other"])
    assert rs.index.get(request_key(2)).colocate_with_agent == "S2"  # type: ignore[union-attr]


def test_constraints_and_resources_map_to_the_matcher() -> None:
    s = shape(cpus=2, mem=512, ports=2,
              constraints=(("rack", "EQ", "r1"), ("zone", "NE", "z.1"),
                           ("hostname", "UNIQUE", None)))
    assert matcher_resources(s) == {"cpus": 2, "mem": 512, "ports": 2}
    got = matcher_constraints(s)
    assert got[0] == Constraint.parse(["rack", "EQ", "r1"])
    assert got[1].accepts("z.2") and not got[1].accepts("z.1") and got[1].accepts("zx1")
    assert not got[2].static
    rs = ReadySet(lambda wf: None)
    rs.sync([ready(1, "wf", task_shape=s)])
    assert rs.index.get(request_key(1)).group == "wf"  # type: ignore[union-attr]


def test_a_task_the_matcher_cannot_read_is_rejected_not_added() -> None:
    bad = shape(constraints=(("rack", "LIKE", "(unclosed"),))
    rs = ReadySet(lambda wf: None)
    added, _, rejected = rs.sync([ready(1, task_shape=bad), ready(2)])
    assert [t.key for t in added] == [2]
    assert rejected[0][0].key == 1 and "regular expression" in rejected[0][1]
    assert 1 not in rs


def test_a_large_sync_is_taken_in_slices_and_only_the_last_one_removes() -> None:
    rs = ReadySet(lambda wf: None)
    rs.sync([ready(1), ready(2)])
    rs.begin([ready(k) for k in range(2, 8)])
    added, removed, _ = rs.step(3)
    assert [t.key for t in added] == [3, 4] and not removed and rs.syncing
    added, removed, _ = rs.step(3)
    assert [t.key for t in added] == [5, 6, 7] and [t.key for t in removed] == [1]
    assert not rs.syncing
    rs.begin([ready(9)], partial=True)
    added, removed, _ = rs.step(10)
    assert [t.key for t in added] == [9] and not removed
    assert sorted(rs.tasks) == [2, 3, 4, 5, 6, 7, 9]
