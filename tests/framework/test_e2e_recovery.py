"""SIGKILL of the framework process at several points, then a restart: it resubscribes
with the same framework id, reconciles, and every workflow completes with each task's
effect happening once — no attempt launched twice, none lost, none left running."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from mesos_wm.queue import TaskQueue, TaskState, WorkflowState
from mesos_wm.wire.states import is_terminal
from tests.framework.harness import Cluster

pytestmark = pytest.mark.timeout(120)

SCRIPT = Path(__file__).with_name("crash_framework.py")
WORKFLOWS = ("r1", "r2", "r3")


def workflows(effects: Path) -> str:
    out = ["workflows:"]
    for wid in WORKFLOWS:
        out.append(f"""  - id: {wid}
    tasks:
      - {{id: setup, type: ENV_SETUP}}
      - {{id: job, type: JOB_SUBMISSION, command: "echo {wid} >> {effects}; sleep 0.2",
         depends_on: [setup]}}
      - {{id: cleanup, type: ENV_CLEANUP, depends_on: [job], run_on: always}}""")
    return "\n".join(out) + "\n"


async def start(cluster: Cluster, crash: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), cluster.master.url, cluster.queue_url,
        str(cluster.storage), crash, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)


async def finish(process: asyncio.subprocess.Process, timeout: float = 60) -> str:
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return out.decode()


def unacknowledged(cluster: Cluster) -> int:
    return sum(len(stream.pending) for agent in cluster.master.state.agents.values()
               for stream in agent.streams.values())


async def check_recovered(cluster: Cluster, queue: TaskQueue, framework_id: str,
                          effects: Path) -> None:
    restarted = await start(cluster, "none")
    output = await finish(restarted)
    assert restarted.returncode == 0, output
    assert "COMPLETED" in output
    assert queue.get_framework_id() == framework_id
    frameworks = cluster.master.state.all_frameworks()
    assert [f.framework_id for f in frameworks] == [framework_id], "resubscribed, not new"
    for wid in WORKFLOWS:
        record = queue.get_workflow(wid)
        assert record.state is WorkflowState.COMPLETED
        assert all(t.state is TaskState.FINISHED for t in record.tasks)
        for task in record.tasks:
            assert all(is_terminal(a.state) for a in task.attempts), task
    assert queue.active_attempts() == []
    launched = cluster.launched()
    assert max(launched.values()) == 1, "an attempt reached Mesos twice"
    assert sorted(effects.read_text().split()) == sorted(WORKFLOWS), "each job ran once"
    await cluster.wait_for(lambda: unacknowledged(cluster) == 0, 15)


async def test_killed_between_intent_and_accept(cluster: Cluster, queue: TaskQueue) -> None:
    effects = cluster.storage / "effects"
    cluster.submit(queue, workflows(effects))
    crashed = await start(cluster, "intent")
    output = await finish(crashed)
    assert crashed.returncode == -signal.SIGKILL, output
    assert "CRASH after intent" in output
    framework_id = queue.get_framework_id()
    assert framework_id is not None
    stranded = [a for a in queue.active_attempts() if a.state == "LAUNCHING"]
    assert stranded, "intents were recorded"
    assert not set(cluster.launched()) & {a.mesos_task_id for a in stranded}
    await check_recovered(cluster, queue, framework_id, effects)
    for a in stranded:
        task = queue.get_task(a.workflow_id, a.task_id)
        first = task.attempts[a.attempt - 1]
        assert first.state in ("TASK_LOST", "TASK_GONE", "TASK_UNKNOWN"), first
        assert task.attempts[-1].number == a.attempt + 1
        assert task.retries_used == 0


async def test_killed_between_accept_and_running(cluster: Cluster, queue: TaskQueue) -> None:
    effects = cluster.storage / "effects"
    cluster.submit(queue, workflows(effects))
    process = await start(cluster, "none")

    def staging() -> list[str]:
        return [t.task_id for f in cluster.master.state.all_frameworks()
                for t in f.tasks.values() if t.state == "TASK_STAGING"]

    try:
        await cluster.wait_for(staging, 30)
    finally:
        process.kill()
        await finish(process)
    framework_id = queue.get_framework_id()
    assert framework_id is not None
    in_flight = [a for a in queue.active_attempts() if a.state in ("LAUNCHING", "TASK_STAGING")]
    assert in_flight, "killed after ACCEPT, before TASK_RUNNING reached the framework"
    await check_recovered(cluster, queue, framework_id, effects)
    for a in in_flight:
        task = queue.get_task(a.workflow_id, a.task_id)
        assert [x.state for x in task.attempts] == ["TASK_FINISHED"], "no relaunch"


async def test_killed_while_acknowledging(cluster: Cluster, queue: TaskQueue) -> None:
    effects = cluster.storage / "effects"
    cluster.submit(queue, workflows(effects))
    crashed = await start(cluster, "ack")
    output = await finish(crashed)
    assert crashed.returncode == -signal.SIGKILL, output
    assert "CRASH while acknowledging" in output
    framework_id = queue.get_framework_id()
    assert framework_id is not None
    await check_recovered(cluster, queue, framework_id, effects)
    for wid in WORKFLOWS:
        assert all(len(t.attempts) == 1 for t in queue.get_workflow(wid).tasks)
