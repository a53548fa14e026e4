"""The records the master core keeps: frameworks, agents, offers, executors and tasks.

Plain mutable dataclasses owned by :class:`mesos_wm.local.state.MasterState`; nothing here
decides anything.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mesos_wm.local.updates import UpdateStream
from mesos_wm.resources import ResourceSet

__all__ = ["Agent", "Executor", "Framework", "Offer", "RefuseFilter", "Task", "empty"]

JsonDict = dict[str, Any]


def empty() -> ResourceSet:
    """Return the empty resource set."""
    return ResourceSet.from_json([])


@dataclass(eq=False)
class RefuseFilter:
    """Declined resources of one agent that are not offered again to one role until ``until``.

    Like Mesos's refused-offer filter, it applies only while the agent's available
    resources are contained in the declined ones: more free resources lift it.
    """

    resources: ResourceSet
    until: float


@dataclass(eq=False)
class Task:
    """A task the master knows about (launched, not yet removed)."""

    task_id: str
    framework_id: str
    agent_id: str
    executor_id: str | None
    info: JsonDict
    resources: ResourceSet
    role: str
    state: str = "TASK_STAGING"
    statuses: list[JsonDict] = field(default_factory=list)
    last_status: JsonDict | None = None
    forwarded: JsonDict | None = None
    """The latest update (with uuid) forwarded to the framework; ``status_update_state``."""
    finish_at: float | None = None
    unreachable_time: float | None = None


@dataclass(eq=False)
class Executor:
    """A custom (or default) executor running on an agent for a framework."""

    executor_id: str
    framework_id: str
    info: JsonDict
    resources: ResourceSet
    tasks: set[str] = field(default_factory=set)


@dataclass(eq=False)
class Offer:
    """An outstanding offer."""

    offer_id: str
    framework_id: str
    agent_id: str
    role: str
    resources: ResourceSet
    created: float
    expires: float | None


@dataclass(eq=False)
class Agent:
    """One agent: its resources, what is allocated, its tasks and update streams."""

    agent_id: str
    hostname: str
    port: int
    total: ResourceSet
    attributes: dict[str, str | float]
    simulated: bool
    task_duration: float
    registered_time: float
    active: bool = True
    offers: set[str] = field(default_factory=set)
    tasks: dict[tuple[str, str], Task] = field(default_factory=dict)
    executors: dict[str, dict[str, Executor]] = field(default_factory=dict)
    streams: dict[tuple[str, str], UpdateStream] = field(default_factory=dict)

    _allocated: ResourceSet = field(default_factory=empty, repr=False)
    _available: ResourceSet | None = field(default=None, repr=False)

    @property
    def allocated(self) -> ResourceSet:
        """Resources offered or used (tasks and executors)."""
        return self._allocated

    @allocated.setter
    def allocated(self, value: ResourceSet) -> None:
        self._allocated = value
        self._available = None

    def available(self) -> ResourceSet:
        """Resources neither offered nor used (cached until ``allocated`` changes)."""
        if self._available is None:
            self._available = self.total - self._allocated
        return self._available

    @property
    def pid(self) -> str:
        """The libprocess pid string tools expect (``slave(1)@127.0.0.1:5051``)."""
        return f"slave(1)@127.0.0.1:{self.port}"


@dataclass(eq=False)
class Framework:
    """A framework known to the master (connected or waiting for failover)."""

    framework_id: str
    info: JsonDict
    roles: tuple[str, ...]
    capabilities: frozenset[str]
    stream_id: str | None
    registered_time: float
    reregistered_time: float
    principal: str | None = None
    connected: bool = True
    active: bool = True
    failover_deadline: float | None = None
    unregistered_time: float | None = None
    next_heartbeat: float = 0.0
    suppressed: set[str] = field(default_factory=set)
    filters: dict[tuple[str, str], RefuseFilter] = field(default_factory=dict)
    offers: set[str] = field(default_factory=set)
    tasks: dict[str, Task] = field(default_factory=dict)
    unreachable_tasks: dict[str, Task] = field(default_factory=dict)
    completed_tasks: deque[Task] = field(default_factory=deque)
    allocated: ResourceSet = field(default_factory=empty)
    """Scalars offered to or used by the framework on all agents (ranges differ per agent)."""

    def has(self, capability: str) -> bool:
        """Tell whether the framework declared ``capability`` (e.g. ``PARTITION_AWARE``)."""
        return capability in self.capabilities

    @property
    def partition_aware(self) -> bool:
        """PARTITION_AWARE frameworks get DROPPED/UNREACHABLE/GONE instead of LOST."""
        return "PARTITION_AWARE" in self.capabilities
