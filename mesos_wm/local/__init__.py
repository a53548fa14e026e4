"""An embedded, protocol-faithful Mesos master with agents (``--master local``).

It speaks the real v1 HTTP APIs (scheduler, executor, operator, legacy ``/state``) on
loopback, so the same driver code runs against it and against a real cluster.  See
``docs/local_master.md``.

The I/O parts (:class:`LocalMaster`, :class:`Faults`) are imported lazily, so importing
the pure core (``mesos_wm.local.state``) loads neither asyncio nor aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mesos_wm.local.config import FAST, AgentConfig, MasterConfig, parse_attributes
from mesos_wm.local.state import MasterState

if TYPE_CHECKING:
    from mesos_wm.local.faults import Faults
    from mesos_wm.local.master import LocalMaster

__all__ = [
    "FAST",
    "AgentConfig",
    "Faults",
    "LocalMaster",
    "MasterConfig",
    "MasterState",
    "parse_attributes",
]


def __getattr__(name: str) -> Any:
    if name == "LocalMaster":
        from mesos_wm.local.master import LocalMaster

        return LocalMaster
    if name == "Faults":
        from mesos_wm.local.faults import Faults

        return Faults
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
