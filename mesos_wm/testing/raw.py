"""A raw HTTP scheduler for tests: subscribe, read events, send calls, no driver logic.

Handy to check what a master (embedded or real) does with exactly the bytes you send::

    async with RawScheduler(master.url, {"user": "me", "name": "t"}) as scheduler:
        offers = await scheduler.next_event("OFFERS")
        status = await scheduler.call("DECLINE", {"offer_ids": [...]})

Every event received is kept in :attr:`RawScheduler.events` (and passed to ``on_event``,
e.g. a conformance check).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from mesos_wm.errors import MasterRejected, SubscriptionLost
from mesos_wm.wire.recordio import RecordIODecoder

__all__ = ["RawScheduler"]

JsonDict = dict[str, Any]


class RawScheduler:
    """One raw subscription to ``<url>/api/v1/scheduler``.

    Args:
        url: the master's base URL (``http://127.0.0.1:5050``).
        framework_info: the FrameworkInfo to subscribe with (sent as is).
        on_event: called with every event as it arrives.
        auth: HTTP Basic credentials ``(principal, secret)``.
    """

    def __init__(
        self,
        url: str,
        framework_info: Mapping[str, Any],
        *,
        on_event: Callable[[JsonDict], None] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.framework_info = dict(framework_info)
        self.on_event = on_event
        self.headers = (
            {"Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()}
            if auth
            else {}
        )
        self.events: list[JsonDict] = []
        self.framework_id = ""
        self.stream_id = ""
        self.closed = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._session: aiohttp.ClientSession | None = None
        self._response: aiohttp.ClientResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._cursor = 0

    async def __aenter__(self) -> RawScheduler:
        await self.subscribe()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def subscribe(self, timeout: float = 10.0) -> JsonDict:
        """Subscribe and wait for SUBSCRIBED (or ERROR).

        Returns:
            The first event.

        Raises:
            MasterRejected: the master answered something other than 200.
            SubscriptionLost: the stream ended before the first event.
        """
        self._session = aiohttp.ClientSession(headers=self.headers)
        call: JsonDict = {"type": "SUBSCRIBE", "subscribe": {"framework_info": self.framework_info}}
        if "id" in self.framework_info:
            call["framework_id"] = self.framework_info["id"]
        response = await self._session.post(
            f"{self.url}/api/v1/scheduler",
            json=call,
            headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
        )
        if response.status != 200:
            text = await response.text()
            response.release()
            await self._session.close()
            raise MasterRejected(response.status, text)
        self._response = response
        self.stream_id = response.headers.get("Mesos-Stream-Id", "")
        self._reader = asyncio.get_running_loop().create_task(self._read())
        first = await self.next_event(timeout=timeout)
        if first["type"] == "SUBSCRIBED":
            self.framework_id = first["subscribed"]["framework_id"]["value"]
            self.framework_info["id"] = {"value": self.framework_id}
        return first

    async def _read(self) -> None:
        assert self._response is not None
        decoder = RecordIODecoder()
        try:
            async for chunk in self._response.content.iter_any():
                for record in decoder.feed(chunk):
                    event = json.loads(record)
                    if self.on_event is not None:
                        self.on_event(event)
                    async with self._arrived:
                        self.events.append(event)
                        self._arrived.notify_all()
        except (aiohttp.ClientError, asyncio.CancelledError):
            pass
        finally:
            self.closed.set()
            async with self._arrived:
                self._arrived.notify_all()

    async def next_event(
        self,
        kind: str | None = None,
        *,
        timeout: float = 10.0,
        where: Callable[[JsonDict], bool] | None = None,
    ) -> JsonDict:
        """Return the next not-yet-returned event (of type ``kind``, matching ``where``).

        Events skipped over are not returned again.

        Raises:
            TimeoutError: none arrived within ``timeout``.
            SubscriptionLost: the stream ended first.
        """

        def found() -> JsonDict | None:
            while self._cursor < len(self.events):
                event = self.events[self._cursor]
                self._cursor += 1
                if (kind is None or event["type"] == kind) and (where is None or where(event)):
                    return event
            return None

        async def wait() -> JsonDict:
            async with self._arrived:
                while True:
                    event = found()
                    if event is not None:
                        return event
                    if self.closed.is_set():
                        raise SubscriptionLost(
                            f"stream ended while waiting for {kind or 'an event'}"
                        )
                    await self._arrived.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def update(
        self, state: str | None = None, *, task_id: str | None = None, timeout: float = 10.0
    ) -> JsonDict:
        """Return the status of the next UPDATE (optionally of a state / task)."""

        def match(event: JsonDict) -> bool:
            status = event["update"]["status"]
            return (state is None or status["state"] == state) and (
                task_id is None or status["task_id"]["value"] == task_id
            )

        event = await self.next_event("UPDATE", where=match, timeout=timeout)
        status: JsonDict = event["update"]["status"]
        return status

    async def call(
        self,
        kind: str,
        body: Mapping[str, Any] | None = None,
        *,
        raw: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        """Send a call on its own request; return ``(status, body text)``.

        Args:
            kind: the call type (``"ACCEPT"``).
            body: the call's body (placed under the lower-cased type).
            raw: send exactly this JSON-able object instead of building the call.
            headers: extra or replacement headers (``Mesos-Stream-Id`` is added).
        """
        assert self._session is not None
        call: Any = raw
        if call is None:
            call = {"type": kind, "framework_id": {"value": self.framework_id}}
            if body is not None:
                call[kind.lower()] = dict(body)
        all_headers = {"Content-Type": "application/json", "Mesos-Stream-Id": self.stream_id}
        all_headers.update(headers or {})
        async with self._session.post(
            f"{self.url}/api/v1/scheduler", data=json.dumps(call), headers=all_headers
        ) as response:
            return response.status, await response.text()

    async def acknowledge(self, status: Mapping[str, Any]) -> tuple[int, str]:
        """Acknowledge a status (only statuses that carry a ``uuid`` need it)."""
        return await self.call(
            "ACKNOWLEDGE",
            {"agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]},
        )

    async def close(self) -> None:
        """Close the subscription connection (the master sees the stream break)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._response is not None:
            self._response.close()
        if self._session is not None:
            await self._session.close()
