"""pymesos's ``MesosSchedulerDriver`` on top of the asyncio scheduler driver.

The constructor, methods and callbacks are pymesos's; underneath, a
:class:`~mesos_wm.drivers.scheduler.SchedulerDriver` runs on an event loop in a
background thread, and the scheduler's callbacks run, in event order, on a callback
thread (see :mod:`mesos_wm.compat.pymesos._loop`).  Differences from pymesos, all on the
side of not losing information, are listed in ``docs/pymesos.md``; the main one is that
a call made while disconnected raises :class:`~mesos_wm.errors.NotSubscribed` instead of
being dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mesos_wm.compat.pymesos._base import (
    DRIVER_ABORTED,
    DRIVER_NOT_STARTED,
    DRIVER_RUNNING,
    DRIVER_STOPPED,
    ThreadedDriver,
    id_values,
    optional_value,
    plain,
)
from mesos_wm.compat.pymesos.interface import SchedulerDriver
from mesos_wm.compat.pymesos.utils import DAY, decode_data, encode_data
from mesos_wm.drivers.events import Disconnected
from mesos_wm.drivers.scheduler import DriverEvent
from mesos_wm.drivers.scheduler import SchedulerDriver as AsyncSchedulerDriver
from mesos_wm.errors import MesosWmError, NotSubscribed
from mesos_wm.ids import decode_uuid
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.scheduler_events import (
    Error,
    Failure,
    Heartbeat,
    InverseOffers,
    Message,
    Offers,
    Rescind,
    RescindInverseOffer,
    Subscribed,
    Update,
    UpdateOperationStatus,
)
from mesos_wm.wire.session import SessionState

__all__ = [
    "DRIVER_ABORTED",
    "DRIVER_NOT_STARTED",
    "DRIVER_RUNNING",
    "DRIVER_STOPPED",
    "MesosSchedulerDriver",
]

logger = logging.getLogger(__name__)

DEFAULT_FAILOVER_TIMEOUT = 100.0
"""pymesos sets ``failover_timeout`` to 100 s when the framework gives none."""


def _refuse_seconds(filters: Mapping[str, Any] | None) -> float | None:
    if not filters or filters.get("refuse_seconds") is None:
        return None
    return float(filters["refuse_seconds"])


class MesosSchedulerDriver(ThreadedDriver, SchedulerDriver):
    """pymesos's scheduler driver, running the mesos_wm asyncio driver in a thread.

    Args:
        sched: the scheduler (a :class:`~mesos_wm.compat.pymesos.interface.Scheduler`).
        framework: ``FrameworkInfo`` as a dict; ``user`` defaults to the OS user,
            ``failover_timeout`` to 100 s, and GPU_RESOURCES is added, as in pymesos.
        master_uri: ``host:port``, ``http(s)://host:port`` or ``zk://.../mesos``.
        use_addict: pass messages to callbacks as ``addict.Dict`` instead of ``dict``.
        implicit_acknowledgements: acknowledge each update once ``statusUpdate`` returns.
        principal: framework principal (HTTP Basic authentication with ``secret``).
        secret: the principal's secret.
        failover: the default of :meth:`stop`'s ``failover`` (False: tear down).
        timeout: seconds without a subscription after which the driver aborts.
    """

    def __init__(  # noqa: PLR0917 (pymesos's positional signature)
        self,
        sched: Any,
        framework: Mapping[str, Any],
        master_uri: str,
        use_addict: bool = False,
        implicit_acknowledgements: bool = True,
        principal: str | None = None,
        secret: str | None = None,
        failover: bool = False,
        timeout: float = DAY,
    ) -> None:
        super().__init__(sched, use_addict, "mesos-wm-scheduler")
        self.sched = sched
        self.master_uri = master_uri
        self.implicit_acknowledgements = implicit_acknowledgements
        self._framework = plain(framework)
        self._principal = principal
        self._secret = secret
        self._failover = failover
        self._timeout = timeout
        self._driver: AsyncSchedulerDriver | None = None
        self._registered_before = False

    # -- pymesos properties ------------------------------------------------------------------

    @property
    def framework(self) -> dict[str, Any]:
        """The ``FrameworkInfo`` subscribed with (pymesos's defaults applied)."""
        framework: dict[str, Any] = plain(self._framework)
        framework.setdefault("failover_timeout", DEFAULT_FAILOVER_TIMEOUT)
        capabilities = [c for c in framework.get("capabilities", []) if c.get("type")]
        if not any(c["type"] == "GPU_RESOURCES" for c in capabilities):
            capabilities.append({"type": "GPU_RESOURCES"})
        framework["capabilities"] = capabilities
        if self._driver is not None and self._driver.framework_id is not None:
            framework["id"] = {"value": self._driver.framework_id}
        return framework

    @property
    def framework_id(self) -> str | None:
        """The framework id once subscribed (or the one given in ``framework``)."""
        if self._driver is not None and self._driver.framework_id is not None:
            return self._driver.framework_id
        return optional_value(self._framework, "id")

    @property
    def master(self) -> str | None:
        """``host:port`` of the master of the current subscription attempt."""
        url = self._driver.master_url if self._driver is not None else None
        return url.split("://", 1)[1] if url else None

    @property
    def connected(self) -> bool:
        """Whether the driver is subscribed now."""
        return self._driver is not None and self._driver.state is SessionState.SUBSCRIBED

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self, failover: bool | None = None) -> int:
        """Stop the driver.

        Args:
            failover: False tears the framework down first (its tasks are killed); True
                leaves it registered for its failover timeout.  None uses the
                constructor's ``failover``.

        Returns:
            DRIVER_STOPPED (or the status the driver already ended with).
        """
        keep = self._failover if failover is None else failover
        if self._end(DRIVER_STOPPED):
            self._run(self._stop_async(graceful=not keep))
        return self._status

    async def _stop_async(self, graceful: bool) -> None:
        driver = self._require_driver()
        try:
            await driver.stop(teardown=graceful and self.connected)
        except MesosWmError as exc:
            logger.warning("TEARDOWN failed while stopping: %s", exc)

    async def _create(self) -> AsyncSchedulerDriver:
        master = self.master_uri
        if master.startswith("zoo://"):
            master = "zk://" + master[len("zoo://") :]
        self._driver = AsyncSchedulerDriver(
            master,
            self.framework,
            self._on_event,
            principal=self._principal,
            secret=self._secret,
            give_up_after=self._timeout,
        )
        return self._driver

    # -- events -----------------------------------------------------------------------------

    async def _on_event(self, event: DriverEvent) -> None:
        wrap = self._dict_cls
        if isinstance(event, Subscribed):
            info = plain(event.master_info)
            host, _, port = (self.master or ":").rpartition(":")
            info.setdefault("hostname", host)
            if port.isdigit():
                info.setdefault("port", int(port))
            if self._registered_before:
                await self._callback("reregistered", wrap(info))
            else:
                self._registered_before = True
                await self._callback("registered", wrap({"value": event.framework_id}), wrap(info))
        elif isinstance(event, Offers):
            if event.offers:
                await self._callback("resourceOffers", [wrap(o) for o in event.offers])
        elif isinstance(event, InverseOffers):
            if event.inverse_offers:
                await self._callback("inverseOffers", [wrap(o) for o in event.inverse_offers])
        elif isinstance(event, Rescind):
            await self._callback("offerRescinded", wrap({"value": event.offer_id}))
        elif isinstance(event, RescindInverseOffer):
            await self._callback("inverseOfferRescinded", wrap({"value": event.inverse_offer_id}))
        elif isinstance(event, Update):
            await self._callback("statusUpdate", wrap(event.status))
            if self.implicit_acknowledgements and self._status == DRIVER_RUNNING:
                await self._acknowledge_quietly(self._require_driver().acknowledge(event))
        elif isinstance(event, UpdateOperationStatus):
            await self._callback("operationStatusUpdate", wrap(event.status))
            build = _operation_ack(plain(event.status))
            if self.implicit_acknowledgements and self._status == DRIVER_RUNNING and build:
                await self._acknowledge_quietly(self._require_driver().call(build))
        elif isinstance(event, Message):
            await self._callback(
                "frameworkMessage",
                wrap({"value": event.executor_id}),
                wrap({"value": event.agent_id}),
                encode_data(event.data),
            )
        elif isinstance(event, Failure):
            await self._on_failure(event)
        elif isinstance(event, Error):
            self._end(DRIVER_ABORTED)
            self._error_reported = True
            await self._callback("error", event.message, when_ended=True)
        elif isinstance(event, Heartbeat):
            await self._callback("processHeartBeat")
        elif isinstance(event, Disconnected):
            await self._callback("disconnected")

    async def _on_failure(self, event: Failure) -> None:
        wrap = self._dict_cls
        if event.executor_id is None:
            if event.agent_id is not None:
                await self._callback("slaveLost", wrap({"value": event.agent_id}))
            return
        agent = wrap({"value": event.agent_id}) if event.agent_id is not None else None
        await self._callback(
            "executorLost", wrap({"value": event.executor_id}), agent, event.status
        )

    async def _acknowledge_quietly(self, acknowledgement: Any) -> None:
        try:
            await acknowledgement
        except MesosWmError as exc:
            logger.warning("implicit acknowledgement failed (the agent will resend): %s", exc)

    # -- calls ----------------------------------------------------------------------------------

    def _require_driver(self) -> AsyncSchedulerDriver:
        if self._driver is None:
            raise NotSubscribed("the driver was not started")
        return self._driver

    def _send(self, build: Callable[[str], dict[str, Any]]) -> None:
        self._run(self._require_driver().call(build))

    def launchTasks(self, offerIds: Any, tasks: Iterable[Any], filters: Any = None) -> None:
        """ACCEPT the offers with one LAUNCH of ``tasks`` (none: decline the offers).

        Raises:
            NotSubscribed: not subscribed now (pymesos dropped the call silently).
            MasterRejected, TransportError: the master refused or could not be reached.
        """
        task_list = [plain(task) for task in tasks]
        if not task_list:
            self.declineOffer(offerIds, filters)
            return
        self.acceptOffers(offerIds, [scheduler_calls.launch(task_list)], filters)

    def acceptOffers(self, offerIds: Any, operations: Iterable[Any], filters: Any = None) -> None:
        """ACCEPT offers with ``Offer.Operation`` dicts (none: decline); errors as launchTasks."""
        ops = [plain(op) for op in operations]
        if not ops:
            self.declineOffer(offerIds, filters)
            return
        ids, refuse = id_values(offerIds), _refuse_seconds(filters)
        self._send(lambda fid: scheduler_calls.accept(fid, ids, ops, refuse_seconds=refuse))

    def declineOffer(self, offerIds: Any, filters: Any = None) -> None:
        """DECLINE one offer id or a list of them; errors as launchTasks."""
        ids, refuse = id_values(offerIds), _refuse_seconds(filters)
        self._send(lambda fid: scheduler_calls.decline(fid, ids, refuse_seconds=refuse))

    def acceptInverseOffers(self, offer_ids: Any, filters: Any = None) -> None:
        """ACCEPT_INVERSE_OFFERS; errors as launchTasks."""
        ids, refuse = id_values(offer_ids), _refuse_seconds(filters)
        self._send(
            lambda fid: scheduler_calls.accept_inverse_offers(fid, ids, refuse_seconds=refuse)
        )

    def declineInverseOffer(self, offer_ids: Any, filters: Any = None) -> None:
        """DECLINE_INVERSE_OFFERS; errors as launchTasks."""
        ids, refuse = id_values(offer_ids), _refuse_seconds(filters)
        self._send(
            lambda fid: scheduler_calls.decline_inverse_offers(fid, ids, refuse_seconds=refuse)
        )

    def reviveOffers(self, roles: Iterable[str] = ()) -> None:
        """REVIVE offers (for ``roles``; none: all); errors as launchTasks."""
        self._run(self._require_driver().revive(list(roles)))

    def suppressOffers(self, roles: Iterable[str] = ()) -> None:
        """SUPPRESS offers (for ``roles``; none: all); errors as launchTasks."""
        self._run(self._require_driver().suppress(list(roles)))

    def killTask(self, taskId: Any) -> None:
        """KILL a task (``{"value": ...}``); errors as launchTasks."""
        (task_id,) = id_values(taskId)
        self._send(lambda fid: scheduler_calls.kill(fid, task_id))

    def acknowledgeStatusUpdate(self, status: Any) -> None:
        """ACKNOWLEDGE a status update that carries a uuid (others are ignored).

        Raises:
            NotSubscribed: the update has a uuid but the driver is not subscribed.
            MasterRejected, TransportError: as for launchTasks.
        """
        body = plain(status)
        if "uuid" not in body:
            return
        self._run(self._require_driver().acknowledge(body))

    def acknowledgeOperationStatusUpdate(self, status: Any) -> None:
        """ACKNOWLEDGE_OPERATION_STATUS when the status has a uuid and an operation id."""
        build = _operation_ack(plain(status))
        if build is not None:
            self._send(build)

    def reconcileTasks(self, tasks: Iterable[Any]) -> None:
        """RECONCILE the tasks (dicts with ``task_id``, optionally ``agent_id``); none: all."""
        pairs = [
            (str(task["task_id"]["value"]), optional_value(task, "agent_id")) for task in tasks
        ]
        self._send(lambda fid: scheduler_calls.reconcile(fid, pairs))

    def reconcileOperations(self, operations_: Iterable[Any]) -> None:
        """RECONCILE_OPERATIONS (dicts with ``operation_id``, optionally ``agent_id``)."""
        pairs = [
            (str(op["operation_id"]["value"]), optional_value(op, "agent_id")) for op in operations_
        ]
        self._send(lambda fid: scheduler_calls.reconcile_operations(fid, pairs))

    def sendFrameworkMessage(self, executorId: Any, slaveId: Any, data: Any) -> None:
        """MESSAGE an executor; ``data`` is base64 text (see ``encode_data``)."""
        (executor_id,) = id_values(executorId)
        (agent_id,) = id_values(slaveId)
        raw = decode_data(data)
        self._send(lambda fid: scheduler_calls.message(fid, agent_id, executor_id, raw))

    def requestResources(self, requests: Iterable[Any]) -> None:
        """REQUEST resources (``Request`` dicts); errors as launchTasks."""
        chosen = [plain(request) for request in requests]
        self._send(lambda fid: scheduler_calls.request(fid, chosen))


def _operation_ack(status: Mapping[str, Any]) -> Callable[[str], dict[str, Any]] | None:
    uuid = status.get("uuid")
    operation_id = optional_value(status, "operation_id")
    if not isinstance(uuid, Mapping) or "value" not in uuid or operation_id is None:
        return None
    raw_uuid = decode_uuid(uuid["value"])
    agent_id = optional_value(status, "agent_id")
    provider_id = optional_value(status, "resource_provider_id")
    return lambda fid: scheduler_calls.acknowledge_operation_status(
        fid, raw_uuid, operation_id, agent_id=agent_id, resource_provider_id=provider_id
    )
