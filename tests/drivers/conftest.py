"""Fixtures for the driver tests: the loopback fake master and an event recorder."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from mesos_wm.drivers.scheduler import DriverEvent, SchedulerDriver
from mesos_wm.wire.session import Backoff
from tests.drivers.fake_master import FakeMaster, Validator

E = TypeVar("E")

FRAMEWORK_INFO = {"user": "tester", "name": "driver-test", "roles": ["wm"]}
FAST_BACKOFF = Backoff(initial=0.01, maximum=0.05)


class Recorder:
    """An event handler that records events and lets tests wait for them."""

    def __init__(self) -> None:
        self.events: list[DriverEvent] = []
        self._queue: asyncio.Queue[DriverEvent] = asyncio.Queue()
        self.on_event: Callable[[DriverEvent], Any] | None = None

    async def __call__(self, event: DriverEvent) -> None:
        self.events.append(event)
        self._queue.put_nowait(event)
        if self.on_event is not None:
            result = self.on_event(event)
            if asyncio.iscoroutine(result):
                await result

    async def next(self, kind: type[E], timeout: float = 10.0) -> E:
        """Wait for the next event of ``kind``, skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self._queue.get()
                if isinstance(event, kind):
                    return event

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def validator(request: pytest.FixtureRequest) -> Validator | None:
    """The conformance oracle's check when it is available (mandatory in CI)."""
    try:
        protos = request.getfixturevalue("mesos_protos")
    except (pytest.FixtureLookupError, pytest.skip.Exception):
        return None
    checks = {
        "mesos.v1.scheduler.Call": protos.check_scheduler_call,
        "mesos.v1.scheduler.Event": protos.check_scheduler_event,
        "mesos.v1.executor.Call": protos.check_executor_call,
        "mesos.v1.executor.Event": protos.check_executor_event,
    }

    def check(message_type: str, obj: Any) -> None:
        checks[message_type](obj)

    return check


@pytest.fixture
async def fake_master(validator: Validator | None) -> AsyncIterator[FakeMaster]:
    master = FakeMaster(validator=validator)
    await master.start()
    try:
        yield master
    finally:
        await master.close()
    assert not master.violations, master.violations


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def make_driver(
    fake_master: FakeMaster, recorder: Recorder
) -> AsyncIterator[Callable[..., SchedulerDriver]]:
    made: list[SchedulerDriver] = []

    def make(**kwargs: Any) -> SchedulerDriver:
        kwargs.setdefault("backoff", FAST_BACKOFF)
        kwargs.setdefault("rng", random.Random(0))
        master = kwargs.pop("master", fake_master.url)
        info = kwargs.pop("framework_info", FRAMEWORK_INFO)
        driver = SchedulerDriver(master, info, kwargs.pop("handler", recorder), **kwargs)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.stop()
