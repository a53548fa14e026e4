"""The operator API (``POST /api/v1``) and the legacy read-only endpoints of the master.

Legacy paths answer GET with JSON in their historic shapes (see
:mod:`mesos_wm.local.views`); a trailing ``/`` and the ``/master`` prefix are accepted
like on a real master, as is a JSONP ``jsonp`` parameter.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mesos_wm.local import views
from mesos_wm.local.http_util import (
    APPLICATION_JSON,
    EventStream,
    accepts_json,
    bad_request,
    not_acceptable,
    read_call,
)
from mesos_wm.local.state import MESOS_VERSION

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["LEGACY_PATHS", "legacy_handler", "operator_handler"]

LEGACY_PATHS = (
    "state",
    "state.json",
    "frameworks",
    "slaves",
    "tasks",
    "tasks.json",
    "health",
    "redirect",
    "version",
    "flags",
    "state-summary",
)


def _json(body: Any, request: web.Request) -> web.Response:
    text = json.dumps(body)
    callback = request.query.get("jsonp")
    if callback:
        return web.Response(text=f"{callback}({text});", content_type="text/javascript")
    return web.Response(text=text, content_type=APPLICATION_JSON)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


async def legacy_handler(master: LocalMaster, request: web.Request) -> web.StreamResponse:
    """Serve a legacy GET endpoint (``/state``, ``/master/tasks/`` ...)."""
    path = request.path.strip("/")
    path = path.removeprefix("master/")
    now = master.clock()
    state = master.state
    if path == "health":
        return web.Response(status=200)
    if path == "redirect":
        return web.Response(status=307, headers={"Location": f"//{state.hostname}:{state.port}"})
    if path in ("state", "state.json"):
        return _json(views.legacy_state(state, now, master.flags()), request)
    if path == "state-summary":
        body = views.legacy_state(state, now, master.flags())
        for framework in body["frameworks"] + body["completed_frameworks"]:
            for key in ("tasks", "completed_tasks", "unreachable_tasks", "offers", "executors"):
                framework.pop(key, None)
        return _json(body, request)
    if path == "frameworks":
        return _json(views.legacy_frameworks(state), request)
    if path == "slaves":
        return _json(views.legacy_slaves(state), request)
    if path in ("tasks", "tasks.json"):
        query = request.query
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            return bad_request(f"Unknown order '{order}'")
        return _json(
            views.legacy_tasks(
                state,
                limit=_int(query.get("limit"), 100),
                offset=_int(query.get("offset"), 0),
                order=order,
                framework_id=query.get("framework_id"),
                task_id=query.get("task_id"),
            ),
            request,
        )
    if path == "version":
        return _json({"version": MESOS_VERSION, "build_user": "", "git_sha": ""}, request)
    if path == "flags":
        return _json({"flags": master.flags()}, request)
    return _json(views.metrics_snapshot(state, now), request)


async def metrics_handler(master: LocalMaster, request: web.Request) -> web.StreamResponse:
    """Serve ``/metrics/snapshot``."""
    return _json(views.metrics_snapshot(master.state, master.clock()), request)


async def operator_handler(master: LocalMaster, request: web.Request) -> web.StreamResponse:
    """Serve ``POST /api/v1`` (GET_* calls and SUBSCRIBE)."""
    if master.clock() < master.state.unavailable_until:
        return web.Response(status=503, text="Master has not finished recovery")
    call = await read_call(request, "master.Call", "Call")
    if isinstance(call, web.Response):
        return call
    kind = call.get("type")
    if kind is None:
        return bad_request("Failed to validate master::Call: Expecting 'type' to be present")
    if not accepts_json(request):
        return not_acceptable()
    if kind == "SUBSCRIBE":
        return await _subscribe(master, request)
    answer = views.operator_response(master.state, kind, master.clock())
    if answer is None:
        return web.Response(status=501, text=f"Call type {kind} is not implemented")
    return web.json_response(answer)


async def _subscribe(master: LocalMaster, request: web.Request) -> web.StreamResponse:
    stream = EventStream()
    response = web.StreamResponse(status=200, headers={"Content-Type": APPLICATION_JSON})
    response.enable_chunked_encoding()
    await response.prepare(request)
    stream.put(
        {
            "type": "SUBSCRIBED",
            "subscribed": {
                "get_state": views.get_state(master.state),
                "heartbeat_interval_seconds": master.config.heartbeat_interval,
            },
        }
    )
    master.operator_streams.add(stream)
    master.state.operator_watchers += 1
    try:
        await stream.pump(response)
    except ConnectionResetError:
        pass
    finally:
        master.operator_streams.discard(stream)
        master.state.operator_watchers -= 1
    return response
