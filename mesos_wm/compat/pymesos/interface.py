"""pymesos's callback interfaces: subclass :class:`Scheduler` / :class:`Executor`.

The method names and arguments are pymesos's (``pymesos/interface.py``), including its
Mesos-0.x vocabulary (``slaveLost``, ``slaveInfo``).  Messages arrive as ``dict`` (or
``addict.Dict`` with ``use_addict=True``) with the Mesos v1 JSON field names; ids are
``{"value": ...}`` dicts and ``data`` fields are base64 text (see
:func:`~mesos_wm.compat.pymesos.utils.decode_data`).  Callbacks run one at a time, in
event order, on the driver's callback thread; they may call the driver's methods.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Executor", "ExecutorDriver", "Scheduler", "SchedulerDriver"]


class Scheduler:
    """Base class for schedulers; every callback defaults to doing nothing."""

    def registered(self, driver: Any, frameworkId: Any, masterInfo: Any) -> None:
        """The framework subscribed for the first time; ``frameworkId`` is ``{"value"}``."""

    def reregistered(self, driver: Any, masterInfo: Any) -> None:
        """The framework subscribed again (after a disconnection or a leader change)."""

    def disconnected(self, driver: Any) -> None:
        """The subscription was lost; the driver resubscribes by itself."""

    def processHeartBeat(self, driver: Any) -> None:
        """The master sent a heartbeat."""

    def resourceOffers(self, driver: Any, offers: Any) -> None:
        """New offers (a list of ``Offer``)."""

    def inverseOffers(self, driver: Any, offers: Any) -> None:
        """New inverse offers (a list of ``InverseOffer``)."""

    def offerRescinded(self, driver: Any, offerId: Any) -> None:
        """An offer is no longer valid."""

    def inverseOfferRescinded(self, driver: Any, offerId: Any) -> None:
        """An inverse offer is no longer valid."""

    def statusUpdate(self, driver: Any, status: Any) -> None:
        """A task changed state; with implicit acknowledgements, returning acknowledges."""

    def operationStatusUpdate(self, driver: Any, status: Any) -> None:
        """An operation (with an id) changed state."""

    def frameworkMessage(
        self,
        driver: Any,
        executorId: Any,
        slaveId: Any,
        message: Any,
    ) -> None:
        """An executor sent bytes (base64 text in ``message``)."""

    def slaveLost(self, driver: Any, slaveId: Any) -> None:
        """An agent was removed."""

    def executorLost(
        self,
        driver: Any,
        executorId: Any,
        slaveId: Any,
        status: Any,
    ) -> None:
        """An executor terminated with ``status`` (its exit status, or None)."""

    def error(self, driver: Any, message: str) -> None:
        """The driver aborted (ERROR event, rejected subscription); it is already stopped."""
        print(f"Error from Mesos: {message} ", file=sys.stderr)


class Executor:
    """Base class for executors; every callback defaults to doing nothing."""

    def registered(
        self,
        driver: Any,
        executorInfo: Any,
        frameworkInfo: Any,
        slaveInfo: Any,
    ) -> None:
        """The executor subscribed to its agent."""

    def reregistered(self, driver: Any, slaveInfo: Any) -> None:
        """The executor subscribed again (after an agent restart)."""

    def disconnected(self, driver: Any) -> None:
        """The connection to the agent was lost."""

    def launchTask(self, driver: Any, task: Any) -> None:
        """Run a task (``TaskInfo``); send its status with ``driver.sendStatusUpdate``."""

    def launchTaskGroup(self, driver: Any, task_infos: Any) -> None:
        """Run a group of tasks (a list of ``TaskInfo``)."""

    def killTask(self, driver: Any, taskId: Any) -> None:
        """Kill a task, then send TASK_KILLED."""

    def frameworkMessage(self, driver: Any, message: Any) -> None:
        """The scheduler sent bytes (base64 text)."""

    def shutdown(self, driver: Any) -> None:
        """Kill every task; the driver stops afterwards."""

    def error(self, driver: Any, message: str) -> None:
        """The agent reported an error; the driver is already stopped."""
        print(f"Error from Mesos: {message}", file=sys.stderr)


class SchedulerDriver:
    """pymesos's scheduler driver interface (for type hints and test doubles)."""

    def start(self) -> int:
        """Start the driver."""
        raise NotImplementedError

    def stop(self, failover: bool | None = None) -> int:
        """Stop the driver (TEARDOWN unless failing over)."""
        raise NotImplementedError

    def abort(self) -> int:
        """Abort the driver; no more callbacks."""
        raise NotImplementedError

    def join(self) -> int:
        """Wait until the driver stops."""
        raise NotImplementedError

    def run(self) -> int:
        """Start and join."""
        raise NotImplementedError


class ExecutorDriver:
    """pymesos's executor driver interface (for type hints and test doubles)."""

    def start(self) -> int:
        """Start the driver."""
        raise NotImplementedError

    def stop(self) -> int:
        """Stop the driver."""
        raise NotImplementedError

    def abort(self) -> int:
        """Abort the driver."""
        raise NotImplementedError

    def join(self) -> int:
        """Wait until the driver stops."""
        raise NotImplementedError

    def run(self) -> int:
        """Start and join."""
        raise NotImplementedError

    def sendStatusUpdate(self, status: Any) -> None:
        """Send a task status update."""
        raise NotImplementedError

    def sendFrameworkMessage(self, data: Any) -> None:
        """Send bytes (base64 text) to the scheduler."""
        raise NotImplementedError
