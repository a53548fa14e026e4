"""The foundation of the master core: its records, identity and bookkeeping.

:class:`CoreState` holds every attribute of :class:`~mesos_wm.local.state.MasterState`
(frameworks, agents, offers, streams, timers, metrics) and the small operations every
other layer uses: the identity (``MasterInfo``, ids), the agent registry, resource
accounting (:meth:`CoreState._recover`), events out (:meth:`CoreState._send` to a
framework's stream, operator events) and the operator API views of tasks and frameworks.

Pure: time is an argument, randomness the injected ``random.Random``.
"""

from __future__ import annotations

import random
import uuid as uuidlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local.config import AgentConfig, MasterConfig
from mesos_wm.local.effects import Effect, OperatorEvent, SendEvent
from mesos_wm.local.model import Agent, Framework, Offer, Task
from mesos_wm.resources import ResourceSet, parse_resource_string

__all__ = ["MESOS_VERSION", "CoreState", "Reply", "scalar_part"]

JsonDict = dict[str, Any]

MESOS_VERSION = "1.11.0"


@dataclass
class Reply:
    """The HTTP answer to a scheduler call plus the effects it caused."""

    status: int
    message: str = ""
    effects: list[Effect] = field(default_factory=list)
    body: JsonDict | None = None


def scalar_part(resources: ResourceSet) -> ResourceSet:
    """The scalar part of resources: what a framework holds across agents (for DRF)."""
    return (
        ResourceSet(scalars=dict(resources.scalars))
        if resources.ranges or resources.sets
        else resources
    )


def _ip_as_uint32(ip: str) -> int:
    parts = [int(p) for p in ip.split(".")]
    return int.from_bytes(bytes(parts), "little")


class CoreState:
    """Everything the embedded master knows, and the operations every layer shares.

    Args:
        config: timings and limits.
        rng: the only source of randomness (ids, agent order, update uuids).
        now: the start time, seconds since the epoch.

    Attributes:
        master_id: a UUID string; every id the master mints starts with it.
        unavailable_until: calls get 503 until this time (fault injection).
        operator_watchers: how many operator API subscribers are listening.
    """

    def __init__(self, config: MasterConfig, rng: random.Random, now: float) -> None:
        self.config = config
        self.rng = rng
        self.start_time = now
        self.master_id = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        self.ip = "127.0.0.1"
        self.port = 5050
        self.hostname = config.hostname
        self.frameworks: dict[str, Framework] = {}
        self.completed_frameworks: deque[Framework] = deque(maxlen=config.max_completed_frameworks)
        self.agents: dict[str, Agent] = {}
        self.removed_agents: dict[str, str] = {}
        self.unreachable_agents: dict[str, float] = {}
        self.offers: dict[str, Offer] = {}
        self.streams: dict[str, str] = {}
        self.unavailable_until = 0.0
        self.operator_watchers = 0
        self._operator_queue: list[Effect] = []
        self.drop_acks = 0
        self.ack_delay = 0.0
        self._delayed_acks: list[tuple[float, int, str, str, str, str]] = []
        self._framework_seq = 0
        self._offer_seq = 0
        self._agent_seq = 0
        self._seq = 0
        self._next_allocation = now
        self._allocation_dirty = True
        self._filter_deadline = float("inf")
        self._finishes: list[tuple[float, int, str, str, str]] = []
        self._retries: list[tuple[float, int, str, str, str]] = []
        self.metrics: dict[str, float] = {
            "master/messages_status_update": 0,
            "master/messages_acknowledge": 0,
            "master/offers_sent": 0,
            "master/valid_status_update_acknowledgements": 0,
            "master/invalid_status_update_acknowledgements": 0,
            "master/task_lost": 0,
            "master/tasks_error": 0,
        }

    def set_address(self, ip: str, port: int, hostname: str | None = None) -> None:
        """Record where the master listens (known only after the socket is bound)."""
        self.ip = ip
        self.port = port
        if hostname:
            self.hostname = hostname

    def master_info(self) -> JsonDict:
        """Return the ``MasterInfo`` message."""
        return {
            "id": self.master_id,
            "ip": _ip_as_uint32(self.ip),
            "port": self.port,
            "pid": f"master@{self.ip}:{self.port}",
            "hostname": self.hostname,
            "version": MESOS_VERSION,
            "address": {"hostname": self.hostname, "ip": self.ip, "port": self.port},
        }

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add_agent(self, agent: AgentConfig, now: float, port: int | None = None) -> str:
        """Register an agent and return its id (``<masterId>-S<n>``).

        Args:
            agent: its resources, attributes and mode.
            now: the current time.
            port: the port of its executor endpoint (defaults to the master's).

        Returns:
            The new agent id.

        Raises:
            ValueError: the resource string does not parse.
        """
        agent_id = f"{self.master_id}-S{self._agent_seq}"
        self._agent_seq += 1
        total = parse_resource_string(agent.resources)
        record = Agent(
            agent_id=agent_id,
            hostname=agent.hostname,
            port=port if port is not None else self.port,
            total=total,
            attributes=agent.attribute_map(),
            simulated=agent.simulated,
            task_duration=agent.task_duration,
            registered_time=now,
        )
        self.agents[agent_id] = record
        self._wake_allocator(now)
        self._operator({"type": "AGENT_ADDED", "agent_added": {"agent": self.agent_json(record)}})
        return agent_id

    def agent_info(self, agent: Agent) -> JsonDict:
        """Return the ``AgentInfo`` message of an agent."""
        return {
            "hostname": agent.hostname,
            "port": agent.port,
            "id": msg.id_of(agent.agent_id),
            "resources": agent.total.to_json(),
            "attributes": msg.attributes_json(agent.attributes),
        }

    def agent_json(self, agent: Agent) -> JsonDict:
        """Return the operator API ``Agent`` message."""
        return {
            "agent_info": self.agent_info(agent),
            "active": agent.active,
            "pid": agent.pid,
            "version": MESOS_VERSION,
            "registered_time": {"nanoseconds": round(agent.registered_time * 1e9)},
            "total_resources": agent.total.to_json(),
        }

    def _recover(self, framework: Framework | None, agent: Agent, resources: ResourceSet) -> None:
        if resources.is_empty():
            return
        agent.allocated = agent.allocated - resources
        self._allocation_dirty = True
        if framework is not None:
            framework.allocated = framework.allocated - scalar_part(resources)

    def _wake_allocator(self, now: float) -> None:
        """Something that changes the allocation happened: allocate at the next tick."""
        self._allocation_dirty = True
        self._next_allocation = min(self._next_allocation, now)

    def _send(self, framework: Framework, event: JsonDict) -> list[Effect]:
        if not framework.connected or framework.stream_id is None:
            return []
        return [SendEvent(framework.stream_id, event)]

    def _operator(self, event: JsonDict) -> None:
        if self.operator_watchers > 0:
            self._operator_queue.append(OperatorEvent(event))

    def take_operator_events(self) -> list[Effect]:
        """Return and forget the operator events queued since the last call."""
        queue = self._operator_queue
        self._operator_queue = []
        return queue

    def task_json(self, task: Task) -> JsonDict:
        """Return the operator API ``Task`` message."""
        body: JsonDict = {
            "name": task.info.get("name", ""),
            "task_id": msg.id_of(task.task_id),
            "framework_id": msg.id_of(task.framework_id),
            "agent_id": msg.id_of(task.agent_id),
            "state": task.state,
            "resources": task.info.get("resources", []),
            "statuses": [task.last_status] if task.last_status else [],
        }
        if task.executor_id is not None:
            body["executor_id"] = msg.id_of(task.executor_id)
        if "labels" in task.info:
            body["labels"] = task.info["labels"]
        return body

    def _fw_json(self, framework: Framework) -> JsonDict:
        return {
            "framework_info": framework.info,
            "active": framework.active,
            "connected": framework.connected,
            "recovered": False,
        }

    def framework_json(self, framework: Framework) -> JsonDict:
        """Return the operator API ``Framework`` message."""
        return self._fw_json(framework)

    def all_frameworks(self) -> list[Framework]:
        """Every framework, live ones first."""
        return [*self.frameworks.values(), *self.completed_frameworks]
