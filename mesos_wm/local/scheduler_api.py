"""The ``/api/v1/scheduler`` endpoint of the embedded master: a thin aiohttp shell.

Checks run in the master's order (``Master::Http::scheduler``): authentication (401, done
by libprocess before the handler), unavailable (503), method (405), content type
(400/415), body (400), call validation (400), then for SUBSCRIBE ``Accept`` (406) and no
``Mesos-Stream-Id`` (400); every other call goes to
:meth:`mesos_wm.local.state.MasterState.call` (framework lookup, 403, stream id).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from mesos_wm.local import validation
from mesos_wm.local.http_util import (
    APPLICATION_JSON,
    EventStream,
    accepts_json,
    bad_request,
    basic_principal,
    not_acceptable,
    read_call,
)

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["scheduler_handler"]


def unavailable() -> web.Response:
    """The 503 a recovering master answers."""
    return web.Response(status=503, text="Master has not finished recovery")


async def scheduler_handler(master: LocalMaster, request: web.Request) -> web.StreamResponse:
    """Serve one request to ``/api/v1/scheduler``."""
    principal, denied = basic_principal(request, master.config.credentials)
    if denied is not None:
        return denied
    if master.clock() < master.state.unavailable_until:
        return unavailable()
    call = await read_call(request, "scheduler.Call", "Call")
    if isinstance(call, web.Response):
        return call
    error = validation.scheduler_call(call)
    if error is not None:
        return bad_request(f"Failed to validate scheduler::Call: {error}")
    if call["type"] == "SUBSCRIBE":
        return await _subscribe(master, request, call, principal)
    reply = master.state.call(
        call, request.headers.get("Mesos-Stream-Id"), master.clock(), principal
    )
    master.dispatch(reply.effects)
    if reply.status in (200, 202) and reply.body is None:
        return web.Response(status=reply.status)
    return web.Response(status=reply.status, text=reply.message)


async def _subscribe(
    master: LocalMaster, request: web.Request, call: dict[str, object], principal: str | None
) -> web.StreamResponse:
    if not accepts_json(request):
        return not_acceptable()
    if "Mesos-Stream-Id" in request.headers:
        return bad_request("Subscribe calls should not include the 'Mesos-Stream-Id' header")
    stream_id = str(uuid.uuid4())
    stream = EventStream()
    response = web.StreamResponse(
        status=200, headers={"Content-Type": APPLICATION_JSON, "Mesos-Stream-Id": stream_id}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    master.streams[stream_id] = stream
    try:
        master.dispatch(master.state.subscribe(call, stream_id, master.clock(), principal))
        await stream.pump(response)
    except ConnectionResetError:
        pass
    finally:
        master.streams.pop(stream_id, None)
        master.dispatch(master.state.stream_closed(stream_id, master.clock()))
    return response
