"""Which attempts are reconciled, in batches, and when."""

from __future__ import annotations

from mesos_wm.framework.reconcile import Reconciler
from tests.framework.builders import active


def test_after_subscribing_every_alive_attempt_is_reconciled_in_batches() -> None:
    r = Reconciler(interval=60, grace=30, batch=2)
    attempts = [active("w.a.a1"), active("w.b.a1", agent=None), active("w.c.a2")]
    batches = r.plan(attempts, now=100.0, launched_at={"w.a.a1": 99.0}, everything=True)
    assert batches == [[("w.a.a1", "S1"), ("w.b.a1", None)], [("w.c.a2", "S1")]]


def test_periodic_rounds_leave_out_launches_younger_than_the_grace() -> None:
    r = Reconciler(interval=60, grace=30, batch=100)
    attempts = [active("w.a.a1"), active("w.b.a1")]
    batches = r.plan(attempts, now=100.0, launched_at={"w.a.a1": 90.0, "w.b.a1": 50.0})
    assert batches == [[("w.b.a1", "S1")]]


def test_rounds_are_due_every_interval() -> None:
    r = Reconciler(interval=60, grace=30, batch=100)
    assert r.due(0.0)
    r.done(10.0)
    assert not r.due(69.0)
    assert r.due(70.0)
    assert r.next_deadline() == 70.0
