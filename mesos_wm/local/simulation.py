"""Simulated agents: tasks that run inside the master core, without processes.

A task launched on a simulated agent reports TASK_RUNNING at once (from SOURCE_EXECUTOR,
through the normal update stream) and finishes after the agent's ``task_duration``.  Per
task, the label ``mesos_wm.local/duration`` (seconds, or ``inf``) overrides the duration
and ``mesos_wm.local/state`` the terminal state (TASK_FINISHED, TASK_FAILED, TASK_KILLED
or TASK_ERROR).  :meth:`SimulationState.finish_simulated_tasks` ends them all at once.
"""

from __future__ import annotations

import heapq
from typing import Any

from mesos_wm.ids import encode_uuid, new_uuid
from mesos_wm.local import messages as msg
from mesos_wm.local.effects import Effect
from mesos_wm.local.model import Agent, Framework, Task
from mesos_wm.local.statuses import StatusState
from mesos_wm.wire.states import is_terminal

__all__ = ["DURATION_LABEL", "STATE_LABEL", "SimulationState"]

JsonDict = dict[str, Any]

DURATION_LABEL = "mesos_wm.local/duration"
STATE_LABEL = "mesos_wm.local/state"


class SimulationState(StatusState):
    """The simulated-agent layer of the master core (see the module docstring)."""

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
