"""The collector's pace while a framework or the embedded master runs: raised, then
restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mesos_wm.framework import FrameworkConfig
from mesos_wm.local import MasterConfig
from mesos_wm.local.collector import CollectorPace


@pytest.fixture(autouse=True)
def keep_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_threshold_is_raised_while_running_and_restored_after() -> None:
    pace = CollectorPace(50_000)
    pace.apply()
    pace.apply()
    assert gc.get_threshold() == (50_000, 10, 10)
    pace.restore()
    assert gc.get_threshold() == (700, 10, 10)
    pace.restore()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_or_disabled_threshold_and_none_are_left_alone() -> None:
    gc.set_threshold(100_000, 10, 10)
    CollectorPace(50_000).apply()
    assert gc.get_threshold() == (100_000, 10, 10)
    gc.set_threshold(700, 10, 10)
    CollectorPace(None).apply()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_someone_else_changed_meanwhile_is_not_overwritten() -> None:
    pace = CollectorPace(50_000)
    pace.apply()
    gc.set_threshold(1234, 10, 10)
    pace.restore()
    assert gc.get_threshold() == (1234, 10, 10)


def test_the_configs_check_the_threshold() -> None:
    assert FrameworkConfig().gc_threshold == MasterConfig().gc_threshold == 50_000
    assert FrameworkConfig(gc_threshold=None).gc_threshold is None
    with pytest.raises(ValueError, match="gc_threshold"):
        FrameworkConfig(gc_threshold=0)
    with pytest.raises(ValueError, match="gc_threshold"):
        MasterConfig(gc_threshold=0)
