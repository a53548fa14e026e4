"""The lean HTTP/1.1 client of the scheduler calls, against real servers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from mesos_wm.drivers.http11 import ConnectFailed, ConnectionBroke, HttpClient
from mesos_wm.drivers.transport import translate_client_error
from mesos_wm.errors import ConnectError, SubscriptionLost, TransportError

Answer = Callable[[bytes], Awaitable[bytes | None]]


class RawServer:
    """A TCP server that reads one request at a time and writes what ``answer`` returns
    (None: close the connection without answering); it closes the connection after an
    HTTP/1.0 answer or one that says ``Connection: close``."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/api/v1/scheduler"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                reply = await self.answer(request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if reply.startswith(b"HTTP/1.0") or b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def close(self) -> None:
        """Stop listening and close the connections still open (since Python 3.12.1,
        ``wait_closed`` waits for them, and the client keeps its idle ones alive)."""
        if self.server is not None:
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            await self.server.wait_closed()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    made = HttpClient(limit=4, connect_timeout=2.0)
    yield made
    await made.close()


async def raw(answer: Answer) -> tuple[RawServer, str]:
    server = RawServer(answer)
    return server, await server.start()


@contextlib.asynccontextmanager
async def raw_and_client(answer: Answer, *, limit: int, pipeline: int
                         ) -> AsyncIterator[tuple[RawServer, str, HttpClient]]:
    """A :func:`raw` server and a pipelining client of its own, both closed at the end."""
    server, url = await raw(answer)
    client = HttpClient(limit=limit, pipeline=pipeline)
    try:
        yield server, url, client
    finally:
        await client.close()
        await server.close()


async def test_calls_reuse_one_keep_alive_connection_and_send_host_and_length(
        client: HttpClient) -> None:
    async def accepted(request: bytes) -> bytes:
        return b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

    server, url = await raw(accepted)
    try:
        for n in range(5):
            body = b'{"n": %d}' % n
            response = await client.post(url, body, {"Content-Type": "application/json"})
            assert (response.status, response.body) == (202, b"")
        assert server.connections == 1
        first = server.requests[0]
        assert first.startswith(b"POST /api/v1/scheduler HTTP/1.1\r\n")
        assert b"\r\nHost: 127.0.0.1:" in first and b"\r\nContent-Length: 8\r\n" in first
        assert b"\r\nContent-Type: application/json\r\n" in first
        assert first.endswith(b'\r\n\r\n{"n": 0}')
    finally:
        await server.close()


async def test_bodies_by_length_chunked_and_until_close_and_connection_close(
        client: HttpClient) -> None:
    replies = iter([
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad request",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;x=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nConnection: close\r\n"
        b"Content-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: //m2:5050/master/api/v1/scheduler\r\n"
        b"Content-Length: 0\r\n\r\n",
    ])

    async def answer(request: bytes) -> bytes | None:
        reply = next(replies)
        return reply

    server, url = await raw(answer)
    try:
        bad = await client.post(url, b"{}", {})
        assert (bad.status, bad.body) == (400, b"bad request")
        chunked = await client.post(url, b"{}", {})
        assert (chunked.status, chunked.body) == (200, b"hello world")
        assert server.connections == 1
        closing = await client.post(url, b"{}", {})
        assert (closing.status, closing.body) == (202, b"ok")
        until_close = await client.post(url, b"{}", {})
        assert (until_close.status, until_close.body) == (200, b"until the end")
        redirect = await client.post(url, b"{}", {})
        assert redirect.status == 307
        assert redirect.headers["location"] == "//m2:5050/master/api/v1/scheduler"
        assert server.connections == 3
    finally:
        await server.close()


async def test_a_keep_alive_connection_the_server_closed_while_idle_is_replaced(
        client: HttpClient) -> None:
    async def once(request: bytes) -> bytes:
        return b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

    server, url = await raw(once)
    try:
        assert (await client.post(url, b"{}", {})).status == 202
        for task in asyncio.all_tasks():
            if "RawServer._serve" in repr(task.get_coro()):
                task.cancel()
        await asyncio.sleep(0.05)
        assert (await client.post(url, b"{}", {})).status == 202
        assert server.connections == 2
    finally:
        await server.close()


async def test_a_server_that_closes_before_answering_breaks_the_call(client: HttpClient) -> None:
    async def hang_up(request: bytes) -> bytes | None:
        return None

    server, url = await raw(hang_up)
    try:
        with pytest.raises(ConnectionBroke) as broke:
            await client.post(url, b"{}", {})
        assert isinstance(translate_client_error(broke.value, "ACKNOWLEDGE"), SubscriptionLost)
    finally:
        await server.close()


async def test_an_answer_that_is_not_http_breaks_the_call(client: HttpClient) -> None:
    async def garbage(request: bytes) -> bytes:
        return b"SSH-2.0-OpenSSH\r\n\r\n"

    server, url = await raw(garbage)
    try:
        with pytest.raises(ConnectionBroke, match="not an HTTP"):
            await client.post(url, b"{}", {})
    finally:
        await server.close()


async def test_no_answer_within_the_timeout_and_the_connection_is_not_reused(
        client: HttpClient) -> None:
    calls = 0

    async def slow_first(request: bytes) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(0.5)
        return b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

    server, url = await raw(slow_first)
    try:
        with pytest.raises(TimeoutError) as timed_out:
            await client.post(url, b"{}", {}, timeout=0.1)
        assert isinstance(translate_client_error(timed_out.value, "KILL"), TransportError)
        assert (await client.post(url, b"{}", {})).status == 202
        assert server.connections == 2
    finally:
        await server.close()


async def test_a_refused_connection_is_a_connect_error(client: HttpClient) -> None:
    server, url = await raw(lambda request: asyncio.sleep(0, b""))
    await server.close()
    with pytest.raises(ConnectFailed) as refused:
        await client.post(url, b"{}", {})
    error = translate_client_error(refused.value, "REVIVE to x")
    assert isinstance(error, ConnectError) and "cannot connect" in str(error)


async def test_at_most_limit_connections_per_origin() -> None:
    open_now = peak = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal open_now, peak
        open_now += 1
        peak = max(peak, open_now)
        await asyncio.sleep(0.02)
        open_now -= 1
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/api/v1/scheduler", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = HttpClient(limit=2)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/scheduler"
        answers = await asyncio.gather(*(client.post(url, b"{}", {}) for _ in range(8)))
        assert [a.status for a in answers] == [202] * 8
        assert peak == 2
    finally:
        await client.close()
        await runner.cleanup()
    with pytest.raises(RuntimeError, match="closed"):
        await client.post(url, b"{}", {})


async def test_urls_that_are_not_http_are_rejected(client: HttpClient) -> None:
    with pytest.raises(ValueError, match="http"):
        await client.post("ftp://m1/api", b"", {})
    with pytest.raises(ValueError):
        HttpClient(limit=0)


def echo_reply(request: bytes, *, chunked: bool = False, close: bool = False) -> bytes:
    body = request.split(b"\r\n\r\n", 1)[1]
    extra = b"Connection: close\r\n" if close else b""
    if chunked:
        half = len(body) // 2
        return (b"HTTP/1.1 200 OK\r\n" + extra + b"Transfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half,
                                                         body[half:]))
    return b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


async def test_pipelined_calls_share_a_connection_and_each_gets_its_own_answer() -> None:
    async def echo(request: bytes) -> bytes:
        return echo_reply(request, chunked=b'"c"' in request)

    async with raw_and_client(echo, limit=2, pipeline=4) as (
            server, url, client):
        bodies = [b'{"n": %d, "k": "%s"}' % (n, b"c" if n % 3 else b"l") for n in range(20)]
        answers = await asyncio.gather(*(client.post(url, b, {}) for b in bodies))
        assert [a.body for a in answers] == bodies
        assert server.connections == 2
        again = await client.post(url, b'{"after": 1}', {})
        assert again.body == b'{"after": 1}' and server.connections == 2


async def test_an_answer_that_closes_the_connection_fails_the_calls_queued_behind_it() -> None:
    async def close_second(request: bytes) -> bytes:
        return echo_reply(request, close=b'"n": 1}' in request)

    async with raw_and_client(close_second, limit=1, pipeline=4) as (
            server, url, client):
        results = await asyncio.gather(
            *(client.post(url, b'{"n": %d}' % n, {}) for n in range(4)), return_exceptions=True)
        assert [r.body for r in results[:2]] == [b'{"n": 0}', b'{"n": 1}']  # type: ignore[union-attr]
        assert all(isinstance(r, ConnectionBroke) for r in results[2:])
        assert (await client.post(url, b'{"n": 9}', {})).body == b'{"n": 9}'
        assert server.connections == 2


async def test_a_server_hanging_up_fails_every_pipelined_call() -> None:
    async def hang_up(request: bytes) -> bytes | None:
        return None

    async with raw_and_client(hang_up, limit=1, pipeline=3) as (
            server, url, client):
        results = await asyncio.gather(*(client.post(url, b"{}", {}) for _ in range(3)),
                                       return_exceptions=True)
        assert all(isinstance(r, ConnectionBroke) for r in results)


async def test_pipelined_calls_to_the_master_front_are_answered_in_one_write_each_turn(
        ) -> None:
    from mesos_wm.local.fast_http import FastRequest, serve_front

    seen: list[int] = []

    def fast(request: FastRequest) -> tuple[int, str | None]:
        seen.append(len(request.body))
        return 202, None

    front, connections = await serve_front(fast, lambda: asyncio.Protocol(), "127.0.0.1", 0,
                                           max_body_size=1024)
    url = f"http://127.0.0.1:{front.sockets[0].getsockname()[1]}/api/v1/scheduler"
    client = HttpClient(limit=1, pipeline=8)
    try:
        answers = await asyncio.gather(*(client.post(url, b"x" * n, {}) for n in range(8)))
        assert [a.status for a in answers] == [202] * 8
        assert sorted(seen) == list(range(8))
    finally:
        await client.close()
        front.close()
        for connection in list(connections):
            if connection.transport is not None:
                connection.transport.close()
        await front.wait_closed()
