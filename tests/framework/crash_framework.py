"""A framework process for the recovery tests, with failpoints that SIGKILL it.

Usage: python crash_framework.py MASTER_URL QUEUE_URL STORAGE_DIR {none,intent,ack}

* ``intent``: killed right after the first launch intents are committed, before their
  ACCEPT is sent;
* ``ack``: killed right after the first TASK_FINISHED is committed, while its
  acknowledgement is being sent;
* ``none``: runs until the queue is idle and prints ``COMPLETED`` or ``NOT COMPLETED``.

(The third kill point, between ACCEPT and TASK_RUNNING, is chosen by the test, which
watches the master.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from mesos_wm.framework import Framework, FrameworkConfig, StatusEvent
from mesos_wm.queue import Claims, TaskQueue

FAST: dict[str, Any] = {
    "refresh_interval": 0.1, "suppress_after": 0.3, "revive_interval": 0.05,
    "refuse_seconds": 0.2, "kill_retry_interval": 0.5, "executor_shutdown_grace": 1.0,
    "subscribe_timeout": 5.0, "give_up_after": 30.0,
}


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class CrashAfterIntent:
    """A queue whose first recorded launch intent is the last thing the process does."""

    def __init__(self, queue: TaskQueue) -> None:
        self._queue = queue

    def mark_launching_many(self, *args: Any, **kwargs: Any) -> Claims:
        claims = self._queue.mark_launching_many(*args, **kwargs)
        if claims.launched:
            print("CRASH after intent", [c.mesos_task_id for c in claims.launched], flush=True)
            die()
        return claims

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


async def main(master: str, queue_url: str, storage: str, crash: str) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    queue = TaskQueue.open(queue_url)
    served: Any = CrashAfterIntent(queue) if crash == "intent" else queue

    def on_status(event: StatusEvent) -> None:
        if crash == "ack" and event.state == "TASK_FINISHED" and event.applied:
            print("CRASH while acknowledging", event.mesos_task_id, flush=True)
            die()

    config = FrameworkConfig(python=sys.executable, storage_roots=(Path(storage),), **FAST)
    async with Framework(queue=served, master=master, config=config,
                         on_status=on_status) as framework:
        completed = await framework.run_until_idle()
    print("COMPLETED" if completed else "NOT COMPLETED", flush=True)
    return 0 if completed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
