"""Offer-wait, staging and wall-time deadlines."""

from __future__ import annotations

from mesos_wm.framework import Deadlines, Timeout
from mesos_wm.framework.timeouts import describe


def test_deadlines_pop_in_order_and_can_be_replaced_or_cleared() -> None:
    d = Deadlines()
    d.set(Timeout.OFFER_WAIT, 1, 10.0, 10.0)
    d.set(Timeout.STAGING, "a", 5.0, 5.0)
    d.set(Timeout.WALL_TIME, "b", 7.0, 3.0)
    d.set(Timeout.STAGING, "a", 8.0, 8.0)
    d.clear(Timeout.WALL_TIME, "b")
    assert d.next_deadline() == 8.0
    assert d.pop_due(7.9) == []
    assert d.pop_due(10.0) == [(Timeout.STAGING, "a", 8.0), (Timeout.OFFER_WAIT, 1, 10.0)]
    assert len(d) == 0
    assert d.next_deadline() is None


def test_reasons_name_the_limit() -> None:
    assert describe(Timeout.OFFER_WAIT, 30) == "offer wait timeout: not placed within 30s"
    assert "staging timeout" in describe(Timeout.STAGING, 5)
    assert "wall time exceeded" in describe(Timeout.WALL_TIME, 60)
