"""Configuration of the embedded master and its agents: plain frozen values, no I/O.

Every interval is in seconds and configurable, so tests run the real protocol with short
timings instead of sleeping.  Defaults are the Mesos defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RESOURCES = "cpus:4;mem:8192;disk:20000;gpus:0;ports:[31000-32000]"

AttributeValue = str | float
"""An agent attribute: text, or a scalar."""


def parse_attributes(text: str) -> dict[str, AttributeValue]:
    """Parse a Mesos ``--attributes`` string such as ``"rack:r1;zone:z2;level:3"``.

    Numbers become scalar attributes, everything else text.

    Args:
        text: ``name:value`` pairs separated by ``;``; empty means none.

    Returns:
        The attributes by name, in the order given.

    Raises:
        ValueError: a pair has no ``:`` or an empty name.
    """
    result: dict[str, AttributeValue] = {}
    for raw in text.split(";"):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = part.partition(":")
        if not sep or not name.strip():
            raise ValueError(
                f"invalid attribute {part!r}: expected name:value pairs separated by ';' "
                "(e.g. 'rack:r1;zone:z2')"
            )
        try:
            result[name.strip()] = float(value)
        except ValueError:
            result[name.strip()] = value.strip()
    return result


@dataclass(frozen=True)
class AgentConfig:
    """One agent of the embedded cluster.

    Attributes:
        resources: Mesos resource string (``cpus:4;mem:8192;ports:[31000-32000]``); any
            further ``name:number`` is a custom scalar resource.
        attributes: attributes by name (text or scalar), or a ``rack:r1;zone:z2`` string.
        hostname: the agent's hostname (default ``localhost``).
        simulated: when true no process is started: tasks report TASK_RUNNING at once and
            finish after ``task_duration`` seconds (labels ``mesos_wm.local/duration`` and
            ``mesos_wm.local/state`` override it per task).
        task_duration: how long simulated tasks run, in seconds.
    """

    resources: str = DEFAULT_RESOURCES
    attributes: Mapping[str, AttributeValue] | str = field(default_factory=dict)
    hostname: str = "localhost"
    simulated: bool = False
    task_duration: float = 1.0

    def attribute_map(self) -> dict[str, AttributeValue]:
        """Return the attributes as a dict, parsing the string form if needed."""
        if isinstance(self.attributes, str):
            return parse_attributes(self.attributes)
        return dict(self.attributes)


@dataclass(frozen=True)
class MasterConfig:
    """Timings and limits of the embedded master (Mesos defaults unless noted).

    Attributes:
        heartbeat_interval: seconds between HEARTBEAT events on scheduler streams.
        allocation_interval: seconds between allocation rounds (also run at once after a
            subscription, a revive or an agent joining).
        offer_timeout: seconds after which an unused offer is rescinded; None = never.
        default_refuse_seconds: ``Filters.refuse_seconds`` when a framework sends none.
        update_retry_initial: first resend interval of an unacknowledged status update.
        update_retry_max: the cap of the doubling resend interval.
        executor_registration_timeout: a custom executor must subscribe within this.
        executor_reregistration_timeout: after an agent restart, an executor must
            subscribe again within this (Mesos: 2 s).
        executor_shutdown_grace_period: default time an executor gets to exit on SHUTDOWN.
        kill_grace_period: default SIGTERM-to-SIGKILL delay of command tasks.
        executor_heartbeat_interval: seconds between HEARTBEAT events to executors.
        max_completed_frameworks: how many removed frameworks ``/state`` keeps.
        max_completed_tasks_per_framework: how many finished tasks each framework keeps.
        credentials: principal -> secret; when set, scheduler calls need HTTP Basic auth.
        max_body_size: the largest request body accepted, in bytes.
        executor_authentication: require ``Authorization: Bearer`` tokens from executors.
        hostname: the master's advertised hostname.
        gc_threshold: the garbage collector's first-generation threshold while the master
            runs (see :mod:`mesos_wm.local.collector`; None: leave Python's).
    """

    heartbeat_interval: float = 15.0
    allocation_interval: float = 1.0
    offer_timeout: float | None = None
    default_refuse_seconds: float = 5.0
    update_retry_initial: float = 10.0
    update_retry_max: float = 600.0
    executor_registration_timeout: float = 60.0
    executor_reregistration_timeout: float = 2.0
    executor_shutdown_grace_period: float = 5.0
    kill_grace_period: float = 3.0
    executor_heartbeat_interval: float = 30.0
    max_completed_frameworks: int = 50
    max_completed_tasks_per_framework: int = 1000
    credentials: Mapping[str, str] | None = None
    max_body_size: int = 4 * 1024 * 1024
    executor_authentication: bool = False
    hostname: str = "localhost"
    gc_threshold: int | None = 50_000

    def __post_init__(self) -> None:
        for name in (
            "heartbeat_interval",
            "allocation_interval",
            "update_retry_initial",
            "update_retry_max",
            "executor_registration_timeout",
            "executor_reregistration_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"MasterConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if self.offer_timeout is not None and self.offer_timeout <= 0:
            raise ValueError("MasterConfig.offer_timeout must be > 0 or None (never)")
        if self.update_retry_max < self.update_retry_initial:
            raise ValueError("MasterConfig.update_retry_max must be >= update_retry_initial")
        if self.gc_threshold is not None and self.gc_threshold < 1:
            raise ValueError("MasterConfig.gc_threshold must be at least 1 (or None)")

    def replace(self, **changes: Any) -> MasterConfig:
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


FAST = MasterConfig(
    heartbeat_interval=0.5,
    allocation_interval=0.05,
    update_retry_initial=0.2,
    update_retry_max=1.0,
    executor_registration_timeout=10.0,
    executor_shutdown_grace_period=1.0,
    kill_grace_period=0.5,
    executor_heartbeat_interval=1.0,
)
"""Short timings for tests: offers within 50 ms, resends after 0.2 s."""
