"""DATA_STAGING INPUT from file:// and from a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mesos_wm.executor.context import ExecutorSettings, TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.handlers.data_staging import data_staging
from mesos_wm.executor.outcome import Outcome
from mesos_wm.executor.registry import HandlerRegistry
from tests.executor.helpers import make_spec

MakeContext = Callable[..., TaskContext]
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
REGISTRY = HandlerRegistry(plugins={})


@pytest.fixture
async def http_server() -> AsyncIterator[TestServer]:
    async def payload(request: web.Request) -> web.Response:
        return web.Response(body=PAYLOAD)

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for offset in range(0, len(PAYLOAD), 65536):
            await response.write(PAYLOAD[offset : offset + 65536])
        await response.write_eof()
        return response

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no such file")

    async def broken(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(len(PAYLOAD))})
        await response.prepare(request)
        await response.write(PAYLOAD[:1000])
        assert request.transport is not None
        request.transport.close()
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/payload")

    app = web.Application()
    app.router.add_get("/payload", payload)
    app.router.add_get("/streamed", streamed)
    app.router.add_get("/missing", missing)
    app.router.add_get("/broken", broken)
    app.router.add_get("/redirect", redirect)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if ".partial" in p.name)


async def test_http_and_file_inputs_are_staged_byte_for_byte(
    http_server: TestServer, storage: Path, sandbox: Path, make_context: MakeContext
) -> None:
    (storage / "params.txt").write_bytes(b"alpha=1\n")
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[
            {
                "uri": str(http_server.make_url("/payload")),
                "destination": "inputs/big.bin",
                "sha256": hashlib.sha256(PAYLOAD).hexdigest().upper(),
            },
            {"uri": f"file://{storage}/params.txt"},
        ],
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FINISHED, outcome.message
    workdir = sandbox / "wf-1"
    assert (workdir / "inputs" / "big.bin").read_bytes() == PAYLOAD
    assert (workdir / "inputs" / "params.txt").read_bytes() == b"alpha=1\n"
    described = {o.path: o for o in outcome.result.outputs}
    assert described["inputs/big.bin"].size_bytes == len(PAYLOAD)
    assert described["inputs/big.bin"].sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert described["inputs/params.txt"].sha256 == hashlib.sha256(b"alpha=1\n").hexdigest()
    assert outcome.result.task_id == "t-1"
    assert outcome.result.duration_seconds >= 0


async def test_chunked_download_and_redirect(
    http_server: TestServer, sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[
            {"uri": str(http_server.make_url("/streamed")), "destination": "a"},
            {"uri": str(http_server.make_url("/redirect")), "destination": "b"},
        ],
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.ok, outcome.message
    assert (sandbox / "wf-1" / "a").read_bytes() == PAYLOAD
    assert (sandbox / "wf-1" / "b").read_bytes() == PAYLOAD


@pytest.mark.parametrize("path", ["/payload", "/streamed"])
async def test_oversized_download_fails_and_leaves_nothing(
    http_server: TestServer, sandbox: Path, make_context: MakeContext, path: str
) -> None:
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[{"uri": str(http_server.make_url(path)), "destination": "x", "max_bytes": 1000}],
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "limit of 1000 bytes" in outcome.message
    assert not (sandbox / "wf-1" / "x").exists()
    assert leftovers(sandbox) == []


async def test_executor_wide_download_cap_applies_without_a_spec_limit(
    http_server: TestServer, sandbox: Path, settings: ExecutorSettings, make_context: MakeContext
) -> None:
    capped = ExecutorSettings(**{**settings.__dict__, "max_download_bytes": 4096})
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[{"uri": str(http_server.make_url("/streamed")), "destination": "x"}],
    )
    outcome = await execute(spec, make_context(spec, settings=capped), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "4096" in outcome.message
    assert leftovers(sandbox) == []


async def test_checksum_mismatch_fails_and_keeps_the_old_file(
    http_server: TestServer, sandbox: Path, make_context: MakeContext
) -> None:
    workdir = sandbox / "wf-1"
    workdir.mkdir()
    (workdir / "x").write_text("previous")
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[
            {"uri": str(http_server.make_url("/payload")), "destination": "x", "sha256": "0" * 64}
        ],
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "expected 0000" in outcome.message
    assert (workdir / "x").read_text() == "previous"
    assert leftovers(sandbox) == []


@pytest.mark.parametrize(("path", "words"), [("/missing", "HTTP 404"), ("/broken", "failed")])
async def test_http_errors_are_failures_with_a_message(
    http_server: TestServer, sandbox: Path, make_context: MakeContext, path: str, words: str
) -> None:
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[{"uri": str(http_server.make_url(path)), "destination": "x"}],
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert words in outcome.message
    assert leftovers(sandbox) == []


async def test_connection_refused_is_a_failure(make_context: MakeContext) -> None:
    source = {"uri": "http://127.0.0.1:9/x", "destination": "x"}
    spec = make_spec("DATA_STAGING", direction="INPUT", sources=[source])
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "GET http://127.0.0.1:9/x failed" in outcome.message


async def test_credentials_in_a_uri_never_reach_the_message(
    make_context: MakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    spec = make_spec(
        "DATA_STAGING",
        direction="INPUT",
        sources=[{"uri": "http://alice:hunter2@127.0.0.1:9/x?key=topsecret", "destination": "x"}],
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    for text in (outcome.message, caplog.text):
        assert "hunter2" not in text
        assert "topsecret" not in text


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"uri": "file:///etc/passwd", "destination": "x"}, "outside the configured storage"),
        ({"uri": "file://{storage}/in", "destination": "../escape"}, "'..'"),
        ({"uri": "file://{storage}/in", "destination": "/tmp/abs"}, "must be relative"),
        ({"uri": "file://{storage}/in", "destination": "evil/x"}, "leads outside"),
        ({"uri": "gopher://host/x", "destination": "x"}, "no transport"),
        ({"uri": "file://{storage}/in", "sha256": "xyz"}, "64 hexadecimal"),
    ],
)
async def test_invalid_sources_are_task_errors(
    sandbox: Path, storage: Path, tmp_path: Path, make_context: MakeContext,
    source: dict[str, str], words: str,
) -> None:
    (storage / "in").write_text("data")
    workdir = sandbox / "wf-1"
    workdir.mkdir()
    (workdir / "evil").symlink_to(tmp_path)
    source = {k: v.format(storage=storage) for k, v in source.items()}
    spec = make_spec("DATA_STAGING", direction="INPUT", sources=[source])
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.ERROR, outcome.message
    assert words in outcome.message
    assert not (tmp_path / "x").exists()
    assert not (sandbox / "escape").exists()


async def test_a_storage_symlink_to_outside_is_refused(
    storage: Path, make_context: MakeContext
) -> None:
    (storage / "etc").symlink_to("/etc")
    spec = make_spec(
        "DATA_STAGING", direction="INPUT", sources=[{"uri": f"file://{storage}/etc/passwd"}]
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.ERROR


async def test_staging_timeout(
    sandbox: Path, make_context: MakeContext
) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"x")
        await asyncio.sleep(30)
        return response

    app = web.Application()
    app.router.add_get("/slow", slow)
    async with TestServer(app, host="127.0.0.1") as server:
        spec = make_spec(
            "DATA_STAGING",
            direction="INPUT",
            staging_timeout_seconds=0.3,
            sources=[{"uri": str(server.make_url("/slow")), "destination": "slow"}],
        )
        outcome = await data_staging(spec, make_context(spec))
    assert outcome.state is Outcome.FAILED
    assert "within 0.3s" in outcome.message
    assert leftovers(sandbox) == []
    assert not (sandbox / "wf-1" / "slow").exists()


async def test_missing_direction_and_sources_are_errors(make_context: MakeContext) -> None:
    for spec in (make_spec("DATA_STAGING"), make_spec("DATA_STAGING", direction="INPUT")):
        outcome = await execute(spec, make_context(spec), REGISTRY)
        assert outcome.state is Outcome.ERROR
