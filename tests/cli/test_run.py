"""``mesos-wm run``: the main job as a user runs it, and clear failures with exit codes."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesos_wm.cli.main import cli
from mesos_wm.local import FAST, LocalMaster

pytestmark = pytest.mark.timeout(120)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COMMAND = [sys.executable, "-m", "mesos_wm.cli.main"]


def copy_examples(root: Path) -> Path:
    target = root / "examples"
    target.mkdir()
    shutil.copy(EXAMPLES / "airavata_gateway.yaml", target)
    shutil.copytree(EXAMPLES / "gateway", target / "gateway")
    return target


def test_the_main_job_completes_on_the_embedded_master(tmp_path: Path) -> None:
    examples = copy_examples(tmp_path)
    run = [*COMMAND, "run", "--until-idle", "examples/airavata_gateway.yaml"]
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "\r" not in done.stdout, "plain log lines when stdout is not a terminal"
    assert any(line.endswith("exp-argon-12/run FINISHED: exit code 0") for line in lines)
    table = lines[lines.index("") + 1:]
    assert table[0].split() == ["WORKFLOW", "OWNER", "PRIORITY", "STATE", "TASKS", "FAILED",
                                "TIME"]
    assert sorted(row.split()[0] for row in table[1:]) == [
        "exp-argon-12", "exp-argon-20", "exp-argon-32", "exp-argon-8"]
    assert all(row.split()[3:6] == ["COMPLETED", "6/6", "0"] for row in table[1:])
    assert (tmp_path / "mesos_wm_queue.db").exists(), "the default queue is in the cwd"
    expected = tmp_path / "expected"
    subprocess.run([sys.executable, str(EXAMPLES / "gateway" / "lj_energy.py"),
                    str(EXAMPLES / "gateway" / "data" / "cluster-3.xyz"),
                    str(EXAMPLES / "gateway" / "data" / "argon.json"), str(expected)],
                   check=True, capture_output=True)
    out = examples / "storage" / "exp-argon-32" / "outputs"
    assert (out / "energy.dat").read_bytes() == (expected / "energy.dat").read_bytes()
    assert (out / "distances.dat").read_bytes() == (expected / "distances.dat").read_bytes()

    again = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already in the queue (unchanged)") == 4


def invoke(*args: str, cwd: Path) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        result = CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_a_failed_workflow_exits_1_and_names_the_failing_task(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(
        "id: broken\ntasks:\n  - {id: job, type: JOB_SUBMISSION, command: 'exit 3'}\n")
    code, output = invoke("--until-idle", "--queue", f"sqlite:///{tmp_path}/q.db",
                          str(tmp_path / "wf.yaml"), cwd=tmp_path)
    assert code == 1, output
    assert "broken/job: FAILED exit 3" in output
    assert "not every workflow completed" in output


def test_the_agents_start_the_executor_with_the_named_interpreter(tmp_path: Path) -> None:
    marker = tmp_path / "used"
    wrapper = tmp_path / "agent-python"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {marker}\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    (tmp_path / "wf.yaml").write_text(
        "id: wrapped\ntasks:\n  - {id: job, type: JOB_SUBMISSION, command: 'true'}\n")
    code, output = invoke("--until-idle", "--queue", f"sqlite:///{tmp_path}/q.db",
                          "--executor-python", str(wrapper), str(tmp_path / "wf.yaml"),
                          cwd=tmp_path)
    assert code == 0, output
    assert "mesos_wm.executor" in marker.read_text()


def test_a_bad_workflow_file_exits_2_with_its_location_and_submits_nothing(
        tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "id: bad\ntasks:\n  - {id: a, type: COMMAND, command: x, resources: {cpus: -1}}\n")
    code, output = invoke("--until-idle", "--queue", f"sqlite:///{tmp_path}/q.db",
                          str(tmp_path / "bad.yaml"), cwd=tmp_path)
    assert code == 2
    assert "bad.yaml" in output and "tasks[0].resources.cpus" in output
    assert not (tmp_path / "q.db").exists()


@pytest.mark.parametrize("args, message", [
    (["--master", "ftp://somewhere:5050"], "bad master URL"),
    (["--queue", "mysql://x/y"], "bad queue URL"),
    (["--secret-file", "/nonexistent"], "--secret-file needs --principal"),
    (["--failover-timeout", "forever"], "--failover-timeout"),
    (["--local-resources", "cpus:lots"], "--local-resources"),
])
def test_bad_options_exit_2_with_a_clear_message(tmp_path: Path, args: list[str],
                                                 message: str) -> None:
    code, output = invoke("--until-idle", *args, cwd=tmp_path)
    assert code == 2, output
    assert message in output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_master_exits_3(tmp_path: Path) -> None:
    code, output = invoke("--until-idle", "--master", f"http://127.0.0.1:{free_port()}",
                          "--give-up-after", "1s", "--queue", f"sqlite:///{tmp_path}/q.db",
                          str(EXAMPLES / "airavata_gateway.yaml"), cwd=tmp_path)
    assert code == 3, output
    assert "cannot reach the Mesos master" in output


async def test_an_authentication_failure_exits_4(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("wrong\n")
    (tmp_path / "wf.yaml").write_text(
        "id: w\ntasks:\n  - {id: t, type: COMMAND, command: 'true'}\n")
    async with LocalMaster(config=FAST.replace(credentials={"gateway": "right"})) as master:
        process = await asyncio.create_subprocess_exec(
            *COMMAND, "run", "--until-idle", "--master", master.url, "--principal", "gateway",
            "--secret-file", str(secret), "--queue", f"sqlite:///{tmp_path}/q.db",
            str(tmp_path / "wf.yaml"), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 4, out.decode()
    assert "authentication with the master failed" in out.decode()
