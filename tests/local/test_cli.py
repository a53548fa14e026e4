"""``mesos-wm local-master`` started as a real process."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request

from click.testing import CliRunner

from mesos_wm.cli.main import cli


def test_local_master_serves_state_until_interrupted(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mesos_wm.cli.main", "local-master", "--port", "0",
         "--agents", "2", "--attributes", "rack:r1", "--work-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        with urllib.request.urlopen(match.group(0) + "/state", timeout=5) as response:
            state = json.load(response)
        assert len(state["slaves"]) == 2
        assert state["slaves"][0]["attributes"] == {"rack": "r1"}
        assert state["flags"]["work_dir"] == str(tmp_path)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_local_master_refuses_a_remote_bind_without_the_flag() -> None:
    result = CliRunner().invoke(cli, ["local-master", "--host", "192.0.2.1"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_local_master_rejects_bad_resources() -> None:
    result = CliRunner().invoke(cli, ["local-master", "--resources", "cpus:lots"])
    assert result.exit_code == 2
