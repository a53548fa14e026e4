"""The framework under faults injected through the embedded master's fault API: agent
loss, executor crash, rescinded offers, stream drops and 503 periods."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from mesos_wm.errors import StoreError
from mesos_wm.executor.launch import executor_id_for
from mesos_wm.framework import Framework
from mesos_wm.queue import Claims, TaskQueue, TaskState, WorkflowState
from tests.framework.harness import Cluster

pytestmark = pytest.mark.timeout(90)


def once_then_finish(marker: Path, sleep: float = 60) -> str:
    """A job that runs long the first time and finishes at once when run again."""
    return f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; exec sleep {sleep}"


@pytest.mark.cluster(agents=2)
async def test_an_agent_loss_is_retried_elsewhere_without_using_user_retries(
        cluster: Cluster, queue: TaskQueue) -> None:
    marker = cluster.storage / "agent-loss"
    ids = cluster.submit(queue, f"""
id: lost
tasks:
  - {{id: job, type: JOB_SUBMISSION, command: "{once_then_finish(marker)}",
     retries: {{max: 0}}}}
""")
    async with cluster.framework(queue) as framework:
        await cluster.wait_for(lambda: cluster.seen("lost", "job", "TASK_RUNNING"))
        await cluster.wait_for(marker.exists)
        first_agent = queue.get_task("lost", "job").attempts[0].agent_id
        assert first_agent is not None
        cluster.master.faults.remove_agent(first_agent)
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)
    task = queue.get_task("lost", "job")
    assert task.state is TaskState.FINISHED
    assert (task.retries_used, task.infra_retries_used) == (0, 1)
    assert task.attempts[0].state == "TASK_LOST" and task.attempts[0].infra
    assert task.attempts[1].agent_id not in (None, first_agent)


async def test_an_executor_crash_is_an_infrastructure_loss_and_the_task_runs_again(
        cluster: Cluster, queue: TaskQueue) -> None:
    marker = cluster.storage / "crash"
    ids = cluster.submit(queue, f"""
id: crashy
tasks:
  - {{id: job, type: JOB_SUBMISSION, command: "{once_then_finish(marker)}"}}
""")
    async with cluster.framework(queue) as framework:
        await cluster.wait_for(lambda: cluster.seen("crashy", "job", "TASK_RUNNING"))
        await cluster.wait_for(marker.exists)
        agent = cluster.agent_ids()[0]
        assert cluster.master.faults.crash_executor(agent, framework.framework_id or "",
                                                    executor_id_for("crashy"))
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)
    task = queue.get_task("crashy", "job")
    assert task.state is TaskState.FINISHED
    assert (task.retries_used, task.infra_retries_used) == (0, 1)
    assert task.attempts[0].infra
    assert task.attempts[0].reason == "REASON_EXECUTOR_TERMINATED"


def count_ticks(framework: Framework) -> list[int]:
    """Count the framework's timer ticks (in the one element of the returned list)."""
    ticks = [0]
    tick = framework.maintenance.tick

    async def counted() -> None:
        ticks[0] += 1
        await tick()

    framework.maintenance.tick = counted  # type: ignore[method-assign]
    return ticks


async def test_the_timer_does_not_spin_while_the_framework_is_not_subscribed(
        cluster: Cluster, queue: TaskQueue) -> None:
    """REVIVE, reconciliation and kill re-sending fall due while the master refuses
    SUBSCRIBE; their deadlines must not make the timer run again at once, over and over
    (it did ~40,000 ticks a second, a whole core, for as long as it was unsubscribed)."""
    ids = cluster.submit(queue, """
id: patient
tasks:
  - {id: job, type: COMMAND, command: "true"}
""")
    framework = cluster.framework(queue)
    ticks = count_ticks(framework)

    def at_most_a_few_per_refresh(started: float) -> int:
        return int(3 * (time.monotonic() - started) / 0.1) + 20

    cluster.master.faults.refuse_calls(1.0)
    started = time.monotonic()
    async with framework:
        framework_id = await framework.wait_subscribed(10)
        assert ticks[0] <= at_most_a_few_per_refresh(started)
        await cluster.wait_for(lambda: framework.stats.launched >= 1)
        cluster.master.faults.refuse_calls(1.0)
        cluster.master.faults.drop_stream(framework_id)
        await cluster.wait_for(lambda: not framework.subscribed)
        ticks[0], started = 0, time.monotonic()
        await cluster.wait_for(lambda: framework.stats.subscriptions >= 2)
        assert ticks[0] <= at_most_a_few_per_refresh(started)
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)


class FlakyWakeupQueue:
    """A queue whose ``next_wakeup`` fails a few times (a locked or broken database)."""

    def __init__(self, queue: TaskQueue, failures: int) -> None:
        self._queue = queue
        self.failures = failures

    def next_wakeup(self) -> float | None:
        if self.failures:
            self.failures -= 1
            raise StoreError("database is locked")
        return self._queue.next_wakeup()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


async def test_the_timer_survives_a_queue_error_while_working_out_its_next_wakeup(
        cluster: Cluster, queue: TaskQueue) -> None:
    ids = cluster.submit(queue, """
id: wakeful
tasks:
  - {id: job, type: COMMAND, command: "true"}
""")
    flaky = FlakyWakeupQueue(queue, failures=3)
    framework = cluster.framework(flaky)  # type: ignore[arg-type]
    async with framework:
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)
    assert flaky.failures == 0
    assert queue.get_task("wakeful", "job").state is TaskState.FINISHED


class RescindingQueue:
    """A queue that has the master rescind every offer right after the first launch
    intent is recorded, so the ACCEPT that follows uses dead offers."""

    def __init__(self, queue: TaskQueue, cluster: Cluster) -> None:
        self._queue = queue
        self._cluster = cluster
        self.rescinded = False

    def mark_launching_many(self, *args: Any, **kwargs: Any) -> Claims:
        claims = self._queue.mark_launching_many(*args, **kwargs)
        if claims.launched and not self.rescinded:
            self.rescinded = True
            self._cluster.master.faults.rescind_offers()
        return claims

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


async def test_an_accept_of_rescinded_offers_is_relaunched_as_an_infrastructure_loss(
        cluster: Cluster, queue: TaskQueue) -> None:
    ids = cluster.submit(queue, """
id: rescinded
tasks:
  - {id: job, type: COMMAND, command: "true"}
""")
    proxy = RescindingQueue(queue, cluster)
    async with cluster.framework(proxy) as framework:  # type: ignore[arg-type]
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)
    assert proxy.rescinded
    task = queue.get_task("rescinded", "job")
    assert task.state is TaskState.FINISHED
    assert (task.retries_used, task.infra_retries_used) == (0, 1)
    assert task.attempts[0].reason == "REASON_INVALID_OFFERS"


async def test_stream_drops_and_503_periods_are_survived_with_the_same_framework_id(
        cluster: Cluster, queue: TaskQueue) -> None:
    ids = cluster.submit(queue, """
id: bumpy
tasks:
  - {id: one, type: JOB_SUBMISSION, command: "sleep 0.3"}
  - {id: two, type: JOB_SUBMISSION, command: "sleep 0.3", depends_on: [one]}
  - {id: three, type: JOB_SUBMISSION, command: "sleep 0.3", depends_on: [two]}
""")
    async with cluster.framework(queue) as framework:
        framework_id = await framework.wait_subscribed(10)
        await cluster.wait_for(lambda: cluster.seen("bumpy", "one", "TASK_RUNNING"))
        cluster.master.faults.drop_stream(framework_id)
        await cluster.wait_for(lambda: framework.stats.subscriptions >= 2)
        await cluster.wait_for(lambda: cluster.seen("bumpy", "two", "TASK_RUNNING"))
        cluster.master.faults.refuse_calls(0.5)
        assert await asyncio.wait_for(framework.run_until_idle(ids), 30)
        assert framework.framework_id == framework_id
        assert framework.stats.reconciles >= 2
    assert [f.framework_id for f in cluster.master.state.all_frameworks()] == [framework_id]
    record = queue.get_workflow("bumpy")
    assert record.state is WorkflowState.COMPLETED
    assert all(len(t.attempts) == 1 for t in record.tasks)
    assert max(cluster.launched().values()) == 1


async def test_a_framework_the_master_removed_registers_anew_and_retries_its_attempts(
        cluster: Cluster, queue: TaskQueue) -> None:
    marker = cluster.storage / "removed"
    ids = cluster.submit(queue, f"""
id: orphaned
tasks:
  - {{id: job, type: JOB_SUBMISSION, command: "{once_then_finish(marker)}"}}
""")
    framework = cluster.framework(queue, failover_timeout=0.3)
    await framework.start()
    old_id = await framework.wait_subscribed(10)
    await cluster.wait_for(lambda: cluster.seen("orphaned", "job", "TASK_RUNNING"))
    await cluster.wait_for(marker.exists)
    await framework.stop()
    await cluster.wait_for(lambda: not cluster.master.state.frameworks, 10)
    async with cluster.framework(queue) as again:
        assert await asyncio.wait_for(again.run_until_idle(ids), 30)
        new_id = again.framework_id
    assert new_id != old_id and queue.get_framework_id() == new_id
    task = queue.get_task("orphaned", "job")
    assert task.state is TaskState.FINISHED
    assert (task.retries_used, task.infra_retries_used) == (0, 1)
