"""The :class:`Framework`: the one orchestrator of queue, matcher and scheduler driver.

Theory of operation
-------------------
Everything comes in through the constructor — the queue, the master, the matcher, the
clock, the configuration — and nothing is global but the garbage collector's pace,
raised while it runs (:mod:`~mesos_wm.local.collector`).  Two things drive it:

* **Mesos events**, delivered by the :class:`~mesos_wm.drivers.SchedulerDriver` one at a
  time: SUBSCRIBED (persist the framework id, reconcile every alive attempt), OFFERS
  (:mod:`~mesos_wm.framework.offers`), UPDATE (:mod:`~mesos_wm.framework.updates`),
  RESCIND (nothing is held between events, so nothing to do), FAILURE (an agent lost:
  forget the workflows' homes there), INVERSE_OFFERS (declined);
* **a timer** that picks up work from other processes, promotes retries whose backoff
  passed, enforces offer-wait, staging and wall-time limits, SUPPRESSes or REVIVEs
  offers (:mod:`~mesos_wm.framework.policy`), reconciles periodically, re-sends kills of
  cancelled attempts and notices when every workflow has settled.

Both hold one lock, so their steps never interleave.  State that matters lives in the
queue: launch intents are recorded before ACCEPT, updates committed before ACKNOWLEDGE,
and the framework id is stored, so a process killed at any point resumes where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mesos_wm.drivers.detector import MasterDetector
from mesos_wm.drivers.events import Disconnected, Updates
from mesos_wm.drivers.scheduler import DriverEvent
from mesos_wm.errors import MesosWmError, QueueError, SubscriptionLost
from mesos_wm.framework.config import FrameworkConfig
from mesos_wm.framework.connection import Connection
from mesos_wm.framework.homes import Homes
from mesos_wm.framework.maintenance import Maintenance
from mesos_wm.framework.offers import OfferCycle
from mesos_wm.framework.pending import ReadySet
from mesos_wm.framework.policy import OfferPolicy
from mesos_wm.framework.reconcile import Reconciler
from mesos_wm.framework.runtime import Runtime, Stats
from mesos_wm.framework.updates import StatusCallback, StatusHandler
from mesos_wm.local.collector import CollectorPace
from mesos_wm.matcher import Matcher
from mesos_wm.queue import TaskQueue
from mesos_wm.queue.records import ChangeResult, SubmitResult, WorkflowRecord
from mesos_wm.queue.states import WorkflowState
from mesos_wm.wire.scheduler_events import (
    Failure,
    InverseOffers,
    Offers,
    Subscribed,
    Update,
)

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster
    from mesos_wm.queue.model import Workflow

__all__ = ["Framework"]

log = logging.getLogger("mesos_wm.framework")

UNSETTLED = (WorkflowState.CREATED, WorkflowState.SCHEDULED, WorkflowState.EXECUTING,
             WorkflowState.CANCELING)


class Framework:
    """A Mesos framework that drives the workflows of a queue to completion.

    Use it as an async context manager (or :meth:`start` / :meth:`stop`)::

        queue = TaskQueue.open("sqlite:///./queue.db")
        async with Framework(queue=queue, master="http://127.0.0.1:5050") as framework:
            framework.submit(load_file("exp.yaml"))
            completed = await framework.run_until_idle()

    Args:
        queue: the queue to serve (the framework does not close it).
        master: ``"local"`` (start an embedded master with two agents for the framework's
            lifetime, allocating every 0.25 s), an
            ``http(s)://host:port`` or ``zk://...`` URL, a
            :class:`~mesos_wm.local.LocalMaster` (started now and stopped with the framework
            if it is not running yet), or a
            :class:`~mesos_wm.drivers.MasterDetector`.
        matcher: the offer matcher (default: bin packing over the configured roles).
        clock: wall-clock seconds (default :func:`time.time`); every decision reads it.
        config: the framework's settings.
        on_status: called with a :class:`~mesos_wm.framework.StatusEvent` after each
            update is committed (more with :meth:`add_status_callback`).

    Raises:
        ValueError: a master URL that cannot be parsed.
    """

    def __init__(
        self,
        *,
        queue: TaskQueue,
        master: str | MasterDetector | LocalMaster = "local",
        matcher: Matcher | None = None,
        clock: Callable[[], float] | None = None,
        config: FrameworkConfig | None = None,
        on_status: StatusCallback | None = None,
    ) -> None:
        self.config = config or FrameworkConfig()
        clock = clock or time.time
        if isinstance(master, str) and master != "local":
            from mesos_wm.drivers.master import parse_master

            parse_master(master)
        homes = Homes()
        cfg = self.config
        self.rt = Runtime(
            queue=queue, config=cfg, clock=clock,
            matcher=matcher or Matcher(roles=cfg.roles),
            ready=ReadySet(self._home_of), homes=homes,
            policy=OfferPolicy(cfg, clock()),
            reconciler=Reconciler(cfg.reconcile_interval, cfg.reconcile_grace,
                                  cfg.reconcile_batch),
        )
        self._callbacks: list[StatusCallback] = [on_status] if on_status else []
        self.offers = OfferCycle(self.rt)
        self.updates = StatusHandler(self.rt, self._callbacks)
        self.maintenance = Maintenance(self.rt, self.offers, self.updates)
        self.connection = Connection(self.rt, master, self._on_event)
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._started = False
        self._stopping = False
        self._collector = CollectorPace(self.config.gc_threshold)

    # -- properties ------------------------------------------------------------------------

    @property
    def queue(self) -> TaskQueue:
        """The queue this framework serves."""
        return self.rt.queue

    @property
    def framework_id(self) -> str | None:
        """The Mesos framework id (stored in the queue), once known."""
        driver = self.rt.driver
        if driver is not None and driver.framework_id:
            return driver.framework_id
        return self.rt.queue.get_framework_id()

    @property
    def subscribed(self) -> bool:
        """True while subscribed to the master."""
        return self.rt.subscribed

    @property
    def stats(self) -> Stats:
        """Counters of this process's run."""
        return self.rt.stats

    @property
    def master_url(self) -> str | None:
        """The master the driver talks to (once started)."""
        driver = self.rt.driver
        return driver.master_url if driver is not None else None

    @property
    def local_master(self) -> LocalMaster | None:
        """The embedded master the framework started (``master="local"``, or a
        :class:`~mesos_wm.local.LocalMaster` given unstarted); it stops with the framework."""
        return self.connection.local

    def waiting(self) -> int:
        """How many ready tasks wait for an offer."""
        return len(self.rt.ready)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the embedded master if asked for, subscribe, and start the timer.

        Returns at once; :meth:`wait_subscribed` waits for the subscription.

        Raises:
            RuntimeError: already started.
            OSError: the embedded master could not bind its port.
        """
        if self._started:
            raise RuntimeError("Framework.start() was already called")
        self._started = True
        self._collector.apply()
        self.rt.queue.add_listener(self._on_ready)
        self.maintenance.learn_busy_workflows()
        await self.connection.open()
        self._timer = asyncio.get_running_loop().create_task(
            self._run_timer(), name="mesos-wm-framework-timer")

    async def wait_subscribed(self, timeout: float | None = None) -> str:
        """Wait for the subscription and return the framework id.

        Raises:
            TimeoutError: not subscribed within ``timeout``.
            MesosWmError: the driver stopped with this error (unreachable master,
                authentication failure, ...).
        """
        async with asyncio.timeout(timeout):
            await self.connection.wait_subscribed()
        return self.framework_id or ""

    async def run_until_idle(self, workflow_ids: Sequence[str] | None = None) -> bool:
        """Run until every workflow of the queue has settled (completed, failed or
        cancelled); start the framework first if needed.

        Args:
            workflow_ids: the workflows whose outcome the result reports (default: all
                workflows in the queue).

        Returns:
            True if every one of them COMPLETED.

        Raises:
            MesosWmError: the framework stopped with this error first.
        """
        if not self._started:
            await self.start()
        maintenance = self.maintenance
        maintenance.idle_waiters += 1
        self.rt.settled_changed = True
        self.rt.wake.set()
        try:
            while not maintenance.idle_event.is_set():
                if self.connection.stopped.is_set():
                    self.connection.raise_failure()
                    raise SubscriptionLost("the framework stopped before the queue was idle")
                idle = asyncio.ensure_future(maintenance.idle_event.wait())
                stopped = asyncio.ensure_future(self.connection.stopped.wait())
                try:
                    await asyncio.wait([idle, stopped], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    idle.cancel()
                    stopped.cancel()
        finally:
            maintenance.idle_waiters -= 1
        return self.all_completed(workflow_ids)

    def all_completed(self, workflow_ids: Sequence[str] | None = None) -> bool:
        """Tell whether the workflows (default: all in the queue) all COMPLETED."""
        return all(w.state == WorkflowState.COMPLETED for w in self.workflows(workflow_ids))

    def workflows(self, workflow_ids: Sequence[str] | None = None) -> list[WorkflowRecord]:
        """The records (without tasks) of the given workflows, or of all in the queue."""
        queue = self.rt.queue
        if workflow_ids is None:
            return queue.list_workflows(limit=1_000_000_000)
        return [queue.get_workflow(w, tasks=False) for w in dict.fromkeys(workflow_ids)]

    async def join(self) -> None:
        """Wait until the framework stops (after :meth:`stop`, or an error).

        Raises:
            MesosWmError: what stopped it.
        """
        await self.connection.stopped.wait()
        self.connection.raise_failure()

    async def stop(self, *, teardown: bool = False) -> None:
        """Stop: finish ACCEPTs and acknowledgements in flight, stop the driver and the
        timer (and the embedded master this framework started).  The framework stays registered with
        Mesos until its ``failover_timeout``, unless ``teardown`` is set.

        Args:
            teardown: TEARDOWN the framework (Mesos kills all its tasks) and forget its id
                (only while subscribed; otherwise the id is kept).
        """
        self._stopping = True
        self.rt.wake.set()
        if self._timer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        await self.maintenance.close()
        await self.offers.drain()
        await self.updates.drain()
        with contextlib.suppress(ValueError):
            self.rt.queue.remove_listener(self._on_ready)
        await self.connection.close(teardown=teardown)
        self._collector.restore()

    async def __aenter__(self) -> Framework:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- what users do ---------------------------------------------------------------------

    def add_status_callback(self, callback: StatusCallback) -> None:
        """Call ``callback(StatusEvent)`` after every committed status update."""
        self._callbacks.append(callback)

    def remove_status_callback(self, callback: StatusCallback) -> None:
        """Stop calling ``callback``."""
        self._callbacks.remove(callback)

    def submit(self, workflows: Sequence[Workflow]) -> list[SubmitResult]:
        """Submit workflows to the queue (atomically, idempotently) and wake the framework.

        Raises:
            SpecError, DagCycleError, WorkflowConflict, StoreError: as
                :meth:`~mesos_wm.queue.TaskQueue.submit_many`; nothing is submitted.
        """
        results = self.rt.queue.submit_many(list(workflows))
        self.rt.settled_changed = True
        self.rt.wake.set()
        return results

    async def cancel(self, workflow_id: str, task_id: str | None = None) -> ChangeResult:
        """Cancel a workflow or one task: waiting tasks are dropped, running attempts
        killed (they become CANCELED when Mesos confirms the kill).

        Raises:
            WorkflowNotFound, TaskNotFound, StoreError: as
                :meth:`~mesos_wm.queue.TaskQueue.cancel`.
        """
        async with self._lock:
            result = self.rt.queue.cancel(workflow_id, task_id, now=self.rt.clock())
            for kill in result.kills:
                await self.updates.kill(kill.mesos_task_id, kill.agent_id, "cancelled")
            await self.maintenance.after_user_change(result)
        return result

    async def retry(self, workflow_id: str, task_id: str | None = None) -> ChangeResult:
        """Run failed tasks again (see :meth:`~mesos_wm.queue.TaskQueue.retry`).

        Raises:
            InvalidTransition, WorkflowNotFound, TaskNotFound, StoreError: as the queue's.
        """
        async with self._lock:
            result = self.rt.queue.retry(workflow_id, task_id, now=self.rt.clock())
            await self.maintenance.after_user_change(result, retried=True)
        return result

    async def tick(self) -> None:
        """Run every timer that is due now (the timer task does this by itself; tests with
        an injected clock call it after moving the clock)."""
        async with self._lock:
            await self.maintenance.tick()

    # -- events ----------------------------------------------------------------------------

    def _home_of(self, workflow_id: str) -> str | None:
        return self.maintenance.home_of(workflow_id)

    def _on_ready(self, count: int) -> None:
        rt = self.rt
        rt.dirty = True
        rt.policy.work_arrived()
        rt.wake.set()

    async def _on_event(self, event: DriverEvent) -> None:
        async with self._lock:
            try:
                await self._dispatch(event)
            except QueueError as exc:
                log.error("the queue failed while handling %s: %s", type(event).__name__, exc)

    async def _dispatch(self, event: DriverEvent) -> None:
        rt = self.rt
        if isinstance(event, Updates):
            await self.updates.handle_many([u.status for u in event.updates])
        elif isinstance(event, Update):
            await self.updates.handle(event.status)
        elif isinstance(event, Offers):
            if rt.subscribed:
                await self.offers.handle(event.offers)
        elif isinstance(event, Subscribed):
            await self.maintenance.subscribed(event.framework_id)
        elif isinstance(event, Disconnected):
            log.warning("disconnected from the master: %s", event.reason)
            rt.subscribed = False
            rt.wake.set()
        elif isinstance(event, Failure):
            if event.agent_id and not event.executor_id:
                self.updates.agent_gone(event.agent_id)
                rt.wake.set()
            elif event.executor_id:
                log.info("executor %s on %s ended (status %s)", event.executor_id,
                         event.agent_id, event.status)
        elif isinstance(event, InverseOffers):
            ids = [str(o.id.value) for o in event.inverse_offers]
            if ids and rt.driver is not None:
                with contextlib.suppress(MesosWmError):
                    await rt.driver.decline_inverse_offers(ids)

    async def _run_timer(self) -> None:
        """Run the timer's duties until :meth:`stop`, or until the connection stopped for
        good (the driver gave up or was refused): then nothing is left to drive, and the
        reconciliation still being sent is cancelled."""
        rt = self.rt
        stopped = self.connection.stopped
        while not self._stopping and not stopped.is_set():
            rt.wake.clear()
            try:
                async with self._lock:
                    await self.maintenance.tick()
            except QueueError as exc:
                log.error("the queue failed in the framework's timer: %s", exc)
            except Exception:
                log.exception("the framework's timer failed; it carries on")
            if rt.ready.syncing:
                await asyncio.sleep(0.001)
                continue
            try:
                delay = self.maintenance.next_delay()
            except QueueError as exc:
                log.error("the queue failed in the framework's timer: %s", exc)
                delay = rt.config.refresh_interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await rt.wake.wait()
        if not self._stopping:
            await self.maintenance.close()
