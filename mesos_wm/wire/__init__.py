"""The Mesos v1 wire protocol, sans-IO: RecordIO framing, call builders, event parsing.

Nothing in this package does I/O, reads a clock or imports asyncio/aiohttp; drivers in
``mesos_wm.drivers`` move the bytes.

The call and event modules are used as namespaces, since several names repeat between
the scheduler and executor APIs (``subscribe``, ``Message``, ``Error``...)::

    from mesos_wm.wire import scheduler_calls, scheduler_events

    body = json.dumps(scheduler_calls.decline(framework_id, [offer_id])).encode()
    event = scheduler_events.parse_event(record)
"""

from __future__ import annotations

from mesos_wm.wire import (
    executor_calls,
    executor_events,
    messages,
    recordio,
    scheduler_calls,
    scheduler_events,
    states,
)
from mesos_wm.wire._common import JsonDict
from mesos_wm.wire.executor_events import ExecutorEvent
from mesos_wm.wire.recordio import DEFAULT_MAX_RECORD_SIZE, RecordIODecoder, encode
from mesos_wm.wire.scheduler_events import SchedulerEvent
from mesos_wm.wire.states import TERMINAL_STATES, Reason, Source, TaskState, is_terminal

__all__ = [
    "DEFAULT_MAX_RECORD_SIZE",
    "TERMINAL_STATES",
    "ExecutorEvent",
    "JsonDict",
    "Reason",
    "RecordIODecoder",
    "SchedulerEvent",
    "Source",
    "TaskState",
    "encode",
    "executor_calls",
    "executor_events",
    "is_terminal",
    "messages",
    "recordio",
    "scheduler_calls",
    "scheduler_events",
    "states",
]
