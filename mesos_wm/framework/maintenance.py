"""What the framework does on SUBSCRIBED and on its timer.

* **After every (re)subscription**: store the framework id in the queue, rebuild the
  in-memory view of alive attempts from the queue, reconcile every one of them explicitly,
  and re-send the kills of attempts whose task was cancelled.  The RECONCILE calls go out
  in the background, so the offers that follow SUBSCRIBED are used meanwhile (an attempt
  being reconciled is not ready, so nothing can be launched twice).
* **On the timer** (:meth:`Maintenance.tick`): pick up work other processes submitted,
  cancelled or retried; queue retries whose backoff passed; enforce offer-wait, staging
  and wall-time limits; SUPPRESS or REVIVE offers as the policy says; reconcile
  periodically; re-send kills Mesos has not confirmed; and, while someone waits for it
  (:meth:`~mesos_wm.framework.Framework.run_until_idle`), notice when no workflow is left
  unsettled — asking the queue only when nothing is waiting or running in memory.
* **Homes** of workflows not seen in this process: only workflows that were executing
  when the process started can have one (the agent of their latest attempt, looked up in
  the queue on first need); all others have none until this process launches a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from mesos_wm.errors import MesosWmError, QueueError
from mesos_wm.framework.launch import LaunchBuilder
from mesos_wm.framework.offers import OfferCycle
from mesos_wm.framework.policy import OfferAction
from mesos_wm.framework.runtime import Alive, Runtime
from mesos_wm.framework.timeouts import Timeout, describe
from mesos_wm.framework.updates import StatusHandler
from mesos_wm.queue.records import ActiveAttempt, ChangeResult
from mesos_wm.queue.states import WorkflowState

__all__ = ["Maintenance"]

log = logging.getLogger("mesos_wm.framework")

_UNSETTLED = ("CREATED", "SCHEDULED", "EXECUTING", "CANCELING")
_FRESH = ("CREATED", "SCHEDULED")
_BUSY = ("EXECUTING", "CANCELING")
_SETTLED = frozenset({WorkflowState.COMPLETED, WorkflowState.FAILED, WorkflowState.CANCELED})
_NO_LIMIT = 1_000_000_000
_IDLE_CHECK_INTERVAL = 0.05


class Maintenance:
    """Subscription handling and the timer's duties (see the module docstring).

    Args:
        rt: the framework's runtime state.
        offers: the offer cycle (ready set sync, giving up tasks, reconciling launches).
        updates: the status handler (kills, executor shutdown).
    """

    def __init__(self, rt: Runtime, offers: OfferCycle, updates: StatusHandler) -> None:
        self.rt = rt
        self.offers = offers
        self.updates = updates
        self.idle_event = asyncio.Event()
        self.last_refresh = -math.inf
        self.last_kill_poll = -math.inf
        self.last_idle_check = -math.inf
        self.unknown_homes: set[str] = set()
        self.idle_waiters = 0
        self._after_subscribe: asyncio.Task[None] | None = None

    # -- homes -------------------------------------------------------------------------------

    def learn_busy_workflows(self) -> None:
        """Note the workflows that may have a home this process does not know: those that
        launched something and have not settled (one query, at start).  Any other
        workflow has no home until this process launches one of its tasks."""
        busy = self.rt.queue.list_workflows(state=list(_BUSY), limit=_NO_LIMIT)
        self.unknown_homes = {w.workflow_id for w in busy}

    def home_of(self, workflow_id: str) -> str | None:
        """The agent a workflow's tasks must go to, looked up in the queue when unknown."""
        homes = self.rt.homes
        if homes.known(workflow_id):
            return homes.get(workflow_id)
        if workflow_id not in self.unknown_homes:
            homes.learn(workflow_id, None)
            return None
        self.unknown_homes.discard(workflow_id)
        home = None
        try:
            record = self.rt.queue.get_workflow(workflow_id, tasks=False)
            if record.state.value not in _FRESH:
                record = self.rt.queue.get_workflow(workflow_id)
                latest = max((a for t in record.tasks for a in t.attempts if a.agent_id),
                             key=lambda a: a.launched_at, default=None)
                home = latest.agent_id if latest is not None else None
        except QueueError as exc:
            log.info("could not look up the home of workflow %s: %s", workflow_id, exc)
        homes.learn(workflow_id, home)
        if home is not None:
            homes.executor_started(workflow_id, home)
        return home

    # -- subscription ------------------------------------------------------------------------

    async def subscribed(self, framework_id: str) -> None:
        """Handle SUBSCRIBED: store the id, reconcile every alive attempt."""
        rt = self.rt
        now = rt.clock()
        rt.subscribed = True
        rt.stats.subscriptions += 1
        if rt.queue.get_framework_id() != framework_id:
            rt.queue.set_framework_id(framework_id)
        if rt.builder is None or rt.builder.framework_id != framework_id:
            rt.builder = LaunchBuilder(rt.config, framework_id)
        rt.policy.subscribed(now)
        attempts = rt.queue.active_attempts()
        self._remember(attempts)
        rt.reconciler.done(now)
        rt.stats.reconciles += 1
        log.info("subscribed as %s; reconciling %d alive attempt(s)", framework_id,
                 len(attempts))
        if self._after_subscribe is not None:
            self._after_subscribe.cancel()
        self._after_subscribe = asyncio.get_running_loop().create_task(
            self._reconcile_all(attempts, now))
        rt.wake.set()

    async def wait_reconciled(self) -> None:
        """Wait until the reconciliation started by the last SUBSCRIBED has been sent."""
        if self._after_subscribe is not None:
            await asyncio.shield(self._after_subscribe)

    async def close(self) -> None:
        """Cancel a reconciliation still being sent (the framework is stopping)."""
        task, self._after_subscribe = self._after_subscribe, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _reconcile_all(self, attempts: list[ActiveAttempt], now: float) -> None:
        """Reconcile every alive attempt and re-send wanted kills, without holding up the
        events that follow SUBSCRIBED (the first offers are used meanwhile)."""
        for batch in self.rt.reconciler.plan(attempts, now, everything=True):
            await self._reconcile(batch)
        await self._kill_requested(attempts, now, force=True)

    def _remember(self, attempts: list[ActiveAttempt]) -> None:
        rt = self.rt
        for a in attempts:
            if a.mesos_task_id not in rt.alive:
                rt.alive[a.mesos_task_id] = Alive(a.workflow_id, a.task_id, a.attempt,
                                                  a.agent_id, state=a.state)
            if a.agent_id and not rt.homes.known(a.workflow_id):
                rt.homes.learn(a.workflow_id, a.agent_id)
            if a.agent_id:
                rt.homes.executor_started(a.workflow_id, a.agent_id)

    async def _reconcile(self, batch: list[tuple[str, str | None]]) -> None:
        rt = self.rt
        if rt.driver is None or not rt.subscribed:
            return
        try:
            await rt.driver.reconcile(batch)
            rt.stats.calls += 1
        except MesosWmError as exc:
            log.warning("RECONCILE failed (%s); it is repeated later", exc)

    async def _kill_requested(self, attempts: list[ActiveAttempt], now: float, *,
                              force: bool = False) -> None:
        rt = self.rt
        for a in attempts:
            if not a.kill_requested:
                continue
            sent = rt.kills_sent.get(a.mesos_task_id)
            if force or sent is None or now - sent >= rt.config.kill_retry_interval:
                await self.updates.kill(a.mesos_task_id, a.agent_id, "cancelled")

    # -- the timer ---------------------------------------------------------------------------

    async def tick(self) -> None:
        """Do every duty that is due (see the module docstring)."""
        rt = self.rt
        now = rt.clock()
        if now - self.last_refresh >= rt.config.refresh_interval:
            self.last_refresh = now
            if rt.queue.refresh():
                rt.dirty = True
            rt.settled_changed = True
        self.offers.sync(now)
        for kind, ident, limit in rt.deadlines.pop_due(now):
            if kind is Timeout.OFFER_WAIT:
                assert isinstance(ident, int)
                self.offers.offer_wait_expired(ident, limit, now)
            else:
                assert isinstance(ident, str)
                log.warning("%s: %s; killing it", ident, describe(kind, limit))
                await self.updates.kill(ident, None, describe(kind, limit))
        if rt.subscribed:
            await self._offer_stream(now)
            if rt.reconciler.due(now):
                await self._periodic_reconcile(now)
            if now - self.last_kill_poll >= rt.config.kill_retry_interval:
                self.last_kill_poll = now
                await self._kill_requested(rt.queue.active_attempts(), now)
        if rt.settled_changed and now - self.last_idle_check >= _IDLE_CHECK_INTERVAL:
            rt.settled_changed = False
            self.last_idle_check = now
            self._check_idle()

    async def _offer_stream(self, now: float) -> None:
        rt = self.rt
        assert rt.driver is not None
        action = rt.policy.decide(now, len(rt.ready))
        try:
            if action is OfferAction.REVIVE:
                await rt.driver.revive(rt.config.roles)
                rt.policy.revived_now(now)
                rt.stats.revives += 1
                rt.stats.calls += 1
                log.debug("REVIVE: %d task(s) waiting", len(rt.ready))
            elif action is OfferAction.SUPPRESS:
                await rt.driver.suppress(rt.config.roles)
                rt.policy.suppressed_now()
                rt.stats.suppresses += 1
                rt.stats.calls += 1
                log.debug("SUPPRESS: nothing waiting")
        except MesosWmError as exc:
            log.info("%s failed: %s", action.value.upper(), exc)
            if action is OfferAction.REVIVE:
                rt.policy.revive_failed(now)

    async def _periodic_reconcile(self, now: float) -> None:
        rt = self.rt
        assert rt.driver is not None
        attempts = rt.queue.active_attempts()
        for batch in rt.reconciler.plan(attempts, now, launched_at=rt.launched_at()):
            await self._reconcile(batch)
        await self._reconcile([])
        rt.reconciler.done(now)
        rt.stats.reconciles += 1

    def _check_idle(self) -> None:
        rt = self.rt
        if not self.idle_waiters:
            return
        if len(rt.ready) or rt.alive or rt.ready.syncing or rt.dirty:
            self.idle_event.clear()
            return
        if rt.queue.list_workflows(state=list(_UNSETTLED), limit=1):
            self.idle_event.clear()
        else:
            self.idle_event.set()

    def next_delay(self) -> float:
        """Seconds until the timer has something to do (at most ``refresh_interval``).

        The duties that need a subscription (REVIVE/SUPPRESS, reconciling, re-sending
        kills) count only while subscribed: their deadlines pass unmet while the driver
        (re)subscribes, and counting them would make the timer run again at once, over
        and over.  SUBSCRIBED wakes the timer.
        """
        rt = self.rt
        now = rt.clock()
        cfg = rt.config
        times = [self.last_refresh + cfg.refresh_interval]
        if rt.subscribed:
            times += [rt.reconciler.next_deadline(),
                      self.last_kill_poll + cfg.kill_retry_interval]
            revive = rt.policy.next_deadline(now)
            if revive is not None:
                times.append(revive)
        if rt.settled_changed:
            times.append(self.last_idle_check + _IDLE_CHECK_INTERVAL)
        for t in (rt.deadlines.next_deadline(), rt.queue.next_wakeup()):
            if t is not None:
                times.append(t)
        return max(0.0, min(min(times) - now, cfg.refresh_interval))

    async def after_user_change(self, result: ChangeResult, *, retried: bool = False) -> None:
        """After a cancel or retry through the framework: refresh and wake up.

        A retried workflow whose executors were shut down (it had settled) has no home any
        more: its tasks may start afresh anywhere.
        """
        rt = self.rt
        if retried and not rt.homes.known(result.workflow_id):
            rt.homes.learn(result.workflow_id, None)
        rt.dirty = True
        rt.settled_changed = True
        if result.workflow_state in _SETTLED:
            await self.updates.shutdown_executors(result.workflow_id)
        rt.policy.work_arrived()
        rt.wake.set()
