"""Where the framework's tasks run: usage per owner and agent, and placements per group.

The matcher needs three things about running tasks: each owner's usage (dominant resource
fairness), each agent's usage (to learn agent capacities) and, for the dynamic constraints
(UNIQUE, CLUSTER, GROUP_BY, MAX_PER), on which agents each group's tasks run.
:class:`RunningIndex` keeps all three incrementally; the framework adds a task when it
launches it (:meth:`RunningIndex.add_placement`) and removes it when it reaches a terminal
state, so a cycle never walks the running tasks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from mesos_wm.matcher.constraints import field_value
from mesos_wm.matcher.request import MILLI, TaskRequest, to_milli
from mesos_wm.matcher.result import Placement

__all__ = ["RunningIndex"]

_EMPTY: Final[dict[str, int]] = {}


def _add(target: dict[str, int], items: tuple[tuple[str, int], ...], sign: int) -> None:
    for name, milli in items:
        value = target.get(name, 0) + sign * milli
        if value:
            target[name] = value
        else:
            target.pop(name, None)


class RunningIndex:
    """The framework's running (and launching) tasks, summed for the matcher."""

    def __init__(self) -> None:
        self._tasks: dict[str, tuple[str, str, str | None, tuple[tuple[str, int], ...]]] = {}
        self._owners: dict[str, dict[str, int]] = {}
        self._agent_usage: dict[str, dict[str, int]] = {}
        self._groups: dict[str, dict[str, int]] = {}
        self._agents: dict[str, tuple[str, Mapping[str, str]]] = {}
        self.version = 0

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, key: object) -> bool:
        return key in self._tasks

    def __iter__(self) -> Iterator[str]:
        return iter(self._tasks)

    def add(
        self,
        key: str,
        agent_id: str,
        *,
        resources: Mapping[str, float] | None = None,
        owner: str = "default",
        group: str | None = None,
        hostname: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """Record a running task; a task with the same key is replaced.

        Args:
            key: the task key.
            agent_id: where it runs.
            resources: what it uses (as in :class:`TaskRequest`).
            owner: its owner, for fair sharing.
            group: its constraint group, if any.
            hostname: the agent's hostname (kept per agent; the latest given wins).
            attributes: the agent's attributes as text (kept per agent).
        """
        items = tuple(sorted(
            (n, m) for n, v in (resources or {}).items() if (m := to_milli(v, n)) > 0
        ))
        self._insert(key, agent_id, owner, group, items)
        if hostname is not None or attributes is not None:
            old_host, old_attrs = self._agents.get(agent_id, ("", {}))
            self._agents[agent_id] = (
                hostname if hostname is not None else old_host,
                dict(attributes) if attributes is not None else old_attrs,
            )

    def add_placement(self, placement: Placement, task: TaskRequest) -> None:
        """Record a task the framework launched from a :class:`Placement`."""
        self._insert(task.key, placement.agent_id, task.owner, task.group, task.shape_items)
        self._agents[placement.agent_id] = (placement.hostname, placement.agent.attributes)

    def _insert(self, key: str, agent_id: str, owner: str, group: str | None,
                items: tuple[tuple[str, int], ...]) -> None:
        if key in self._tasks:
            self.remove(key)
        self._tasks[key] = (owner, agent_id, group, items)
        _add(self._owners.setdefault(owner, {}), items, 1)
        _add(self._agent_usage.setdefault(agent_id, {}), items, 1)
        if group is not None:
            agents = self._groups.setdefault(group, {})
            agents[agent_id] = agents.get(agent_id, 0) + 1
        self.version += 1

    def remove(self, key: str) -> bool:
        """Forget a task (terminal, or its launch failed).

        Returns:
            True when the task was known.
        """
        entry = self._tasks.pop(key, None)
        if entry is None:
            return False
        owner, agent_id, group, items = entry
        _add(self._owners[owner], items, -1)
        if not self._owners[owner]:
            del self._owners[owner]
        _add(self._agent_usage[agent_id], items, -1)
        if not self._agent_usage[agent_id]:
            del self._agent_usage[agent_id]
        if group is not None:
            agents = self._groups[group]
            agents[agent_id] -= 1
            if not agents[agent_id]:
                del agents[agent_id]
                if not agents:
                    del self._groups[group]
        self.version += 1
        return True

    def owner_usage(self, owner: str) -> dict[str, float]:
        """What the owner's running tasks use, per resource."""
        return {n: m / MILLI for n, m in self._owners.get(owner, _EMPTY).items()}

    def owner_usage_milli(self, owner: str) -> Mapping[str, int]:
        """Like :meth:`owner_usage`, in thousandths (do not modify)."""
        return self._owners.get(owner, _EMPTY)

    def agent_usage_milli(self, agent_id: str) -> Mapping[str, int]:
        """What the framework's tasks use on one agent, in thousandths (do not modify)."""
        return self._agent_usage.get(agent_id, _EMPTY)

    def group_agents(self, group: str) -> Mapping[str, int]:
        """agent id -> number of the group's running tasks there."""
        return self._groups.get(group, _EMPTY)

    def group_counts(self, group: str, field: str) -> dict[str, int]:
        """Value of ``field`` -> number of the group's running tasks where it has that value.

        Tasks on agents whose hostname and attributes were never given are counted under
        their agent id for ``hostname`` and not at all for attributes.
        """
        counts: dict[str, int] = {}
        for agent_id, n in self._groups.get(group, _EMPTY).items():
            hostname, attributes = self._agents.get(agent_id, (agent_id, {}))
            value = field_value(hostname or agent_id, attributes, field)
            if value is not None:
                counts[value] = counts.get(value, 0) + n
        return counts
