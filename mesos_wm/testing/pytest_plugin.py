"""The mesos_wm pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:

``mesos_master``
    A fresh :class:`~mesos_wm.local.LocalMaster` on an ephemeral loopback port with fast
    timings (:data:`~mesos_wm.local.config.FAST`) and one real agent (commands really
    run).  Customise with the ``mesos_master`` marker::

        @pytest.mark.mesos_master(agents=3, simulated=True, config={"offer_timeout": 1})
        async def test_x(mesos_master): ...

``mesos_master_factory``
    An async factory for several or differently configured masters, all stopped at the
    end of the test.

``raw_scheduler``
    A factory of :class:`~mesos_wm.testing.raw.RawScheduler` subscriptions to
    ``mesos_master``, closed at the end of the test.

The fixtures are async: run them under pytest-asyncio (``asyncio_mode = "auto"``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from mesos_wm.local.config import FAST, AgentConfig, MasterConfig
from mesos_wm.local.master import LocalMaster
from mesos_wm.testing.raw import RawScheduler

__all__ = ["mesos_master", "mesos_master_factory", "raw_scheduler"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mesos_master`` marker."""
    config.addinivalue_line(
        "markers",
        "mesos_master(agents=1, simulated=False, resources=None, attributes=None, "
        "config=None): configure the mesos_master fixture",
    )


def build_master(
    *,
    agents: int = 1,
    simulated: bool = False,
    resources: str | None = None,
    attributes: str | None = None,
    task_duration: float = 0.2,
    config: MasterConfig | dict[str, Any] | None = None,
    **kwargs: Any,
) -> LocalMaster:
    """Return an unstarted master with test timings (see the module docstring)."""
    if isinstance(config, dict):
        config = FAST.replace(**config)
    agent = AgentConfig(simulated=simulated, task_duration=task_duration)
    if resources is not None:
        agent = AgentConfig(resources=resources, simulated=simulated, task_duration=task_duration)
    if attributes is not None:
        agent = AgentConfig(
            resources=agent.resources,
            attributes=attributes,
            simulated=simulated,
            task_duration=task_duration,
        )
    return LocalMaster(agents=[agent] * agents, config=config or FAST, **kwargs)


@pytest_asyncio.fixture
async def mesos_master_factory() -> AsyncIterator[Callable[..., Awaitable[LocalMaster]]]:
    """Start masters on demand (``await factory(agents=2)``); all stop after the test."""
    started: list[LocalMaster] = []

    async def factory(**options: Any) -> LocalMaster:
        master = build_master(**options)
        await master.start()
        started.append(master)
        return master

    yield factory
    for master in reversed(started):
        await master.stop()


@pytest_asyncio.fixture
async def mesos_master(
    request: pytest.FixtureRequest,
    mesos_master_factory: Callable[..., Awaitable[LocalMaster]],
) -> LocalMaster:
    """A started embedded master with fast timings (see the module docstring)."""
    marker = request.node.get_closest_marker("mesos_master")
    options = dict(marker.kwargs) if marker else {}
    return await mesos_master_factory(**options)


@pytest_asyncio.fixture
async def raw_scheduler(
    mesos_master: LocalMaster,
) -> AsyncIterator[Callable[..., Awaitable[RawScheduler]]]:
    """Subscribe raw schedulers to ``mesos_master``: ``await raw_scheduler(name="x")``."""
    opened: list[RawScheduler] = []

    async def subscribe(**framework_info: Any) -> RawScheduler:
        info = {"user": "test", "name": "test", **framework_info}
        scheduler = RawScheduler(mesos_master.url, info)
        await scheduler.subscribe()
        opened.append(scheduler)
        return scheduler

    yield subscribe
    for scheduler in opened:
        await scheduler.close()
