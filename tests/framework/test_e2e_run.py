"""The framework end to end on the embedded master with real executors: the main job,
priorities and fairness, cancellation, retries, timeouts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from mesos_wm.queue import TaskQueue, TaskState, WorkflowState
from tests.framework.harness import EXAMPLES, Cluster

pytestmark = pytest.mark.timeout(90)


def gateway_text(storage: Path) -> str:
    text = (EXAMPLES / "airavata_gateway.yaml").read_text()
    return (text.replace("source: gateway/", f"source: file://{EXAMPLES}/gateway/")
                .replace("uri: gateway/", f"uri: file://{EXAMPLES}/gateway/")
                .replace("destination: storage/", f"destination: file://{storage}/"))


async def test_the_gateway_workflows_complete_with_their_outputs_in_storage(
        cluster: Cluster, queue: TaskQueue, tmp_path: Path) -> None:
    ids = cluster.submit(queue, gateway_text(cluster.storage))
    assert len(ids) == 4
    async with cluster.framework(queue) as framework:
        assert await asyncio.wait_for(framework.run_until_idle(ids), 60)
        await cluster.wait_for(lambda: cluster.live_executors() == 0, 10)
        framework_id = framework.framework_id
    assert queue.get_framework_id() == framework_id
    info = cluster.master.state.frameworks[framework_id or ""].info
    assert info["checkpoint"] is True and info["failover_timeout"] == 7 * 24 * 3600
    assert queue.active_attempts() == []
    for workflow_id in ids:
        record = queue.get_workflow(workflow_id)
        assert record.state is WorkflowState.COMPLETED
        assert all(t.state is TaskState.FINISHED and len(t.attempts) == 1 for t in record.tasks)
    expected = tmp_path / "expected"
    molecule = EXAMPLES / "gateway" / "data" / "cluster-2.xyz"
    subprocess.run([sys.executable, str(EXAMPLES / "gateway" / "lj_energy.py"), str(molecule),
                    str(EXAMPLES / "gateway" / "data" / "argon.json"), str(expected)],
                   check=True, capture_output=True)
    produced = cluster.storage / "exp-argon-20" / "outputs"
    for name in ("energy.dat", "distances.dat"):
        assert (produced / name).read_bytes() == (expected / name).read_bytes()
    assert (cluster.storage / "exp-argon-20" / "logs" / "run.stdout").read_text().startswith(
        "20 atoms")
    states = [e.state for e in cluster.events
              if e.workflow_id == "exp-argon-12" and e.task_id == "run"]
    assert states == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert max(cluster.launched().values()) == 1


@pytest.mark.cluster(resources="cpus:3;mem:2048;disk:100;ports:[31000-31010]")
async def test_launch_order_follows_priority_then_fair_share_between_owners(
        cluster: Cluster, queue: TaskQueue) -> None:
    def one(wid: str, owner: str, priority: str) -> str:
        return (f"  - id: {wid}\n    owner: {owner}\n    priority: {priority}\n    tasks:\n"
                f"      - {{id: t, type: COMMAND, command: 'sleep 0.3',"
                f" resources: {{cpus: 1, mem: 64}}}}\n")

    text = "workflows:\n" + "".join([
        one("a1", "alice", "NORMAL"), one("a2", "alice", "NORMAL"),
        one("a3", "alice", "NORMAL"), one("b1", "bob", "NORMAL"), one("u1", "carol", "URGENT"),
    ])
    ids = cluster.submit(queue, text)
    async with cluster.framework(queue) as framework:
        assert await asyncio.wait_for(framework.run_until_idle(ids), 60)
    launched = {w: queue.get_task(w, "t").attempts[0].launched_at for w in ids}
    first = {w for w, t in launched.items() if t == min(launched.values())}
    assert first == {"u1", "a1", "b1"}, "URGENT first although submitted last; then one " \
        "task of each owner although alice's were all submitted before bob's"
    assert launched["a2"] <= launched["a3"]


async def test_cancelling_kills_running_attempts_and_drops_waiting_tasks(
        cluster: Cluster, queue: TaskQueue) -> None:
    marker = cluster.storage / "cancel-marker"
    ids = cluster.submit(queue, f"""
id: long
tasks:
  - {{id: setup, type: ENV_SETUP}}
  - {{id: job, type: JOB_SUBMISSION, command: "echo $$ > {marker}; exec sleep 60",
     depends_on: [setup]}}
  - {{id: after, type: COMMAND, command: "true", depends_on: [job]}}
""")
    async with cluster.framework(queue) as framework:
        await cluster.wait_for(lambda: cluster.seen("long", "job", "TASK_RUNNING"))
        await cluster.wait_for(marker.exists)
        pid = int((await asyncio.to_thread(marker.read_text)).strip() or 0)
        result = await framework.cancel("long")
        assert len(result.kills) == 1
        assert result.workflow_state is WorkflowState.CANCELING
        assert not await asyncio.wait_for(framework.run_until_idle(ids), 30)
        await cluster.wait_for(lambda: cluster.live_executors() == 0, 10)
    record = queue.get_workflow("long")
    states = {t.task_id: t.state for t in record.tasks}
    assert record.state is WorkflowState.CANCELED
    assert states == {"setup": TaskState.FINISHED, "job": TaskState.CANCELED,
                      "after": TaskState.CANCELED}
    assert queue.get_task("long", "job").attempts[-1].state == "TASK_KILLED"
    assert not queue.get_task("long", "after").attempts
    assert not Path(f"/proc/{pid}").exists(), "the job's process was killed"


async def test_a_cancel_from_another_process_is_carried_out(
        cluster: Cluster, queue: TaskQueue) -> None:
    ids = cluster.submit(queue, """
id: other
tasks:
  - {id: job, type: JOB_SUBMISSION, command: "exec sleep 60"}
""")
    async with cluster.framework(queue) as framework:
        await cluster.wait_for(lambda: cluster.seen("other", "job", "TASK_RUNNING"))
        with TaskQueue.open(cluster.queue_url) as elsewhere:
            elsewhere.cancel("other")
        assert not await asyncio.wait_for(framework.run_until_idle(ids), 30)
    assert queue.get_workflow("other").state is WorkflowState.CANCELED


async def test_a_failed_attempt_is_retried_after_its_backoff(
        cluster: Cluster, queue: TaskQueue) -> None:
    marker = cluster.storage / "flaky-marker"
    ids = cluster.submit(queue, f"""
id: flaky
tasks:
  - id: job
    type: JOB_SUBMISSION
    command: "if [ -e {marker} ]; then exit 0; fi; touch {marker}; exit 3"
    retries: {{max: 2, backoff: 200ms}}
""")
    async with cluster.framework(queue) as framework:
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)
    task = queue.get_task("flaky", "job")
    assert task.state is TaskState.FINISHED
    assert [a.state for a in task.attempts] == ["TASK_FAILED", "TASK_FINISHED"]
    assert task.attempts[0].exit_code == 3
    assert (task.retries_used, task.infra_retries_used) == (1, 0)
    assert task.attempts[1].launched_at - task.attempts[0].finished_at >= 0.15  # type: ignore[operator]


async def test_offer_wait_and_staging_timeouts_end_tasks_with_their_reason(
        cluster: Cluster, queue: TaskQueue) -> None:
    ids = cluster.submit(queue, """
workflows:
  - id: huge
    tasks:
      - {id: job, type: COMMAND, command: "true", resources: {cpus: 64},
         timeouts: {offer_wait: 500ms}}
  - id: slow-start
    tasks:
      - {id: job, type: JOB_SUBMISSION, command: "sleep 5", timeouts: {staging: 10ms}}
""")
    async with cluster.framework(queue) as framework:
        assert not await asyncio.wait_for(framework.run_until_idle(ids), 30)
    huge = queue.get_task("huge", "job")
    assert huge.state is TaskState.ERROR and not huge.attempts
    assert "offer wait timeout" in queue.why("huge", "job")
    slow = queue.get_task("slow-start", "job")
    assert slow.state is TaskState.KILLED
    assert "staging timeout" in (slow.attempts[0].message or "")
    assert queue.get_workflow("huge", tasks=False).state is WorkflowState.FAILED
