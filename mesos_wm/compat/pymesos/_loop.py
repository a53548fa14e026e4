"""An asyncio event loop in a background thread, for pymesos's blocking API.

The loop thread runs the asyncio driver; a second, single worker thread runs the user's
callbacks one at a time.  A callback may therefore call a blocking driver method: the
method submits a coroutine to the loop and waits, while the loop (not blocked by the
callback) runs it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """Owns an event loop thread and a callback thread.

    Args:
        name: a prefix for the threads' names.
    """

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"{name}-loop", daemon=True)
        self.callbacks = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"{name}-callbacks"
        )
        self._closing = threading.Lock()
        self._closed = False
        self._thread.start()
        self._ready.wait()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop running in the background thread."""
        return self._loop

    def in_loop_thread(self) -> bool:
        """Whether the caller runs in the loop thread (where blocking would deadlock)."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; return a future for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (re-raising its exception).

        Raises:
            RuntimeError: called from the loop thread itself.
        """
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError("a blocking driver method was called from the event loop thread")
        return self.submit(coro).result()

    async def call_back(self, function: Callable[..., T], *args: Any) -> T:
        """Run a user callback on the callback thread and wait for it (from the loop)."""
        return await self._loop.run_in_executor(self.callbacks, function, *args)

    def close(self, drain_timeout: float = 10.0) -> None:
        """Let running coroutines finish, then stop the loop and both threads.

        Args:
            drain_timeout: seconds to wait for the loop's other tasks before cancelling.

        Raises:
            RuntimeError: called from the loop thread.
        """
        if self.in_loop_thread():
            raise RuntimeError("LoopThread.close() from its own loop thread")
        with self._closing:
            if self._closed:
                return
            self._closed = True
        try:
            self.submit(self._drain(drain_timeout)).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self.callbacks.shutdown(wait=False)

    @staticmethod
    async def _drain(timeout: float) -> None:
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        if others:
            await asyncio.wait(others, timeout=timeout)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
