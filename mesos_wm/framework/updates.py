"""Status updates: commit to the queue, then acknowledge, then act on what changed.

Theory of operation
-------------------
For every UPDATE the framework

1. applies it to the queue (:meth:`~mesos_wm.queue.TaskQueue.apply_statuses`, which
   commits).  Updates that arrived together (the driver hands over every UPDATE already
   read from the stream at once) share one transaction, so a busy framework pays one
   commit for many updates.  If that fails none of them is acknowledged: the agents send
   them again.
   The end of an attempt the framework killed for a timeout is the task's failure, not
   an infrastructure loss, whatever reason Mesos gives: the timeout and Mesos's reason go
   into the message instead;
2. acknowledges it, only now and only if it carries a uuid.  Acknowledgements go out in
   the background (:class:`~mesos_wm.framework.acks.AckSender`, at most
   ``ack_concurrency`` at once) so neither the next batch nor the reading of the event
   stream waits for the master's answers; the order that matters — commit, then
   acknowledge — holds for each update;
3. kills the attempt if the queue says it must not be alive (cancelled task, old attempt,
   unknown task), starts or stops its staging and wall-time clocks, marks the ready set for
   a refresh when dependants were released or a retry was queued, forgets the homes on an
   agent Mesos reports gone, and shuts the workflow's executors down once it settled;
4. tells the user's callbacks.

A reconciliation answer that only repeats the state the queue already holds for an alive
attempt changes nothing and needs no acknowledgement, so it is not applied at all: after
a restart with thousands of running tasks, reconciling them costs a dictionary look-up
each, not a transaction.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from mesos_wm.errors import MesosWmError, QueueError
from mesos_wm.executor.launch import executor_id_for
from mesos_wm.framework.acks import AckSender
from mesos_wm.framework.runtime import Alive, Runtime
from mesos_wm.framework.status import FollowUp, StatusEvent, StatusFields, follow_up, read_status
from mesos_wm.framework.timeouts import Timeout
from mesos_wm.queue.records import StatusOutcome, StatusUpdate

__all__ = ["AGENT_GONE", "StatusCallback", "StatusHandler"]

log = logging.getLogger("mesos_wm.framework")

StatusCallback = Callable[[StatusEvent], Awaitable[None] | None]
"""A user callback: called (and awaited if it returns an awaitable) for every update."""

AGENT_GONE = frozenset({"REASON_AGENT_REMOVED", "REASON_AGENT_REMOVED_BY_OPERATOR",
                        "REASON_AGENT_UNKNOWN", "REASON_AGENT_DISCONNECTED"})
_GONE_STATES = frozenset({"TASK_GONE_BY_OPERATOR", "TASK_UNREACHABLE"})


class StatusHandler:
    """Handles UPDATE events for one framework (see the module docstring).

    Args:
        rt: the framework's runtime state.
        callbacks: the user's status callbacks (the list is read at each update).
    """

    def __init__(self, rt: Runtime, callbacks: list[StatusCallback]) -> None:
        self.rt = rt
        self.callbacks = callbacks
        self.acks = AckSender(rt, rt.config.ack_concurrency)
        rt.ack_backlog = self.acks.__len__

    async def handle(self, status: Mapping[str, Any]) -> None:
        """Commit one ``TaskStatus`` to the queue, acknowledge it, and act on the result."""
        await self.handle_many((status,))

    async def handle_many(self, statuses: Sequence[Mapping[str, Any]]) -> None:
        """Commit ``TaskStatus`` messages that arrived together in one transaction, then
        acknowledge them and act on the results, in order.

        Nothing of the batch is acknowledged unless the whole batch was committed.
        """
        rt = self.rt
        now = rt.clock()
        batch: list[tuple[Mapping[str, Any], StatusFields]] = []
        updates: list[StatusUpdate] = []
        for status in statuses:
            fields = read_status(status)
            rt.stats.updates += 1
            if fields.uuid is None and not fields.terminal:
                alive = rt.alive.get(fields.mesos_task_id)
                if alive is not None and alive.state == fields.state:
                    continue
            message, reason = fields.message, fields.reason
            why = rt.kill_reasons.get(fields.mesos_task_id) if fields.terminal else None
            if why:
                message = "; ".join(x for x in (why, message, reason) if x)
                reason = None
            batch.append((status, fields))
            updates.append(StatusUpdate(fields.mesos_task_id, fields.state, reason, message,
                                        fields.exit_code, fields.agent_id, fields.executor_id,
                                        fields.data))
        if not updates:
            return
        try:
            outcomes = rt.queue.apply_statuses(updates, now=now)
        except QueueError as exc:
            log.error("could not store %d update(s) (not acknowledged; Mesos resends them): %s",
                      len(updates), exc)
            return
        ups: list[FollowUp] = []
        for (status, fields), outcome in zip(batch, outcomes, strict=True):
            up = follow_up(fields, outcome)
            ups.append(up)
            if up.acknowledge:
                self.acks.put(status)
        for (_, fields), outcome, up in zip(batch, outcomes, ups, strict=True):
            if outcome.error is not None:
                log.warning("ignoring an update the queue cannot apply: %s", outcome.error)
            await self._after(fields, outcome, up, now)
            await self._tell(StatusEvent.of(fields, outcome, now))

    async def drain(self) -> None:
        """Wait for the acknowledgements in flight."""
        await self.acks.drain()

    async def _after(self, fields: StatusFields, outcome: StatusOutcome, up: FollowUp,
                     now: float) -> None:
        rt = self.rt
        mid = fields.mesos_task_id
        alive = rt.alive.get(mid)
        if up.attempt_over:
            self.forget(mid)
            if outcome.applied:
                if fields.state == "TASK_FINISHED":
                    rt.stats.finished += 1
                else:
                    rt.stats.failed += 1
                if outcome.retry is not None:
                    rt.stats.retries += 1
        elif outcome.known and outcome.workflow_id and outcome.task_id:
            if alive is None:
                alive = rt.alive[mid] = Alive(outcome.workflow_id, outcome.task_id,
                                              outcome.attempt or 0, fields.agent_id)
            alive.state = fields.state
            if fields.agent_id:
                alive.agent_id = fields.agent_id
            if up.running:
                rt.deadlines.clear(Timeout.STAGING, mid)
                if alive.wall_time > 0:
                    limit = alive.wall_time + rt.config.wall_time_margin
                    rt.deadlines.set(Timeout.WALL_TIME, mid, now + limit, alive.wall_time)
        if fields.agent_id and (fields.reason in AGENT_GONE or fields.state in _GONE_STATES):
            self.agent_gone(fields.agent_id)
        if up.kill:
            await self.kill(mid, fields.agent_id)
        if up.new_work:
            rt.dirty = True
            rt.policy.work_arrived()
            rt.wake.set()
        if outcome.workflow_state is not None and not rt.settled_changed:
            rt.settled_changed = True
            rt.wake.set()
        if up.workflow_settled and outcome.workflow_id:
            await self.shutdown_executors(outcome.workflow_id)

    def forget(self, mesos_task_id: str) -> None:
        """The attempt ended: drop its deadlines, resources and kill bookkeeping."""
        rt = self.rt
        rt.alive.pop(mesos_task_id, None)
        rt.running.remove(mesos_task_id)
        rt.deadlines.clear(Timeout.STAGING, mesos_task_id)
        rt.deadlines.clear(Timeout.WALL_TIME, mesos_task_id)
        rt.kill_reasons.pop(mesos_task_id, None)
        rt.kills_sent.pop(mesos_task_id, None)

    def agent_gone(self, agent_id: str) -> None:
        """Forget the homes on an agent Mesos reports gone; their tasks may go elsewhere."""
        rt = self.rt
        moved = rt.homes.agent_lost(agent_id)
        if moved:
            log.warning("agent %s is gone; %d workflow(s) lose their working directory there",
                        agent_id, len(moved))
            rt.ready.repin(moved)

    async def kill(self, mesos_task_id: str, agent_id: str | None,
                   reason: str | None = None) -> None:
        """KILL an attempt (``reason`` goes into its history when the kill is confirmed)."""
        rt = self.rt
        if reason:
            rt.kill_reasons[mesos_task_id] = reason
        if rt.driver is None or not rt.subscribed:
            return
        alive = rt.alive.get(mesos_task_id)
        agent = agent_id or (alive.agent_id if alive else None)
        rt.kills_sent[mesos_task_id] = rt.clock()
        try:
            await rt.driver.kill(mesos_task_id, agent)
            rt.stats.kills += 1
            rt.stats.calls += 1
        except MesosWmError as exc:
            log.warning("KILL of %s failed (%s); it is sent again later", mesos_task_id, exc)

    async def shutdown_executors(self, workflow_id: str) -> None:
        """The workflow has no more work: shut its executors down."""
        rt = self.rt
        agents = rt.homes.settled(workflow_id)
        if rt.driver is None or not rt.subscribed:
            return
        executor_id = executor_id_for(workflow_id)
        for agent_id in sorted(agents):
            try:
                await rt.driver.shutdown(executor_id, agent_id)
                rt.stats.calls += 1
            except MesosWmError as exc:
                log.info("SHUTDOWN of %s on %s failed: %s", executor_id, agent_id, exc)

    async def _tell(self, event: StatusEvent) -> None:
        for callback in list(self.callbacks):
            try:
                result = callback(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("a status callback raised on %s", event.mesos_task_id)
