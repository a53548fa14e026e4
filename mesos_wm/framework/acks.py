"""Acknowledgements sent in the background, after their updates were committed.

Theory of operation
-------------------
The status handler hands every committed update that carries a uuid to
:meth:`AckSender.put` and goes on at once: the stream of events is read and the next batch
committed while the acknowledgements of the last one are on the wire.  A queue of pending
acknowledgements is drained by at most ``workers`` worker tasks, each sending one
ACKNOWLEDGE at a time; workers start when acknowledgements are waiting and end when none
are.

The queue needs no bound: the master forwards a task's next update only once its current
one is acknowledged, so at most one acknowledgement per live task is ever pending.  A
failed ACKNOWLEDGE is only logged: the agent sends the update again and it is
acknowledged then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

from mesos_wm.errors import MesosWmError
from mesos_wm.framework.runtime import Runtime

__all__ = ["AckSender"]

log = logging.getLogger("mesos_wm.framework")


class AckSender:
    """Sends ACKNOWLEDGEs in the background (see the module docstring).

    Args:
        rt: the framework's runtime state (its driver sends, its stats count).
        workers: acknowledgements in flight at once, at most.

    Raises:
        ValueError: ``workers`` is not positive.
    """

    def __init__(self, rt: Runtime, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.rt = rt
        self.workers = workers
        self._pending: deque[Mapping[str, Any]] = deque()
        self._running: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        """Acknowledgements not yet answered (waiting or on the wire)."""
        return len(self._pending) + len(self._running)

    def put(self, status: Mapping[str, Any]) -> None:
        """Acknowledge a committed ``TaskStatus`` (it must carry a uuid) soon."""
        self._pending.append(status)
        self._idle.clear()
        if len(self._running) < self.workers:
            task = asyncio.get_running_loop().create_task(self._work())
            self._running.add(task)

    async def drain(self) -> None:
        """Wait until every acknowledgement put so far was answered (or failed)."""
        await self._idle.wait()

    async def _work(self) -> None:
        rt = self.rt
        pending = self._pending
        try:
            while pending:
                status = pending.popleft()
                driver = rt.driver
                if driver is None:
                    continue
                try:
                    await driver.acknowledge(status)
                except MesosWmError as exc:
                    log.info("ACKNOWLEDGE failed (%s); the agent sends the update again", exc)
                    continue
                except Exception:
                    log.exception("ACKNOWLEDGE raised; the agent sends the update again")
                    continue
                rt.stats.acknowledged += 1
                rt.stats.calls += 1
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._running.discard(task)
            if not self._running:
                self._idle.set()
