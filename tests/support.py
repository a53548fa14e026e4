"""Helpers shared by the test suite."""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_SERVICES_ENV = "MESOS_WM_REQUIRE_SERVICES"


def services_required() -> bool:
    """True when missing services must fail the run (set by ``.ci/run``)."""
    return os.environ.get(REQUIRE_SERVICES_ENV, "") not in ("", "0")


def missing_service(reason: str) -> None:
    """Skip with ``reason`` on a user's machine; fail when the CI requires every service."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV} is set, so this cannot be skipped)")
    pytest.skip(reason)


def require_binary(name: str, hint: str) -> str:
    """Return the path of ``name`` or skip/fail with ``hint`` (e.g. the Debian package)."""
    path = shutil.which(name)
    if path is None:
        missing_service(f"{name} not found; install {hint}")
    assert path is not None
    return path
