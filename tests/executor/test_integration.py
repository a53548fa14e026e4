"""The executor as a real subprocess of a local agent, driven by LAUNCH, KILL and SHUTDOWN.

The local master (mesos_wm.local) spawns ``python -m mesos_wm.executor`` from
``ExecutorInfo.command`` with the MESOS_* environment; a test framework on the real
scheduler driver launches tasks and reads their status updates.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mesos_wm.executor.launch import executor_id_for
from mesos_wm.ids import decode_bytes
from mesos_wm.local import FAST
from mesos_wm.proto.taskspec_pb2 import TaskResult
from tests.executor.cluster import Cluster
from tests.executor.helpers import make_spec, pid_alive, read_pids

INPUT_HTTP = b"".join(f"{n} {n * n}\n".encode() for n in range(20000))
INPUT_FILE = b"scale=3\noffset=7\n"

# The "application": reads both inputs, writes two outputs and a report.
COMPUTE = textwrap.dedent(
    """
    import hashlib, json, sys
    params = dict(line.split("=") for line in open("inputs/params.txt").read().split())
    scale, offset = int(params["scale"]), int(params["offset"])
    total = 0
    with open("inputs/squares.txt") as src, open("outputs/scaled.dat", "w") as out:
        for line in src:
            n, square = map(int, line.split())
            value = square * scale + offset
            total += value
            out.write(f"{n} {value}\\n")
    with open("outputs/summary.json", "w") as f:
        json.dump({"total": total, "scale": scale, "offset": offset}, f, sort_keys=True)
    print("computed", total)
    """
)


def expected_outputs() -> dict[str, bytes]:
    lines, total = [], 0
    for n in range(20000):
        value = n * n * 3 + 7
        total += value
        lines.append(f"{n} {value}\n")
    summary = f'{{"offset": 7, "scale": 3, "total": {total}}}'
    return {"outputs/scaled.dat": "".join(lines).encode(), "outputs/summary.json": summary.encode()}


def result_of(status: object) -> TaskResult:
    return TaskResult.FromString(decode_bytes(status.data))  # type: ignore[attr-defined]


@pytest.fixture
async def http_server() -> AsyncIterator[TestServer]:
    async def squares(request: web.Request) -> web.Response:
        return web.Response(body=INPUT_HTTP)

    app = web.Application()
    app.router.add_get("/squares.txt", squares)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    storage = tmp_path / "storage"
    storage.mkdir()
    (storage / "inputs").mkdir()
    (storage / "inputs" / "params.txt").write_bytes(INPUT_FILE)
    started = await Cluster(tmp_path / "agents", storage).start()
    try:
        yield started
    finally:
        await started.stop()


async def test_full_airavata_chain(cluster: Cluster, http_server: TestServer) -> None:
    wf = "exp-42"
    storage = cluster.storage
    chain = [
        make_spec("ENV_SETUP", workflow_id=wf, task_id="setup", directory_mode=0o750),
        make_spec(
            "DATA_STAGING", workflow_id=wf, task_id="stage-in", direction="INPUT",
            sources=[
                {"uri": str(http_server.make_url("/squares.txt")),
                 "destination": "inputs/squares.txt",
                 "sha256": hashlib.sha256(INPUT_HTTP).hexdigest()},
                {"uri": f"file://{storage}/inputs/params.txt",
                 "destination": "inputs/params.txt"},
            ],
        ),
        make_spec("JOB_SUBMISSION", workflow_id=wf, task_id="run",
                  argv=[sys.executable, "-c", COMPUTE], wall_time_seconds=60),
        make_spec("DATA_STAGING", workflow_id=wf, task_id="stage-out", direction="OUTPUT",
                  globs=["outputs/*", "logs/*"], destination_uri=f"file://{storage}/exp-42/"),
        make_spec("ENV_CLEANUP", workflow_id=wf, task_id="cleanup"),
    ]
    for spec in chain:
        status = await cluster.run(spec)
        task_id = f"{wf}.{spec.task_id}"
        assert status.state == "TASK_FINISHED", (spec.task_id, status.message)
        assert cluster.states(task_id) == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
        assert status.executor_id.value == executor_id_for(wf)
        assert result_of(status).task_id == spec.task_id
    for name, content in expected_outputs().items():
        assert (storage / "exp-42" / name).read_bytes() == content, name
    assert (storage / "exp-42" / "logs" / "run.stdout").read_text().startswith("computed ")
    [sandbox] = cluster.sandboxes(executor_id_for(wf))
    assert not (sandbox / wf).exists()
    staged = {o.path: o for o in result_of(cluster.updates[f"{wf}.stage-out"][-1]).outputs}
    scaled = expected_outputs()["outputs/scaled.dat"]
    assert staged["outputs/scaled.dat"].sha256 == hashlib.sha256(scaled).hexdigest()


async def test_wall_time_expiry(cluster: Cluster) -> None:
    spec = make_spec("JOB_SUBMISSION", workflow_id="wt", task_id="slow",
                     argv=["sleep", "60"], wall_time_seconds=1.0)
    started = time.monotonic()
    status = await cluster.run(spec)
    assert status.state == "TASK_FAILED"
    assert status.reason == "REASON_CONTAINER_LIMITATION"
    assert "wall time of 1s expired" in status.message
    assert time.monotonic() - started < 30


async def test_failing_job_then_run_on_always_staging(cluster: Cluster) -> None:
    wf = "fails"
    await cluster.run(make_spec("ENV_SETUP", workflow_id=wf, task_id="setup"))
    failing = make_spec("JOB_SUBMISSION", workflow_id=wf, task_id="run",
                        shell="echo partial > outputs/partial.dat; echo 'bad input' >&2; exit 3")
    status = await cluster.run(failing)
    assert status.state == "TASK_FAILED"
    assert status.message == "exit code 3: bad input"
    assert result_of(status).exit_code == 3
    stage_out = make_spec("DATA_STAGING", workflow_id=wf, task_id="stage-out",
                          direction="OUTPUT", globs=["outputs/*.dat", "logs/*"],
                          destination_uri=f"file://{cluster.storage}/fails/")
    status = await cluster.run(stage_out)
    assert status.state == "TASK_FINISHED", status.message
    assert (cluster.storage / "fails" / "logs" / "run.stderr").read_text() == "bad input\n"
    assert (cluster.storage / "fails" / "outputs" / "partial.dat").read_text() == "partial\n"


STUBBORN = textwrap.dedent(
    """
    import os, signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        while True:
            time.sleep(1)
    with open("pids", "w") as f:
        f.write(f"{os.getpid()}\\n{child}\\n")
    while True:
        time.sleep(1)
    """
)


async def wait_for_pids(cluster: Cluster, workflow_id: str) -> list[int]:
    deadline = time.monotonic() + 30
    while True:
        for sandbox in cluster.sandboxes(executor_id_for(workflow_id)):
            path = sandbox / workflow_id / "pids"
            if path.exists() and path.read_text().count("\n") == 2:
                return read_pids(path)
        assert time.monotonic() < deadline, "the job never wrote its pids"
        await asyncio.sleep(0.05)


async def no_process_left(pids: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while any(pid_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            left = [pid for pid in pids if pid_alive(pid)]
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"processes left behind: {left}")
        await asyncio.sleep(0.05)


async def test_kill_escalates_to_sigkill(cluster: Cluster) -> None:
    spec = make_spec("JOB_SUBMISSION", workflow_id="kill", task_id="stubborn",
                     argv=[sys.executable, "-c", STUBBORN])
    task_id = await cluster.launch(spec)
    pids = await wait_for_pids(cluster, "kill")
    started = time.monotonic()
    await cluster.kill(task_id, grace=0.5)
    status = await cluster.terminal(task_id)
    assert status.state == "TASK_KILLED"
    assert time.monotonic() - started >= 0.5
    await no_process_left(pids)


async def test_shutdown_kills_tasks_and_the_executor_exits(cluster: Cluster) -> None:
    spec = make_spec("JOB_SUBMISSION", workflow_id="down", task_id="stubborn",
                     argv=[sys.executable, "-c", STUBBORN])
    task_id = await cluster.launch(spec)
    pids = await wait_for_pids(cluster, "down")
    await cluster.shutdown(executor_id_for("down"))
    status = await cluster.terminal(task_id)
    assert status.state == "TASK_KILLED"
    await no_process_left(pids)
    runtime = cluster.master.runtimes[cluster.agent_id()]
    await cluster.master.wait_for(lambda: not runtime.executors, timeout=10)


async def test_executor_crash_mid_task(cluster: Cluster) -> None:
    spec = make_spec("JOB_SUBMISSION", workflow_id="crash", task_id="stubborn",
                     argv=[sys.executable, "-c", STUBBORN])
    task_id = await cluster.launch(spec)
    pids = await wait_for_pids(cluster, "crash")
    assert cluster.master.faults.crash_executor(
        cluster.agent_id(), cluster.framework_id, executor_id_for("crash")
    )
    status = await cluster.terminal(task_id)
    assert status.source == "SOURCE_AGENT"
    assert status.reason == "REASON_EXECUTOR_TERMINATED"
    assert status.state in ("TASK_FAILED", "TASK_LOST", "TASK_KILLED")
    await no_process_left(pids)


async def test_malformed_specs_are_errors_and_the_executor_carries_on(cluster: Cluster) -> None:
    garbage = await cluster.launch(task_id="garbage", data=b"\xff\xfe not protobuf",
                                   workflow_id="bad")
    status = await cluster.terminal(garbage)
    assert status.state == "TASK_ERROR"
    assert status.reason == "REASON_TASK_INVALID"
    assert "not a TaskSpec" in status.message
    empty = await cluster.launch(task_id="empty", data=None, workflow_id="bad")
    assert (await cluster.terminal(empty)).state == "TASK_ERROR"
    unknown = make_spec("COMMAND", workflow_id="bad", task_id="future", shell="true")
    unknown.type = 77  # type: ignore[assignment]
    status = await cluster.run(unknown)
    assert status.state == "TASK_ERROR"
    assert "unknown task type 77" in status.message
    fine = await cluster.run(make_spec("COMMAND", workflow_id="bad", task_id="ok", shell="true"))
    assert fine.state == "TASK_FINISHED"


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"uri": "file:///etc/passwd", "destination": "x"}, "outside the configured storage"),
        ({"uri": "file://{storage}/inputs/params.txt", "destination": "../../../escaped"},
         "'..'"),
    ],
)
async def test_path_escapes_are_refused(cluster: Cluster, source: dict, words: str) -> None:
    source = {k: v.format(storage=cluster.storage) for k, v in source.items()}
    spec = make_spec("DATA_STAGING", workflow_id="escape", task_id="in", direction="INPUT",
                     sources=[source])
    status = await cluster.run(spec)
    assert status.state == "TASK_ERROR"
    assert words in status.message
    assert not list(cluster.master.work_dir.rglob("escaped"))
    escaping_workdir = make_spec("ENV_SETUP", workflow_id="escape", task_id="setup",
                                 working_directory="../../..")
    assert (await cluster.run(escaping_workdir)).state == "TASK_ERROR"


async def test_oversized_download(cluster: Cluster, http_server: TestServer) -> None:
    spec = make_spec(
        "DATA_STAGING", workflow_id="big", task_id="in", direction="INPUT",
        sources=[{"uri": str(http_server.make_url("/squares.txt")),
                  "destination": "inputs/squares.txt", "max_bytes": 1024}],
    )
    status = await cluster.run(spec)
    assert status.state == "TASK_FAILED"
    assert "limit of 1024 bytes" in status.message
    [sandbox] = cluster.sandboxes(executor_id_for("big"))
    assert [p.name for p in (sandbox / "big" / "inputs").iterdir()] == []


async def test_the_agent_token_reaches_neither_jobs_nor_logs(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    storage.mkdir()
    config = FAST.replace(executor_authentication=True)
    cluster = await Cluster(tmp_path / "agents", storage, config).start()
    try:
        spec = make_spec("JOB_SUBMISSION", workflow_id="env", task_id="env", shell="env | sort",
                         env={"VISIBLE": "yes"})
        status = await cluster.run(spec)
        assert status.state == "TASK_FINISHED", status.message
        [sandbox] = cluster.sandboxes(executor_id_for("env"))
        [process] = cluster.master.runtimes[cluster.agent_id()].executors.values()
        token = process.token
        assert len(token) >= 16
        job_env = (sandbox / "env" / "logs" / "env.stdout").read_text()
        assert "VISIBLE=yes" in job_env
        assert "MESOS_SANDBOX=" in job_env
        assert token not in job_env
        executor_log = (sandbox / "stderr").read_text()
        assert "task env.env: TASK_FINISHED" in executor_log
        assert token not in executor_log
    finally:
        await cluster.stop()
