"""Fixtures for the pymesos compatibility tests (reusing the drivers' loopback fakes)."""

from __future__ import annotations

import threading
from typing import Any

from tests.drivers.conftest import fake_master, recorder, validator  # noqa: F401

__all__ = ["CallLog"]


class CallLog:
    """Records callback invocations from the driver's callback thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.threads: set[str] = set()
        self._condition = threading.Condition()

    def add(self, name: str, *args: Any) -> None:
        with self._condition:
            self.calls.append((name, args))
            self.threads.add(threading.current_thread().name)
            self._condition.notify_all()

    def names(self) -> list[str]:
        with self._condition:
            return [name for name, _ in self.calls]

    def args(self, name: str) -> list[tuple[Any, ...]]:
        with self._condition:
            return [args for n, args in self.calls if n == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> tuple[Any, ...]:
        """Block until ``name`` was called ``count`` times; return the last arguments."""
        with self._condition:
            if not self._condition.wait_for(
                lambda: len(self.args_unlocked(name)) >= count, timeout
            ):
                raise AssertionError(f"{name} not called {count} times; calls: {self.calls}")
            return self.args_unlocked(name)[count - 1]

    def args_unlocked(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]
