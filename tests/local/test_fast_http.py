"""The lean front of the master's port: plain scheduler calls on the fast path, the rest
handed to aiohttp, with raw HTTP/1.1 over loopback sockets against a real master."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from mesos_wm.local.master import LocalMaster
from mesos_wm.testing.raw import RawScheduler


class Conn:
    """One raw keep-alive connection: write requests, read whole answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> Conn:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    def send(self, *requests: bytes) -> None:
        self.writer.write(b"".join(requests))

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body

    def close(self) -> None:
        self.writer.close()


def post(body: Any, stream_id: str | None, *, extra: str = "",
         content_type: str = "application/json") -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    stream = f"Mesos-Stream-Id: {stream_id}\r\n" if stream_id else ""
    return (f"POST /api/v1/scheduler HTTP/1.1\r\nHost: m\r\nContent-Type: {content_type}\r\n"
            f"{stream}{extra}Content-Length: {len(data)}\r\n\r\n").encode() + data


def decline(framework_id: str, offer: str) -> dict[str, Any]:
    return {"type": "DECLINE", "framework_id": {"value": framework_id},
            "decline": {"offer_ids": [{"value": offer}]}}


@contextlib.asynccontextmanager
async def subscribed(master: LocalMaster) -> AsyncIterator[tuple[RawScheduler, Conn]]:
    """A subscribed scheduler (its own connection) and a second, raw connection for calls."""
    raw = RawScheduler(master.url, {"user": "tester", "name": "fast"})
    await raw.subscribe()
    try:
        conn = await Conn.open(master.url)
        try:
            yield raw, conn
        finally:
            conn.close()
    finally:
        await raw.close()


async def test_pipelined_plain_calls_are_answered_in_order(
        mesos_master: LocalMaster) -> None:
    async with subscribed(mesos_master) as (raw, conn):
        fid, sid = raw.framework_id, raw.stream_id
        conn.send(post(decline(fid, "nope-1"), sid), post(decline(fid, "nope-2"), sid),
                  post(decline(fid, "nope-3"), "wrong-stream"), post({"type": "REVIVE",
                       "framework_id": {"value": fid}}, sid))
        answers = [await conn.answer() for _ in range(4)]
        assert [a[0] for a in answers] == [202, 202, 400, 202]
        status, headers, body = answers[0]
        assert headers["content-length"] == "0" and "date" in headers
        assert headers["server"].startswith("Python/")
        assert answers[2][1]["content-type"] == "text/plain; charset=utf-8"
        assert answers[2][2].decode() == (
            "The stream ID 'wrong-stream' included in this request didn't match the stream ID "
            f"currently associated with framework ID {fid}")


async def test_fast_and_aiohttp_answers_agree_on_errors(mesos_master: LocalMaster) -> None:
    async with subscribed(mesos_master) as (raw, conn):
        fid = raw.framework_id
        for stream_id in (None, "x"):
            conn.send(post(decline(fid, "o"), stream_id))
            fast = await conn.answer()
            slow_conn = await Conn.open(mesos_master.url)
            slow_conn.send(post(decline(fid, "o"), stream_id, extra="Connection: keep-alive\r\n"))
            slow = await slow_conn.answer()
            slow_conn.close()
            assert (fast[0], fast[2]) == (slow[0], slow[2])
            assert fast[0] == 400
            assert fast[1]["content-type"] == slow[1]["content-type"]


async def test_a_connection_moves_to_aiohttp_at_the_first_request_it_does_not_take(
        mesos_master: LocalMaster) -> None:
    async with subscribed(mesos_master) as (raw, conn):
        fid, sid = raw.framework_id, raw.stream_id
        conn.send(post(decline(fid, "o-1"), sid), post(b"{not json", sid),
                  post(decline(fid, "o-2"), sid, content_type="application/json; charset=utf-8"),
                  b"GET /health HTTP/1.1\r\nHost: m\r\n\r\n", post(decline(fid, "o-3"), sid))
        first, bad_json, charset, health, after = [await conn.answer() for _ in range(5)]
        assert first[0] == 202
        assert bad_json[0] == 400 and bad_json[2].startswith(b"Failed to parse body into JSON")
        assert charset[0] == 415
        assert health[0] == 200
        assert after[0] == 202


async def test_subscribe_on_the_front_streams_events_through_aiohttp(
        mesos_master: LocalMaster) -> None:
    conn = await Conn.open(mesos_master.url)
    try:
        call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}
        conn.send(post(call, None, extra="Accept: application/json\r\n"))
        head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"Transfer-Encoding: chunked" in head and b"Mesos-Stream-Id: " in head
        size = int(await conn.reader.readline(), 16)
        chunk = await conn.reader.readexactly(size)
        length, _, record = chunk.partition(b"\n")
        assert json.loads(record[: int(length)])["type"] == "SUBSCRIBED"
    finally:
        conn.close()


async def test_an_acknowledge_on_the_fast_path_releases_the_next_update(
        mesos_master_factory: Any) -> None:
    master = await mesos_master_factory(simulated=True, task_duration=0.0)
    async with subscribed(master) as (raw, conn):
        offers = await raw.next_event("OFFERS")
        offer = offers["offers"]["offers"][0]
        task = {"name": "t", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
                "command": {"value": "true"}}
        conn.send(post({"type": "ACCEPT", "framework_id": {"value": raw.framework_id},
                        "accept": {"offer_ids": [offer["id"]], "operations": [
                            {"type": "LAUNCH", "launch": {"task_infos": [task]}}]}},
                       raw.stream_id))
        assert (await conn.answer())[0] == 202
        states = []
        for _ in range(2):
            update = (await raw.next_event("UPDATE"))["update"]["status"]
            states.append(update["state"])
            conn.send(post({"type": "ACKNOWLEDGE", "framework_id": {"value": raw.framework_id},
                            "acknowledge": {"agent_id": update["agent_id"],
                                            "task_id": update["task_id"],
                                            "uuid": update["uuid"]}}, raw.stream_id))
            assert (await conn.answer())[0] == 202
        assert states == ["TASK_RUNNING", "TASK_FINISHED"]
        assert master.state.metrics["master/valid_status_update_acknowledgements"] == 2
