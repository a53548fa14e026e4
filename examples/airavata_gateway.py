#!/usr/bin/env python3
"""The example gateway of ``airavata_gateway.yaml``, through the Python API.

A science gateway keeps its own records of experiments; here it builds the same four
Lennard-Jones experiments as workflow objects, submits them to a queue, runs the
framework on an embedded Mesos master until they have all settled, and follows every
status update with a callback (where a real gateway would update its database or notify
its users).  Finally it reads the computed energies from the storage directory.

Usage::

    python examples/airavata_gateway.py [--queue sqlite:///gateway.db] [--master local]

The exit status is 0 when every experiment completed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from pathlib import Path

from mesos_wm import Framework
from mesos_wm.framework import FrameworkConfig, StatusEvent
from mesos_wm.queue import (
    PRIORITY_NAMES,
    Direction,
    Resources,
    RetryPolicy,
    RunOn,
    Staging,
    StagingSource,
    TaskDef,
    TaskQueue,
    TaskShape,
    Workflow,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "gateway" / "data"
PROGRAM = HERE / "gateway" / "lj_energy.py"
STORAGE = HERE / "storage"

EXPERIMENTS = [  # (workflow id, molecule, owner, priority)
    ("exp-argon-12", "cluster-1", "alice", "URGENT"),
    ("exp-argon-20", "cluster-2", "bob", "NORMAL"),
    ("exp-argon-32", "cluster-3", "alice", "HIGH"),
    ("exp-argon-8", "cluster-4", "carol", "LOW"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def staged(path: Path, destination: str) -> StagingSource:
    return StagingSource(uri=path.as_uri(), destination=destination, sha256=sha256(path))


def experiment(workflow_id: str, molecule: str, owner: str, priority: str) -> Workflow:
    """One experiment: setup, two input stagings, the job, output staging, cleanup."""
    small = TaskShape(resources=Resources(cpus=0.25, mem=128),
                      retries=RetryPolicy(max=2, backoff=1.0, max_backoff=10.0))
    job = TaskShape(resources=Resources(cpus=1, mem=256), retries=small.retries)
    tasks = (
        TaskDef("setup", "ENV_SETUP", shape=small),
        TaskDef("stage-molecule", "DATA_STAGING", depends_on=("setup",), shape=small,
                staging=Staging(Direction.INPUT, sources=(
                    staged(DATA / f"{molecule}.xyz", "inputs/molecule.xyz"),))),
        TaskDef("stage-model", "DATA_STAGING", depends_on=("setup",), shape=small,
                staging=Staging(Direction.INPUT, sources=(
                    staged(DATA / "argon.json", "inputs/argon.json"),
                    staged(PROGRAM, "lj_energy.py")))),
        TaskDef("run", "JOB_SUBMISSION", depends_on=("stage-molecule", "stage-model"),
                shape=job, wall_time=120.0,
                command=("python3", "lj_energy.py", "inputs/molecule.xyz", "inputs/argon.json",
                         "outputs")),
        TaskDef("stage-out", "DATA_STAGING", depends_on=("run",), run_on=RunOn.ALWAYS,
                shape=small,
                staging=Staging(Direction.OUTPUT, outputs=("outputs/*.dat", "logs/*"),
                                destination=(STORAGE / workflow_id).as_uri() + "/")),
        TaskDef("cleanup", "ENV_CLEANUP", depends_on=("stage-out",), run_on=RunOn.ALWAYS,
                shape=small),
    )
    return Workflow(workflow_id, tasks, name=f"Lennard-Jones energy of {molecule}",
                    owner=owner, priority=PRIORITY_NAMES[priority],
                    labels={"gateway": "lj-demo", "molecule": molecule})


def on_status(event: StatusEvent) -> None:
    """What a gateway does with each committed update: here, print the interesting ones."""
    if event.applied and event.state in ("TASK_RUNNING", "TASK_FINISHED", "TASK_FAILED"):
        print(f"{event.workflow_id}/{event.task_id}: {event.state}")
    if event.workflow_state is not None:
        print(f"experiment {event.workflow_id} is now {event.workflow_state.value}")


async def main(queue_url: str, master: str) -> int:
    STORAGE.mkdir(exist_ok=True)
    config = FrameworkConfig(name="lj-gateway", storage_roots=(HERE,))
    with TaskQueue.open(queue_url) as queue:
        async with Framework(queue=queue, master=master, config=config,
                             on_status=on_status) as framework:
            framework.submit([experiment(*e) for e in EXPERIMENTS])
            completed = await framework.run_until_idle([e[0] for e in EXPERIMENTS])
        for workflow_id, molecule, _, _ in EXPERIMENTS:
            record = queue.get_workflow(workflow_id, tasks=False)
            energy = STORAGE / workflow_id / "outputs" / "energy.dat"
            result = energy.read_text().split()[1] if energy.exists() else "-"
            print(f"{workflow_id:14} {molecule:10} {record.state.value:10} energy {result}")
    return 0 if completed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", default=f"sqlite:///{HERE / 'gateway.db'}")
    parser.add_argument("--master", default="local",
                        help="'local' (an embedded master) or a master URL")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.queue, args.master)))
