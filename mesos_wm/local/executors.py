"""Executors on agents: MESSAGE and SHUTDOWN calls, and what agents report about executors.

The agent runtime tells the core when an executor (re)subscribes
(:meth:`ExecutorReports.executor_subscribed`: delivered tasks it does not know become
TASK_DROPPED / TASK_LOST), when one ends (:meth:`ExecutorReports.executor_terminated`:
its unfinished tasks become TASK_FAILED, or the state :data:`TERMINATION_STATES` gives
for the agent's reason, and the framework gets FAILURE) and when one sends a MESSAGE.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mesos_wm.ids import encode_uuid, new_uuid
from mesos_wm.local import messages as msg
from mesos_wm.local.core import Reply
from mesos_wm.local.effects import Effect, SendExecutorMessage, ShutdownExecutor
from mesos_wm.local.model import Framework
from mesos_wm.local.simulation import SimulationState
from mesos_wm.wire.states import is_terminal

__all__ = ["TERMINATION_STATES", "ExecutorReports"]

JsonDict = dict[str, Any]

TERMINATION_STATES = {
    "REASON_EXECUTOR_REREGISTRATION_TIMEOUT": "TASK_GONE",
    "REASON_CONTAINER_UPDATE_FAILED": "TASK_GONE",
    "REASON_CONTAINER_PREEMPTED": "TASK_GONE",
}
"""State of the agent's updates when it destroyed an executor's container for a reason
(``ContainerTermination.state`` in slave.cpp): TASK_GONE (TASK_LOST without
PARTITION_AWARE) when the task was started but the agent ended it; TASK_FAILED otherwise."""


class ExecutorReports(SimulationState):
    """The executor layer of the master core (see the module docstring)."""

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
            effects += self._agent_update(
                agent_id,
                framework_id,
                executor_id,
                task_id,
                state=state,
                message=message,
                reason=reason,
                now=now,
            )
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
            effects += self._agent_update(
                agent_id,
                framework_id,
                executor_id,
                task_id,
                state=state,
                message="Task launched during agent restart",
                reason="REASON_AGENT_RESTARTED",
                now=now,
            )
        return effects

    def _agent_update(
        self,
        agent_id: str,
        framework_id: str,
        executor_id: str,
        task_id: str,
        *,
        state: str,
        message: str | None,
        reason: str | None,
        now: float,
    ) -> list[Effect]:
        """A reliable update the agent itself (SOURCE_AGENT) sends for an executor's task."""
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
        return self.executor_update(agent_id, framework_id, status, now)

    def executor_message(
        self, agent_id: str, framework_id: str, executor_id: str, data: str
    ) -> list[Effect]:
        """Forward an executor's MESSAGE to its framework."""
        framework = self.frameworks.get(framework_id)
        if framework is None or agent_id not in self.agents:
            return []
        return self._send(framework, msg.message(agent_id, executor_id, data))
