"""``mesos-wm status`` and ``mesos-wm submit --wait`` while a framework serves the queue
from another process."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesos_wm.cli.main import cli
from mesos_wm.cli.progress import Progress
from mesos_wm.cli.status_commands import wait_for_workflows
from mesos_wm.framework import Framework, FrameworkConfig
from mesos_wm.local import FAST, LocalMaster
from mesos_wm.queue import TaskQueue, load_text

pytestmark = pytest.mark.timeout(120)

WORKFLOWS = """
workflows:
  - id: ok
    tasks:
      - {id: a, type: COMMAND, command: "true"}
      - {id: b, type: COMMAND, command: "true", depends_on: [a]}
  - id: bad
    tasks:
      - {id: a, type: COMMAND, command: "exit 1"}
"""


async def test_submit_wait_follows_workflows_run_by_a_framework_elsewhere(
        tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(WORKFLOWS)
    url = f"sqlite:///{tmp_path}/queue.db"
    config = FrameworkConfig(python=sys.executable, refresh_interval=0.1, refuse_seconds=0.1,
                             revive_interval=0.05, suppress_after=0.3)
    with TaskQueue.open(url) as queue:
        async with LocalMaster(config=FAST) as master, \
                Framework(queue=queue, master=master, config=config):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "mesos_wm.cli.main", "submit", "--wait", "--queue", url,
                str(tmp_path / "wf.yaml"), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
            try:
                out, _ = await asyncio.wait_for(process.communicate(), 60)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    text = out.decode()
    assert process.returncode == 1, text
    assert "workflow ok COMPLETED (2/2 tasks settled, 0 unsuccessful)" in text
    assert "workflow bad FAILED (1/1 tasks settled, 1 unsuccessful)" in text
    assert "not every workflow completed" in text

    result = CliRunner().invoke(cli, ["status", "--queue", url, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["framework_id"]
    assert doc["workflows"]["COMPLETED"] == 1 and doc["workflows"]["FAILED"] == 1
    assert doc["tasks"] == {"total": 3, "settled": 3, "unsuccessful": 1, "ready": 0,
                            "running": {}}
    human = CliRunner().invoke(cli, ["status", "--queue", url])
    assert "3/3 settled (1 unsuccessful), 0 ready" in human.output


def test_waiting_shows_a_bar_on_a_terminal_and_can_time_out(tmp_path: Path) -> None:
    with TaskQueue.open(f"sqlite:///{tmp_path}/q.db") as queue:
        queue.submit_many(load_text(WORKFLOWS, "wf.yaml"))
        out = io.StringIO()
        naps: list[float] = []
        with pytest.raises(TimeoutError, match="2 workflow"):
            wait_for_workflows(queue, ["ok", "bad"], Progress(out, live=True), interval=0.01,
                               timeout=0.05, sleep=naps.append)
    assert naps
    assert "[..............................] 0/3 tasks settled, 0/2 workflows done" in \
        out.getvalue()


def test_status_of_an_empty_queue(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--queue", f"sqlite:///{tmp_path}/q.db"])
    assert result.exit_code == 0
    assert "never subscribed" in result.output and "no workflows" in result.output
