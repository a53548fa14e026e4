"""Mesos v1 HTTP drivers: the I/O shells around the sans-IO wire layer.

* :class:`SchedulerDriver` subscribes a framework to the master and sends its calls;
* :class:`ExecutorDriver` subscribes an executor to its agent and sends status updates;
* :func:`make_detector` finds the leading master, directly or through ZooKeeper
  (:class:`~mesos_wm.drivers.zookeeper.ZooKeeperDetector`).
"""

from __future__ import annotations

from mesos_wm.drivers.detector import MasterDetector, StaticDetector, make_detector
from mesos_wm.drivers.events import Disconnected, Updates
from mesos_wm.drivers.executor import ExecutorDriver, ExecutorDriverEvent, ExecutorHandler
from mesos_wm.drivers.executor_env import ExecutorEnvironment, parse_duration
from mesos_wm.drivers.master import HttpMaster, ZooKeeperMaster, parse_master
from mesos_wm.drivers.scheduler import DriverEvent, EventHandler, SchedulerDriver
from mesos_wm.wire.session import Backoff

__all__ = [
    "Backoff",
    "Disconnected",
    "DriverEvent",
    "EventHandler",
    "ExecutorDriver",
    "ExecutorDriverEvent",
    "ExecutorEnvironment",
    "ExecutorHandler",
    "HttpMaster",
    "MasterDetector",
    "SchedulerDriver",
    "StaticDetector",
    "Updates",
    "ZooKeeperMaster",
    "make_detector",
    "parse_duration",
    "parse_master",
]
