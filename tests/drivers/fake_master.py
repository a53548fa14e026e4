"""A small purpose-built Mesos master for protocol edge-case tests (aiohttp on loopback).

It speaks just enough of ``/api/v1/scheduler``: SUBSCRIBE opens a real chunked RecordIO
stream that the test drives (send events, raw bytes in chosen HTTP chunks, end or cut the
connection); other calls are recorded and answered 202 unless the test scripts another
answer.  Every call it receives can be validated against the Mesos protos.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from mesos_wm.wire.recordio import encode

Validator = Callable[[str, Any], None]


@dataclass
class Reply:
    """A scripted non-streaming answer."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.body, headers=self.headers)


@dataclass
class Received:
    """One request the fake master got."""

    body: dict[str, Any]
    headers: dict[str, str]


class FakeStream:
    """The server side of one SUBSCRIBE stream."""

    def __init__(
        self,
        request: web.Request,
        response: web.StreamResponse,
        stream_id: str,
        validator: Validator | None,
        event_type: str = "mesos.v1.scheduler.Event",
    ) -> None:
        self.request = request
        self.response = response
        self.stream_id = stream_id
        self._validator = validator
        self._event_type = event_type
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(self, event: dict[str, Any]) -> None:
        """Send one event as one RecordIO record in one HTTP chunk."""
        if self._validator is not None:
            self._validator(self._event_type, event)
        await self.send_raw(encode(json.dumps(event).encode()))

    async def send_raw(self, *chunks: bytes, pause: float = 0.0) -> None:
        """Write each chunk as its own HTTP chunk, flushing between them."""
        for chunk in chunks:
            await self.response.write(chunk)
            if pause:
                await asyncio.sleep(pause)

    async def end(self) -> None:
        """End the response cleanly (terminating chunk)."""
        if not self.finished.done():
            await self.response.write_eof()
            self.finished.set_result(None)

    def cut(self) -> None:
        """Drop the TCP connection without ending the HTTP response."""
        transport = self.request.transport
        if transport is not None:
            transport.close()
        if not self.finished.done():
            self.finished.set_result(None)

    @property
    def closed_by_peer(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()


class FakeMaster:
    """A scriptable loopback master.

    Attributes:
        subscribes: every SUBSCRIBE received, in order.
        calls: every other call received, in order.
        subscribe_script: answers for the next SUBSCRIBEs (``None`` = open a stream).
        call_script: answers for the next calls (default 202).
        violations: calls that failed the conformance check (answered 400).
        streams: the streams opened, as they open.
    """

    def __init__(
        self,
        *,
        framework_id: str = "fw-0001",
        heartbeat_interval: float = 15.0,
        validator: Validator | None = None,
        send_subscribed: bool = True,
        require_auth: str | None = None,
    ) -> None:
        self.framework_id = framework_id
        self.heartbeat_interval = heartbeat_interval
        self.validator = validator
        self.send_subscribed = send_subscribed
        self.require_auth = require_auth
        self.subscribes: list[Received] = []
        self.calls: list[Received] = []
        self.violations: list[str] = []
        self.subscribe_script: list[Reply | None] = []
        self.call_script: list[Reply] = []
        self.streams: asyncio.Queue[FakeStream] = asyncio.Queue()
        self.open_streams: list[FakeStream] = []
        self.current_stream_id: str | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> str:
        app = web.Application()
        app.router.add_post("/api/v1/scheduler", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
        return self.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def close(self) -> None:
        for stream in self.open_streams:
            if not stream.finished.done():
                stream.finished.set_result(None)
        if self._runner is not None:
            await self._runner.cleanup()

    async def next_stream(self, timeout: float = 10.0) -> FakeStream:
        return await asyncio.wait_for(self.streams.get(), timeout)

    def calls_of(self, call_type: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.body["type"] == call_type]

    def subscribed_event(self, framework_id: str | None = None) -> dict[str, Any]:
        return {
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": {"value": framework_id or self.framework_id},
                "heartbeat_interval_seconds": self.heartbeat_interval,
                "master_info": {
                    "id": "master-1",
                    "ip": 16777343,
                    "port": self.port,
                    "hostname": "127.0.0.1",
                    "address": {"hostname": "127.0.0.1", "ip": "127.0.0.1", "port": self.port},
                    "version": "1.11.0",
                },
            },
        }

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.require_auth is not None and request.headers.get("Authorization") != (
            self.require_auth
        ):
            return web.Response(
                status=401, text="Unauthorized", headers={"WWW-Authenticate": "Basic"}
            )
        if request.headers.get("Content-Type") != "application/json":
            return web.Response(status=415, text="Expecting 'Content-Type' of application/json")
        body = json.loads(await request.read())
        received = Received(body, dict(request.headers))
        if self.validator is not None:
            try:
                self.validator("mesos.v1.scheduler.Call", body)
            except AssertionError as exc:
                self.violations.append(f"{body.get('type')}: {exc}")
                return web.Response(status=400, text=f"Failed to validate scheduler::Call: {exc}")
        if body.get("type") == "SUBSCRIBE":
            return await self._subscribe(request, received)
        self.calls.append(received)
        if request.headers.get("Mesos-Stream-Id") != self.current_stream_id:
            return web.Response(
                status=400, text="The stream ID included in this request is invalid"
            )
        if self.call_script:
            return self.call_script.pop(0).response()
        return web.Response(status=202)

    async def _subscribe(self, request: web.Request, received: Received) -> web.StreamResponse:
        self.subscribes.append(received)
        if "Mesos-Stream-Id" in request.headers:
            return web.Response(status=400, text="Subscribe calls should not include the stream id")
        if self.subscribe_script:
            scripted = self.subscribe_script.pop(0)
            if scripted is not None:
                return scripted.response()
        stream_id = str(uuid.uuid4())
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "application/json", "Mesos-Stream-Id": stream_id}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        stream = FakeStream(request, response, stream_id, self.validator)
        self.current_stream_id = stream_id
        self.open_streams.append(stream)
        if self.send_subscribed:
            framework_id = received.body.get("framework_id", {}).get("value")
            await stream.send(self.subscribed_event(framework_id))
        self.streams.put_nowait(stream)
        await stream.finished
        return response


def offers_event(*offer_ids: str, agent_id: str = "agent-1") -> dict[str, Any]:
    return {
        "type": "OFFERS",
        "offers": {
            "offers": [
                {
                    "id": {"value": offer_id},
                    "framework_id": {"value": "fw-0001"},
                    "agent_id": {"value": agent_id},
                    "hostname": "agent1.local",
                    "resources": [
                        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}},
                        {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024.0}},
                    ],
                }
                for offer_id in offer_ids
            ]
        },
    }


def update_event(
    task_id: str, state: str = "TASK_RUNNING", *, uuid_bytes: bytes | None = None
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "task_id": {"value": task_id},
        "state": state,
        "agent_id": {"value": "agent-1"},
        "source": "SOURCE_EXECUTOR",
        "timestamp": 1700000000.5,
    }
    if uuid_bytes is not None:
        status["uuid"] = base64.b64encode(uuid_bytes).decode()
    return {"type": "UPDATE", "update": {"status": status}}


HEARTBEAT = {"type": "HEARTBEAT"}


def error_event(message: str) -> dict[str, Any]:
    return {"type": "ERROR", "error": {"message": message}}
