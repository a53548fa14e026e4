"""RECONCILE and KILL, answered as ``Master::reconcile`` and ``Master::kill`` answer them.

A task the master holds is answered with the state of the latest update forwarded to the
framework; any other task by its agent: TASK_GONE (registered), TASK_UNREACHABLE with the
agent's ``unreachable_time`` (unreachable), TASK_GONE_BY_OPERATOR (gone), TASK_UNKNOWN
(unknown or not given) -- TASK_LOST for frameworks without PARTITION_AWARE -- all from
SOURCE_MASTER with REASON_RECONCILIATION and no uuid.  Implicit reconciliation answers
every task the master holds.  KILL of an unknown task is answered by reconciliation; a
KILL naming another agent is ignored.
"""

from __future__ import annotations

from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local.core import Reply
from mesos_wm.local.effects import Effect, KillTask
from mesos_wm.local.model import Framework
from mesos_wm.local.simulation import SimulationState
from mesos_wm.wire.states import is_terminal

__all__ = ["ReconcileState"]

JsonDict = dict[str, Any]


class ReconcileState(SimulationState):
    """The reconciliation and kill layer of the master core (see the module docstring)."""

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
