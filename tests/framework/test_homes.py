"""Where each workflow's working directory lives."""

from __future__ import annotations

from mesos_wm.framework.homes import Homes


def test_learning_settling_and_losing_agents() -> None:
    homes = Homes()
    assert not homes.known("a")
    assert homes.learn("a", None)
    assert homes.known("a") and homes.get("a") is None
    assert homes.learn("a", "S1")
    assert not homes.learn("a", "S1")
    homes.learn("b", "S1")
    homes.learn("c", "S2")
    homes.executor_started("c", "S3")
    assert homes.executors("c") == {"S2", "S3"}
    assert homes.agent_lost("S1") == ["a", "b"]
    assert homes.known("a") and homes.get("a") is None
    assert homes.settled("c") == {"S2", "S3"}
    assert not homes.known("c")
    assert homes.agent_lost("S2") == []
