"""A small purpose-built Mesos agent serving ``/api/v1/executor`` on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from tests.drivers.fake_master import FakeStream, Received, Reply, Validator

EXECUTOR_EVENT = "mesos.v1.executor.Event"


class FakeAgent:
    """Records executor calls; SUBSCRIBE opens a stream the test drives."""

    def __init__(self, *, validator: Validator | None = None, token: str | None = None) -> None:
        self.validator = validator
        self.token = token
        self.subscribes: list[Received] = []
        self.calls: list[Received] = []
        self.violations: list[str] = []
        self.subscribe_script: list[Reply | None] = []
        self.call_script: list[Reply] = []
        self.streams: asyncio.Queue[FakeStream] = asyncio.Queue()
        self.open_streams: list[FakeStream] = []
        self.send_subscribed = True
        self.endpoint = ""
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/api/v1/executor", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port or self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self.endpoint = f"127.0.0.1:{self._port}"
        return self.endpoint

    async def close(self) -> None:
        for stream in self.open_streams:
            if not stream.finished.done():
                stream.finished.set_result(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def next_stream(self, timeout: float = 10.0) -> FakeStream:
        return await asyncio.wait_for(self.streams.get(), timeout)

    def calls_of(self, call_type: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.body["type"] == call_type]

    @staticmethod
    def subscribed_event() -> dict[str, Any]:
        return {
            "type": "SUBSCRIBED",
            "subscribed": {
                "executor_info": {
                    "executor_id": {"value": "ex-1"},
                    "type": "CUSTOM",
                    "command": {"value": "run-executor"},
                },
                "framework_info": {"user": "tester", "name": "wm", "id": {"value": "fw-1"}},
                "agent_info": {"hostname": "agent1.local", "id": {"value": "agent-1"}},
                "container_id": {"value": "container-1"},
            },
        }

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.headers.get("Authorization") != (
            f"Bearer {self.token}"
        ):
            return web.Response(status=401, text="Unauthorized")
        body = json.loads(await request.read())
        received = Received(body, dict(request.headers))
        if self.validator is not None:
            try:
                self.validator("mesos.v1.executor.Call", body)
            except AssertionError as exc:
                self.violations.append(f"{body.get('type')}: {exc}")
                return web.Response(status=400, text=f"Failed to validate executor::Call: {exc}")
        if body["type"] != "SUBSCRIBE":
            self.calls.append(received)
            if self.call_script:
                return self.call_script.pop(0).response()
            return web.Response(status=202)
        self.subscribes.append(received)
        if self.subscribe_script:
            scripted = self.subscribe_script.pop(0)
            if scripted is not None:
                return scripted.response()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        stream = FakeStream(request, response, "", self.validator, EXECUTOR_EVENT)
        self.open_streams.append(stream)
        if self.send_subscribed:
            await stream.send(self.subscribed_event())
        self.streams.put_nowait(stream)
        await stream.finished
        return response
