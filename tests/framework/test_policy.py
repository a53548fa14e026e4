"""Decline filters, SUPPRESS and rate-limited REVIVE (pure decisions)."""

from __future__ import annotations

from mesos_wm.framework import FrameworkConfig, OfferAction, OfferPolicy

CONFIG = FrameworkConfig(refuse_seconds=1.0, refuse_seconds_idle=60.0, suppress_after=5.0,
                         revive_interval=2.0)


def test_declines_are_short_while_work_waits_and_long_when_idle() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    assert policy.refuse_seconds(1.0, waiting=3) == 1.0
    assert policy.refuse_seconds(4.0, waiting=0) == 1.0  # busy a moment ago
    assert not policy.filtered_long
    assert policy.refuse_seconds(6.5, waiting=0) == 60.0
    assert policy.filtered_long


def test_suppresses_once_idle_for_suppress_after() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    assert policy.decide(1.0, waiting=2) is OfferAction.NOTHING
    assert policy.decide(5.9, waiting=0) is OfferAction.NOTHING
    assert policy.next_deadline(5.9) == 6.0
    assert policy.decide(6.0, waiting=0) is OfferAction.SUPPRESS
    policy.suppressed_now()
    assert policy.decide(7.0, waiting=0) is OfferAction.NOTHING
    assert policy.next_deadline(7.0) is None


def test_revives_when_work_arrives_while_suppressed_at_most_once_per_interval() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    policy.suppressed_now()
    policy.work_arrived()
    assert policy.decide(10.0, waiting=1) is OfferAction.REVIVE
    policy.revived_now(10.0)
    assert not policy.suppressed
    policy.suppressed_now()
    policy.work_arrived()
    assert policy.decide(11.0, waiting=1) is OfferAction.NOTHING
    assert policy.next_deadline(11.0) == 12.0
    assert policy.decide(12.0, waiting=1) is OfferAction.REVIVE


def test_new_work_revives_filtered_offers_but_not_unfiltered_ones() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    policy.work_arrived()
    assert policy.decide(0.1, waiting=5) is OfferAction.NOTHING
    policy.refuse_seconds(0.5, waiting=4)
    policy.work_arrived()
    assert policy.decide(0.6, waiting=5) is OfferAction.REVIVE
    policy.revived_now(0.6)
    assert not policy.filtered


def test_revives_after_long_idle_filters_and_forgets_the_wish_when_work_is_gone() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    policy.refuse_seconds(30.0, waiting=0)
    policy.work_arrived()
    assert policy.decide(30.0, waiting=0) is not OfferAction.REVIVE
    assert not policy.revive_wanted
    policy.work_arrived()
    assert policy.decide(31.0, waiting=2) is OfferAction.REVIVE


def test_a_new_subscription_forgets_filters_but_keeps_suppression() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    policy.refuse_seconds(30.0, waiting=0)
    policy.suppressed_now()
    policy.subscribed(40.0)
    assert not policy.filtered_long
    assert policy.suppressed
    assert policy.decide(40.0, waiting=1) is OfferAction.REVIVE


def test_a_revive_that_failed_is_tried_again_after_the_interval_not_at_once() -> None:
    policy = OfferPolicy(CONFIG, now=0.0)
    policy.suppressed_now()
    policy.work_arrived()
    assert policy.decide(10.0, waiting=1) is OfferAction.REVIVE
    policy.revive_failed(10.0)
    assert policy.revive_wanted and policy.suppressed
    assert policy.next_deadline(10.0) == 12.0
    assert policy.decide(11.0, waiting=1) is OfferAction.NOTHING
    assert policy.decide(12.0, waiting=1) is OfferAction.REVIVE
