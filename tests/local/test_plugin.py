"""The user-facing pytest fixtures of mesos_wm.testing."""

from __future__ import annotations

from typing import Any

import pytest

from mesos_wm.local.master import LocalMaster


@pytest.mark.mesos_master(
    agents=3, simulated=True, attributes="rack:r9", config={"heartbeat_interval": 2.0}
)
async def test_marker_configures_the_master(mesos_master: LocalMaster) -> None:
    agents = list(mesos_master.state.agents.values())
    assert len(agents) == 3
    assert all(a.simulated and a.attributes == {"rack": "r9"} for a in agents)
    assert mesos_master.config.heartbeat_interval == 2.0
    assert mesos_master.host == "127.0.0.1" and mesos_master.port > 0


async def test_raw_scheduler_fixture(raw_scheduler: Any, mesos_master: LocalMaster) -> None:
    scheduler = await raw_scheduler(name="probe")
    offers = await scheduler.next_event("OFFERS")
    assert offers["offers"]["offers"][0]["framework_id"]["value"] == scheduler.framework_id
    assert mesos_master.state.frameworks[scheduler.framework_id].info["name"] == "probe"


async def test_factory_starts_independent_masters(mesos_master_factory: Any) -> None:
    first = await mesos_master_factory(agents=1)
    second = await mesos_master_factory(agents=2, simulated=True)
    assert first.url != second.url
    assert first.state.master_id != second.state.master_id
    assert len(second.state.agents) == 2
