"""ACCEPT with LAUNCH and LAUNCH_GROUP, checked as ``Master::accept`` checks them.

The offers must exist, belong to the framework, be distinct and on one agent; otherwise
every task of the call gets TASK_LOST (TASK_DROPPED when PARTITION_AWARE) with
REASON_INVALID_OFFERS and no uuid.  Then each operation in order: every task is validated
like ``validation.cpp`` against what is left of the offers (TASK_ERROR with
REASON_TASK_INVALID, or REASON_TASK_GROUP_INVALID for every task of an invalid group); a
valid task is added (STAGING) and started on its agent -- a :class:`LaunchTasks` effect
for a real agent, the simulation for a simulated one.  Unused resources are declined
with the call's filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local import validation
from mesos_wm.local.core import Reply
from mesos_wm.local.effects import Effect, LaunchTasks
from mesos_wm.local.model import Agent, Executor, Framework, Task, empty
from mesos_wm.local.simulation import SimulationState
from mesos_wm.resources import ResourceSet

__all__ = ["LaunchState"]

JsonDict = dict[str, Any]


class LaunchState(SimulationState):
    """The launch layer of the master core (see the module docstring)."""

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
            info, _launch_context(framework, agent, role, existing, offered)
        )
        if error is not None:
            return offered, self._task_error(framework, info, error, now)
        offered = offered - needed
        executor_json = info.get("executor")
        if executor_json is not None and existing is None:
            task_resources = validation.resources_of(
                info["resources"], role, framework.has("MULTI_ROLE")
            )
            own = ResourceSet.from_json(executor_json.get("resources", []))
            existing = Executor(executor_id or "", framework.framework_id, executor_json, own)
            agent.executors.setdefault(framework.framework_id, {})[existing.executor_id] = existing
        else:
            task_resources = needed
        task = self._add_task(
            framework,
            agent,
            role,
            info,
            executor_id=executor_id,
            resources=task_resources or empty(),
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
            executor_json, infos, _launch_context(framework, agent, role, existing, offered)
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


def _launch_context(
    framework: Framework,
    agent: Agent,
    role: str,
    existing: Executor | None,
    offered: ResourceSet,
) -> validation.LaunchContext:
    return validation.LaunchContext(
        framework_id=framework.framework_id,
        agent_id=agent.agent_id,
        role=role,
        multi_role=framework.has("MULTI_ROLE"),
        framework_tasks=framework.tasks,
        existing_executor=existing.info if existing else None,
        offered=offered,
    )
