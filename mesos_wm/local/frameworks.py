"""Framework lifecycle: subscription, failover, disconnection, UPDATE_FRAMEWORK, removal.

SUBSCRIBE registers a new framework (id ``<masterId>-<4 digits>``) or resubscribes a
known one: a connected framework's old stream gets ERROR ``Framework failed over``; its
offers are dropped and its pending status updates resent at once.  Changing ``user``,
``principal`` or ``checkpoint`` is an ERROR.  A broken stream disconnects the framework
(calls get 403, offers are dropped) until it resubscribes or ``failover_timeout`` passes;
then, like on TEARDOWN, it is removed: its tasks are marked TASK_KILLED (no update is
sent), its agents shut it down, and it moves to the completed frameworks.
"""

from __future__ import annotations

from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local import validation
from mesos_wm.local.core import Reply
from mesos_wm.local.effects import CloseStream, Effect, SendEvent, ShutdownFramework
from mesos_wm.local.model import Framework
from mesos_wm.local.statuses import StatusState
from mesos_wm.wire.states import is_terminal

__all__ = ["FrameworkState"]

JsonDict = dict[str, Any]


class FrameworkState(StatusState):
    """The framework-lifecycle layer of the master core (see the module docstring)."""

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

    def _call_teardown(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        return Reply(202, effects=self._remove_framework(framework, now))

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
