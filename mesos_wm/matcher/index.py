"""The pending-task index: ready tasks bucketed by (priority, owner, shape, signature).

Theory of operation: a matching cycle must not look at every task.  Tasks with the same
priority, owner, resource shape and placement signature are interchangeable for placement,
so they share a :class:`Bucket` that keeps them in submit order.  When one task of a shape
and signature does not fit anywhere, none of the others does either (offers only shrink
during a cycle), so the matcher drops the whole bucket at once: a cycle costs buckets,
shapes x agents and placements, never tasks x offers.

The index is kept in sync with the queue's ready set incrementally: :meth:`PendingIndex.add`
when a task becomes ready, :meth:`PendingIndex.remove` when it is launched, cancelled or
no longer ready.  Both are O(1) amortised for tasks arriving in submit order and for
removals at the head of a bucket (launched tasks); removals elsewhere leave a tombstone
that is compacted away later.  The index never changes during :meth:`Matcher.match`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator

from mesos_wm.matcher.constraints import Constraint
from mesos_wm.matcher.request import Shape, Signature, TaskRequest
from mesos_wm.matcher.result import Snapshot

__all__ = ["Bucket", "ChangeLog", "PendingIndex"]


class ChangeLog:
    """The buckets changed after one freeze of the index, each as it was at the freeze.

    Each log links to the next freeze's, so the states at a freeze can be read however
    the index changed since: a bucket's state is the first one logged from that freeze on,
    or its current one when it has not changed.
    """

    __slots__ = ("entries", "next")

    def __init__(self) -> None:
        self.entries: list[tuple[Bucket, Snapshot]] = []
        self.next: ChangeLog | None = None

    def states(self) -> dict[Bucket, Snapshot]:
        """The state at this log's freeze of every bucket changed since (the others are
        as :meth:`Bucket.state` gives them)."""
        out: dict[Bucket, Snapshot] = {}
        log: ChangeLog | None = self
        while log is not None:
            for bucket, state in log.entries:
                if bucket not in out:
                    out[bucket] = state
            log = log.next
        return out


class Clock:
    """The index's freeze count and current :class:`ChangeLog`, shared with its buckets."""

    __slots__ = ("log", "now")

    def __init__(self) -> None:
        self.now = 0
        self.log = ChangeLog()


class Bucket:
    """Tasks of one priority, owner, shape and signature, in (submitted, key) order.

    The submit times are an ``array('d')``: a cycle reads one per task it places, and
    contiguous doubles are read without the cache miss that scattered float objects cost.
    ``first`` is the submit time of the task at ``head`` (of a live bucket), which a cycle
    reads for every bucket it queues, and ``tombstones`` is ``len(dead)``, which it reads
    for every task it places: both live in the bucket object, so a cycle does not touch the
    array or the set for them.

    ``keys[head:]`` holds the live tasks and tombstones; a key is a tombstone when it is in
    ``dead``.  After :meth:`PendingIndex.freeze` a bucket copies its lists before changing
    them in place (appending is safe): it is shared while ``copied`` differs from the
    index's ``clock``.  Its first change after a freeze logs its :meth:`state` at the freeze
    (:class:`ChangeLog`), so whoever holds the freeze's log can read it as it was.  Treat
    it as read-only outside :class:`PendingIndex`.
    """

    __slots__ = ("ck", "clock", "copied", "dead", "first", "grouped", "head", "keys", "live",
                 "logged", "owner", "priority", "shape", "sig", "subs", "tombstones")

    def __init__(self, priority: int, owner: str, shape: Shape, sig: Signature,
                 clock: Clock | None = None) -> None:
        self.priority = priority
        self.owner = owner
        self.shape = shape
        self.sig = sig
        self.ck = (sig.index << 32) | shape.index
        self.keys: list[str] = []
        self.subs = array("d")
        self.dead: set[str] = set()
        self.head = 0
        self.first = 0.0
        self.tombstones = 0
        self.live = 0
        self.grouped = 0
        self.clock = clock if clock is not None else Clock()
        self.copied = self.clock.now
        self.logged = self.clock.now

    def live_keys(self) -> list[str]:
        """The live task keys in order."""
        dead = self.dead
        return [k for k in self.keys[self.head:] if k not in dead]

    def state(self) -> Snapshot:
        """Its tasks now, as (keys, head, end, tombstones).  What the lists hold stays
        valid after later changes only for a holder of a freeze (see :class:`ChangeLog`)."""
        return (self.keys, self.head, len(self.keys), self.dead)

    def _log_state(self) -> None:
        """Before a change: log the state at the last freeze, once per freeze."""
        clock = self.clock
        if self.logged != clock.now:
            self.logged = clock.now
            clock.log.entries.append((self, self.state()))

    def _unshare(self) -> None:
        if self.copied != self.clock.now:
            self.keys = list(self.keys)
            self.subs = array("d", self.subs)
            self.dead = set(self.dead)
            self.copied = self.clock.now

    def _compact(self) -> None:
        dead = self.dead
        pairs = [(s, k) for s, k in zip(self.subs[self.head:], self.keys[self.head:],
                                        strict=True) if k not in dead]
        self.subs = array("d", [s for s, _ in pairs])
        self.keys = [k for _, k in pairs]
        self.dead = set()
        self.head = 0
        self.copied = self.clock.now

    def _insert(self, submitted: float, key: str) -> None:
        self._log_state()
        if key in self.dead or (self.head and self.keys and (submitted, key) < (
                self.subs[self.head - 1], self.keys[self.head - 1])):
            self._compact()
        keys, subs = self.keys, self.subs
        if not keys or (submitted, key) > (subs[-1], keys[-1]):
            keys.append(key)
            subs.append(submitted)
        else:
            self._unshare()
            keys, subs = self.keys, self.subs
            pos = bisect_left(subs, submitted, self.head)
            while pos < len(keys) and subs[pos] == submitted and keys[pos] < key:
                pos += 1
            keys.insert(pos, key)
            subs.insert(pos, submitted)
        self.live += 1
        self.first = self.subs[self.head]
        self.tombstones = len(self.dead)

    def _remove(self, key: str) -> None:
        self._log_state()
        self.live -= 1
        if self.dead:
            self._unshare()
        keys = self.keys
        if keys[self.head] == key:
            head = self.head + 1
            dead = self.dead
            while head < len(keys) and keys[head] in dead:
                dead.discard(keys[head])
                head += 1
            self.head = head
        else:
            self._unshare()
            self.dead.add(key)
        if len(self.dead) > self.live or self.head > 64 + self.live:
            self._compact()
        if self.live:
            self.first = self.subs[self.head]
        self.tombstones = len(self.dead)


class PendingIndex:
    """Ready tasks, indexed for matching; the framework keeps it equal to the ready set.

    Example::

        index = PendingIndex()
        index.add(TaskRequest("wf1/run#1", {"cpus": 2, "mem": 2048}, owner="alice"))
        result = matcher.match(offers, index, running)
        for placement in result.placements:
            index.remove(placement.task_key)   # launched: no longer pending
    """

    def __init__(self) -> None:
        self._tasks: dict[str, tuple[TaskRequest, Bucket]] = {}
        self._buckets: dict[tuple[int, str, int, int], Bucket] = {}
        self._shapes: dict[tuple[tuple[str, int], ...], Shape] = {}
        self._sigs: dict[object, Signature] = {}
        self._sig_buckets: dict[Signature, int] = {}
        self._shape_buckets: dict[Shape, int] = {}
        self._serial = 0
        self._levels: dict[int, dict[str, dict[tuple[int, int], Bucket]]] = {}
        self._clock = Clock()
        self._combos: dict[int, tuple[Shape, Signature, int]] = {}
        self._layout: list[tuple[int, list[tuple[str, list[Bucket]]]]] | None = None
        self._groups: dict[str, tuple[Signature, ...]] | None = None
        self.version = 0

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, key: object) -> bool:
        return key in self._tasks

    def __iter__(self) -> Iterator[str]:
        return iter(self._tasks)

    def get(self, key: str) -> TaskRequest | None:
        """The pending task with ``key``, or None."""
        entry = self._tasks.get(key)
        return entry[0] if entry is not None else None

    def add(self, task: TaskRequest) -> None:
        """Add a ready task; a task with the same key is replaced.

        Args:
            task: the request; it is kept as given (do not mutate it afterwards).
        """
        if task.key in self._tasks:
            self.remove(task.key)
        shape = self._shapes.get(task.shape_items)
        if shape is None:
            shape = self._shapes[task.shape_items] = Shape(len(self._shapes), task.shape_items)
        sig = self._signature(Signature.key_of(task))
        bkey = (task.priority, task.owner, shape.index, sig.index)
        bucket = self._buckets.get(bkey)
        if bucket is None:
            bucket = self._buckets[bkey] = Bucket(task.priority, task.owner, shape, sig,
                                                  self._clock)
            owners = self._levels.setdefault(task.priority, {})
            owners.setdefault(task.owner, {})[(shape.index, sig.index)] = bucket
            self._layout = None
            self._sig_buckets[sig] += 1
            if sig.group is not None and self._sig_buckets[sig] == 1:
                self._groups = None
            self._shape_buckets[shape] = self._shape_buckets.get(shape, 0) + 1
            combo = self._combos.get(bucket.ck)
            self._combos[bucket.ck] = (shape, sig, 1 if combo is None else combo[2] + 1)
        bucket._insert(task.submitted, task.key)
        if task.group is not None:
            bucket.grouped += 1
        self._tasks[task.key] = (task, bucket)
        self.version += 1

    def _signature(self, key: tuple[tuple[Constraint, ...], str | None, str | None]
                   ) -> Signature:
        sig = self._sigs.get(key)
        if sig is not None:
            return sig
        self._serial += 1
        sig = Signature(self._serial, *key)
        if sig.dynamic:
            sig.base = self._signature(sig.base_key())
        if sig.constraints or sig.pin is not None:
            sig.master = self._signature(((), None, None))
        self._sigs[key] = sig
        self._sig_buckets[sig] = 0
        return sig

    def freeze(self) -> ChangeLog:
        """Keep every bucket's current state readable for whoever holds references to it.

        A matching cycle calls it before it looks at the buckets: afterwards each bucket
        copies its lists before changing them in place (appending stays in place) and logs
        its state before its first change, so the unplaced keys a cycle reports stay those
        of the index it saw.

        Returns:
            The log of the changes from now on (see :meth:`ChangeLog.states`).
        """
        clock = self._clock
        clock.now += 1
        log = ChangeLog()
        clock.log.next = log
        clock.log = log
        return log

    def add_many(self, tasks: Iterable[TaskRequest]) -> None:
        """Add several tasks (see :meth:`add`)."""
        for task in tasks:
            self.add(task)

    def remove(self, key: str) -> bool:
        """Remove a task (launched, cancelled or no longer ready).

        Returns:
            True when the task was pending.
        """
        entry = self._tasks.pop(key, None)
        if entry is None:
            return False
        task, bucket = entry
        if task.group is not None:
            bucket.grouped -= 1
        if bucket.live == 1:
            del self._buckets[(task.priority, task.owner, bucket.shape.index, bucket.sig.index)]
            owners = self._levels[task.priority]
            mine = owners[task.owner]
            del mine[(bucket.shape.index, bucket.sig.index)]
            if not mine:
                del owners[task.owner]
                if not owners:
                    del self._levels[task.priority]
            bucket.live = 0
            self._layout = None
            self._release(bucket.sig)
            self._shape_buckets[bucket.shape] -= 1
            shape, sig, count = self._combos[bucket.ck]
            if count > 1:
                self._combos[bucket.ck] = (shape, sig, count - 1)
            else:
                del self._combos[bucket.ck]
            if not self._shape_buckets[bucket.shape]:
                del self._shape_buckets[bucket.shape]
        else:
            bucket._remove(key)
        self.version += 1
        return True

    def _release(self, sig: Signature) -> None:
        self._sig_buckets[sig] -= 1
        if sig.group is not None and self._sig_buckets[sig] == 0:
            self._groups = None
        if self._sig_buckets[sig] == 0 and sig.base is not sig:
            del self._sig_buckets[sig]
            del self._sigs[sig.key]

    def discard_many(self, keys: Iterable[str]) -> int:
        """Remove every key that is pending; returns how many were."""
        return sum(1 for key in keys if self.remove(key))

    def buckets(self) -> list[Bucket]:
        """The non-empty buckets, sorted by (priority descending, owner, shape, signature)."""
        return [self._buckets[k] for k in sorted(self._buckets, key=_bucket_order)]

    def levels(self) -> list[tuple[int, list[tuple[str, list[Bucket]]]]]:
        """Buckets grouped by priority (highest first), then owner (by name).

        The same lists are returned until a bucket is made or emptied (do not modify them).
        """
        if self._layout is None:
            out = []
            for priority in sorted(self._levels, reverse=True):
                owners = self._levels[priority]
                out.append((priority, [(o, list(owners[o].values())) for o in sorted(owners)]))
            self._layout = out
        return self._layout

    def shapes(self) -> list[Shape]:
        """The shapes of the pending tasks, by index."""
        return sorted(self._shape_buckets, key=lambda s: s.index)

    def combos(self) -> dict[int, tuple[Shape, Signature, int]]:
        """Every (shape, signature) of the pending tasks by combo key, with its bucket count
        (do not modify)."""
        return self._combos

    def group_signatures(self) -> dict[str, tuple[Signature, ...]]:
        """The signatures with dynamic constraints of the pending tasks, by group.

        The same mapping is returned until such a signature appears or goes (do not
        modify it).
        """
        if self._groups is None:
            groups: dict[str, list[Signature]] = {}
            for sig, n in self._sig_buckets.items():
                if n and sig.group is not None:
                    groups.setdefault(sig.group, []).append(sig)
            self._groups = {group: tuple(sigs) for group, sigs in groups.items()}
        return self._groups

    def resource_names(self) -> set[str]:
        """Every resource name a pending task asks for."""
        return {n for shape in self._shape_buckets for n, _ in shape.items}

    def bucket_count(self) -> int:
        """Number of non-empty buckets."""
        return len(self._buckets)


def _bucket_order(key: tuple[int, str, int, int]) -> tuple[int, str, int, int]:
    return (-key[0], key[1], key[2], key[3])
