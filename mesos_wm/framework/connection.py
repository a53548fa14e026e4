"""The framework's connection to Mesos: which master, the FrameworkInfo, the driver's life.

:class:`Connection` resolves the master (starting an embedded one for ``"local"``), builds
the ``FrameworkInfo`` from the configuration and the framework id stored in the queue
(checkpointing, failover timeout, roles, capabilities), and runs the scheduler driver.
The driver resubscribes by itself after drops; the connection handles the one case it
cannot: the master answering that it removed the framework (its failover timeout passed,
or it was torn down).  Then the stored id is forgotten and the framework registers anew;
its old attempts are reconciled as lost and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from mesos_wm.drivers.detector import MasterDetector
from mesos_wm.drivers.scheduler import EventHandler, SchedulerDriver
from mesos_wm.errors import MesosWmError, SubscriptionLost
from mesos_wm.framework.runtime import Runtime
from mesos_wm.wire import scheduler_calls

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["Connection"]

log = logging.getLogger("mesos_wm.framework")

_REMOVED = ("has been removed", "torn down")


class Connection:
    """Runs the scheduler driver for one framework (see the module docstring).

    Args:
        rt: the framework's runtime state (``rt.driver`` is set here).
        master: ``"local"``, a URL, a :class:`~mesos_wm.local.LocalMaster` or a detector.
        handler: receives every driver event.
    """

    def __init__(self, rt: Runtime, master: str | MasterDetector | LocalMaster,
                 handler: EventHandler) -> None:
        self.rt = rt
        self.master = master
        self.handler = handler
        self.local: LocalMaster | None = None
        self.failure: BaseException | None = None
        self.stopped = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Resolve the master, create the driver and start it in the background.

        Raises:
            OSError: the embedded master could not bind its port.
        """
        target = await self._resolve()
        self._new_driver(target)
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(target), name="mesos-wm-framework-supervisor")

    async def _resolve(self) -> str | MasterDetector:
        master = self.master
        if isinstance(master, str) and master == "local":
            from mesos_wm.local import LocalMaster, MasterConfig

            self.local = LocalMaster(agents=2, config=MasterConfig(allocation_interval=0.25))
            await self.local.start()
            return self.local.url
        if isinstance(master, (str, MasterDetector)):
            return master
        if not master.port:
            await master.start()
            self.local = master
        return master.url

    def _new_driver(self, master: str | MasterDetector) -> None:
        cfg = self.rt.config
        info = scheduler_calls.framework_info(
            user=cfg.user, name=cfg.name, roles=cfg.roles,
            failover_timeout=cfg.failover_timeout, checkpoint=cfg.checkpoint,
            principal=cfg.principal, capabilities=cfg.capabilities, hostname=cfg.hostname,
            webui_url=cfg.webui_url, labels=dict(cfg.labels) or None,
            framework_id=self.rt.queue.get_framework_id(),
        )
        self.rt.driver = SchedulerDriver(
            master, info, self.handler, principal=cfg.principal, secret=cfg.secret,
            ca_file=cfg.ca_file, subscribe_timeout=cfg.subscribe_timeout,
            give_up_after=cfg.give_up_after, batch_updates=True,
        )

    async def _supervise(self, master: str | MasterDetector) -> None:
        """Run the driver until it stops; what stopped it is kept in :attr:`failure` (and
        raised by :meth:`raise_failure`), never left in the task for nobody to retrieve."""
        rt = self.rt
        renewed = False
        try:
            while True:
                driver = rt.driver
                assert driver is not None
                await driver.start()
                try:
                    await driver.join()
                    return
                except SubscriptionLost as exc:
                    gone = any(text in str(exc) for text in _REMOVED)
                    if not gone or renewed or not isinstance(master, str):
                        raise
                    renewed = True
                    log.warning("the master removed framework %s (%s); registering anew; "
                                "its attempts are reconciled as lost and retried",
                                driver.framework_id, exc)
                    rt.queue.set_framework_id(None)
                    self._new_driver(master)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failure = exc
            log.warning("the scheduler driver stopped: %s: %s", type(exc).__name__, exc)
        except BaseException as exc:
            self.failure = exc
            raise
        finally:
            rt.subscribed = False
            self.stopped.set()
            rt.settled_changed = True
            rt.wake.set()

    def raise_failure(self) -> None:
        """Raise what stopped the driver, if anything did."""
        if self.failure is not None:
            raise self.failure

    async def wait_subscribed(self) -> None:
        """Wait until subscribed.

        Raises:
            MesosWmError: the driver stopped with this error first.
            SubscriptionLost: it stopped without one.
        """
        rt = self.rt
        while not rt.subscribed:
            if self.stopped.is_set():
                self.raise_failure()
                raise SubscriptionLost("the framework stopped before subscribing")
            driver = rt.driver
            assert driver is not None
            waiter = asyncio.ensure_future(driver.wait_subscribed())
            stopped = asyncio.ensure_future(self.stopped.wait())
            try:
                await asyncio.wait([waiter, stopped], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pending in (waiter, stopped):
                    pending.cancel()
                with contextlib.suppress(BaseException):
                    await waiter
            await asyncio.sleep(0)

    async def close(self, *, teardown: bool = False) -> None:
        """Stop the driver (TEARDOWN first if asked and subscribed; the stored id is then
        forgotten) and the embedded master this connection started."""
        rt = self.rt
        driver = rt.driver
        if driver is not None:
            try:
                torn_down = teardown and rt.subscribed
                await driver.stop(teardown=torn_down)
                if torn_down:
                    rt.queue.set_framework_id(None)
            except MesosWmError as exc:
                log.warning("stopping the driver: %s", exc)
        if self._supervisor is not None:
            with contextlib.suppress(BaseException):
                await self._supervisor
            self._supervisor = None
        if self.local is not None:
            await self.local.stop()
            self.local = None
        rt.subscribed = False
        self.stopped.set()
