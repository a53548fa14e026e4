"""``mesos-wm submit|list|show|cancel|retry|why`` against real queue files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mesos_wm.cli.main import cli
from mesos_wm.queue import TaskQueue

GOOD = """\
id: exp-42
name: Gaussian run 42
owner: gateway-user-7
priority: URGENT
labels: {gateway: seagrid}
defaults:
  resources: {cpus: 0.5, mem: 256}
  retries: {max: 3, backoff: 5s, max_backoff: 5m}
tasks:
  - id: setup
    type: ENV_SETUP
  - id: run
    type: JOB_SUBMISSION
    command: [python3, compute.py]
    depends_on: [setup]
  - id: cleanup
    type: ENV_CLEANUP
    depends_on: [run]
    run_on: always
"""

BAD = """\
id: exp-43
tasks:
  - id: a
    type: COMMAND
    command: "true"
    resources: {cpus: -2}
  - id: b
    type: COMMAND
    command: "true"
    depends_on: [c]
  - id: c
    type: COMMAND
    command: "true"
    depends_on: [b]
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path}/q.db"
    monkeypatch.setenv("MESOS_WM_QUEUE", url)
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_submit_list_show_json(env: Path) -> None:
    result = run("submit", str(env / "good.yaml"))
    assert result.exit_code == 0, result.output
    assert "exp-42: submitted, SCHEDULED, 1 task(s) ready" in result.output
    again = run("submit", str(env / "good.yaml"))
    assert "nothing changed" in again.output and again.exit_code == 0
    listing = json.loads(run("list", "--json").output)
    assert [w["id"] for w in listing["workflows"]] == ["exp-42"]
    assert run("list", "--label", "gateway=seagrid").output.count("exp-42") == 1
    assert "no workflows" in run("list", "--state", "completed").output
    with TaskQueue.open(f"sqlite:///{env}/q.db") as q:
        key = q.ready_tasks()[0].key
        mid = q.mark_launching(key, agent_id="agent-7").mesos_task_id
        q.apply_status(mid, "TASK_FINISHED", exit_code=0)
    doc = json.loads(run("show", "exp-42", "--json").output)
    setup = doc["tasks"][0]
    assert (setup["id"], setup["state"]) == ("setup", "FINISHED")
    assert setup["attempts"][0]["mesos_task_id"] == "exp-42.setup.a1"
    assert setup["attempts"][0]["agent_id"] == "agent-7"
    assert [h["state"] for h in doc["history"]][:3] == ["CREATED", "SCHEDULED", "EXECUTING"]
    text = run("show", "exp-42").output
    assert "exp-42.setup.a1" in text and "HISTORY" in text and "ATTEMPTS" in text
    waiting = "exp-42/run: QUEUED: waiting for a matching offer"
    assert run("why", "exp-42/run").output.strip() == waiting
    assert "exp-42/setup: FINISHED" in run("why", "exp-42.setup.a1").output


def test_bad_file_reports_every_problem_and_writes_nothing(env: Path) -> None:
    result = run("submit", str(env / "good.yaml"), str(env / "bad.yaml"))
    assert result.exit_code == 2
    assert f"{env / 'bad.yaml'}: tasks[0].resources.cpus: must be a finite number" in result.output
    assert "dependency cycle: b -> c -> b" in result.output
    assert "no workflows" in run("list").output


def test_cancel_retry_and_errors(env: Path) -> None:
    run("submit", str(env / "good.yaml"))
    result = run("cancel", "exp-42/run")
    assert result.exit_code == 0 and "1 task(s) cancelled" in result.output
    missing = run("cancel", "nope")
    assert missing.exit_code == 1 and "no workflow 'nope'" in missing.output
    refused = run("retry", "exp-42/setup")
    assert refused.exit_code == 1 and "QUEUED" in refused.output
    retried = run("retry", "exp-42/run")
    assert retried.exit_code == 0 and "cleanup, run" in retried.output
    assert run("cancel", "exp-42/").exit_code == 2


def test_bad_queue_urls_fail_clearly(env: Path) -> None:
    result = run("list", "--queue", "mysql://x/y")
    assert result.exit_code == 2 and "bad queue URL" in result.output
    result = run("list", "--queue", "sqlite:////nonexistent/dir/q.db")
    assert result.exit_code == 1 and "cannot open the queue" in result.output
    result = run("submit", str(env / "missing.yaml"))
    assert result.exit_code == 2


def test_help_texts_name_the_queue_option() -> None:
    for command in ("submit", "list", "show", "cancel", "retry", "why"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "MESOS_WM_QUEUE" in result.output


def test_console_script_runs_against_postgres(postgres_url: str, env: Path) -> None:
    cmd = [sys.executable, "-m", "mesos_wm.cli.main"]
    done = subprocess.run([*cmd, "submit", str(env / "good.yaml"), "--queue", postgres_url],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    shown = subprocess.run([*cmd, "show", "exp-42", "--json", "--queue", postgres_url],
                           capture_output=True, text=True, check=False)
    assert json.loads(shown.stdout)["state"] == "SCHEDULED"
