"""Fixtures for the executor tests: a temporary sandbox, storage root and contexts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mesos_wm.executor.context import ExecutorSettings, JobBoard, TaskContext
from mesos_wm.executor.process import ProcessGuard
from mesos_wm.proto.taskspec_pb2 import TaskSpec


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    path = tmp_path / "sandbox"
    path.mkdir()
    return path


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    path = tmp_path / "storage"
    path.mkdir()
    return path


@pytest.fixture
def settings(sandbox: Path, storage: Path) -> ExecutorSettings:
    return ExecutorSettings(
        sandbox=sandbox,
        storage_roots=(storage,),
        default_kill_grace_seconds=0.5,
        default_output_fetch_period=0.1,
        base_env={"PATH": "/usr/bin:/bin", "MESOS_EXECUTOR_AUTHENTICATION_TOKEN": "s3cr3t"},
    )


@pytest.fixture
def guard() -> Iterator[ProcessGuard]:
    g = ProcessGuard()
    yield g
    g.close()


@pytest.fixture
def make_context(
    settings: ExecutorSettings, guard: ProcessGuard
) -> Callable[..., TaskContext]:
    jobs = JobBoard()
    reports: list[str] = []

    async def report(message: str) -> None:
        reports.append(message)

    def make(spec: TaskSpec, **overrides: object) -> TaskContext:
        context = TaskContext.for_spec(
            spec,
            overrides.pop("settings", settings),  # type: ignore[arg-type]
            jobs=jobs,
            guard=guard,
            report=report,
            logger=logging.getLogger("test.executor"),
        )
        context.reports = reports  # type: ignore[attr-defined]
        return context

    return make
