"""The fairness walk of one matching cycle: priority levels, DRF turns, submit order.

Theory of operation: levels are served highest priority first.  Within a level each owner
has a heap of its buckets keyed by the submit time of each bucket's next task; the owners
themselves sit in a heap keyed by dominant share, and the owner on top keeps its turn until
its share passes the next owner's by ``drf_quantum``.  A task is offered to the cursor of
its (shape, signature) (see ``_cycle``); when the cursor dies the whole bucket leaves the
heap as unplaced, so an unplaceable task never blocks the tasks behind it.

Buckets are settled in bulk wherever possible: the buckets of an owner whose cursors are
dead when the level starts, and every bucket of the levels after the one where no slot has
room for even the smallest pending shape, are recorded as unplaced without a look at a
single task (their keys are snapshot by reference, four C-speed passes per owner).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from heapq import heapify, heappop, heapreplace
from typing import Any, Final

from mesos_wm.matcher._cycle import Cursor, Cycle
from mesos_wm.matcher._needs import Needs
from mesos_wm.matcher._queue import Run, RunQueue
from mesos_wm.matcher._usage import Usage, drf_amounts
from mesos_wm.matcher.cluster import ClusterView
from mesos_wm.matcher.explain import explain_pending, explain_unschedulable, explain_window
from mesos_wm.matcher.index import Bucket, ChangeLog
from mesos_wm.matcher.request import Shape, Signature
from mesos_wm.matcher.result import Failure, Snapshot, Unplaced
from mesos_wm.matcher.running import RunningIndex

_EPSILON: Final = 1e-12
_INLINE: Final = 8

Levels = list[tuple[int, list[tuple[str, list[Bucket]]]]]


class Walk:
    """The fairness walk of one cycle over the index's levels.

    Args:
        cycle: the cycle's free resources and cursors.
        cluster: the matcher's view of the agents (for unschedulable reasons).
        running: the framework's running tasks (owner usage).
        total: the cluster total per DRF resource, in thousandths.
        window: at most this many tasks are examined.
        quantum: how far an owner may run ahead of the next before yielding its turn.
        log: the index's changes since it was frozen for this cycle.
    """

    def __init__(self, cycle: Cycle, cluster: ClusterView, running: RunningIndex, *,
                 total: Mapping[str, int], window: int, quantum: float,
                 log: ChangeLog) -> None:
        self.cycle = cycle
        self.cluster = cluster
        self.running = running
        self.window = window
        self.quantum = quantum
        self.examined = 0
        self.window_reached = False
        self.settled = False
        # buckets left during the walk, where, and whether by the window (not one tuple
        # per bucket: a cycle makes as few tracked objects as it can)
        self.dropped: list[Bucket] = []
        self.dropped_at: list[int] = []
        self.dropped_by_window: list[bool] = []
        self.bulk: list[tuple[list[Bucket], bool]] = []
        self.log = log
        self.total = total
        self.totals = drf_amounts(total, total)
        self.usage: dict[str, Usage] = {}
        self.spare: list[Run] = []
        self._explained: dict[tuple[Shape, Signature], tuple[Failure, ...]] = {}

    def explained(self, how: Callable[[Any, Shape, Signature], tuple[Failure, ...]],
                  state: object, shape: Shape, sig: Signature) -> tuple[Failure, ...]:
        """The failures of (shape, sig) worked out by ``how``, once per cycle."""
        known = self._explained.get((shape, sig))
        if known is None:
            known = self._explained[(shape, sig)] = how(state, shape, sig)
        return known

    def share(self, owner: str) -> float:
        """The owner's dominant share: running tasks plus this cycle's placements."""
        usage = self.usage.get(owner)
        if usage is None:
            base = self.running.owner_usage_milli(owner)
            usage = self.usage[owner] = Usage(drf_amounts(base, self.total))
        return usage.share(self.totals)

    def unplaced(self) -> list[Unplaced]:
        """Build the Unplaced groups of the buckets dropped during the walk.

        Sorted by priority (highest first), owner and first task key, so that the order
        does not depend on the order tasks were added to the index.
        """
        out: list[Unplaced] = []
        changed = self.log.states()
        for b, pos, window in zip(self.dropped, self.dropped_at, self.dropped_by_window,
                                  strict=True):
            keys, _, end, dead = changed.get(b) or b.state()
            self._group(out, b, (keys, pos, end, dead), window)
        for buckets, window in self.bulk:
            for b in buckets:
                self._group(out, b, changed.get(b) or b.state(), window)
        out.sort(key=lambda g: (-g.priority, g.owner, g.task_keys[0]))
        return out

    def _group(self, out: list[Unplaced], b: Bucket, snapshot: Snapshot, window: bool) -> None:
        cycle = self.cycle
        cur = cycle.cursors.get(b.ck)
        if cur is None and not window:
            cur = (cycle.unschedulable_cursor if cycle.never.check(b.shape, b.sig)
                   else cycle.dead_cursor)
        explain: Callable[[], tuple[Failure, ...]]
        if window and (cur is None or not cur.dead):
            explain = partial(explain_window, self.window)
            unschedulable = False
        elif cur is not None and cur.unschedulable:
            explain = partial(self.explained, explain_unschedulable, self.cluster, b.shape,
                              b.sig)
            unschedulable = True
        else:
            explain = partial(self.explained, explain_pending, self.cycle, b.shape, b.sig)
            unschedulable = False
        group = Unplaced(snapshot, priority=b.priority, owner=b.owner, shape=b.shape,
                         unschedulable=unschedulable, explain=explain)
        if group.task_keys:
            out.append(group)

    def drop_all(self, buckets: list[Bucket], window: bool) -> None:
        """Record every bucket of the list as unplaced from its head.

        Nothing of the buckets is read now: :meth:`unplaced` reads them as they were at the
        cycle's freeze (``log``), so settling levels costs nothing per bucket.  ``buckets``
        must not change afterwards (the index's level lists never do).
        """
        self.bulk.append((buckets, window))

    def run(self, levels: Levels) -> None:
        """Walk the levels, highest priority first."""
        cycle = self.cycle
        for priority_index, (_, owners) in enumerate(levels):
            if self.examined >= self.window:
                for _, rest in levels[priority_index:]:
                    for _, buckets in rest:
                        self.drop_all(buckets, True)
                break
            cycle.refresh_top()
            if cycle.exhausted():
                self.settle(levels[priority_index:])
                break
            self.level(owners)

    def settle(self, levels: Levels) -> None:
        """Drop every bucket of ``levels``: no slot has room for any pending shape.

        The (shape, signature) pairs that occur only in these levels get no cursor: when
        :meth:`unplaced` meets one, it is dead, or unschedulable if it fits no agent.
        """
        self.settled = True
        for _, owners in levels:
            for _, buckets in owners:
                self.drop_all(buckets, False)

    def dead_shapes(self, combos: Mapping[int, object]) -> int:
        """How many (shape, signature) pairs the cycle found dead (``combos``: the
        index's pairs)."""
        cursors = self.cycle.cursors
        dead = sum(1 for cur in cursors.values() if cur.dead)
        if self.settled:
            dead += len(combos) - sum(1 for ck in cursors if ck in combos)
        return dead

    def _queues(self, owners: list[tuple[str, list[Bucket]]]
                ) -> list[tuple[float, str, RunQueue]]:
        """Each owner's queue of live buckets (dead ones are dropped in bulk)."""
        cycle = self.cycle
        cursors = cycle.cursors
        spare = self.spare
        heap: list[tuple[float, str, RunQueue]] = []
        for owner, buckets in owners:
            runs: list[Run] = []
            dead: list[Bucket] = []
            for b in buckets:
                cur = cursors.get(b.ck)
                if cur is None:
                    cur = cycle.cursor(b.shape, b.sig)
                if cur.dead:
                    dead.append(b)
                elif spare:
                    run = spare.pop()
                    run.reset(b, cur)
                    runs.append(run)
                else:
                    runs.append(Run(b, cur))
            if dead:
                self.drop_all(dead, False)
            if runs:
                heap.append((self.share(owner), owner, RunQueue(runs)))
        heapify(heap)
        return heap

    def level(self, owners: list[tuple[str, list[Bucket]]]) -> None:
        """Place the tasks of one priority level."""
        cycle = self.cycle
        spare = self.spare
        heap = self._queues(owners)
        quantum = self.quantum
        left = self.window - self.examined
        groups = cycle.group_sigs
        smallest = cycle.smallest
        while heap and left > 0:
            share, owner, queue = heap[0]
            if len(heap) > 1:
                nxt = heap[1] if len(heap) == 2 or heap[1] < heap[2] else heap[2]
                budget = nxt[0] + quantum - share
            else:
                budget = math.inf
            runs = queue.runs
            cpus = mem = disk = gpus = 0.0
            while runs and left > 0:
                run = runs[0]
                cur = run.cursor
                if cur.dead:
                    self._drop(run.bucket, run.pos, False)
                    spare.append(queue.pop())
                    continue
                left -= 1
                b = run.bucket
                keys = b.keys
                key = keys[run.pos]
                if cur.fast:
                    needs = cur.needs
                    p = cur.pos
                    s = cur.cands[p]
                    if not needs.fit(s):
                        s = self._next_slot(cur, p, smallest)
                    if s < 0:
                        self._drop(b, run.pos, False)
                        spare.append(queue.pop())
                        continue
                    needs.take(s)
                    cycle.record(cur, s, key)
                    if b.grouped > 0 and len(groups) > 0:
                        group = cycle.tasks[key][0].group
                        if group is not None and group in groups:
                            cycle.count_in_group(group, s)
                elif not cur.place(cycle, cur, key, b.grouped > 0):
                    self._drop(b, run.pos, False)
                    spare.append(queue.pop())
                    continue
                run.pos += 1
                if b.tombstones > 0:
                    run.skip_dead()
                if run.pos < len(keys):
                    run.sub = b.subs[run.pos]
                    queue.moved()
                else:
                    spare.append(queue.pop())
                drf = cur.drf
                cpus += drf[0]
                mem += drf[1]
                disk += drf[2]
                gpus += drf[3]
                budget -= cur.inc
                if budget <= _EPSILON:
                    break
            self.usage[owner].add(cpus, mem, disk, gpus)
            if runs and left > 0:
                heapreplace(heap, (self.share(owner), owner, queue))
            else:
                heappop(heap)
                self._drop_rest(queue)
        for _, _, queue in heap:
            self._drop_rest(queue)
        self.examined = self.window - left
        if left <= 0:
            self.window_reached = True

    def _next_slot(self, cur: Cursor, p: int, smallest: Needs) -> int:
        """A fast cursor's slot ``cur.cands[p]`` has no room: look a few slots further
        (marking the full ones), then walk; -1 when the cursor is dead."""
        cands = cur.cands
        needs = cur.needs
        full = cur.full
        if full is not None and not smallest.fit(cands[p]):
            full.mark(p)
        end = len(cands)
        tries = _INLINE
        p += 1
        while p < end and tries > 0:
            if full is not None and full.marked[p]:
                p = full.next_open(p)
                continue
            s = cands[p]
            if needs.fit(s):
                cur.pos = p
                return s
            if full is not None and not smallest.fit(s):
                full.mark(p)
            p += 1
            tries -= 1
        cur.pos = p
        return self.cycle.walk(cur)

    def _drop(self, bucket: Bucket, pos: int, window: bool) -> None:
        """Record ``bucket`` as unplaced from ``pos`` on."""
        self.dropped.append(bucket)
        self.dropped_at.append(pos)
        self.dropped_by_window.append(window)

    def _drop_rest(self, queue: RunQueue) -> None:
        for run in queue.runs:
            self._drop(run.bucket, run.pos, True)
        self.spare.extend(queue.runs)
        queue.runs.clear()
