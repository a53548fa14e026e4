"""The embedded Mesos master as a pure state machine.

Theory of operation: :class:`MasterState` holds every framework, agent, offer, task and
status-update stream.  Its methods are the master's inputs -- a scheduler subscription
(:meth:`MasterState.subscribe`), any other scheduler call (:meth:`MasterState.call`), a
stream closing, an agent joining, an executor's status update or exit, and the passing of
time (:meth:`MasterState.tick`) -- and each returns the :mod:`~mesos_wm.local.effects` the
I/O shell must carry out: events to write to a stream, streams to close, tasks to start or
kill on an agent.  Time is always an argument and randomness an injected
``random.Random``, so every protocol rule is tested without sockets or sleeps.

The rules are Mesos's (``src/master/master.cpp``, ``validation.cpp``,
``src/slave/task_status_update_manager.cpp``): ids in Mesos formats; the status codes and
400 texts of the scheduler endpoint; offers of whole agents by DRF (see
:mod:`~mesos_wm.local.allocator`); LOST for invalid offers (DROPPED when PARTITION_AWARE);
TASK_ERROR for invalid tasks; one unacknowledged status update in flight per task, resent
with backoff; master-generated updates without uuid; reconciliation answers; failover
timeout; framework removal.  Simulated agents run entirely inside this class.
"""

from __future__ import annotations

import heapq
import random
import uuid as uuidlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mesos_wm.ids import encode_uuid, new_uuid
from mesos_wm.local import messages as msg
from mesos_wm.local import validation
from mesos_wm.local.allocator import allocate
from mesos_wm.local.config import AgentConfig, MasterConfig
from mesos_wm.local.effects import (
    AcknowledgeExecutor,
    CloseStream,
    Effect,
    KillTask,
    LaunchTasks,
    OperatorEvent,
    SendEvent,
    SendExecutorMessage,
    ShutdownExecutor,
    ShutdownFramework,
)
from mesos_wm.local.model import Agent, Executor, Framework, Offer, RefuseFilter, Task, empty
from mesos_wm.local.updates import UpdateStream
from mesos_wm.resources import ResourceSet, parse_resource_string
from mesos_wm.wire.states import is_terminal

__all__ = ["MESOS_VERSION", "MasterState", "Reply"]

JsonDict = dict[str, Any]
MESOS_VERSION = "1.11.0"
ONE_YEAR = 365 * 24 * 3600.0
TERMINATION_STATES = {
    "REASON_EXECUTOR_REREGISTRATION_TIMEOUT": "TASK_GONE",
    "REASON_CONTAINER_UPDATE_FAILED": "TASK_GONE",
    "REASON_CONTAINER_PREEMPTED": "TASK_GONE",
}
"""State of the agent's updates when it destroyed an executor's container for a reason
(``ContainerTermination.state`` in slave.cpp): TASK_GONE (TASK_LOST without
PARTITION_AWARE) when the task was started but the agent ended it; TASK_FAILED otherwise."""
DURATION_LABEL = "mesos_wm.local/duration"
STATE_LABEL = "mesos_wm.local/state"


@dataclass
class Reply:
    """The HTTP answer to a scheduler call plus the effects it caused."""

    status: int
    message: str = ""
    effects: list[Effect] = field(default_factory=list)
    body: JsonDict | None = None


def _scalars(resources: ResourceSet) -> ResourceSet:
    """The scalar part of resources: what a framework holds across agents (for DRF)."""
    return (
        ResourceSet(scalars=dict(resources.scalars))
        if resources.ranges or resources.sets
        else resources
    )


def _ip_as_uint32(ip: str) -> int:
    parts = [int(p) for p in ip.split(".")]
    return int.from_bytes(bytes(parts), "little")


class MasterState:
    """Everything the embedded master knows; see the module docstring.

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

    # -- identity -----------------------------------------------------------------------

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

    # -- agents -------------------------------------------------------------------------

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

    # -- subscription -------------------------------------------------------------------

    def subscribe(
        self, call: JsonDict, stream_id: str, now: float, principal: str | None = None
    ) -> list[Effect]:
        """Handle a validated SUBSCRIBE whose response stream is ``stream_id``.

        The stream is registered first, so an ERROR for an invalid subscription reaches it.

        Returns:
            SUBSCRIBED and a first HEARTBEAT on the new stream, or ERROR and close; for a
            failover, ERROR ``Framework failed over`` and close on the old stream.
        """
        body = call["subscribe"]
        info = dict(body["framework_info"])
        suppressed = list(body.get("suppressed_roles", []))
        if principal is not None and "principal" not in info:
            info["principal"] = principal
        error = validation.framework_info(info, suppressed)
        framework_id = msg.id_of("")["value"]
        if error is None and "id" in info:
            framework_id = info["id"]["value"]
            if any(f.framework_id == framework_id for f in self.completed_frameworks):
                error = "Framework has been removed"
            elif framework_id in self.frameworks:
                error = self._immutable_change(self.frameworks[framework_id].info, info)
        if error is not None:
            return [SendEvent(stream_id, msg.error(error)), CloseStream(stream_id)]
        effects: list[Effect] = []
        framework = self.frameworks.get(framework_id) if framework_id else None
        if framework is None:
            if not framework_id:
                framework_id = f"{self.master_id}-{self._framework_seq:04d}"
                self._framework_seq += 1
            info["id"] = msg.id_of(framework_id)
            framework = Framework(
                framework_id=framework_id,
                info=info,
                roles=self._roles(info),
                capabilities=self._capabilities(info),
                stream_id=stream_id,
                registered_time=now,
                reregistered_time=now,
                principal=info.get("principal"),
            )
            self.frameworks[framework_id] = framework
            self._operator(
                {
                    "type": "FRAMEWORK_ADDED",
                    "framework_added": {"framework": self._fw_json(framework)},
                }
            )
        else:
            if framework.connected and framework.stream_id is not None:
                old = framework.stream_id
                effects += [SendEvent(old, msg.error("Framework failed over")), CloseStream(old)]
                self.streams.pop(old, None)
            for offer_id in list(framework.offers):
                self._remove_offer(offer_id, rescind=False)
            info["id"] = msg.id_of(framework_id)
            framework.info = info
            framework.roles = self._roles(info)
            framework.capabilities = self._capabilities(info)
            framework.stream_id = stream_id
            framework.connected = True
            framework.active = True
            framework.failover_deadline = None
            framework.reregistered_time = now
            self._operator(
                {
                    "type": "FRAMEWORK_UPDATED",
                    "framework_updated": {"framework": self._fw_json(framework)},
                }
            )
        framework.suppressed = set(suppressed)
        self.streams[stream_id] = framework_id
        effects.append(
            SendEvent(
                stream_id,
                msg.subscribed(framework_id, self.config.heartbeat_interval, self.master_info()),
            )
        )
        effects.append(SendEvent(stream_id, msg.heartbeat()))
        framework.next_heartbeat = now + self.config.heartbeat_interval
        self._wake_allocator(now)
        effects += self._flush_updates(framework, now)
        return effects

    @staticmethod
    def _immutable_change(old: JsonDict, new: JsonDict) -> str | None:
        for key, default in (("principal", ""), ("user", ""), ("checkpoint", False)):
            before, after = old.get(key, default), new.get(key, default)
            if before != after:
                return (
                    f"Updating 'FrameworkInfo.{key}' unsupported; attempted to update from "
                    f"'{before}' to '{after}'"
                )
        return None

    @staticmethod
    def _capabilities(info: JsonDict) -> frozenset[str]:
        return frozenset(c["type"] for c in info.get("capabilities", []) if "type" in c)

    @staticmethod
    def _roles(info: JsonDict) -> tuple[str, ...]:
        caps = {c.get("type") for c in info.get("capabilities", [])}
        if "MULTI_ROLE" in caps:
            return tuple(info.get("roles", []))
        return (info.get("role", "*"),)

    def stream_closed(self, stream_id: str, now: float) -> list[Effect]:
        """The connection of a subscription stream ended (client gone or write failed).

        The framework is disconnected: calls get 403, its offers are rescinded, and it is
        removed when ``failover_timeout`` passes without a resubscription.
        """
        framework_id = self.streams.pop(stream_id, None)
        if framework_id is None:
            return []
        framework = self.frameworks.get(framework_id)
        if framework is None or framework.stream_id != stream_id:
            return []
        return self._disconnect(framework, now)

    def _disconnect(self, framework: Framework, now: float) -> list[Effect]:
        framework.connected = False
        framework.active = False
        framework.stream_id = None
        for offer_id in list(framework.offers):
            self._remove_offer(offer_id, rescind=False)
        timeout = float(framework.info.get("failover_timeout", 0.0))
        framework.failover_deadline = now + max(timeout, 0.0)
        self._operator(
            {
                "type": "FRAMEWORK_UPDATED",
                "framework_updated": {"framework": self._fw_json(framework)},
            }
        )
        if timeout <= 0:
            return self._remove_framework(framework, now)
        return []

    # -- scheduler calls ----------------------------------------------------------------

    def call(
        self,
        call: JsonDict,
        stream_header: str | None,
        now: float,
        principal: str | None = None,
    ) -> Reply:
        """Handle a validated scheduler call other than SUBSCRIBE.

        Args:
            call: the call body (already through schema and semantic validation).
            stream_header: the request's ``Mesos-Stream-Id`` header, if any.
            now: the current time.
            principal: the authenticated principal, when authentication is on.

        Returns:
            The status code (400/403 with Mesos's text, 202, 200 or 501) and effects.
        """
        framework_id = call["framework_id"]["value"]
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return Reply(400, "Framework cannot be found")
        if principal is not None and principal != framework.principal:
            return Reply(
                400,
                f"Authenticated principal '{principal}' does not match principal "
                f"'{framework.principal or ''}' set in `FrameworkInfo`",
            )
        if not framework.connected:
            return Reply(403, "Framework is not subscribed")
        if stream_header is None:
            return Reply(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header")
        if stream_header != framework.stream_id:
            return Reply(
                400,
                f"The stream ID '{stream_header}' included in this request didn't match the "
                f"stream ID currently associated with framework ID {framework_id}",
            )
        kind = call["type"]
        handler = getattr(self, f"_call_{kind.lower()}", None)
        if kind == "UNKNOWN" or handler is None:
            return Reply(501)
        reply: Reply = handler(framework, call, now)
        return reply

    def _call_teardown(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        return Reply(202, effects=self._remove_framework(framework, now))

    def _refuse_seconds(self, filters: JsonDict | None) -> float:
        if not filters or "refuse_seconds" not in filters:
            return self.config.default_refuse_seconds
        value = float(filters["refuse_seconds"])
        if value < 0:
            return self.config.default_refuse_seconds
        return min(value, ONE_YEAR)

    def _call_decline(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["decline"]
        refuse = self._refuse_seconds(body.get("filters"))
        for item in body.get("offer_ids", []):
            offer = self.offers.get(item.get("value", ""))
            if offer is None or offer.framework_id != framework.framework_id:
                continue
            self._remove_offer(offer.offer_id, rescind=False)
            self._add_filter(
                framework, offer.agent_id, offer.role, offer.resources, refuse=refuse, now=now
            )
        return Reply(202)

    def _add_filter(
        self,
        framework: Framework,
        agent_id: str,
        role: str,
        resources: ResourceSet,
        *,
        refuse: float,
        now: float,
    ) -> None:
        if refuse <= 0 or resources.is_empty():
            return
        framework.filters[(agent_id, role)] = RefuseFilter(resources, now + refuse)
        self._filter_deadline = min(self._filter_deadline, now + refuse)

    def _call_revive(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        roles = set(call.get("revive", {}).get("roles", [])) or set(framework.roles)
        framework.filters = {k: v for k, v in framework.filters.items() if k[1] not in roles}
        framework.suppressed -= roles
        self._wake_allocator(now)
        return Reply(202)

    def _call_suppress(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        roles = set(call.get("suppress", {}).get("roles", [])) or set(framework.roles)
        framework.suppressed |= roles
        return Reply(202)

    def _call_request(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        return Reply(202)

    def _call_accept_inverse_offers(
        self, framework: Framework, call: JsonDict, now: float
    ) -> Reply:
        return Reply(202)

    _call_decline_inverse_offers = _call_accept_inverse_offers
    _call_acknowledge_operation_status = _call_accept_inverse_offers
    _call_reconcile_operations = _call_accept_inverse_offers

    def _call_update_framework(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["update_framework"]
        info = dict(body["framework_info"])
        suppressed = list(body.get("suppressed_roles", []))
        error = validation.framework_info(info, suppressed) or self._immutable_change(
            framework.info, info
        )
        if error:
            return Reply(400, error)
        framework.info = info
        framework.roles = self._roles(info)
        framework.capabilities = self._capabilities(info)
        framework.suppressed = set(suppressed)
        for offer_id in list(framework.offers):
            if self.offers[offer_id].role not in framework.roles:
                self._remove_offer(offer_id, rescind=True)
        self._wake_allocator(now)
        self._operator(
            {
                "type": "FRAMEWORK_UPDATED",
                "framework_updated": {"framework": self._fw_json(framework)},
            }
        )
        return Reply(200)

    def _call_message(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["message"]
        agent = self.agents.get(body["agent_id"]["value"])
        executor_id = body["executor_id"]["value"]
        if agent is None or agent.simulated:
            return Reply(202)
        if executor_id not in agent.executors.get(framework.framework_id, {}):
            return Reply(202)
        return Reply(
            202,
            effects=[
                SendExecutorMessage(
                    agent.agent_id, framework.framework_id, executor_id, body["data"]
                )
            ],
        )

    def _call_shutdown(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["shutdown"]
        agent = self.agents.get(body["agent_id"]["value"])
        executor_id = body["executor_id"]["value"]
        if agent is None:
            return Reply(202)
        executor = agent.executors.get(framework.framework_id, {}).get(executor_id)
        if executor is None:
            return Reply(202)
        if not agent.simulated:
            return Reply(
                202,
                effects=[ShutdownExecutor(agent.agent_id, framework.framework_id, executor_id)],
            )
        effects: list[Effect] = []
        for task_id in sorted(executor.tasks):
            effects += self._simulated_update(
                agent,
                framework.framework_id,
                task_id,
                "TASK_KILLED",
                now,
                message="Executor shut down",
            )
        return Reply(202, effects=effects)

    # -- accept / launch ----------------------------------------------------------------

    def _call_accept(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["accept"]
        offer_ids = [item["value"] for item in body.get("offer_ids", [])]
        operations = body.get("operations", [])
        refuse = self._refuse_seconds(body.get("filters"))
        error = validation.offers(offer_ids, self.offers, framework.framework_id)
        effects: list[Effect] = []
        if error is not None:
            for offer_id in set(offer_ids):
                offer = self.offers.get(offer_id)
                if offer is not None and offer.framework_id == framework.framework_id:
                    self._remove_offer(offer_id, rescind=False)
            state = "TASK_DROPPED" if framework.partition_aware else "TASK_LOST"
            for info in self._launched_tasks(operations):
                self.metrics["master/task_lost"] += 1
                status = msg.task_status(
                    task_id=info["task_id"]["value"],
                    state=state,
                    source="SOURCE_MASTER",
                    timestamp=now,
                    agent_id=info["agent_id"]["value"],
                    message=f"Task launched with invalid offers: {error}",
                    reason="REASON_INVALID_OFFERS",
                )
                effects += self._send(framework, msg.update(status))
            return Reply(202, effects=effects)
        if not offer_ids:
            return Reply(202)
        offers = [self.offers[offer_id] for offer_id in offer_ids]
        agent = self.agents[offers[0].agent_id]
        role = offers[0].role
        offered = empty()
        for offer in offers:
            offered = offered + offer.resources
            self._remove_offer(offer.offer_id, rescind=False, recover=False)
        for operation in operations:
            kind = operation.get("type")
            if kind == "LAUNCH":
                for info in operation.get("launch", {}).get("task_infos", []):
                    offered, more = self._launch(
                        framework, agent, role, info, offered=offered, now=now
                    )
                    effects += more
            elif kind == "LAUNCH_GROUP":
                group = operation.get("launch_group", {})
                offered, more = self._launch_group(
                    framework, agent, role, group, offered=offered, now=now
                )
                effects += more
        self._recover(framework, agent, offered)
        self._add_filter(framework, agent.agent_id, role, offered, refuse=refuse, now=now)
        return Reply(202, effects=effects)

    @staticmethod
    def _launched_tasks(operations: Iterable[JsonDict]) -> list[JsonDict]:
        tasks: list[JsonDict] = []
        for operation in operations:
            if operation.get("type") == "LAUNCH":
                tasks += operation.get("launch", {}).get("task_infos", [])
            elif operation.get("type") == "LAUNCH_GROUP":
                tasks += operation.get("launch_group", {}).get("task_group", {}).get("tasks", [])
        return tasks

    def _task_error(
        self,
        framework: Framework,
        info: JsonDict,
        error: str,
        now: float,
        reason: str = "REASON_TASK_INVALID",
    ) -> list[Effect]:
        """TASK_ERROR for an invalid task (REASON_TASK_GROUP_INVALID for a task group)."""
        self.metrics["master/tasks_error"] += 1
        status = msg.task_status(
            task_id=info["task_id"]["value"],
            state="TASK_ERROR",
            source="SOURCE_MASTER",
            timestamp=now,
            agent_id=info["agent_id"]["value"],
            message=error,
            reason=reason,
        )
        return self._send(framework, msg.update(status))

    def _with_framework_id(self, framework: Framework, executor: JsonDict) -> JsonDict:
        if "framework_id" in executor:
            return executor
        return {**executor, "framework_id": msg.id_of(framework.framework_id)}

    def _launch(
        self,
        framework: Framework,
        agent: Agent,
        role: str,
        info: JsonDict,
        *,
        offered: ResourceSet,
        now: float,
    ) -> tuple[ResourceSet, list[Effect]]:
        if "executor" in info:
            info = {**info, "executor": self._with_framework_id(framework, info["executor"])}
        executor_id = info["executor"]["executor_id"]["value"] if "executor" in info else None
        existing = agent.executors.get(framework.framework_id, {}).get(executor_id or "")
        error, needed = validation.task(
            info,
            framework_id=framework.framework_id,
            agent_id=agent.agent_id,
            role=role,
            multi_role=framework.has("MULTI_ROLE"),
            framework_tasks=framework.tasks,
            existing_executor=existing.info if existing else None,
            executor_running=existing is not None,
            offered=offered,
        )
        if error is not None:
            return offered, self._task_error(framework, info, error, now)
        offered = offered - needed
        executor_json = info.get("executor")
        if executor_json is not None and existing is None:
            own = ResourceSet.from_json(executor_json.get("resources", []))
            existing = Executor(executor_id or "", framework.framework_id, executor_json, own)
            agent.executors.setdefault(framework.framework_id, {})[existing.executor_id] = existing
        task = self._add_task(
            framework,
            agent,
            role,
            info,
            executor_id=executor_id,
            resources=validation.resources_of(info["resources"], role, framework.has("MULTI_ROLE"))
            or empty(),
            executor=existing,
            now=now,
        )
        if agent.simulated:
            return offered, self._simulate_start(agent, framework, [task], now)
        return offered, [
            LaunchTasks(agent.agent_id, framework.info, executor_json, (info,), group=False)
        ]

    def _launch_group(
        self,
        framework: Framework,
        agent: Agent,
        role: str,
        group: JsonDict,
        *,
        offered: ResourceSet,
        now: float,
    ) -> tuple[ResourceSet, list[Effect]]:
        executor_json = self._with_framework_id(framework, group.get("executor", {}))
        infos = [
            info if "executor" in info else {**info, "executor": executor_json}
            for info in group.get("task_group", {}).get("tasks", [])
        ]
        executor_id = executor_json["executor_id"]["value"]
        existing = agent.executors.get(framework.framework_id, {}).get(executor_id)
        error, needed = validation.task_group(
            executor_json,
            infos,
            framework_id=framework.framework_id,
            agent_id=agent.agent_id,
            role=role,
            multi_role=framework.has("MULTI_ROLE"),
            framework_tasks=framework.tasks,
            existing_executor=existing.info if existing else None,
            executor_running=existing is not None,
            offered=offered,
        )
        if error is not None:
            effects: list[Effect] = []
            for info in infos:
                effects += self._task_error(
                    framework, info, error, now, reason="REASON_TASK_GROUP_INVALID"
                )
            return offered, effects
        offered = offered - needed
        if existing is None:
            own = ResourceSet.from_json(executor_json.get("resources", []))
            existing = Executor(executor_id, framework.framework_id, executor_json, own)
            agent.executors.setdefault(framework.framework_id, {})[executor_id] = existing
        multi = framework.has("MULTI_ROLE")
        tasks = [
            self._add_task(
                framework,
                agent,
                role,
                info,
                executor_id=executor_id,
                resources=validation.resources_of(info["resources"], role, multi) or empty(),
                executor=existing,
                now=now,
            )
            for info in infos
        ]
        if agent.simulated:
            return offered, self._simulate_start(agent, framework, tasks, now)
        return offered, [
            LaunchTasks(agent.agent_id, framework.info, executor_json, tuple(infos), group=True)
        ]

    def _add_task(
        self,
        framework: Framework,
        agent: Agent,
        role: str,
        info: JsonDict,
        *,
        executor_id: str | None,
        resources: ResourceSet,
        executor: Executor | None,
        now: float,
    ) -> Task:
        task_id = info["task_id"]["value"]
        task = Task(
            task_id=task_id,
            framework_id=framework.framework_id,
            agent_id=agent.agent_id,
            executor_id=executor_id,
            info=info,
            resources=resources,
            role=role,
        )
        task.statuses.append({"state": "TASK_STAGING", "timestamp": now})
        framework.tasks[task_id] = task
        agent.tasks[(framework.framework_id, task_id)] = task
        if executor is not None:
            executor.tasks.add(task_id)
        self._operator({"type": "TASK_ADDED", "task_added": {"task": self.task_json(task)}})
        return task

    # -- offers and allocation ----------------------------------------------------------

    def _remove_offer(self, offer_id: str, *, rescind: bool, recover: bool = True) -> list[Effect]:
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            return []
        framework = self.frameworks.get(offer.framework_id)
        agent = self.agents.get(offer.agent_id)
        if agent is not None:
            agent.offers.discard(offer_id)
        effects: list[Effect] = []
        if framework is not None:
            framework.offers.discard(offer_id)
            if recover and agent is not None:
                self._recover(framework, agent, offer.resources)
            if rescind:
                effects += self._send(framework, msg.rescind(offer_id))
        return effects

    def _recover(self, framework: Framework | None, agent: Agent, resources: ResourceSet) -> None:
        if resources.is_empty():
            return
        agent.allocated = agent.allocated - resources
        self._allocation_dirty = True
        if framework is not None:
            framework.allocated = framework.allocated - _scalars(resources)

    def _wake_allocator(self, now: float) -> None:
        """Something that changes the allocation happened: allocate at the next tick."""
        self._allocation_dirty = True
        self._next_allocation = min(self._next_allocation, now)

    def _offer_json(self, offer: Offer, framework: Framework, agent: Agent) -> JsonDict:
        multi = framework.has("MULTI_ROLE")
        executor_ids = sorted(agent.executors.get(framework.framework_id, {}))
        body: JsonDict = {
            "id": msg.id_of(offer.offer_id),
            "framework_id": msg.id_of(framework.framework_id),
            "agent_id": msg.id_of(agent.agent_id),
            "hostname": agent.hostname,
            "url": {
                "scheme": "http",
                "address": {"hostname": agent.hostname, "ip": self.ip, "port": agent.port},
                "path": "/slave(1)",
            },
            "resources": offer.resources.to_json(offer.role if multi else None),
            "attributes": msg.attributes_json(agent.attributes),
            "executor_ids": [msg.id_of(e) for e in executor_ids],
        }
        if multi:
            body["allocation_info"] = {"role": offer.role}
        return body

    def allocate(self, now: float) -> list[Effect]:
        """Run one allocation round and return the OFFERS events.

        A round is skipped when nothing that could change its outcome happened since the
        last one (no resources recovered, no framework or agent change, no refuse filter
        expired).
        """
        self._next_allocation = now + self.config.allocation_interval
        if not self._allocation_dirty and now < self._filter_deadline:
            return []
        self._allocation_dirty = False
        self._filter_deadline = min(
            (
                f.until
                for fw in self.frameworks.values()
                for f in fw.filters.values()
                if f.until > now
            ),
            default=float("inf"),
        )
        by_framework: dict[str, list[JsonDict]] = {}
        for item in allocate(self.agents.values(), list(self.frameworks.values()), now, self.rng):
            offer_id = f"{self.master_id}-O{self._offer_seq}"
            self._offer_seq += 1
            expires = now + self.config.offer_timeout if self.config.offer_timeout else None
            offer = Offer(
                offer_id,
                item.framework.framework_id,
                item.agent.agent_id,
                item.role,
                item.resources,
                now,
                expires,
            )
            self.offers[offer_id] = offer
            item.agent.offers.add(offer_id)
            item.agent.allocated = item.agent.allocated + item.resources
            item.framework.offers.add(offer_id)
            item.framework.allocated = item.framework.allocated + _scalars(item.resources)
            by_framework.setdefault(item.framework.framework_id, []).append(
                self._offer_json(offer, item.framework, item.agent)
            )
        effects: list[Effect] = []
        for framework_id, offer_list in by_framework.items():
            self.metrics["master/offers_sent"] += len(offer_list)
            effects += self._send(self.frameworks[framework_id], msg.offers(offer_list))
        return effects

    def rescind_offers(self, framework_id: str | None = None) -> list[Effect]:
        """Rescind outstanding offers (all, or one framework's), sending RESCIND events."""
        effects: list[Effect] = []
        for offer_id, offer in list(self.offers.items()):
            if framework_id is None or offer.framework_id == framework_id:
                effects += self._remove_offer(offer_id, rescind=True)
        return effects

    # -- events to frameworks -----------------------------------------------------------

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

    # -- status updates -----------------------------------------------------------------

    def executor_update(
        self, agent_id: str, framework_id: str, status: JsonDict, now: float
    ) -> list[Effect]:
        """Take a status update (with uuid) from an executor or the agent itself.

        The update enters the task's stream; the executor gets ACKNOWLEDGED once it is
        stored; the head of the stream is forwarded to the framework.

        Args:
            agent_id: the agent that received the update.
            framework_id: the task's framework.
            status: the TaskStatus; ``agent_id`` is filled in here.
            now: the current time.

        Returns:
            The effects (ACKNOWLEDGED to the executor, UPDATE to the framework).
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            return []
        self.metrics["master/messages_status_update"] += 1
        task_id = status["task_id"]["value"]
        status = {**status, "agent_id": msg.id_of(agent_id)}
        effects: list[Effect] = []
        executor_id = (status.get("executor_id") or {}).get("value")
        task = agent.tasks.get((framework_id, task_id))
        if (
            executor_id is not None
            and not agent.simulated
            and status["source"] == "SOURCE_EXECUTOR"
        ):
            effects.append(
                AcknowledgeExecutor(agent_id, framework_id, executor_id, task_id, status["uuid"])
            )
        if task is None:
            return effects
        stream = agent.streams.get((framework_id, task_id))
        if stream is None:
            stream = UpdateStream(framework_id, task_id)
            agent.streams[(framework_id, task_id)] = stream
        if stream.finished or status["uuid"] in stream.seen or is_terminal(task.state):
            return effects
        forward = stream.add(status, now, self.config.update_retry_initial)
        self._apply_status(agent, task, status, now)
        if forward:
            self._schedule_retry(stream, agent_id)
            effects += self._forward(framework_id, status)
        return effects

    def _apply_status(self, agent: Agent, task: Task, status: JsonDict, now: float) -> None:
        was_terminal = is_terminal(task.state)
        task.state = status["state"]
        task.last_status = status
        task.statuses.append({"state": status["state"], "timestamp": status.get("timestamp", now)})
        if not was_terminal and is_terminal(task.state):
            framework = self.frameworks.get(task.framework_id)
            self._recover(framework, agent, task.resources)
            executor = agent.executors.get(task.framework_id, {}).get(task.executor_id or "")
            if executor is not None:
                executor.tasks.discard(task.task_id)
                if agent.simulated and not executor.tasks:
                    self._remove_executor(agent, executor)
        self._operator(
            {
                "type": "TASK_UPDATED",
                "task_updated": {
                    "framework_id": msg.id_of(task.framework_id),
                    "status": status,
                    "state": task.state,
                },
            }
        )

    def _remove_executor(self, agent: Agent, executor: Executor) -> None:
        executors = agent.executors.get(executor.framework_id, {})
        if executors.pop(executor.executor_id, None) is not None:
            self._recover(self.frameworks.get(executor.framework_id), agent, executor.resources)
        if not executors:
            agent.executors.pop(executor.framework_id, None)

    def _forward(self, framework_id: str, status: JsonDict) -> list[Effect]:
        """Send the head of a task's update stream (``Master::forward``).

        The task remembers it: reconciliation answers with the state of the latest update
        forwarded, not of a later one still queued behind it.
        """
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return []
        task = framework.tasks.get(status["task_id"]["value"])
        if task is not None:
            task.forwarded = status
        return self._send(framework, msg.update(status))

    def _schedule_retry(self, stream: UpdateStream, agent_id: str) -> None:
        if stream.retry_at is not None:
            heapq.heappush(
                self._retries,
                (stream.retry_at, self._next_seq(), agent_id, stream.framework_id, stream.task_id),
            )

    def _flush_updates(self, framework: Framework, now: float) -> list[Effect]:
        effects: list[Effect] = []
        for agent in self.agents.values():
            for (framework_id, _), stream in agent.streams.items():
                if framework_id != framework.framework_id:
                    continue
                head = stream.flush(now, self.config.update_retry_initial)
                if head is not None:
                    self._schedule_retry(stream, agent.agent_id)
                    effects += self._forward(framework_id, head)
        return effects

    def _call_acknowledge(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["acknowledge"]
        self.metrics["master/messages_acknowledge"] += 1
        if self.drop_acks > 0:
            self.drop_acks -= 1
            return Reply(202)
        args = (
            framework.framework_id,
            body["agent_id"]["value"],
            body["task_id"]["value"],
            body["uuid"],
        )
        if self.ack_delay > 0:
            heapq.heappush(self._delayed_acks, (now + self.ack_delay, self._next_seq(), *args))
            return Reply(202)
        return Reply(202, effects=self._acknowledge(*args, now=now))

    def _acknowledge(
        self, framework_id: str, agent_id: str, task_id: str, uuid: str, *, now: float
    ) -> list[Effect]:
        agent = self.agents.get(agent_id)
        if agent is None:
            return []
        stream = agent.streams.get((framework_id, task_id))
        if stream is None:
            self.metrics["master/invalid_status_update_acknowledgements"] += 1
            return []
        matched, following = stream.acknowledge(uuid, now, self.config.update_retry_initial)
        if not matched:
            self.metrics["master/invalid_status_update_acknowledgements"] += 1
            return []
        self.metrics["master/valid_status_update_acknowledgements"] += 1
        effects: list[Effect] = []
        if following is not None:
            self._schedule_retry(stream, agent_id)
            effects += self._forward(framework_id, following)
        if stream.finished:
            del agent.streams[(framework_id, task_id)]
            task = agent.tasks.get((framework_id, task_id))
            if task is not None and is_terminal(task.state):
                self._remove_task(task)
        return effects

    def _remove_task(self, task: Task) -> None:
        agent = self.agents.get(task.agent_id)
        if agent is not None:
            agent.tasks.pop((task.framework_id, task.task_id), None)
            agent.streams.pop((task.framework_id, task.task_id), None)
        framework = self.frameworks.get(task.framework_id)
        if framework is None:
            return
        if framework.tasks.get(task.task_id) is task:
            del framework.tasks[task.task_id]
        framework.completed_tasks.append(task)
        while len(framework.completed_tasks) > self.config.max_completed_tasks_per_framework:
            framework.completed_tasks.popleft()

    # -- reconciliation and kill --------------------------------------------------------

    def _reconcile_status(
        self, framework: Framework, task_id: str, agent_id: str | None, now: float
    ) -> JsonDict:
        """The answer of ``Master::reconcile`` for one task.

        A task the master holds (launched, not yet acknowledged as terminal) is answered
        with the state of the latest update *forwarded* to the framework (its
        ``status_update_state``), so reconciliation never runs ahead of the update
        stream; unreachable tasks are not held, so they are answered by their agent.
        """
        task = framework.tasks.get(task_id)
        base: dict[str, Any] = {
            "task_id": task_id,
            "source": "SOURCE_MASTER",
            "timestamp": now,
            "reason": "REASON_RECONCILIATION",
        }
        if task is not None:
            latest = task.forwarded or task.last_status or {}
            return msg.task_status(
                **base,
                state=task.forwarded["state"] if task.forwarded else task.state,
                agent_id=task.agent_id,
                executor_id=task.executor_id,
                message="Reconciliation: Latest task state",
                healthy=latest.get("healthy"),
            )
        aware = framework.partition_aware
        unreachable_time: float | None = None
        if agent_id is not None and agent_id in self.agents:
            state, text = "TASK_GONE", "Reconciliation: Task is unknown to the agent"
        elif agent_id is not None and agent_id in self.unreachable_agents:
            state, text = "TASK_UNREACHABLE", "Reconciliation: Task is unreachable"
            unreachable_time = self.unreachable_agents[agent_id]
        elif agent_id is not None and self.removed_agents.get(agent_id) == "gone":
            state, text = "TASK_GONE_BY_OPERATOR", "Reconciliation: Task is gone"
        else:
            state, text = "TASK_UNKNOWN", "Reconciliation: Task is unknown"
        return msg.task_status(
            **base,
            state=state if aware else "TASK_LOST",
            agent_id=agent_id,
            message=text,
            unreachable_time=unreachable_time,
        )

    def _call_reconcile(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        requested = call["reconcile"].get("tasks", [])
        effects: list[Effect] = []
        if not requested:
            for task in list(framework.tasks.values()):
                status = self._reconcile_status(framework, task.task_id, task.agent_id, now)
                effects += self._send(framework, msg.update(status))
            return Reply(202, effects=effects)
        for item in requested:
            agent_id = (item.get("agent_id") or {}).get("value")
            status = self._reconcile_status(framework, item["task_id"]["value"], agent_id, now)
            effects += self._send(framework, msg.update(status))
        return Reply(202, effects=effects)

    def _call_kill(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["kill"]
        task_id = body["task_id"]["value"]
        agent_id = (body.get("agent_id") or {}).get("value")
        task = framework.tasks.get(task_id)
        if task is None:
            status = self._reconcile_status(framework, task_id, agent_id, now)
            return Reply(202, effects=self._send(framework, msg.update(status)))
        if is_terminal(task.state) or (agent_id is not None and agent_id != task.agent_id):
            return Reply(202)
        agent = self.agents[task.agent_id]
        policy = body.get("kill_policy") or task.info.get("kill_policy")
        if not agent.simulated:
            return Reply(
                202,
                effects=[
                    KillTask(
                        agent.agent_id, framework.framework_id, task_id, task.executor_id, policy
                    )
                ],
            )
        effects: list[Effect] = []
        if framework.has("TASK_KILLING_STATE"):
            effects += self._simulated_update(
                agent, framework.framework_id, task_id, "TASK_KILLING", now
            )
        effects += self._simulated_update(
            agent, framework.framework_id, task_id, "TASK_KILLED", now, message="Task killed"
        )
        return Reply(202, effects=effects)

    # -- simulated agents ---------------------------------------------------------------

    def _simulate_start(
        self, agent: Agent, framework: Framework, tasks: list[Task], now: float
    ) -> list[Effect]:
        effects: list[Effect] = []
        for task in tasks:
            labels = {
                label.get("key"): label.get("value")
                for label in task.info.get("labels", {}).get("labels", [])
            }
            duration = agent.task_duration
            if DURATION_LABEL in labels:
                try:
                    duration = float(labels[DURATION_LABEL])
                except (TypeError, ValueError):
                    duration = agent.task_duration
            effects += self._simulated_update(
                agent, framework.framework_id, task.task_id, "TASK_RUNNING", now
            )
            if duration != float("inf"):
                task.finish_at = now + max(duration, 0.0)
                heapq.heappush(
                    self._finishes,
                    (
                        task.finish_at,
                        self._next_seq(),
                        agent.agent_id,
                        framework.framework_id,
                        task.task_id,
                    ),
                )
        return effects

    def _simulated_update(
        self,
        agent: Agent,
        framework_id: str,
        task_id: str,
        state: str,
        now: float,
        *,
        message: str | None = None,
        reason: str | None = None,
    ) -> list[Effect]:
        task = agent.tasks.get((framework_id, task_id))
        if task is None or is_terminal(task.state):
            return []
        status = msg.task_status(
            task_id=task_id,
            state=state,
            source="SOURCE_EXECUTOR",
            timestamp=now,
            agent_id=agent.agent_id,
            executor_id=task.executor_id or task_id,
            uuid=encode_uuid(new_uuid(self.rng)),
            message=message,
            reason=reason,
        )
        return self.executor_update(agent.agent_id, framework_id, status, now)

    def finish_simulated_tasks(
        self, now: float, state: str = "TASK_FINISHED", framework_id: str | None = None
    ) -> list[Effect]:
        """End every live task on simulated agents now (as if their commands exited).

        Args:
            now: the current time.
            state: the terminal state to report (``TASK_FINISHED``, ``TASK_FAILED``...).
            framework_id: only this framework's tasks (None = all).

        Returns:
            The update effects.
        """
        text = "Command exited with status 0" if state == "TASK_FINISHED" else None
        effects: list[Effect] = []
        for agent in self.agents.values():
            if not agent.simulated:
                continue
            for (owner, task_id), task in list(agent.tasks.items()):
                if framework_id is not None and owner != framework_id:
                    continue
                if not is_terminal(task.state):
                    effects += self._simulated_update(
                        agent, owner, task_id, state, now, message=text
                    )
        return effects

    def _finish_simulated(self, now: float) -> list[Effect]:
        effects: list[Effect] = []
        while self._finishes and self._finishes[0][0] <= now:
            _, _, agent_id, framework_id, task_id = heapq.heappop(self._finishes)
            agent = self.agents.get(agent_id)
            if agent is None:
                continue
            task = agent.tasks.get((framework_id, task_id))
            if task is None or is_terminal(task.state):
                continue
            labels = {
                label.get("key"): label.get("value")
                for label in task.info.get("labels", {}).get("labels", [])
            }
            state = labels.get(STATE_LABEL) or "TASK_FINISHED"
            if state not in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR"):
                state = "TASK_FINISHED"
            text = "Command exited with status 0" if state == "TASK_FINISHED" else None
            if state == "TASK_FAILED":
                text = "Command exited with status 1"
            effects += self._simulated_update(
                agent, framework_id, task_id, state, now, message=text
            )
        return effects

    # -- executors on real agents -------------------------------------------------------

    def executor_terminated(
        self,
        agent_id: str,
        framework_id: str,
        executor_id: str,
        exit_status: int | None,
        now: float,
        *,
        reason: str = "REASON_EXECUTOR_TERMINATED",
        message: str = "Executor terminated",
        killed: bool = False,
    ) -> list[Effect]:
        """An executor process exited: its live tasks fail and the framework gets FAILURE.

        As ``Slave::executorTerminated`` and ``sendExecutorTerminatedStatusUpdate`` do:
        every task of the executor that is not terminal yet (launched or still queued)
        gets a reliable update from SOURCE_AGENT -- TASK_FAILED with
        REASON_EXECUTOR_TERMINATED and ``Executor terminated`` unless the agent recorded a
        reason for destroying the container (registration timeout, launch failure...; the
        state for that reason is in :data:`TERMINATION_STATES`).
        That holds whether or not the framework had asked to kill the task or to shut
        the executor down: a task the executor did not report as killed is failed.  Then
        the framework gets FAILURE with the agent id, the executor id and the wait status
        (-1 when unknown), as ``Master::exitedExecutor`` forwards it.

        Args:
            agent_id: the agent.
            framework_id: the executor's framework.
            executor_id: the executor.
            exit_status: the wait status (``WEXITSTATUS << 8`` for an exit, the signal
                number for a kill; None if unknown).
            now: the current time.
            reason: reason of the updates.
            message: message of the updates.
            killed: whether the agent had asked the executor to shut down; kept for
                callers, it changes nothing (Mesos fails the tasks all the same).

        Returns:
            The effects.
        """
        del killed
        agent = self.agents.get(agent_id)
        if agent is None:
            return []
        executor = agent.executors.get(framework_id, {}).get(executor_id)
        if executor is None:
            return []
        framework = self.frameworks.get(framework_id)
        state = TERMINATION_STATES.get(reason, "TASK_FAILED")
        if state == "TASK_GONE" and (framework is None or not framework.partition_aware):
            state = "TASK_LOST"
        effects: list[Effect] = []
        for task_id in sorted(executor.tasks):
            task = agent.tasks.get((framework_id, task_id))
            if task is None or is_terminal(task.state):
                continue
            status = msg.task_status(
                task_id=task_id,
                state=state,
                source="SOURCE_AGENT",
                timestamp=now,
                agent_id=agent_id,
                executor_id=executor_id,
                uuid=encode_uuid(new_uuid(self.rng)),
                message=message,
                reason=reason,
            )
            effects += self.executor_update(agent_id, framework_id, status, now)
        self._remove_executor(agent, executor)
        if framework is not None:
            status_code = -1 if exit_status is None else exit_status
            effects += self._send(framework, msg.failure(agent_id, executor_id, status_code))
        return effects

    def executor_subscribed(
        self,
        agent_id: str,
        framework_id: str,
        executor_id: str,
        *,
        launched: Iterable[str],
        unacknowledged: Iterable[str],
        now: float,
    ) -> list[Effect]:
        """An executor (re)subscribed; drop the tasks it was sent but does not know.

        As ``Slave::subscribe`` does after replaying the executor's unacknowledged
        updates: a task the agent already sent to this executor that is still
        TASK_STAGING and is not among the executor's ``unacknowledged_tasks`` was lost on
        the way (the agent died before the executor got it).  It becomes TASK_DROPPED
        (TASK_LOST without PARTITION_AWARE) from SOURCE_AGENT with REASON_AGENT_RESTARTED
        and ``Task launched during agent restart``, sent reliably.

        Args:
            agent_id: the agent.
            framework_id: the executor's framework.
            executor_id: the executor.
            launched: ids of the tasks the agent delivered to this executor.
            unacknowledged: ids of the ``unacknowledged_tasks`` of the SUBSCRIBE call.
            now: the current time.

        Returns:
            The effects (the updates).
        """
        agent = self.agents.get(agent_id)
        framework = self.frameworks.get(framework_id)
        if agent is None or framework is None:
            return []
        state = "TASK_DROPPED" if framework.partition_aware else "TASK_LOST"
        effects: list[Effect] = []
        for task_id in sorted(set(launched) - set(unacknowledged)):
            task = agent.tasks.get((framework_id, task_id))
            if task is None or task.executor_id != executor_id or task.state != "TASK_STAGING":
                continue
            status = msg.task_status(
                task_id=task_id,
                state=state,
                source="SOURCE_AGENT",
                timestamp=now,
                agent_id=agent_id,
                executor_id=executor_id,
                uuid=encode_uuid(new_uuid(self.rng)),
                message="Task launched during agent restart",
                reason="REASON_AGENT_RESTARTED",
            )
            effects += self.executor_update(agent_id, framework_id, status, now)
        return effects

    def executor_message(
        self, agent_id: str, framework_id: str, executor_id: str, data: str
    ) -> list[Effect]:
        """Forward an executor's MESSAGE to its framework."""
        framework = self.frameworks.get(framework_id)
        if framework is None or agent_id not in self.agents:
            return []
        return self._send(framework, msg.message(agent_id, executor_id, data))

    # -- removal ------------------------------------------------------------------------

    def _remove_framework(self, framework: Framework, now: float) -> list[Effect]:
        effects: list[Effect] = []
        for offer_id in list(framework.offers):
            self._remove_offer(offer_id, rescind=False)
        if framework.stream_id is not None:
            effects.append(CloseStream(framework.stream_id))
            self.streams.pop(framework.stream_id, None)
        hosts: set[str] = set()
        for task in list(framework.tasks.values()):
            agent = self.agents.get(task.agent_id)
            if agent is not None:
                hosts.add(agent.agent_id)
                if not is_terminal(task.state):
                    self._recover(framework, agent, task.resources)
                    task.state = "TASK_KILLED"
                    task.statuses.append({"state": "TASK_KILLED", "timestamp": now})
            self._remove_task(task)
        for agent in self.agents.values():
            executors = agent.executors.pop(framework.framework_id, {})
            if executors:
                hosts.add(agent.agent_id)
            for executor in executors.values():
                self._recover(framework, agent, executor.resources)
            for key in [k for k in agent.streams if k[0] == framework.framework_id]:
                del agent.streams[key]
        for agent_id in sorted(hosts):
            if not self.agents[agent_id].simulated:
                effects.append(ShutdownFramework(agent_id, framework.framework_id))
        framework.connected = False
        framework.active = False
        framework.stream_id = None
        framework.unregistered_time = now
        framework.failover_deadline = None
        del self.frameworks[framework.framework_id]
        self.completed_frameworks.append(framework)
        self._operator(
            {"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info": framework.info}}
        )
        return effects

    def remove_framework(self, framework_id: str, now: float) -> list[Effect]:
        """Remove a framework as TEARDOWN does (fault injection / operator use)."""
        framework = self.frameworks.get(framework_id)
        return self._remove_framework(framework, now) if framework else []

    def disconnect_framework(self, framework_id: str, now: float) -> list[Effect]:
        """Drop a framework's stream as if its connection broke (fault injection)."""
        framework = self.frameworks.get(framework_id)
        if framework is None or not framework.connected or framework.stream_id is None:
            return []
        stream_id = framework.stream_id
        self.streams.pop(stream_id, None)
        return [CloseStream(stream_id), *self._disconnect(framework, now)]

    def remove_agent(self, agent_id: str, now: float, how: str = "unreachable") -> list[Effect]:
        """Remove an agent (fault injection), as the Mesos master does.

        ``"unreachable"`` is ``Master::markUnreachable`` (health check timed out): tasks
        become TASK_UNREACHABLE with REASON_AGENT_REMOVED and the ``unreachable_time``
        (TASK_LOST without PARTITION_AWARE) and are kept as unreachable tasks.
        ``"gone"`` is ``Master::markGone``: TASK_GONE_BY_OPERATOR with
        REASON_AGENT_REMOVED_BY_OPERATOR (TASK_LOST with REASON_AGENT_REMOVED without
        PARTITION_AWARE); on an agent already unreachable it transitions the unreachable
        tasks the same way.  ``"removed"`` is ``Master::removeSlave`` for an agent that
        unregistered: TASK_LOST with REASON_AGENT_REMOVED for every framework.  Every task
        the master still holds for the agent (also a terminal one whose update is not
        acknowledged yet) gets the update from SOURCE_MASTER, without uuid; then its
        offers are rescinded and every framework gets FAILURE for the agent.

        Args:
            agent_id: the agent.
            now: the current time.
            how: ``"unreachable"``, ``"gone"`` or ``"removed"``.

        Returns:
            The effects: the task updates, RESCIND for its offers, FAILURE for the agent.

        Raises:
            ValueError: ``how`` is not one of the three words.
        """
        if how not in ("unreachable", "gone", "removed"):
            raise ValueError(f"how must be one of ['gone', 'removed', 'unreachable'], got {how!r}")
        agent = self.agents.get(agent_id)
        if agent is None:
            if how == "gone" and self.removed_agents.get(agent_id) == "unreachable":
                return self._mark_unreachable_agent_gone(agent_id, now)
            return []
        effects: list[Effect] = []
        for (framework_id, _task_id), task in list(agent.tasks.items()):
            framework = self.frameworks.get(framework_id)
            if framework is None:
                continue
            aware = framework.partition_aware
            reason = "REASON_AGENT_REMOVED"
            unreachable_time: float | None = None
            if how == "unreachable":
                state = "TASK_UNREACHABLE" if aware else "TASK_LOST"
                text = "health check timed out"
                unreachable_time = now
            elif how == "gone":
                state = "TASK_GONE_BY_OPERATOR" if aware else "TASK_LOST"
                reason = "REASON_AGENT_REMOVED_BY_OPERATOR" if aware else reason
                text = "Agent has been marked gone"
            else:
                state = "TASK_LOST"
                text = f"Agent {agent.hostname} removed: the agent unregistered"
            status = msg.task_status(
                task_id=task.task_id,
                state=state,
                source="SOURCE_MASTER",
                timestamp=now,
                agent_id=agent_id,
                executor_id=task.executor_id,
                message=text,
                reason=reason,
                unreachable_time=unreachable_time,
            )
            self._master_update(framework, agent, task, status, now)
            effects += self._send(framework, msg.update(status))
            if how == "unreachable":
                task.unreachable_time = now
                agent.tasks.pop((framework_id, task.task_id), None)
                agent.streams.pop((framework_id, task.task_id), None)
                framework.tasks.pop(task.task_id, None)
                framework.unreachable_tasks[task.task_id] = task
            else:
                self._remove_task(task)
        for framework_id in list(agent.executors):
            framework = self.frameworks.get(framework_id)
            if framework is not None:
                for executor in agent.executors[framework_id].values():
                    self._recover(framework, agent, executor.resources)
            if not agent.simulated:
                effects.append(ShutdownFramework(agent_id, framework_id))
        agent.executors.clear()
        for offer_id in list(agent.offers):
            effects += self._remove_offer(offer_id, rescind=True, recover=False)
        for framework in self.frameworks.values():
            effects += self._send(framework, msg.failure(agent_id=agent_id))
        del self.agents[agent_id]
        self.removed_agents[agent_id] = how
        if how == "unreachable":
            self.unreachable_agents[agent_id] = now
        self._operator(
            {"type": "AGENT_REMOVED", "agent_removed": {"agent_id": msg.id_of(agent_id)}}
        )
        return effects

    def _mark_unreachable_agent_gone(self, agent_id: str, now: float) -> list[Effect]:
        """``Master::markGone`` of an unreachable agent: its unreachable tasks end."""
        effects: list[Effect] = []
        for framework in self.frameworks.values():
            aware = framework.partition_aware
            for task in [t for t in framework.unreachable_tasks.values() if t.agent_id == agent_id]:
                state = "TASK_GONE_BY_OPERATOR" if aware else "TASK_LOST"
                reason = "REASON_AGENT_REMOVED_BY_OPERATOR" if aware else "REASON_AGENT_REMOVED"
                status = msg.task_status(
                    task_id=task.task_id,
                    state=state,
                    source="SOURCE_MASTER",
                    timestamp=now,
                    agent_id=agent_id,
                    executor_id=task.executor_id,
                    message="Agent has been marked gone",
                    reason=reason,
                )
                if not is_terminal(task.state):
                    task.state = state
                task.last_status = status
                task.statuses.append({"state": state, "timestamp": now})
                effects += self._send(framework, msg.update(status))
                del framework.unreachable_tasks[task.task_id]
                framework.completed_tasks.append(task)
        self.removed_agents[agent_id] = "gone"
        self.unreachable_agents.pop(agent_id, None)
        return effects

    def _master_update(
        self, framework: Framework, agent: Agent, task: Task, status: JsonDict, now: float
    ) -> None:
        """Apply a master-generated update (``Master::updateTask``) to a task.

        A terminal task keeps its state; a live one takes the new state and its resources
        are recovered.
        """
        if not is_terminal(task.state) and task.state != "TASK_UNREACHABLE":
            self._recover(framework, agent, task.resources)
            task.state = status["state"]
        task.last_status = status
        task.statuses.append({"state": status["state"], "timestamp": now})

    def restart_agent(self, agent_id: str, now: float) -> list[Effect]:
        """Restart an agent (fault injection): tasks of non-checkpointing frameworks are lost.

        The master sees the agent's connection break (``Master::disconnect``) and removes
        every framework without ``checkpoint`` from it (``removeFramework(Slave*,
        Framework*)``): each of their tasks the master holds for the agent gets TASK_LOST
        -- also for PARTITION_AWARE frameworks -- from SOURCE_MASTER with
        REASON_AGENT_DISCONNECTED and ``Agent <hostname> disconnected``; their executors
        and update streams are dropped.  Tasks of checkpointing frameworks survive; their
        executors are expected to resubscribe.

        Returns:
            The effects (updates, and ShutdownFramework for non-checkpointing frameworks).
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            return []
        effects: list[Effect] = []
        doomed = {
            fid for fid, fw in self.frameworks.items() if not fw.info.get("checkpoint", False)
        }
        for (framework_id, _task_id), task in list(agent.tasks.items()):
            if framework_id not in doomed:
                continue
            framework = self.frameworks[framework_id]
            status = msg.task_status(
                task_id=task.task_id,
                state="TASK_LOST",
                source="SOURCE_MASTER",
                timestamp=now,
                agent_id=agent_id,
                executor_id=task.executor_id,
                message=f"Agent {agent.hostname} disconnected",
                reason="REASON_AGENT_DISCONNECTED",
            )
            self._master_update(framework, agent, task, status, now)
            effects += self._send(framework, msg.update(status))
            self._remove_task(task)
        for framework_id in doomed:
            executors = agent.executors.pop(framework_id, {})
            for executor in executors.values():
                self._recover(self.frameworks.get(framework_id), agent, executor.resources)
            if executors and not agent.simulated:
                effects.append(ShutdownFramework(agent_id, framework_id))
        return effects

    # -- time ---------------------------------------------------------------------------

    def tick(self, now: float) -> list[Effect]:
        """Do everything that is due at ``now``.

        Heartbeats, failover-timeout removals, offer timeouts, delayed acknowledgements,
        status-update resends, simulated task completions, and the allocation round.

        Returns:
            The effects, in that order.
        """
        effects: list[Effect] = []
        for framework in list(self.frameworks.values()):
            if framework.connected and now >= framework.next_heartbeat:
                framework.next_heartbeat = now + self.config.heartbeat_interval
                effects += self._send(framework, msg.heartbeat())
            elif (
                not framework.connected
                and framework.failover_deadline is not None
                and now >= framework.failover_deadline
            ):
                effects += self._remove_framework(framework, now)
        if self.config.offer_timeout is not None:
            for offer_id, offer in list(self.offers.items()):
                if offer.expires is not None and now >= offer.expires:
                    effects += self._remove_offer(offer_id, rescind=True)
        while self._delayed_acks and self._delayed_acks[0][0] <= now:
            _, _, framework_id, agent_id, task_id, uuid = heapq.heappop(self._delayed_acks)
            effects += self._acknowledge(framework_id, agent_id, task_id, uuid, now=now)
        while self._retries and self._retries[0][0] <= now:
            _, _, agent_id, framework_id, task_id = heapq.heappop(self._retries)
            agent = self.agents.get(agent_id)
            stream = agent.streams.get((framework_id, task_id)) if agent else None
            if stream is None or not stream.due(now):
                continue
            head = stream.resend(now, self.config.update_retry_max)
            if head is not None:
                self._schedule_retry(stream, agent_id)
                effects += self._forward(framework_id, head)
        effects += self._finish_simulated(now)
        if now >= self._next_allocation:
            effects += self.allocate(now)
        return effects

    def next_deadline(self) -> float:
        """Return the earliest time at which :meth:`tick` has something to do."""
        times = [self._next_allocation]
        for framework in self.frameworks.values():
            if framework.connected:
                times.append(framework.next_heartbeat)
            elif framework.failover_deadline is not None:
                times.append(framework.failover_deadline)
        if self.config.offer_timeout is not None:
            times += [o.expires for o in self.offers.values() if o.expires is not None]
        for heap in (self._retries, self._finishes, self._delayed_acks):
            if heap:
                times.append(heap[0][0])
        return min(times)

    # -- views --------------------------------------------------------------------------

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
