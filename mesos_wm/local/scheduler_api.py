"""The ``/api/v1/scheduler`` endpoint of the embedded master: a thin aiohttp shell.

Checks run in the master's order (``Master::Http::scheduler``): authentication (401, done
by libprocess before the handler), unavailable (503), method (405), content type
(400/415), body (400), call validation (400), then for SUBSCRIBE ``Accept`` (406) and no
``Mesos-Stream-Id`` (400); every other call goes to
:meth:`mesos_wm.local.state.MasterState.call` (framework lookup, 403, stream id).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from mesos_wm.local import schema, validation
from mesos_wm.local.fast_http import FastRequest
from mesos_wm.local.http_util import (
    APPLICATION_JSON,
    EventStream,
    accepts_json,
    bad_request,
    basic_principal,
    not_acceptable,
    read_call,
)
from mesos_wm.wire.session import SCHEDULER_PATH

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["fast_scheduler_call", "scheduler_handler"]



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


def fast_scheduler_call(master: LocalMaster, request: FastRequest) -> tuple[int, str | None] | None:
    """Answer a plain scheduler call on the fast path of the master's front
    (:mod:`mesos_wm.local.fast_http`), exactly as :func:`scheduler_handler` would.

    Returns:
        ``(status, text)``, or None for everything the fast path leaves to
        :func:`scheduler_handler`: another path, authentication, a 503 period, another
        content type, SUBSCRIBE, and any body that fails parsing or validation (nothing
        has happened then).
    """
    if request.path != SCHEDULER_PATH or master.config.credentials:
        return None
    headers = request.headers
    if headers.get("content-type") != APPLICATION_JSON:
        return None
    now = master.clock()
    if now < master.state.unavailable_until:
        return None
    try:
        call = json.loads(request.body)
    except (ValueError, RecursionError):
        return None
    if (not isinstance(call, dict) or call.get("type") == "SUBSCRIBE"
            or schema.check("scheduler.Call", call) is not None
            or validation.scheduler_call(call) is not None):
        return None
    reply = master.state.call(call, headers.get("mesos-stream-id"), now, None)
    master.dispatch(reply.effects)
    if reply.status in (200, 202) and reply.body is None:
        return reply.status, None
    return reply.status, reply.message


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
