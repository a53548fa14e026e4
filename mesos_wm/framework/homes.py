"""Where each workflow's executor and working directory live (pure bookkeeping).

A workflow's tasks share one working directory inside its executor's sandbox, so once a
task of the workflow has been launched on an agent, the workflow's later tasks are pinned
to that agent (its **home**).  The framework shuts the executor down when the workflow has
no more work — when it settles — and forgets the home.  When an agent is lost, the homes on
it are forgotten (the working directories went with it) and the retries may go anywhere.

The home of a workflow the framework has not seen in this process is looked up in the
queue (the agent of its latest attempt) by the framework; :class:`Homes` only remembers.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Homes"]


class Homes:
    """workflow id -> home agent id, and the agents where each workflow started executors."""

    def __init__(self) -> None:
        self._home: dict[str, str | None] = {}
        self._by_agent: dict[str, set[str]] = {}
        self._executors: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._home)

    def known(self, workflow_id: str) -> bool:
        """Tell whether the home (or its absence) is known."""
        return workflow_id in self._home

    def get(self, workflow_id: str) -> str | None:
        """The home agent, or None (none yet, or unknown)."""
        return self._home.get(workflow_id)

    def learn(self, workflow_id: str, agent_id: str | None) -> bool:
        """Record a workflow's home (None: it has none yet).

        Returns:
            True when the home changed.
        """
        old = self._home.get(workflow_id)
        if workflow_id in self._home and old == agent_id:
            return False
        if old is not None:
            self._by_agent.get(old, set()).discard(workflow_id)
        self._home[workflow_id] = agent_id
        if agent_id is not None:
            self._by_agent.setdefault(agent_id, set()).add(workflow_id)
        return True

    def executor_started(self, workflow_id: str, agent_id: str) -> None:
        """Note that a task of the workflow went to its executor on ``agent_id``."""
        self._executors.setdefault(workflow_id, set()).add(agent_id)

    def executors(self, workflow_id: str) -> set[str]:
        """The agents where the workflow's executor may run."""
        agents = set(self._executors.get(workflow_id, ()))
        home = self._home.get(workflow_id)
        if home is not None:
            agents.add(home)
        return agents

    def settled(self, workflow_id: str) -> set[str]:
        """The workflow is done: forget it; returns the agents whose executor to shut down."""
        agents = self.executors(workflow_id)
        home = self._home.pop(workflow_id, None)
        if home is not None:
            self._by_agent.get(home, set()).discard(workflow_id)
        self._executors.pop(workflow_id, None)
        return agents

    def agent_lost(self, agent_id: str) -> list[str]:
        """Forget the homes on a lost agent; returns the workflows that lost theirs."""
        lost = sorted(self._by_agent.pop(agent_id, set()))
        for workflow_id in lost:
            self._home[workflow_id] = None
            agents = self._executors.get(workflow_id)
            if agents is not None:
                agents.discard(agent_id)
        return lost

    def forget(self, workflow_ids: Iterable[str]) -> None:
        """Drop what is known about workflows (e.g. to look them up again)."""
        for workflow_id in workflow_ids:
            home = self._home.pop(workflow_id, None)
            if home is not None:
                self._by_agent.get(home, set()).discard(workflow_id)
            self._executors.pop(workflow_id, None)
