"""The framework's copy of the queue's ready set, as the matcher's :class:`PendingIndex`.

The queue owns which tasks are ready (QUEUED); the matcher wants them as
:class:`~mesos_wm.matcher.TaskRequest` in an incremental index.  :class:`ReadySet` keeps
the two equal: tasks leave it when their launch intent is recorded, and a sync brings in
whatever became ready since (dependants released, retries due, work submitted by other
processes) by comparing with :meth:`~mesos_wm.queue.TaskQueue.ready_tasks`.  The framework
syncs only when the queue said something became ready, so a cycle costs nothing when
nothing changed; a large sync (100,000 tasks after a restart) is taken in a slice per
cycle, in the queue's order (priority first), so the first ACCEPT does not wait for it.

Tasks of a workflow that already has an executor (and so a working directory) on an
agent are pinned there (``colocate_with_agent``); tasks that name a Docker image run in
their own sandbox and are not pinned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from mesos_wm.matcher import Constraint, PendingIndex, TaskRequest
from mesos_wm.queue.model import Operator, TaskShape
from mesos_wm.queue.records import ReadyTask

__all__ = ["ReadySet", "Sync", "matcher_constraints", "matcher_resources", "request_key"]

Sync = tuple[list[ReadyTask], list[ReadyTask], list[tuple[ReadyTask, str]]]
"""What a sync step did: tasks added, tasks removed, tasks rejected with why."""

_CACHE_LIMIT = 50_000


def request_key(key: int) -> str:
    """The matcher's key of a queue task: zero-padded, so text order is number order and
    tasks queued at the same moment are appended to their bucket, not inserted."""
    return f"{key:015d}"


def matcher_constraints(shape: TaskShape) -> tuple[Constraint, ...]:
    """The task's constraints in the matcher's vocabulary (``NE v`` is ``UNLIKE`` of the
    escaped value).

    Raises:
        ValueError: a constraint the matcher cannot evaluate.
    """
    out = []
    for c in shape.constraints:
        if c.operator is Operator.NE:
            out.append(Constraint.parse([c.field, "UNLIKE", re.escape(c.value or "")]))
        else:
            out.append(Constraint.parse(c.to_json()))
    return tuple(out)


def matcher_resources(shape: TaskShape) -> dict[str, float]:
    """The task's resources as the matcher asks for them (ports by count)."""
    wanted: dict[str, float] = dict(shape.resources.scalars())
    if shape.resources.ports:
        wanted["ports"] = shape.resources.ports
    return wanted


class ReadySet:
    """Ready tasks mirrored into a :class:`PendingIndex`.

    Args:
        pin_of: the agent a workflow's tasks must go to, or None.
    """

    def __init__(self, pin_of: Callable[[str], str | None]) -> None:
        self.index = PendingIndex()
        self.tasks: dict[int, ReadyTask] = {}
        self.by_workflow: dict[str, set[int]] = {}
        self._pin_of = pin_of
        self._shapes: dict[TaskShape, tuple[dict[str, float], tuple[Constraint, ...]]] = {}
        self._backlog: Sequence[ReadyTask] | None = None
        self._pos = 0
        self._seen: set[int] = set()
        self._partial = False

    def __len__(self) -> int:
        return len(self.tasks)

    def __contains__(self, key: object) -> bool:
        return key in self.tasks

    def _converted(self, shape: TaskShape) -> tuple[dict[str, float], tuple[Constraint, ...]]:
        cached = self._shapes.get(shape)
        if cached is None:
            if len(self._shapes) >= _CACHE_LIMIT:
                self._shapes.clear()
            cached = self._shapes[shape] = (matcher_resources(shape), matcher_constraints(shape))
        return cached

    def request_of(self, task: ReadyTask) -> TaskRequest:
        """The matcher's view of a ready task.

        Raises:
            ValueError: its constraints or resources cannot be matched.
        """
        resources, constraints = self._converted(task.shape)
        pin = None if task.shape.image else self._pin_of(task.workflow_id)
        return TaskRequest(
            request_key(task.key), resources, priority=task.priority, owner=task.owner,
            submitted=task.queued_at, constraints=constraints,
            group=task.workflow_id if constraints else None, colocate_with_agent=pin,
        )

    def add(self, task: ReadyTask) -> None:
        """Add (or replace) a ready task.

        Raises:
            ValueError: it cannot be matched (see :meth:`request_of`); it is not added.
        """
        request = self.request_of(task)
        self.index.add(request)
        self.tasks[task.key] = task
        self.by_workflow.setdefault(task.workflow_id, set()).add(task.key)

    def remove(self, key: int) -> ReadyTask | None:
        """Forget a task (launched, given up, no longer ready); returns it if it was here."""
        task = self.tasks.pop(key, None)
        if task is None:
            return None
        self.index.remove(request_key(key))
        keys = self.by_workflow.get(task.workflow_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.by_workflow[task.workflow_id]
        return task

    def repin(self, workflow_ids: Iterable[str]) -> None:
        """Re-add the ready tasks of workflows whose pinned agent changed."""
        for workflow_id in workflow_ids:
            for key in list(self.by_workflow.get(workflow_id, ())):
                task = self.tasks[key]
                self.index.add(self.request_of(task))

    @property
    def syncing(self) -> bool:
        """True while a sync started with :meth:`begin` has tasks left to take in."""
        return self._backlog is not None

    def begin(self, ready: Sequence[ReadyTask], *, partial: bool = False) -> None:
        """Start making the set equal to ``ready`` (the queue's whole ready set, in its
        order); :meth:`step` takes it in, a slice at a time.  With ``partial`` the tasks
        are only added (``ready`` is the head of the ready set), nothing is removed."""
        self._backlog = ready
        self._pos = 0
        self._seen = set()
        self._partial = partial

    def step(self, budget: int | None = None) -> Sync:
        """Take in up to ``budget`` more tasks of the sync begun with :meth:`begin`; the
        last step also drops the tasks that are no longer ready.

        Returns:
            The tasks added, the tasks removed, tasks that could not be added with why.
        """
        ready = self._backlog
        if ready is None:
            return [], [], []
        end = len(ready) if budget is None else min(len(ready), self._pos + budget)
        added, rejected = [], []
        seen = self._seen
        for i in range(self._pos, end):
            task = ready[i]
            seen.add(task.key)
            known = self.tasks.get(task.key)
            if known is not None and known.attempt == task.attempt:
                continue
            try:
                self.add(task)
            except ValueError as exc:
                rejected.append((task, str(exc)))
                continue
            added.append(task)
        self._pos = end
        removed: list[ReadyTask] = []
        if end >= len(ready):
            if not self._partial:
                removed = [t for k, t in list(self.tasks.items()) if k not in seen]
            for task in removed:
                self.remove(task.key)
            self._backlog = None
            self._seen = set()
        return added, removed, rejected

    def sync(self, ready: Sequence[ReadyTask]) -> Sync:
        """Make the set equal to ``ready`` at once (:meth:`begin` and one whole
        :meth:`step`)."""
        self.begin(ready)
        return self.step()
