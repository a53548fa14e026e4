"""A process killed by SIGKILL at any point leaves the store consistent, and reopening it
recovers the whole ready index."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mesos_wm.queue import TaskQueue
from tests.queue.consistency import check_consistency, check_intake

SUBMITTER = textwrap.dedent(
    """
    import sys
    from mesos_wm.queue import TaskDef, TaskQueue, Workflow

    queue = TaskQueue.open(sys.argv[1])
    i = 0
    while True:
        tasks = tuple(
            TaskDef(f"t{j}", "COMMAND", depends_on=(f"t{j - 1}",) if j % 3 else (),
                    command="true")
            for j in range(1500)
        )
        queue.submit(Workflow(f"w{i}", tasks))
        print(f"submitted {i}", flush=True)
        i += 1
    """
)

EXPANDER = textwrap.dedent(
    """
    import sys
    from mesos_wm.queue import TaskDef, TaskQueue, Workflow

    queue = TaskQueue.open(sys.argv[1])
    for i in range(int(sys.argv[2])):
        tasks = tuple(TaskDef(f"t{j}", "COMMAND", depends_on=(f"t{j - 1}",) if j % 2 else (),
                              command="true") for j in range(10))
        queue.submit(Workflow(f"w{i}", tasks))
        print(f"submitted {i}", flush=True)
    print("expanding", flush=True)
    print(f"ready {queue.ready_count()}", flush=True)
    """
)

DRIVER = textwrap.dedent(
    """
    import random, sys
    from mesos_wm.queue import RetryPolicy, TaskDef, TaskQueue, TaskShape, Workflow

    queue = TaskQueue.open(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    shape = TaskShape(retries=RetryPolicy(max=2, backoff=0.0, max_infra=2))
    for w in range(20):
        queue.submit(Workflow(f"w{w}", tuple(
            TaskDef(f"t{j}", "COMMAND", depends_on=(f"t{j - 1}",) if j % 4 else (),
                    run_on=rng.choice(["success", "always", "failure"][:3 if j % 4 else 2]),
                    shape=shape,
                    command="true")
            for j in range(40))), now=0.0)
    now, steps = 1.0, 0
    while True:
        ready = queue.ready_tasks(limit=25, now=now)
        if not ready:
            print("done", flush=True)
            break
        claims = queue.mark_launching_many([r.key for r in ready], agent_id="a", now=now)
        for launch in claims.launched:
            now += 1.0
            mid = launch.mesos_task_id
            queue.apply_status(mid, "TASK_RUNNING", now=now)
            final = rng.choice(["TASK_FINISHED"] * 3 + ["TASK_FAILED", "TASK_LOST"])
            queue.apply_status(mid, final, now=now)
            steps += 1
            print(f"step {steps}", flush=True)
        if rng.random() < 0.05:
            queue.cancel(f"w{rng.randrange(20)}", now=now)
    """
)


def _kill_after(script: str, args: list[str], lines: int, tmp_path: Path) -> list[str]:
    path = tmp_path / "child.py"
    path.write_text(script)
    child = subprocess.Popen([sys.executable, str(path), *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    assert child.stdout is not None
    try:
        for line in child.stdout:
            seen.append(line.strip())
            if len(seen) >= lines or line.startswith(("done", "expanding")):
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert seen, child.stderr.read() if child.stderr else "no output"
    return seen


def test_killed_mid_submission_leaves_whole_workflows(queue_url: str, tmp_path: Path) -> None:
    seen = _kill_after(SUBMITTER, [queue_url], 3, tmp_path)
    with TaskQueue.open(queue_url) as queue:
        workflows = queue.list_workflows()
        assert len(workflows) >= len(seen)
        assert {f"w{i}" for i in range(len(seen))} <= {w.workflow_id for w in workflows}
        assert all(w.total == 1500 for w in workflows)
        check_consistency(queue)
        assert queue.ready_count() == 500 * len(workflows)


@pytest.mark.parametrize("when", ["submitting", "expanding"])
def test_killed_while_the_intake_fills_or_is_expanded_loses_no_acknowledged_submit(
    queue_url: str, tmp_path: Path, when: str
) -> None:
    lines = 40 if when == "submitting" else 10_000
    seen = _kill_after(EXPANDER, [queue_url, "400"], lines, tmp_path)
    acknowledged = sum(line.startswith("submitted") for line in seen)
    assert acknowledged == (40 if when == "submitting" else 400)
    with TaskQueue.open(queue_url) as queue:
        assert check_intake(queue) == []
        workflows = {w.workflow_id: w for w in queue.list_workflows()}
        assert {f"w{i}" for i in range(acknowledged)} <= set(workflows)
        assert len(workflows) <= acknowledged + 1
        assert all(w.total == 10 for w in workflows.values())
        check_consistency(queue)
        assert queue.ready_count() == 5 * len(workflows)


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_mid_transitions_recovers_a_consistent_store(
    queue_url: str, tmp_path: Path, seed: int
) -> None:
    seen = _kill_after(DRIVER, [queue_url, str(seed)], 150 + 97 * seed, tmp_path)
    assert not seen[-1].startswith("done")
    with TaskQueue.open(queue_url) as queue:
        check_consistency(queue)
        active = queue.active_attempts()
        assert len(active) <= 25
        for attempt in active:
            outcome = queue.apply_status(attempt.mesos_task_id, "TASK_LOST",
                                         reason="REASON_RECONCILIATION", now=10_000.0)
            assert outcome.known
        check_consistency(queue)
