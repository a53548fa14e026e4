"""The mesos_wm framework: drives the workflows of a queue to completion on Mesos.

:class:`Framework` is the one orchestrator: it subscribes through the scheduler driver,
matches offers against the queue's ready tasks with the matcher, records launch intents
before it sends ACCEPT, commits status updates before it acknowledges them, and keeps its
promises across crashes because all state lives in the queue.  The other modules are its
parts, most of them pure decision logic:

* :mod:`~mesos_wm.framework.config` — :class:`FrameworkConfig`;
* :mod:`~mesos_wm.framework.launch` — TaskInfo/ExecutorInfo of an attempt;
* :mod:`~mesos_wm.framework.policy` — decline filters, SUPPRESS and rate-limited REVIVE;
* :mod:`~mesos_wm.framework.timeouts` — offer-wait, staging and wall-time deadlines;
* :mod:`~mesos_wm.framework.status` — a TaskStatus to the queue, and what follows;
* :mod:`~mesos_wm.framework.reconcile` — which attempts to reconcile, and when;
* :mod:`~mesos_wm.framework.pending`, :mod:`~mesos_wm.framework.homes` — the ready set as
  the matcher sees it, and where each workflow's working directory lives;
* :mod:`~mesos_wm.framework.offers`, :mod:`~mesos_wm.framework.updates`,
  :mod:`~mesos_wm.framework.maintenance` — the framework's event handlers and timer;
* :mod:`~mesos_wm.framework.connection` — the master, the FrameworkInfo, the driver's life.
"""

from __future__ import annotations

from mesos_wm.framework.config import ONE_WEEK, FrameworkConfig
from mesos_wm.framework.framework import Framework
from mesos_wm.framework.launch import LaunchBuilder, TaskKind, kind_of
from mesos_wm.framework.policy import OfferAction, OfferPolicy
from mesos_wm.framework.runtime import Stats
from mesos_wm.framework.status import StatusEvent
from mesos_wm.framework.timeouts import Deadlines, Timeout
from mesos_wm.framework.updates import StatusCallback

__all__ = [
    "ONE_WEEK",
    "Deadlines",
    "Framework",
    "FrameworkConfig",
    "LaunchBuilder",
    "OfferAction",
    "OfferPolicy",
    "Stats",
    "StatusCallback",
    "StatusEvent",
    "TaskKind",
    "Timeout",
    "kind_of",
]
