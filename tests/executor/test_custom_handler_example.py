"""examples/custom_handler: build and install the plug-in, then run its task type.

The package is really built and installed (``pip install --target``), and found through
the ``mesos_wm.handlers`` entry point of its installed ``dist-info`` by a separate Python
process, as the executor on an agent would find it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "custom_handler"

RUN_TASK = textwrap.dedent(
    """
    import asyncio, json, logging, sys
    from importlib.metadata import entry_points
    from pathlib import Path
    from mesos_wm.executor import ExecutorSettings, HandlerRegistry, TaskContext, execute
    from mesos_wm.proto import taskspec_pb2

    sandbox = Path(sys.argv[1])
    spec = taskspec_pb2.TaskSpec(workflow_id="wf", task_id="sums", attempt=1,
                                 type=taskspec_pb2.PLUGIN, plugin_type="CHECKSUM",
                                 params=json.loads(sys.argv[2]))
    context = TaskContext.for_spec(spec, ExecutorSettings(sandbox=sandbox))
    outcome = asyncio.run(execute(spec, context, HandlerRegistry()))
    print(json.dumps({
        "entry_points": sorted(ep.name for ep in entry_points(group="mesos_wm.handlers")),
        "state": outcome.state.value,
        "message": outcome.message,
        "outputs": [[o.path, o.size_bytes, o.sha256] for o in outcome.result.outputs],
    }))
    """
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "custom_handler"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
               "--disable-pip-version-check", "--target", str(target)]
    if importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel"):
        command.append("--no-build-isolation")
    result = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=300, cwd=target
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def run_checksum(site: Path, sandbox: Path, params: dict[str, str]) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    result = subprocess.run(
        [sys.executable, "-c", RUN_TASK, str(sandbox), json.dumps(params)],
        capture_output=True, text=True, timeout=60, env=env, cwd=sandbox,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_example_is_installed_with_its_entry_point(site: Path) -> None:
    [dist_info] = site.glob("mesos_wm_checksum_handler-*.dist-info")
    text = (dist_info / "entry_points.txt").read_text()
    assert "[mesos_wm.handlers]" in text
    assert "CHECKSUM = mesos_wm_checksum:checksum" in text


def test_the_installed_plugin_runs_a_checksum_task(site: Path, tmp_path: Path) -> None:
    outputs = tmp_path / "wf" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "a.dat").write_bytes(b"alpha")
    (outputs / "b.dat").write_bytes(b"beta")
    report = run_checksum(site, tmp_path, {"glob": "outputs/*.dat"})
    assert "CHECKSUM" in report["entry_points"]
    assert report["state"] == "TASK_FINISHED", report["message"]
    sums = (outputs / "SHA256SUMS").read_text()
    assert sums == (
        f"{hashlib.sha256(b'alpha').hexdigest()}  outputs/a.dat\n"
        f"{hashlib.sha256(b'beta').hexdigest()}  outputs/b.dat\n"
    )
    [[path, size, digest]] = report["outputs"]
    assert (path, size) == ("outputs/SHA256SUMS", len(sums))
    assert digest == hashlib.sha256(sums.encode()).hexdigest()


def test_the_plugin_gets_the_executor_safety_rules(site: Path, tmp_path: Path) -> None:
    (tmp_path / "wf").mkdir()
    escape = run_checksum(site, tmp_path, {"output": "../../stolen"})
    assert escape["state"] == "TASK_ERROR"
    assert not (tmp_path.parent / "stolen").exists()
    nothing = run_checksum(site, tmp_path, {"glob": "outputs/*.none"})
    assert nothing["state"] == "TASK_FAILED"
    assert "no file matches" in nothing["message"]
