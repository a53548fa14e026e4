"""The embedded Mesos master as a pure state machine.

Theory of operation: :class:`MasterState` holds every framework, agent, offer, task and
status-update stream.  Its methods are the master's inputs -- a scheduler subscription
(:meth:`MasterState.subscribe`), any other scheduler call (:meth:`MasterState.call`), a
stream closing, an agent joining, an executor's status update, subscription or exit, and
the passing of time (:meth:`MasterState.tick`) -- and each returns the
:mod:`~mesos_wm.local.effects` the I/O shell must carry out: events to write to a stream,
streams to close, tasks to start or kill on an agent.  Time is always an argument and
randomness an injected ``random.Random``, so every protocol rule is tested without
sockets or sleeps.

The rules are Mesos's (``src/master/master.cpp``, ``validation.cpp``,
``src/slave/slave.cpp``, ``src/slave/task_status_update_manager.cpp``).  One class, one
concern per module, each layer building on the ones below it::

    core            CoreState: records, ids, agent registry, resource accounting,
                    events out, operator views
    offers          OfferState: allocation rounds, refuse filters, DECLINE/REVIVE/SUPPRESS
    statuses        StatusState: reliable per-task update streams, ACKNOWLEDGE
    simulation      SimulationState: tasks of simulated agents
    launching       LaunchState: ACCEPT with LAUNCH / LAUNCH_GROUP
    reconciliation  ReconcileState: RECONCILE, KILL
    executors       ExecutorReports: MESSAGE, SHUTDOWN, executor subscription and exit
    frameworks      FrameworkState: SUBSCRIBE, failover, disconnection, removal
    agents          AgentState: agent removal and restart
    state           MasterState: the call dispatch and the clock

Every module is pure: none imports asyncio, aiohttp or any I/O library.
"""

from __future__ import annotations

import heapq
from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local.agents import AgentState
from mesos_wm.local.core import MESOS_VERSION, Reply
from mesos_wm.local.effects import Effect
from mesos_wm.local.executors import ExecutorReports
from mesos_wm.local.frameworks import FrameworkState
from mesos_wm.local.launching import LaunchState
from mesos_wm.local.reconciliation import ReconcileState

__all__ = ["MESOS_VERSION", "MasterState", "Reply"]

JsonDict = dict[str, Any]


class MasterState(FrameworkState, LaunchState, ReconcileState, ExecutorReports, AgentState):
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
