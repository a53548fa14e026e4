"""``python -m mesos_wm.executor`` / ``mesos-wm executor`` as a user (or an agent) sees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mesos_wm.cli.main import cli
from mesos_wm.drivers.executor_env import ExecutorEnvironment
from mesos_wm.executor.main import settings_from, storage_roots_from


def test_the_executor_command_is_registered() -> None:
    result = CliRunner().invoke(cli, ["executor", "--help"])
    assert result.exit_code == 0
    assert "--storage-root" in result.output


def test_without_the_agent_environment_it_says_what_is_missing(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(Path(__file__).parents[2])}
    result = subprocess.run(
        [sys.executable, "-m", "mesos_wm.executor"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 2
    assert "MESOS_AGENT_ENDPOINT is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_storage_roots_come_from_options_and_environment(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    roots = storage_roots_from([str(a)], {"MESOS_WM_STORAGE_ROOTS": f"{b}:{a}"})
    assert roots == (a.resolve(), b.resolve())
    for bad in ("relative/dir", str(tmp_path / "missing")):
        try:
            storage_roots_from([bad], {})
        except ValueError as exc:
            assert "absolute path to a directory" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")


def test_settings_use_the_sandbox_from_the_environment(tmp_path: Path) -> None:
    environment = ExecutorEnvironment.from_environ(
        {
            "MESOS_FRAMEWORK_ID": "fw",
            "MESOS_EXECUTOR_ID": "ex",
            "MESOS_AGENT_ENDPOINT": "127.0.0.1:5051",
            "MESOS_SANDBOX": str(tmp_path),
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "3secs",
        }
    )
    settings = settings_from(environment, kill_grace_seconds=1.5)
    assert settings.sandbox == tmp_path.resolve()
    assert settings.default_kill_grace_seconds == 1.5
    assert environment.shutdown_grace_period == 3.0
