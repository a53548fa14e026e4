"""The mesos_wm executor: carries out Airavata tasks inside a Mesos agent's sandbox.

Started by the agent (``python -m mesos_wm.executor`` or ``mesos-wm executor``), one per
workflow per agent.  Each task's :class:`~mesos_wm.proto.taskspec_pb2.TaskSpec` selects a
handler; handlers are async callables ``(spec, context) -> TaskOutcome``.  The public names
here are what a handler plug-in needs (see docs/executor.md).
"""

from __future__ import annotations

from mesos_wm.executor.context import ExecutorSettings, JobBoard, JobRecord, TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.outcome import Outcome, TaskOutcome, failed, finished, invalid
from mesos_wm.executor.paths import PathEscapeError
from mesos_wm.executor.process import ProcessGroup, ProcessGuard
from mesos_wm.executor.registry import HANDLER_GROUP, Handler, HandlerRegistry, UnknownTaskType
from mesos_wm.executor.transfer import (
    TRANSPORT_GROUP,
    DownloadSink,
    Transport,
    TransportRegistry,
    UnsupportedScheme,
)

__all__ = [
    "HANDLER_GROUP",
    "TRANSPORT_GROUP",
    "DownloadSink",
    "ExecutorSettings",
    "Handler",
    "HandlerRegistry",
    "JobBoard",
    "JobRecord",
    "Outcome",
    "PathEscapeError",
    "ProcessGroup",
    "ProcessGuard",
    "TaskContext",
    "TaskOutcome",
    "Transport",
    "TransportRegistry",
    "UnknownTaskType",
    "UnsupportedScheme",
    "execute",
    "failed",
    "finished",
    "invalid",
]
