"""The state one framework instance keeps in memory, shared by its event handlers.

Nothing here is authoritative: the queue is.  Everything in :class:`Runtime` is either
configuration, a view of the queue kept for speed (the ready set, the homes of workflows),
or what Mesos does not need to be told twice (deadlines, kills already sent).  After a
crash it is all rebuilt from the queue and from reconciliation.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from mesos_wm.drivers.scheduler import SchedulerDriver
from mesos_wm.framework.config import FrameworkConfig
from mesos_wm.framework.homes import Homes
from mesos_wm.framework.launch import LaunchBuilder
from mesos_wm.framework.pending import ReadySet
from mesos_wm.framework.policy import OfferPolicy
from mesos_wm.framework.reconcile import Reconciler
from mesos_wm.framework.timeouts import Deadlines
from mesos_wm.matcher import Matcher, RunningIndex
from mesos_wm.queue import TaskQueue

__all__ = ["Alive", "Runtime", "Stats"]


@dataclass
class Alive:
    """An attempt this process believes Mesos may be running.

    Attributes:
        launched_at: when its launch intent was recorded (None: before this process).
        state: the last Mesos state seen (``LAUNCHING`` before any).
        wall_time, staging_timeout: the task's limits in seconds (0: none or unknown).
    """

    workflow_id: str
    task_id: str
    attempt: int
    agent_id: str | None
    state: str = "LAUNCHING"
    launched_at: float | None = None
    wall_time: float = 0.0
    staging_timeout: float = 0.0


@dataclass
class Stats:
    """Counters of this process's run, for progress displays and benchmarks."""

    started_at: float = field(default_factory=time.time)
    offers: int = 0
    accepts: int = 0
    declines: int = 0
    launched: int = 0
    updates: int = 0
    acknowledged: int = 0
    finished: int = 0
    failed: int = 0
    retries: int = 0
    revives: int = 0
    suppresses: int = 0
    reconciles: int = 0
    kills: int = 0
    subscriptions: int = 0
    calls: int = 0
    first_accept_at: float | None = None


@dataclass
class Runtime:
    """Everything the framework's handlers share (see the module docstring)."""

    queue: TaskQueue
    config: FrameworkConfig
    clock: Callable[[], float]
    matcher: Matcher
    ready: ReadySet
    homes: Homes
    policy: OfferPolicy
    reconciler: Reconciler
    running: RunningIndex = field(default_factory=RunningIndex)
    deadlines: Deadlines = field(default_factory=Deadlines)
    stats: Stats = field(default_factory=Stats)
    driver: SchedulerDriver | None = None
    builder: LaunchBuilder | None = None
    subscribed: bool = False
    alive: dict[str, Alive] = field(default_factory=dict)
    kill_reasons: dict[str, str] = field(default_factory=dict)
    kills_sent: dict[str, float] = field(default_factory=dict)
    dirty: bool = True
    settled_changed: bool = True
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ack_backlog: Callable[[], int] = field(default=lambda: 0)
    """How many acknowledgements wait to be sent (set by the status handler)."""

    def alive_by_state(self) -> Counter[str]:
        """How many alive attempts are in each Mesos state (``LAUNCHING`` before any)."""
        return Counter(a.state for a in self.alive.values())

    def launched_at(self) -> dict[str, float]:
        """Launch intent times of the attempts launched by this process."""
        return {mid: a.launched_at for mid, a in self.alive.items() if a.launched_at is not None}
