"""The exceptions of mesos_wm: one tree, so callers can catch at the level they care about.

::

    MesosWmError
    ├── ProtocolError                  the Mesos wire protocol was broken
    │   ├── LocalProtocolError         ... by us (a call we refuse to send)
    │   └── RemoteProtocolError        ... by the peer (bad RecordIO, bad event JSON)
    ├── TransportError                 talking to the master/agent failed
    │   ├── ConnectError               could not connect (refused, DNS, TLS)
    │   ├── HeartbeatTimeout           no event for 5 heartbeat intervals
    │   ├── SubscriptionLost           the event stream ended or was closed
    │   ├── NotLeader                  redirected or no leader known (307/503)
    │   └── NotSubscribed              a call was made while no subscription is active
    ├── MasterRejected                 the master answered 4xx; carries status and message
    │   └── AuthenticationFailed       401
    ├── QueueError                     the durable task queue refused an operation
    │   ├── WorkflowNotFound
    │   ├── TaskNotFound
    │   ├── DagCycleError
    │   ├── InvalidTransition
    │   ├── WorkflowConflict           same id submitted again with different content
    │   └── StoreError                 the database backend failed (wraps sqlite3/psycopg)
    ├── SpecError                      a workflow or task specification is invalid
    └── ExecutorError                  the executor could not carry out a task

Errors of the libraries underneath (aiohttp, sqlite3, psycopg, kazoo) never escape: they are
translated at the boundary with ``raise ... from exc``.  Bad configuration raises
``ValueError`` with a hint.  Expected outcomes (a task that did not fit, a failed attempt)
are data, not exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class MesosWmError(Exception):
    """Base class of every error raised by mesos_wm."""


class ProtocolError(MesosWmError):
    """The Mesos v1 HTTP protocol was violated."""


class LocalProtocolError(ProtocolError):
    """We were asked to do something the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something that is not valid Mesos protocol."""


class TransportError(MesosWmError):
    """Talking to a Mesos master or agent failed."""


class ConnectError(TransportError):
    """No connection could be made (refused, unknown host, TLS failure)."""


class HeartbeatTimeout(TransportError):
    """No event arrived for five heartbeat intervals; the stream is treated as dead."""


class SubscriptionLost(TransportError):
    """The event stream ended or was closed by the peer."""


class NotLeader(TransportError):
    """The master is not the leader (307) or no leader is known (503)."""


class NotSubscribed(TransportError):
    """A call was made while the driver has no active subscription."""


class MasterRejected(MesosWmError):
    """The master (or agent) refused a call with a 4xx status.

    Attributes:
        status: the HTTP status code.
        message: the body the master sent, which names what was wrong.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class AuthenticationFailed(MasterRejected):
    """The master answered 401: credentials missing or wrong."""


class QueueError(MesosWmError):
    """The durable task queue refused an operation."""


class WorkflowNotFound(QueueError):
    """No workflow with that id is in the queue."""


class TaskNotFound(QueueError):
    """No task with that id is in the queue."""


class DagCycleError(QueueError):
    """The task dependencies of a workflow form a cycle."""


class InvalidTransition(QueueError):
    """A state change that the transition table does not allow."""


class WorkflowConflict(QueueError):
    """A workflow id was submitted again with different content."""


class StoreError(QueueError):
    """The database behind the queue failed."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a specification: where it is and what is wrong."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class SpecError(MesosWmError):
    """A workflow or task specification is invalid.

    Attributes:
        problems: every problem found, each with its location (``tasks[2].resources.cpus``).
        source: the file (or other origin) the specification came from, if any.
    """

    def __init__(self, problems: Iterable[SpecProblem | str], source: str | None = None) -> None:
        self.problems: Sequence[SpecProblem] = tuple(
            p if isinstance(p, SpecProblem) else SpecProblem("", p) for p in problems
        )
        self.source = source
        prefix = f"{source}: " if source else ""
        lines = [f"{prefix}{p}" for p in self.problems]
        super().__init__("\n".join(lines) if lines else f"{prefix}invalid specification")


class ExecutorError(MesosWmError):
    """The executor could not carry out a task."""
