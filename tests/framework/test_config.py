"""FrameworkConfig checks its values once."""

from __future__ import annotations

import pytest

from mesos_wm.framework import ONE_WEEK, FrameworkConfig


def test_defaults_keep_the_promises() -> None:
    config = FrameworkConfig()
    assert config.failover_timeout == ONE_WEEK == 604800
    assert config.checkpoint
    assert config.roles == ("*",)


@pytest.mark.parametrize("changes, message", [
    ({"refuse_seconds": -1}, "refuse_seconds"),
    ({"reconcile_interval": float("nan")}, "reconcile_interval"),
    ({"roles": ()}, "roles"),
    ({"secret": "s"}, "principal"),
    ({"capabilities": ("FLYING",)}, "unknown capabilities"),
    ({"storage_roots": ("relative/dir",)}, "absolute"),
    ({"reconcile_batch": 0}, "at least 1"),
])
def test_bad_values_are_refused_with_a_hint(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FrameworkConfig(**changes)  # type: ignore[arg-type]


def test_replace_checks_again() -> None:
    with pytest.raises(ValueError):
        FrameworkConfig().replace(revive_interval=-2)
