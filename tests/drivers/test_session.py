"""The sans-IO scheduler session: transition table, backoff, watchdog, redirects."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from mesos_wm.errors import LocalProtocolError, NotSubscribed, RemoteProtocolError
from mesos_wm.wire.session import (
    HEARTBEAT_MISSES,
    TRANSITIONS,
    Backoff,
    SchedulerSession,
    SessionInput,
    SessionState,
    resolve_redirect,
)

MASTER = "http://m1:5050"
INFO = {"user": "alice", "name": "wm", "roles": ["a", "b"]}


def session(**kwargs: object) -> SchedulerSession:
    return SchedulerSession(INFO, rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


def subscribed(s: SchedulerSession, now: float = 0.0, interval: float = 15.0) -> None:
    s.start(MASTER, now)
    s.stream_opened("stream-1", now)
    s.subscribed("fw-1", interval, now)


def test_the_table_is_the_only_way_to_change_state() -> None:
    for state in SessionState:
        for event in SessionInput:
            s = session()
            s.state = state
            if (state, event) in TRANSITIONS:
                s._apply(event)
                assert s.state is TRANSITIONS[(state, event)]
            else:
                with pytest.raises(LocalProtocolError, match=event.value):
                    s._apply(event)


def test_stopped_is_final_and_every_state_can_stop_or_fail() -> None:
    assert {e for (st, e) in TRANSITIONS if st is SessionState.STOPPED} == {SessionInput.STOP}
    for state in SessionState:
        assert TRANSITIONS[(state, SessionInput.STOP)] is SessionState.STOPPED


def test_subscription_then_drop_then_resubscription_keeps_the_framework_id() -> None:
    s = session()
    assert s.framework_id is None
    s.start(MASTER, 0.0)
    assert s.state is SessionState.CONNECTING
    s.stream_opened("stream-1", 0.1)
    assert s.state is SessionState.SUBSCRIBING
    assert s.subscribed("fw-1", 15.0, 0.2) is False
    assert s.require_subscribed() == ("fw-1", "stream-1", MASTER)

    s.dropped(10.0, "stream ended")
    assert s.state is SessionState.BACKING_OFF
    assert s.stream_id is None
    assert s.retry_at is not None and 10.0 < s.retry_at <= 10.5
    with pytest.raises(NotSubscribed):
        s.require_subscribed()

    s.retry(MASTER, s.retry_at)
    assert s.framework_info["id"] == {"value": "fw-1"}
    s.stream_opened("stream-2", 11.0)
    assert s.subscribed("fw-1", 15.0, 11.0) is True
    assert s.require_subscribed() == ("fw-1", "stream-2", MASTER)
    assert s.attempts == 0


@pytest.mark.parametrize("state", [st for st in SessionState if st is not SessionState.SUBSCRIBED])
def test_calls_are_refused_unless_subscribed(state: SessionState) -> None:
    s = session()
    s.state = state
    with pytest.raises(NotSubscribed, match=state.value):
        s.require_subscribed()


def test_backoff_is_capped_exponential_with_jitter_and_never_zero() -> None:
    policy = Backoff(initial=0.5, maximum=8.0)
    assert [policy.cap(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    rng = random.Random(1)
    for attempt in range(200):
        delay = policy.delay(attempt, rng)
        assert policy.cap(attempt) / 2 <= delay <= policy.cap(attempt)
    draws = {round(policy.delay(10, rng), 6) for _ in range(50)}
    assert len(draws) > 40
    assert policy.cap(10_000) == 8.0


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    policy = Backoff()
    first = [policy.delay(n, random.Random(42)) for n in range(5)]
    assert first == [policy.delay(n, random.Random(42)) for n in range(5)]


@pytest.mark.parametrize(
    "kwargs", [{"initial": 0}, {"initial": 2, "maximum": 1}, {"multiplier": 0.5}]
)
def test_bad_backoff_is_a_value_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**kwargs)


def test_consecutive_drops_back_off_longer() -> None:
    s = session(backoff=Backoff(initial=1.0, maximum=4.0))
    s.start(MASTER, 0.0)
    waits = []
    now = 0.0
    for _ in range(5):
        s.dropped(now, "refused")
        assert s.retry_at is not None
        waits.append(s.retry_at - now)
        now = s.retry_at
        s.retry(MASTER, now)
    for n, wait in enumerate(waits):
        cap = min(4.0, 2.0**n)
        assert cap / 2 <= wait <= cap


def test_heartbeat_watchdog_is_five_intervals_after_the_last_event() -> None:
    s = session()
    subscribed(s, now=100.0, interval=2.0)
    assert s.watchdog_deadline() == 100.0 + HEARTBEAT_MISSES * 2.0
    assert s.read_timeout(104.0) == 6.0
    s.event_received(105.0)
    assert not s.watchdog_expired(114.9)
    assert s.watchdog_expired(115.0)
    s.handled(120.0)
    assert s.watchdog_deadline() == 130.0
    assert s.read_timeout(200.0) == 0.0


def test_subscribe_attempts_have_their_own_timeout() -> None:
    s = session(subscribe_timeout=3.0)
    s.start(MASTER, 50.0)
    assert s.watchdog_deadline() == 53.0
    s.stream_opened("x", 51.0)
    assert s.watchdog_expired(53.0)
    s.dropped(53.0, "timeout")
    assert s.watchdog_deadline() is None and s.read_timeout(60.0) is None


def test_zero_heartbeat_interval_disables_the_watchdog() -> None:
    s = session()
    subscribed(s, interval=0.0)
    assert s.watchdog_deadline() is None


def test_events_before_subscribed_are_a_remote_protocol_error() -> None:
    s = session()
    s.start(MASTER, 0.0)
    s.stream_opened("x", 0.0)
    with pytest.raises(RemoteProtocolError, match="SUBSCRIBED"):
        s.event_received(0.1)
    with pytest.raises(RemoteProtocolError, match="Mesos-Stream-Id"):
        session().stream_opened("", 0.0)


@pytest.mark.parametrize(
    ("location", "current", "expected"),
    [
        ("//m2:5050/api/v1/scheduler", "http://m1:5050", "http://m2:5050"),
        ("//m2:5050/api/v1/scheduler", "https://m1:5050", "https://m2:5050"),
        ("https://m3:443/api/v1/scheduler", "http://m1:5050", "https://m3:443"),
        ("//10.0.0.2:5051", "http://m1:5050", "http://10.0.0.2:5051"),
        (" //[::1]:5050/api/v1/scheduler ", "http://m1:5050", "http://[::1]:5050"),
    ],
)
def test_resolve_redirect(location: str, current: str, expected: str) -> None:
    assert resolve_redirect(location, current) == expected


@pytest.mark.parametrize("location", ["ftp://x/y", "mailto:a@b"])
def test_unusable_redirects_are_refused(location: str) -> None:
    with pytest.raises(RemoteProtocolError, match="redirect"):
        resolve_redirect(location, "http://m1:5050")


def test_redirects_are_followed_until_the_limit() -> None:
    s = session(max_redirects=2)
    s.start(MASTER, 0.0)
    s.redirected("//m2:5050/api/v1/scheduler", 0.1)
    assert (s.state, s.master_url) == (SessionState.CONNECTING, "http://m2:5050")
    s.redirected("//m1:5050/api/v1/scheduler", 0.2)
    assert s.master_url == MASTER
    s.redirected("//m2:5050/api/v1/scheduler", 0.3)
    assert s.state is SessionState.BACKING_OFF


def test_a_bad_redirect_backs_off() -> None:
    s = session()
    s.start(MASTER, 0.0)
    with pytest.raises(RemoteProtocolError):
        s.redirected("ftp://nowhere/", 0.1)
    assert s.state is SessionState.BACKING_OFF


def test_giving_up_after_a_deadline_without_subscription() -> None:
    s = session(give_up_after=10.0)
    subscribed(s, now=0.0)
    s.dropped(100.0, "stream ended")
    assert s.state is SessionState.BACKING_OFF
    s.retry(MASTER, 101.0)
    s.dropped(105.0, "refused")
    assert s.state is SessionState.BACKING_OFF
    s.retry(MASTER, 106.0)
    s.dropped(110.0, "refused")
    assert s.state is SessionState.STOPPED
    assert s.failure is not None and "no subscription for 10s" in s.failure
    assert "refused" in s.failure


def test_failure_and_stop_are_final() -> None:
    s = session()
    subscribed(s)
    s.failed("master sent ERROR: Framework has been removed")
    assert s.state is SessionState.STOPPED and s.stream_id is None
    s.failed("again")
    s.dropped(1.0, "late")
    assert s.failure == "master sent ERROR: Framework has been removed"
    with pytest.raises(LocalProtocolError):
        s.retry(MASTER, 2.0)
    s.stop()


def test_suppressed_roles_are_remembered_for_resubscription() -> None:
    s = session()
    s.note_suppressed(["a"])
    assert s.suppressed_roles == {"a"}
    s.note_suppressed([])
    assert s.suppressed_roles == {"a", "b"}
    s.note_revived(["b"])
    assert s.suppressed_roles == {"a"}
    s.note_revived([])
    assert s.suppressed_roles == frozenset()


def test_update_framework_info_keeps_the_id() -> None:
    s = session()
    subscribed(s)
    s.update_framework_info({"user": "alice", "name": "renamed", "roles": ["a"]})
    assert s.framework_info == {
        "user": "alice",
        "name": "renamed",
        "roles": ["a"],
        "id": {"value": "fw-1"},
    }


def test_the_session_module_is_pure() -> None:
    code = (
        "import sys, mesos_wm.wire.session\n"
        "bad = {'asyncio', 'aiohttp', 'sqlite3', 'kazoo'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_subscribe_call_resubscribes_with_the_framework_id_and_suppressed_roles() -> None:
    s = session()
    first = s.subscribe_call()
    assert "framework_id" not in first
    assert first["subscribe"]["framework_info"] == INFO
    subscribed(s)
    s.note_suppressed(["b"])
    s.dropped(1.0, "gone")
    again = s.subscribe_call()
    assert again["framework_id"] == {"value": "fw-1"}
    assert again["subscribe"]["framework_info"]["id"] == {"value": "fw-1"}
    assert again["subscribe"]["suppressed_roles"] == ["b"]
