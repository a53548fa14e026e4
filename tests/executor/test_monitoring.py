"""MONITORING and OUTPUT_FETCHING follow a job run by the same executor."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.outcome import Outcome
from mesos_wm.executor.registry import HandlerRegistry
from tests.executor.helpers import make_spec

MakeContext = Callable[..., TaskContext]
REGISTRY = HandlerRegistry(plugins={})

# Writes outputs/step-<n>.dat every 0.2 s, three times, then waits for a "go" file.
STEPPING = textwrap.dedent(
    """
    import os, sys, time
    os.makedirs("outputs", exist_ok=True)
    for n in range(3):
        with open(f"outputs/step-{n}.dat", "w") as f:
            f.write(f"step {n}\\n")
        print(f"progress {n}", flush=True)
        time.sleep(0.2)
    while not os.path.exists("go"):
        time.sleep(0.02)
    sys.exit(int(open("go").read() or 0))
    """
)


async def wait_until(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never became true")


async def test_monitoring_reports_progress_and_ends_with_the_job(
    sandbox: Path, make_context: MakeContext
) -> None:
    job = make_spec("JOB_SUBMISSION", task_id="run", argv=[sys.executable, "-c", STEPPING])
    monitor = make_spec(
        "MONITORING", task_id="watch", params={"job": "run"}, output_fetch_period_seconds=0.05
    )
    monitor_context = make_context(monitor)
    watching = asyncio.create_task(execute(monitor, monitor_context, REGISTRY))
    running = asyncio.create_task(execute(job, make_context(job), REGISTRY))
    reports: list[str] = monitor_context.reports  # type: ignore[attr-defined]
    await wait_until(lambda: len(reports) >= 3)
    assert not watching.done()
    (sandbox / "wf-1" / "go").write_text("0")
    job_outcome, monitor_outcome = await running, await watching
    assert job_outcome.ok
    assert monitor_outcome.state is Outcome.FINISHED
    assert "job run TASK_FINISHED" in monitor_outcome.message
    assert reports[0].startswith("job run running for")
    assert "stdout" in reports[0]


async def test_monitoring_fails_when_the_job_fails(
    sandbox: Path, make_context: MakeContext
) -> None:
    job = make_spec("JOB_SUBMISSION", task_id="run", argv=[sys.executable, "-c", STEPPING])
    running = asyncio.create_task(execute(job, make_context(job), REGISTRY))
    monitor = make_spec("MONITORING", task_id="watch", output_fetch_period_seconds=0.05)
    await wait_until(lambda: (sandbox / "wf-1" / "outputs" / "step-0.dat").exists())
    watching = asyncio.create_task(execute(monitor, make_context(monitor), REGISTRY))
    (sandbox / "wf-1" / "go").write_text("3")
    outcome = await watching
    await running
    assert outcome.state is Outcome.FAILED
    assert "exit code 3" in outcome.message
    assert outcome.result.exit_code == 3


async def test_monitoring_without_a_job_fails_after_the_wait(make_context: MakeContext) -> None:
    spec = make_spec("MONITORING", params={"job": "never", "job_wait_seconds": "0.1"})
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "did not start" in outcome.message


async def test_output_fetching_copies_intermediate_outputs_while_the_job_runs(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    job = make_spec("JOB_SUBMISSION", task_id="run", argv=[sys.executable, "-c", STEPPING])
    fetch = make_spec(
        "OUTPUT_FETCHING",
        task_id="fetch",
        params={"job": "run"},
        output_fetch_period_seconds=0.05,
        globs=["outputs/*.dat"],
        destination_uri=f"file://{storage}/live",
    )
    fetching = asyncio.create_task(execute(fetch, make_context(fetch), REGISTRY))
    running = asyncio.create_task(execute(job, make_context(job), REGISTRY))
    live = storage / "live" / "outputs"
    await wait_until(lambda: (live / "step-0.dat").exists())
    assert not running.done()
    assert (live / "step-0.dat").read_text() == "step 0\n"
    await wait_until(lambda: (live / "step-2.dat").exists())
    (sandbox / "wf-1" / "outputs" / "final.dat").write_text("last words\n")
    (sandbox / "wf-1" / "go").write_text("0")
    await running
    outcome = await fetching
    assert outcome.state is Outcome.FINISHED, outcome.message
    assert (live / "final.dat").read_text() == "last words\n"
    assert {o.path for o in outcome.result.outputs} == {
        "outputs/step-0.dat", "outputs/step-1.dat", "outputs/step-2.dat", "outputs/final.dat"
    }
    assert "while job run ran" in outcome.message


async def test_output_fetching_without_a_job_copies_once(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    (sandbox / "wf-1" / "outputs").mkdir(parents=True)
    (sandbox / "wf-1" / "outputs" / "x.dat").write_text("x")
    fetch = make_spec(
        "OUTPUT_FETCHING", globs=["outputs/*"], destination_uri=f"file://{storage}"
    )
    outcome = await execute(fetch, make_context(fetch), REGISTRY)
    assert outcome.ok, outcome.message
    assert (storage / "outputs" / "x.dat").read_text() == "x"
    assert "1 round" in outcome.message


async def test_monitoring_reports_a_wall_time_expiry(make_context: MakeContext) -> None:
    job = make_spec("JOB_SUBMISSION", task_id="run", argv=["sleep", "30"], wall_time_seconds=0.3)
    monitor = make_spec(
        "MONITORING", task_id="watch", params={"job": "run"}, output_fetch_period_seconds=0.05
    )
    watching = asyncio.create_task(execute(monitor, make_context(monitor), REGISTRY))
    job_outcome = await execute(job, make_context(job), REGISTRY)
    outcome = await watching
    assert job_outcome.state is Outcome.FAILED
    assert outcome.state is Outcome.FAILED
    assert "wall time of 0.3s expired" in outcome.message
    assert outcome.result.run_seconds > 0.2
