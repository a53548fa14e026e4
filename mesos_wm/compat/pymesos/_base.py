"""The thread-and-status machinery shared by pymesos's two drivers.

pymesos's drivers are blocking objects with ``start/stop/abort/join/run`` returning a
``mesos.Status``.  :class:`ThreadedDriver` maps those onto an asyncio driver running in a
:class:`~mesos_wm.compat.pymesos._loop.LoopThread`: it starts the driver on the loop,
watches it end, reports errors from Mesos to the ``error`` callback, and re-raises from
:meth:`ThreadedDriver.join` whatever a callback raised.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from addict import Dict

from mesos_wm.compat.pymesos._loop import LoopThread
from mesos_wm.errors import NotSubscribed

__all__ = [
    "DRIVER_ABORTED",
    "DRIVER_NOT_STARTED",
    "DRIVER_RUNNING",
    "DRIVER_STOPPED",
    "AsyncDriver",
    "ThreadedDriver",
    "id_values",
    "optional_value",
    "plain",
]

logger = logging.getLogger(__name__)

DRIVER_NOT_STARTED = 1
DRIVER_RUNNING = 2
DRIVER_ABORTED = 3
DRIVER_STOPPED = 4
"""``mesos.Status`` values returned by start/stop/abort/join/run."""


def plain(message: Any) -> Any:
    """A deep copy of a Mesos JSON message as plain ``dict``/``list`` values."""
    if isinstance(message, Dict):
        return message.to_dict()
    if isinstance(message, Mapping):
        return {key: plain(value) for key, value in message.items()}
    if isinstance(message, list | tuple):
        return [plain(item) for item in message]
    return copy.copy(message)


def id_values(ids: Any) -> list[str]:
    """pymesos id arguments (one ``{"value"}``, a list of them, or strings) as strings."""
    if isinstance(ids, Mapping | str):
        ids = [ids]
    return [str(item["value"]) if isinstance(item, Mapping) else str(item) for item in ids]


def optional_value(message: Mapping[str, Any], field: str) -> str | None:
    """``message[field]["value"]`` as a string, or None when absent."""
    value = message.get(field)
    return str(value["value"]) if isinstance(value, Mapping) and "value" in value else None


class AsyncDriver(Protocol):
    """What the threaded wrapper needs of an asyncio driver."""

    async def start(self) -> None: ...

    async def join(self) -> None: ...


class ThreadedDriver:
    """Blocking lifecycle around an asyncio driver (see the module docstring).

    Args:
        callbacks: the user's Scheduler or Executor.
        use_addict: pass messages to callbacks as ``addict.Dict``.
        thread_name: prefix of the background threads' names.
    """

    def __init__(self, callbacks: Any, use_addict: bool, thread_name: str) -> None:
        self._callbacks_object = callbacks
        self._dict_cls: Callable[[Any], Any] = Dict if use_addict else plain
        self._thread_name = thread_name
        self._status = DRIVER_NOT_STARTED
        self._lock = threading.Lock()
        self._loop: LoopThread | None = None
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._callback_error: BaseException | None = None
        self._error_reported = False

    # -- to be provided by the concrete driver ----------------------------------------------

    async def _create(self) -> AsyncDriver:
        raise NotImplementedError

    async def _stop_async(self, graceful: bool) -> None:
        raise NotImplementedError

    def _expected_end(self, error: BaseException) -> bool:
        """Whether ``error`` ends the driver normally (pymesos called no ``error`` for it)."""
        return False

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def aborted(self) -> bool:
        """Whether the driver was aborted (by :meth:`abort` or an error)."""
        return self._status == DRIVER_ABORTED

    def start(self) -> int:
        """Start the driver in the background.

        Returns:
            DRIVER_RUNNING (or the current status if already started).
        """
        with self._lock:
            if self._status != DRIVER_NOT_STARTED:
                return self._status
            self._loop = LoopThread(self._thread_name)
            self._status = DRIVER_RUNNING
        self._loop.run(self._start())
        return self._status

    def abort(self) -> int:
        """Stop without tearing anything down; no callbacks are made afterwards.

        Returns:
            DRIVER_ABORTED (or the status the driver already ended with).
        """
        if self._end(DRIVER_ABORTED):
            self._run(self._stop_async(graceful=False))
        return self._status

    def join(self) -> int:
        """Wait until the driver stops (do not call it from a callback).

        Returns:
            DRIVER_STOPPED or DRIVER_ABORTED; errors from Mesos go to the ``error``
            callback first.

        Raises:
            Exception: what a callback raised (the driver aborted because of it).
        """
        if self._status == DRIVER_NOT_STARTED:
            return self._status
        self._done.wait()
        if self._loop is not None and not self._loop.in_loop_thread():
            self._loop.close()
        if self._error is not None:
            raise self._error
        return self._status

    def run(self) -> int:
        """Start, then join."""
        self.start()
        return self.join()

    def _end(self, status: int) -> bool:
        with self._lock:
            if self._status != DRIVER_RUNNING:
                return False
            self._status = status
            return True

    async def _end_in_loop(self, status: int, graceful: bool) -> None:
        """:meth:`stop`/:meth:`abort` for code already running on the loop."""
        if self._end(status):
            await self._stop_async(graceful=graceful)

    def _run(self, coro: Any) -> Any:
        if self._loop is None:
            coro.close()
            raise NotSubscribed("the driver was not started")
        return self._loop.run(coro)

    async def _start(self) -> None:
        driver = await self._create()
        await driver.start()
        assert self._loop is not None
        self._loop.loop.create_task(self._watch(driver))

    async def _watch(self, driver: AsyncDriver) -> None:
        try:
            await driver.join()
        except BaseException as exc:
            if exc is self._callback_error:
                self._end(DRIVER_ABORTED)
                self._error = exc
            elif self._expected_end(exc):
                self._end(DRIVER_STOPPED)
            else:
                self._end(DRIVER_ABORTED)
                if not self._error_reported:
                    self._error_reported = True
                    try:
                        await self._callback("error", str(exc), when_ended=True)
                    except Exception as callback_error:
                        self._error = callback_error
        finally:
            self._end(DRIVER_STOPPED)
            self._done.set()

    async def _callback(self, name: str, *args: Any, when_ended: bool = False) -> None:
        if self._status != DRIVER_RUNNING and not when_ended:
            return
        function = getattr(self._callbacks_object, name, None)
        if function is None:
            return
        assert self._loop is not None
        try:
            await self._loop.call_back(function, self, *args)
        except Exception as exc:
            logger.exception("the %s callback raised", name)
            self._callback_error = exc
            raise
