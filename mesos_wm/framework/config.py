"""How a :class:`~mesos_wm.framework.Framework` behaves: one frozen value, checked once.

Every interval is in seconds.  Defaults suit a real cluster (Mesos's own defaults where
Mesos has one); tests and the embedded master use shorter intervals by passing their own
:class:`FrameworkConfig`.
"""

from __future__ import annotations

import dataclasses
import getpass
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ONE_WEEK", "FrameworkConfig"]

ONE_WEEK = 7 * 24 * 3600.0
"""The default ``failover_timeout``: Mesos keeps the tasks of a framework that went away
running this long, waiting for it to come back."""

KNOWN_CAPABILITIES = frozenset(
    {"PARTITION_AWARE", "TASK_KILLING_STATE", "GPU_RESOURCES", "REGION_AWARE",
     "REVOCABLE_RESOURCES", "SHARED_RESOURCES", "RESERVATION_REFINEMENT"}
)


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "root"


@dataclass(frozen=True)
class FrameworkConfig:
    """Settings of a framework instance.

    Attributes:
        name: ``FrameworkInfo.name``.
        user: the OS user tasks run as (default: the current user).
        roles: roles to subscribe as (always as a ``MULTI_ROLE`` framework).
        principal: the authentication principal (also ``FrameworkInfo.principal``).
        secret: the principal's secret for HTTP Basic authentication.
        ca_file: PEM CA certificates that verify an ``https://`` master.
        failover_timeout: how long Mesos keeps our tasks running while we are away.
        checkpoint: ask agents to checkpoint, so executors survive agent restarts.
        capabilities: extra ``FrameworkInfo`` capabilities (``MULTI_ROLE`` is implied).
        hostname: ``FrameworkInfo.hostname`` (None: let Mesos fill it in).
        webui_url: ``FrameworkInfo.webui_url``.
        labels: ``FrameworkInfo.labels``.
        python: the interpreter that starts the executor on the agents (it must have
            mesos_wm installed; by default the framework's own, which suits the embedded
            master and clusters with the same virtual environment path everywhere).
        storage_roots: directories ``file://`` staging may read and write on the agents.
        executor_environment: extra environment variables for the executor.
        executor_shutdown_grace: seconds an executor gets to exit after SHUTDOWN.
        command_executor: run plain ``COMMAND`` tasks with Mesos's command executor instead
            of our own (they then get their own sandbox, not the workflow's directory).
        refuse_seconds: ``Filters.refuse_seconds`` of declines while work is waiting.
        refuse_seconds_idle: ``Filters.refuse_seconds`` of declines when nothing waits.
        suppress_after: seconds without waiting work before offers are suppressed.
        revive_interval: the least time between two REVIVE calls.
        reconcile_interval: seconds between periodic reconciliations.
        reconcile_batch: task ids per explicit RECONCILE call.
        reconcile_grace: attempts launched less than this long ago are left out of
            periodic reconciliation (their ACCEPT may still be on its way).
        refresh_interval: how often work submitted by other processes is picked up.
        kill_retry_interval: how often a kill that Mesos has not confirmed is sent again.
        reasons_interval: how often why-pending reasons are written to the queue.
        wall_time_margin: seconds past a task's ``wall_time`` before the framework kills it
            (the executor enforces ``wall_time`` itself; this is the backstop).
        max_launches_per_offer: at most this many tasks in one ACCEPT (None: no limit).
        ack_concurrency: acknowledgements in flight at once.
        ack_backlog: while more acknowledgements than this wait to be sent, offers are
            declined (with ``refuse_seconds``) instead of launching more tasks, whose
            updates would only lengthen the wait of the ones already running.
        gc_threshold: the garbage collector's first-generation threshold while the
            framework runs (see :mod:`mesos_wm.local.collector`; None: leave Python's).
        subscribe_timeout: seconds from SUBSCRIBE to SUBSCRIBED before the driver retries.
        give_up_after: seconds without a subscription before the framework fails (None:
            retry forever).

    Raises:
        ValueError: a negative or non-finite interval, an empty name, an unknown capability
            or a storage root that is not an absolute directory path.
    """

    name: str = "mesos_wm"
    user: str = field(default_factory=_default_user)
    roles: tuple[str, ...] = ("*",)
    principal: str | None = None
    secret: str | None = None
    ca_file: str | None = None
    failover_timeout: float = ONE_WEEK
    checkpoint: bool = True
    capabilities: tuple[str, ...] = ("GPU_RESOURCES", "TASK_KILLING_STATE")
    hostname: str | None = None
    webui_url: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    storage_roots: tuple[Path, ...] = ()
    executor_environment: Mapping[str, str] = field(default_factory=dict)
    executor_shutdown_grace: float = 10.0
    command_executor: bool = False
    refuse_seconds: float = 1.0
    refuse_seconds_idle: float = 60.0
    suppress_after: float = 5.0
    revive_interval: float = 1.0
    reconcile_interval: float = 600.0
    reconcile_batch: int = 1000
    reconcile_grace: float = 30.0
    refresh_interval: float = 1.0
    kill_retry_interval: float = 10.0
    reasons_interval: float = 5.0
    wall_time_margin: float = 30.0
    max_launches_per_offer: int | None = None
    ack_concurrency: int = 64
    ack_backlog: int = 4096
    gc_threshold: int | None = 50_000
    subscribe_timeout: float = 30.0
    give_up_after: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.user:
            raise ValueError("FrameworkConfig needs a non-empty name and user")
        if not self.roles or any(not r for r in self.roles):
            raise ValueError("FrameworkConfig.roles must list at least one non-empty role "
                             "(use '*' for the default role)")
        if self.secret is not None and self.principal is None:
            raise ValueError("FrameworkConfig.secret needs a principal (HTTP Basic auth)")
        unknown = sorted(set(self.capabilities) - KNOWN_CAPABILITIES)
        if unknown:
            raise ValueError(f"unknown capabilities {unknown}; known: {sorted(KNOWN_CAPABILITIES)}")
        for name in ("failover_timeout", "executor_shutdown_grace", "refuse_seconds",
                     "refuse_seconds_idle", "suppress_after", "revive_interval",
                     "reconcile_interval", "reconcile_grace", "refresh_interval",
                     "kill_retry_interval", "reasons_interval", "wall_time_margin",
                     "subscribe_timeout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"FrameworkConfig.{name} must be a finite number >= 0, "
                                 f"got {value!r}")
        if self.reconcile_interval == 0 or self.refresh_interval == 0:
            raise ValueError("reconcile_interval and refresh_interval must be > 0")
        if self.reconcile_batch < 1 or self.ack_concurrency < 1 or self.ack_backlog < 1:
            raise ValueError("reconcile_batch, ack_concurrency and ack_backlog must be at "
                             "least 1")
        if self.gc_threshold is not None and self.gc_threshold < 1:
            raise ValueError("gc_threshold must be at least 1 (or None)")
        if self.max_launches_per_offer is not None and self.max_launches_per_offer < 1:
            raise ValueError("max_launches_per_offer must be at least 1 (or None)")
        roots = tuple(Path(p) for p in self.storage_roots)
        for root in roots:
            if not root.is_absolute():
                raise ValueError(f"storage root {str(root)!r} must be an absolute path")
        object.__setattr__(self, "storage_roots", roots)
        object.__setattr__(self, "roles", tuple(self.roles))
        object.__setattr__(self, "capabilities", tuple(self.capabilities))

    def replace(self, **changes: Any) -> FrameworkConfig:
        """Return a copy with ``changes`` applied (checked again)."""
        return dataclasses.replace(self, **changes)
