"""pymesos's ``MesosExecutorDriver`` on top of the asyncio executor driver.

The executor is built from the ``MESOS_*`` environment when the driver is constructed;
its callbacks run, in event order, on a callback thread while the asyncio
:class:`~mesos_wm.drivers.executor.ExecutorDriver` runs in a background thread.  Unlike
pymesos, status updates are kept until the agent acknowledges them and resent when the
executor resubscribes, and the driver does not SIGKILL its own process group after a
shutdown: the executor program ends when ``run()``/``join()`` returns.
"""

from __future__ import annotations

import logging
from typing import Any

from mesos_wm.compat.pymesos._base import DRIVER_ABORTED, DRIVER_STOPPED, ThreadedDriver, plain
from mesos_wm.compat.pymesos.interface import ExecutorDriver
from mesos_wm.compat.pymesos.utils import decode_data, encode_data
from mesos_wm.drivers.events import Disconnected
from mesos_wm.drivers.executor import ExecutorDriver as AsyncExecutorDriver
from mesos_wm.drivers.executor import ExecutorDriverEvent
from mesos_wm.drivers.executor_env import ExecutorEnvironment
from mesos_wm.errors import NotSubscribed, SubscriptionLost
from mesos_wm.wire.executor_events import (
    Error,
    Kill,
    Launch,
    LaunchGroup,
    Message,
    Shutdown,
    Subscribed,
)

__all__ = ["MesosExecutorDriver"]

logger = logging.getLogger(__name__)


class MesosExecutorDriver(ThreadedDriver, ExecutorDriver):
    """pymesos's executor driver, running the mesos_wm asyncio driver in a thread.

    Args:
        executor: the executor (a :class:`~mesos_wm.compat.pymesos.interface.Executor`).
        use_addict: pass messages to callbacks as ``addict.Dict`` instead of ``dict``.

    Raises:
        ValueError: the ``MESOS_*`` environment is incomplete (not started by an agent).
    """

    def __init__(self, executor: Any, use_addict: bool = False) -> None:
        super().__init__(executor, use_addict, "mesos-wm-executor")
        self.executor = executor
        self.environment = ExecutorEnvironment.from_environ()
        env = self.environment
        self.framework_id = {"value": env.framework_id}
        self.executor_id = {"value": env.executor_id}
        self.grace_shutdown_period = env.shutdown_grace_period
        self.checkpoint = env.checkpoint
        self.framework_info: Any = None
        self.executor_info: Any = None
        self._driver: AsyncExecutorDriver | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self) -> int:
        """Stop the driver.

        Returns:
            DRIVER_STOPPED (or the status the driver already ended with).
        """
        if self._end(DRIVER_STOPPED):
            self._run(self._stop_async(graceful=True))
        return self._status

    async def _stop_async(self, graceful: bool) -> None:
        if self._driver is not None:
            await self._driver.stop()

    async def _create(self) -> AsyncExecutorDriver:
        self._driver = AsyncExecutorDriver(self._on_event, environment=self.environment)
        return self._driver

    def _expected_end(self, error: BaseException) -> bool:
        return isinstance(error, SubscriptionLost) and self._error_reported

    # -- calls ----------------------------------------------------------------------------

    def sendStatusUpdate(self, status: Any) -> None:
        """Send a task status update; ``uuid``, ``source`` and ``timestamp`` are filled in.

        The update is kept until the agent acknowledges it, and resent on resubscription.

        Raises:
            NotSubscribed: the driver is stopped (or disconnected without checkpointing).
            LocalProtocolError: TASK_STAGING or a bad uuid.
            MasterRejected: the agent refused the update.
        """
        self._run(self._require_driver().update(plain(status)))

    def sendFrameworkMessage(self, data: Any) -> None:
        """Send bytes (base64 text, see ``encode_data``) to the scheduler.

        Raises:
            NotSubscribed: not subscribed to the agent now.
        """
        self._run(self._require_driver().message(decode_data(data)))

    def _require_driver(self) -> AsyncExecutorDriver:
        if self._driver is None:
            raise NotSubscribed("the driver was not started")
        return self._driver

    # -- events -----------------------------------------------------------------------------

    async def _on_event(self, event: ExecutorDriverEvent) -> None:
        wrap = self._dict_cls
        if isinstance(event, Subscribed):
            if self.executor_info is None:
                self.executor_info = wrap(event.executor_info)
                self.framework_info = wrap(event.framework_info)
                await self._callback(
                    "registered",
                    wrap(event.executor_info),
                    wrap(event.framework_info),
                    wrap(event.agent_info),
                )
            else:
                await self._callback("reregistered", wrap(event.agent_info))
        elif isinstance(event, Launch):
            await self._callback("launchTask", wrap(event.task))
        elif isinstance(event, LaunchGroup):
            tasks = [wrap(task) for task in event.task_group.get("tasks", [])]
            await self._callback("launchTaskGroup", tasks)
        elif isinstance(event, Kill):
            await self._callback("killTask", wrap({"value": event.task_id}))
        elif isinstance(event, Message):
            await self._callback("frameworkMessage", encode_data(event.data))
        elif isinstance(event, Shutdown):
            await self._callback("shutdown")
            await self._end_in_loop(DRIVER_STOPPED, graceful=True)
        elif isinstance(event, Error):
            self._error_reported = True
            await self._callback("error", event.message)
            await self._end_in_loop(DRIVER_ABORTED, graceful=False)
        elif isinstance(event, Disconnected):
            await self._callback("disconnected")
            if not self.environment.checkpoint:
                self._error_reported = True
                await self._callback("shutdown")
                await self._end_in_loop(DRIVER_ABORTED, graceful=False)
