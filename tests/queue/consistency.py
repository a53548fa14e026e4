"""An independent check that a store's rows agree with each other and with the ready index."""

from __future__ import annotations

from collections import Counter

from mesos_wm.queue import TaskQueue
from mesos_wm.queue.states import (
    ACTIVE,
    SETTLED,
    UNSUCCESSFUL,
    Counters,
    TaskState,
    rollup,
)


def _waiting(queue: TaskQueue) -> list[tuple[str, str, str]]:
    return queue._transact(queue._waiting_submissions, None, write=False, drain=False)


def intake_ids(queue: TaskQueue) -> list[str]:
    """Return the ids waiting in the intake (or the SQLite journal), in submission order,
    without expanding them."""
    return [wid for wid, _digest, _doc in _waiting(queue)]


def check_intake(queue: TaskQueue) -> list[str]:
    """Check, without expanding, that no id waits twice or is both waiting and in
    ``workflows``, and that every waiting document decodes; returns the ids waiting."""
    from mesos_wm.queue.prepare import decode

    rows = _waiting(queue)
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), ids
    expanded = {r[0] for r in queue._read(lambda tx: tx.all("SELECT workflow_id FROM workflows"),
                                          drain=False)}
    assert expanded.isdisjoint(ids), sorted(expanded.intersection(ids))
    for wid, digest, doc in rows:
        assert decode(digest, doc).workflow_id == wid
    return sorted(ids)


def check_consistency(queue: TaskQueue, *, index: bool = True) -> None:
    """Raise AssertionError if the store (or the queue's ready index) is inconsistent."""
    check_intake(queue)
    workflows, tasks, edges, attempts = queue._read(
        lambda tx: (
            tx.all("SELECT id, workflow_id, state, total, settled, unsuccessful, queued_ever,"
                   " launched_ever, cancel_requested FROM workflows"),
            tx.all("SELECT id, wf, task_id, state, deps_left, attempts, deps FROM tasks"),
            tx.all("SELECT parent, child FROM edges"),
            tx.all("SELECT task, number, finished_at FROM attempts"),
        )
    )
    state = {t[0]: TaskState(t[3]) for t in tasks}
    by_wf: dict[int, list[tuple]] = {}
    for t in tasks:
        by_wf.setdefault(t[1], []).append(t)
    for wf, wid, wstate, total, settled, bad, queued, launched, cancel in workflows:
        mine = by_wf.get(wf, [])
        assert total == len(mine), (wid, "total")
        counts = Counter(TaskState(t[3]) for t in mine)
        assert settled == sum(n for s, n in counts.items() if s in SETTLED), (wid, "settled")
        assert bad == sum(n for s, n in counts.items() if s in UNSUCCESSFUL), (wid, "unsuccessful")
        expected = rollup(Counters(total, settled, bad, bool(queued), bool(launched),
                                   bool(cancel)))
        assert wstate == expected.value, (wid, wstate, expected)
    parents: dict[int, list[int]] = {}
    for p, c in edges:
        parents.setdefault(c, []).append(p)
    row = {t[0]: t for t in tasks}
    for key, wf, name, _s, _d, _n, deps in tasks:
        mine = parents.get(key, [])
        assert all(row[p][1] == wf for p in mine), (name, "edge across workflows")
        assert sorted(row[p][2] for p in mine) == sorted(deps.split(",") if deps else []), (
            name, "edges differ from depends_on")
    for key, _wf, name, s, deps_left, _n, _deps in tasks:
        if s == "PENDING":
            open_parents = sum(state[p] not in SETTLED for p in parents.get(key, ()))
            assert deps_left == open_parents, (name, deps_left, open_parents)
        if s == "QUEUED":
            assert deps_left == 0, name
    live = Counter(t for t, _n, finished in attempts if finished is None)
    numbers: dict[int, int] = {}
    for t, n, _f in attempts:
        numbers[t] = max(numbers.get(t, 0), n)
    for key, _wf, name, s, _d, n, _deps in tasks:
        assert n == numbers.get(key, 0), (name, "attempt count")
        assert live[key] == (1 if TaskState(s) in ACTIVE else 0), (name, s, live[key])
    if index:
        queued = {t[0] for t in tasks if t[3] == "QUEUED"}
        assert {r.key for r in queue.ready_tasks(now=0.0)} == queued
