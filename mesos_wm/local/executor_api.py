"""The ``/api/v1/executor`` endpoint of an embedded agent (``src/slave/http.cpp``).

Order of checks: method (405), content type (400/415), body (400), call validation
(400 ``Failed to validate mesos::executor::Call``), authentication when executor tokens
are on (401), framework and executor lookup (400), not subscribed (403), then SUBSCRIBE
(``Accept``, 406; a 200 stream of SUBSCRIBED, queued LAUNCH events, ACKNOWLEDGED, ...)
or 202 for UPDATE, MESSAGE and HEARTBEAT.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mesos_wm.local import messages as msg
from mesos_wm.local import validation
from mesos_wm.local.http_util import (
    APPLICATION_JSON,
    EventStream,
    accepts_json,
    bad_request,
    not_acceptable,
    read_call,
)

if TYPE_CHECKING:
    from mesos_wm.local.agent import AgentRuntime, ExecutorProcess

__all__ = ["build_agent_app"]


def build_agent_app(agent: AgentRuntime) -> web.Application:
    """Return the aiohttp application of one agent."""
    app = web.Application(client_max_size=agent.master.config.max_body_size)

    async def executor(request: web.Request) -> web.StreamResponse:
        return await executor_handler(agent, request)

    async def health(request: web.Request) -> web.StreamResponse:
        return web.Response(status=200)

    app.router.add_route("*", "/api/v1/executor", executor)
    app.router.add_get("/health", health)
    return app


async def executor_handler(agent: AgentRuntime, request: web.Request) -> web.StreamResponse:
    """Serve one executor call."""
    call = await read_call(request, "executor.Call", "Call")
    if isinstance(call, web.Response):
        return call
    error = validation.executor_call(call)
    if error is not None:
        return bad_request(f"Failed to validate mesos::executor::Call: {error}")
    framework_id = call["framework_id"]["value"]
    executor_id = call["executor_id"]["value"]
    if agent.master.config.executor_authentication:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        known = {p.token: p for p in agent.executors.values() if p.token}
        owner = known.get(token.strip()) if scheme == "Bearer" else None
        if owner is None:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="mesos"'})
        if not hmac.compare_digest(
            owner.framework_id + "/" + owner.executor_id, framework_id + "/" + executor_id
        ):
            return web.Response(status=403, text="Executor is not authorized for this call")
    if not any(key[0] == framework_id for key in agent.executors):
        return bad_request("Framework cannot be found")
    process = agent.executors.get((framework_id, executor_id))
    if process is None or process.process is None:
        return bad_request("Executor cannot be found")
    kind = call["type"]
    if kind == "SUBSCRIBE":
        return await _subscribe(agent, process, request, call)
    if not process.subscribed:
        return web.Response(status=403, text="Executor is not subscribed")
    if kind == "UPDATE":
        status = dict(call["update"]["status"])
        status.setdefault("executor_id", msg.id_of(executor_id))
        status.setdefault("source", "SOURCE_EXECUTOR")
        status.setdefault("timestamp", agent.master.clock())
        agent.master.executor_update(agent.agent_id, framework_id, status)
    elif kind == "MESSAGE":
        agent.master.executor_message(
            agent.agent_id, framework_id, executor_id, call["message"]["data"]
        )
    elif kind == "UNKNOWN":
        return web.Response(status=501)
    return web.Response(status=202)


async def _subscribe(
    agent: AgentRuntime, process: ExecutorProcess, request: web.Request, call: dict[str, Any]
) -> web.StreamResponse:
    if not accepts_json(request):
        return not_acceptable()
    if process.stream is not None:
        process.stream.close()
    stream = EventStream()
    response = web.StreamResponse(status=200, headers={"Content-Type": APPLICATION_JSON})
    response.enable_chunked_encoding()
    await response.prepare(request)
    process.stream = stream
    process.subscribed = True
    master = agent.master
    stream.put(
        msg.executor_subscribed(
            process.info,
            process.framework_info,
            master.state.agent_info(master.state.agents[agent.agent_id])
            if agent.agent_id in master.state.agents
            else {"hostname": "localhost", "id": msg.id_of(agent.agent_id)},
            process.container_id,
        )
    )
    subscribe = call.get("subscribe", {})
    for update in subscribe.get("unacknowledged_updates", []):
        status = dict(update["status"])
        status.setdefault("executor_id", msg.id_of(process.executor_id))
        status.setdefault("source", "SOURCE_EXECUTOR")
        master.executor_update(agent.agent_id, process.framework_id, status)
    agent.executor_subscribed(process, subscribe.get("unacknowledged_tasks", []))
    try:
        await stream.pump(response)
    except ConnectionResetError:
        pass
    finally:
        if process.stream is stream:
            agent.executor_disconnected(process)
    return response
