"""The scheduler calls, one coroutine per Mesos call type.

:class:`SchedulerCalls` is the call surface of
:class:`~mesos_wm.drivers.scheduler.SchedulerDriver`: each method builds the exact Call
JSON with :mod:`mesos_wm.wire.scheduler_calls` and hands it to ``_send``, which the driver
implements (stream id, master URL, retries, error mapping).  Every method raises
:class:`~mesos_wm.errors.NotSubscribed` when there is no active subscription: calls are
never dropped silently and never queued behind the user's back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mesos_wm.errors import LocalProtocolError
from mesos_wm.ids import decode_uuid
from mesos_wm.wire import scheduler_calls
from mesos_wm.wire.scheduler_events import Update

__all__ = ["CallBuilder", "SchedulerCalls"]

CallBuilder = Callable[[str], dict[str, Any]]
"""Builds a Call given the framework id."""


class SchedulerCalls:
    """Mesos scheduler calls; mixed into the scheduler driver."""

    async def _send(self, build: CallBuilder) -> None:
        raise NotImplementedError

    def _note_suppressed(self, roles: Iterable[str], suppressed: bool) -> None:
        raise NotImplementedError

    def _note_framework_info(self, framework_info: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def accept(
        self,
        offer_ids: Iterable[str],
        operations: Iterable[Mapping[str, Any]],
        *,
        refuse_seconds: float | None = None,
    ) -> None:
        """ACCEPT offers, applying ``operations`` (e.g. ``scheduler_calls.launch([...])``).

        Args:
            offer_ids: the offers (all from one agent); each usable once.
            operations: ``Offer.Operation`` dicts, applied in order.
            refuse_seconds: how long the unused resources are not re-offered.

        Raises:
            NotSubscribed: no active subscription.
            MasterRejected: the master answered 4xx (its message says why).
            TransportError: the master could not be reached.
        """
        ids, ops = list(offer_ids), list(operations)
        await self._send(
            lambda fid: scheduler_calls.accept(fid, ids, ops, refuse_seconds=refuse_seconds)
        )

    async def decline(
        self, offer_ids: Iterable[str], *, refuse_seconds: float | None = None
    ) -> None:
        """DECLINE offers entirely; same errors as :meth:`accept`."""
        ids = list(offer_ids)
        await self._send(
            lambda fid: scheduler_calls.decline(fid, ids, refuse_seconds=refuse_seconds)
        )

    async def accept_inverse_offers(
        self, inverse_offer_ids: Iterable[str], *, refuse_seconds: float | None = None
    ) -> None:
        """ACCEPT_INVERSE_OFFERS; same errors as :meth:`accept`."""
        ids = list(inverse_offer_ids)
        await self._send(
            lambda fid: scheduler_calls.accept_inverse_offers(
                fid, ids, refuse_seconds=refuse_seconds
            )
        )

    async def decline_inverse_offers(
        self, inverse_offer_ids: Iterable[str], *, refuse_seconds: float | None = None
    ) -> None:
        """DECLINE_INVERSE_OFFERS; same errors as :meth:`accept`."""
        ids = list(inverse_offer_ids)
        await self._send(
            lambda fid: scheduler_calls.decline_inverse_offers(
                fid, ids, refuse_seconds=refuse_seconds
            )
        )

    async def revive(self, roles: Iterable[str] = ()) -> None:
        """REVIVE offers for ``roles`` (empty: all), clearing filters and suppression.

        Raises:
            NotSubscribed, MasterRejected, TransportError: as for :meth:`accept`.
        """
        chosen = list(roles)
        await self._send(lambda fid: scheduler_calls.revive(fid, chosen))
        self._note_suppressed(chosen, suppressed=False)

    async def suppress(self, roles: Iterable[str] = ()) -> None:
        """SUPPRESS offers for ``roles`` (empty: all); kept across resubscriptions.

        Raises:
            NotSubscribed, MasterRejected, TransportError: as for :meth:`accept`.
        """
        chosen = list(roles)
        await self._send(lambda fid: scheduler_calls.suppress(fid, chosen))
        self._note_suppressed(chosen, suppressed=True)

    async def kill(
        self,
        task_id: str,
        agent_id: str | None = None,
        *,
        grace_period_seconds: float | None = None,
    ) -> None:
        """KILL a task (with a ``kill_policy`` grace period when given).

        Raises:
            NotSubscribed, MasterRejected, TransportError: as for :meth:`accept`.
        """
        await self._send(
            lambda fid: scheduler_calls.kill(
                fid, task_id, agent_id, grace_period_seconds=grace_period_seconds
            )
        )

    async def shutdown(self, executor_id: str, agent_id: str) -> None:
        """SHUTDOWN an executor on an agent; same errors as :meth:`accept`."""
        await self._send(lambda fid: scheduler_calls.shutdown(fid, executor_id, agent_id))

    async def acknowledge(self, status: Update | Mapping[str, Any]) -> bool:
        """ACKNOWLEDGE a status update, if it carries a uuid.

        Master-generated updates (reconciliation answers, invalid offers) carry no uuid and
        must not be acknowledged; for them this does nothing.  Call this only once the
        update is durably processed: the agent resends it until it is acknowledged.

        Args:
            status: an :class:`~mesos_wm.wire.scheduler_events.Update` or its ``TaskStatus``.

        Returns:
            True if an ACKNOWLEDGE was sent, False if the update had no uuid.

        Raises:
            LocalProtocolError: the status has a uuid but no ``agent_id``/``task_id``.
            NotSubscribed, MasterRejected, TransportError: as for :meth:`accept`.
        """
        body = status.status if isinstance(status, Update) else status
        uuid_text = body.get("uuid")
        if not uuid_text:
            return False
        try:
            agent_id = str(body["agent_id"]["value"])
            task_id = str(body["task_id"]["value"])
        except (KeyError, TypeError) as exc:
            raise LocalProtocolError(
                "cannot acknowledge a status without agent_id and task_id"
            ) from exc
        uuid = decode_uuid(uuid_text)
        await self._send(lambda fid: scheduler_calls.acknowledge(fid, agent_id, task_id, uuid))
        return True

    async def reconcile(self, tasks: Iterable[tuple[str, str | None]] = ()) -> None:
        """RECONCILE ``(task_id, agent_id or None)`` pairs; none = implicit (all tasks).

        Raises:
            NotSubscribed, MasterRejected, TransportError: as for :meth:`accept`.
        """
        chosen = list(tasks)
        await self._send(lambda fid: scheduler_calls.reconcile(fid, chosen))

    async def message(self, agent_id: str, executor_id: str, data: bytes) -> None:
        """MESSAGE an executor (unreliable); same errors as :meth:`accept`."""
        await self._send(lambda fid: scheduler_calls.message(fid, agent_id, executor_id, data))

    async def request(
        self,
        requests: Iterable[Mapping[str, Any] | tuple[str | None, Iterable[Mapping[str, Any]]]],
    ) -> None:
        """REQUEST resources (ignored by the default allocator); errors as :meth:`accept`."""
        chosen = list(requests)
        await self._send(lambda fid: scheduler_calls.request(fid, chosen))

    async def update_framework(
        self, framework_info: Mapping[str, Any], suppressed_roles: Iterable[str] = ()
    ) -> None:
        """UPDATE_FRAMEWORK (Mesos 1.9+): new roles, capabilities, labels...

        The framework id is added; later resubscriptions use the new ``FrameworkInfo``.

        Raises:
            NotSubscribed, MasterRejected, TransportError: as for :meth:`accept`.
        """
        roles = list(suppressed_roles)

        def build(fid: str) -> dict[str, Any]:
            info = {**framework_info, "id": {"value": fid}}
            return scheduler_calls.update_framework(info, roles)

        await self._send(build)
        self._note_framework_info(framework_info)

    async def acknowledge_operation_status(
        self,
        uuid: bytes,
        operation_id: str,
        *,
        agent_id: str | None = None,
        resource_provider_id: str | None = None,
    ) -> None:
        """ACKNOWLEDGE_OPERATION_STATUS; same errors as :meth:`accept`."""
        await self._send(
            lambda fid: scheduler_calls.acknowledge_operation_status(
                fid,
                uuid,
                operation_id,
                agent_id=agent_id,
                resource_provider_id=resource_provider_id,
            )
        )

    async def reconcile_operations(self, operations: Iterable[tuple[str, str | None]] = ()) -> None:
        """RECONCILE_OPERATIONS ``(operation_id, agent_id or None)``; errors as :meth:`accept`."""
        chosen = list(operations)
        await self._send(lambda fid: scheduler_calls.reconcile_operations(fid, chosen))
