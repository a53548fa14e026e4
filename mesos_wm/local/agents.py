"""Agents leaving: removal (unreachable, gone, unregistered) and restart, as the master sees them.

The fault API drives these; each follows the Mesos master: ``markUnreachable``,
``markGone`` and ``removeSlave`` send every task the master holds for the agent an update
from SOURCE_MASTER (no uuid), then rescind its offers and send FAILURE for the agent;
an agent's restart (``Master::disconnect``) loses the tasks of frameworks without
``checkpoint`` as TASK_LOST with REASON_AGENT_DISCONNECTED.
"""

from __future__ import annotations

from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local.effects import Effect, ShutdownFramework
from mesos_wm.local.statuses import StatusState
from mesos_wm.wire.states import is_terminal

__all__ = ["AgentState"]

JsonDict = dict[str, Any]


class AgentState(StatusState):
    """The agent-removal layer of the master core (see the module docstring)."""

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
