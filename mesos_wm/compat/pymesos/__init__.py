"""pymesos's API on mesos_wm: change ``from pymesos import ...`` to
``from mesos_wm.compat.pymesos import ...`` and a pymesos framework runs on Python 3.11+.

The names, constructor arguments, methods and callbacks are pymesos's
(``MesosSchedulerDriver``, ``MesosExecutorDriver``, ``Scheduler``, ``Executor``,
``encode_data``, ``decode_data``); ``docs/pymesos.md`` lists the mapping and the few
deliberate differences.  The submodules ``interface`` and ``utils`` mirror pymesos's.
"""

from __future__ import annotations

from mesos_wm.compat.pymesos._base import (
    DRIVER_ABORTED,
    DRIVER_NOT_STARTED,
    DRIVER_RUNNING,
    DRIVER_STOPPED,
)
from mesos_wm.compat.pymesos.executor import MesosExecutorDriver
from mesos_wm.compat.pymesos.interface import Executor, ExecutorDriver, Scheduler, SchedulerDriver
from mesos_wm.compat.pymesos.scheduler import MesosSchedulerDriver
from mesos_wm.compat.pymesos.utils import decode_data, encode_data, parse_duration

__all__ = [
    "DRIVER_ABORTED",
    "DRIVER_NOT_STARTED",
    "DRIVER_RUNNING",
    "DRIVER_STOPPED",
    "Executor",
    "ExecutorDriver",
    "MesosExecutorDriver",
    "MesosSchedulerDriver",
    "Scheduler",
    "SchedulerDriver",
    "decode_data",
    "encode_data",
    "parse_duration",
]
