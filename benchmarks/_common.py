"""Pieces shared by the benchmark scripts.

The scripts run as ``python benchmarks/bench_x.py``, so this module is imported as
``_common`` (the script's directory is on ``sys.path``).
"""

from __future__ import annotations

import subprocess

from aiohttp import web


async def start_empty_server() -> tuple[web.AppRunner, str]:
    """Start a loopback aiohttp server whose scheduler endpoint answers 202 to every POST.

    It reads each body and does nothing else: the HTTP ceiling the benchmarks compare with.

    Returns:
        The runner (``await runner.cleanup()`` stops it) and the base URL
        ``http://127.0.0.1:<port>``.
    """

    async def empty(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/api/v1/scheduler", empty)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def stop_child(process: subprocess.Popen[str], timeout: float) -> None:
    """Close a child's stdin (its signal to exit), wait for it, and kill it after ``timeout`` s."""
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
