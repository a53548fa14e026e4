"""Pieces shared by the benchmark scripts.

The scripts run as ``python benchmarks/bench_x.py``, so this module is imported as
``_common`` (the script's directory is on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import subprocess

from aiohttp import web

from mesos_wm.local.fast_http import FastRequest, FrontProtocol, serve_front


class EmptyServer:
    """A loopback server whose scheduler endpoint answers 202 to every POST, on the same
    server stack as the embedded master's port: the lean front
    (:mod:`mesos_wm.local.fast_http`) answers plain POSTs, aiohttp the rest.

    It reads each body and does nothing else: the HTTP ceiling the benchmarks compare with.
    """

    def __init__(self, runner: web.AppRunner, front: asyncio.Server,
                 connections: set[FrontProtocol]) -> None:
        self.runner = runner
        self.front = front
        self.connections = connections

    async def cleanup(self) -> None:
        """Stop listening and close every connection."""
        self.front.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        await self.runner.cleanup()
        await self.front.wait_closed()


async def start_empty_server() -> tuple[EmptyServer, str]:
    """Start the :class:`EmptyServer` on an ephemeral loopback port.

    Returns:
        The server (``await server.cleanup()`` stops it) and the base URL
        ``http://127.0.0.1:<port>``.
    """

    async def empty(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    def fast(request: FastRequest) -> tuple[int, str | None] | None:
        return (202, None) if request.path == "/api/v1/scheduler" else None

    app = web.Application()
    app.router.add_post("/api/v1/scheduler", empty)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    front, connections = await serve_front(fast, runner.server, "127.0.0.1", 0,
                                           max_body_size=1024 * 1024)
    port = front.sockets[0].getsockname()[1]
    return EmptyServer(runner, front, connections), f"http://127.0.0.1:{port}"


def stop_child(process: subprocess.Popen[str], timeout: float) -> None:
    """Close a child's stdin (its signal to exit), wait for it, and kill it after ``timeout`` s."""
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
