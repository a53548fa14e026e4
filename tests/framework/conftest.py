"""Fixtures of the framework's end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from mesos_wm.queue import TaskQueue
from tests.framework.harness import Cluster


@pytest_asyncio.fixture
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    marker = request.node.get_closest_marker("cluster")
    options = dict(marker.kwargs) if marker else {}
    started = await Cluster(tmp_path, **options).start()
    yield started
    await started.stop()


@pytest.fixture
def queue(cluster: Cluster) -> Iterator[TaskQueue]:
    opened = TaskQueue.open(cluster.queue_url)
    yield opened
    opened.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster(agents=1, resources=..., config=...): "
                                       "configure the framework tests' embedded cluster")
