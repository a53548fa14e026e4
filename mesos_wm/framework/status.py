"""From a Mesos ``TaskStatus`` to the queue, and what follows from the queue's answer (pure).

Every status update is applied to the queue with
:meth:`~mesos_wm.queue.TaskQueue.apply_status` (which commits), and only then
acknowledged — and only if it carries a uuid: updates the master makes up itself
(reconciliation answers, invalid offers) have none and must not be acknowledged.
:func:`read_status` takes the fields the queue needs out of the JSON, and
:func:`follow_up` turns the queue's :class:`~mesos_wm.queue.StatusOutcome` into the
framework's next steps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mesos_wm import proto
from mesos_wm.errors import MesosWmError, RemoteProtocolError
from mesos_wm.ids import decode_bytes, decode_uuid
from mesos_wm.queue.records import StatusOutcome
from mesos_wm.queue.states import TaskState, WorkflowState
from mesos_wm.wire.states import is_terminal

__all__ = ["FollowUp", "StatusEvent", "StatusFields", "exit_code_of", "follow_up", "read_status"]

_EXITED = re.compile(r"(?:Command|Task) exited with status (-?\d+)")
_SETTLED_WORKFLOW = frozenset({WorkflowState.COMPLETED, WorkflowState.FAILED,
                               WorkflowState.CANCELED})


@dataclass(frozen=True)
class StatusFields:
    """What the framework uses of one ``TaskStatus``.

    Attributes:
        mesos_task_id: ``task_id.value``.
        state: ``TASK_RUNNING``...
        uuid: the 16 bytes to acknowledge, or None (master-generated update).
        data: ``TaskStatus.data`` (a serialized TaskResult from our executor), or None.
        exit_code: the command's exit code, when the executor or the message tells it.
    """

    mesos_task_id: str
    state: str
    reason: str | None
    message: str | None
    source: str | None
    agent_id: str | None
    executor_id: str | None
    data: bytes | None
    uuid: bytes | None
    exit_code: int | None

    @property
    def terminal(self) -> bool:
        """True when the attempt will never change state again."""
        try:
            return is_terminal(self.state)
        except ValueError:
            return False


def _value(obj: Any) -> str | None:
    if not obj:
        return None
    value = obj.get("value") if isinstance(obj, Mapping) else None
    return str(value) if value else None


def exit_code_of(data: bytes | None, message: str | None) -> int | None:
    """The exit code of the attempt's command, if the status tells it.

    Args:
        data: ``TaskStatus.data``: our executor's TaskResult.
        message: ``TaskStatus.message``: the command executor's "Command exited with
            status N".

    Returns:
        The exit code, or None.
    """
    if data:
        try:
            result = proto.decode_task_result(data)
        except MesosWmError:
            result = None
        if result is not None and result.HasField("exit_code"):
            return int(result.exit_code)
    if message:
        match = _EXITED.search(message)
        if match:
            return int(match.group(1))
    return None


def read_status(status: Mapping[str, Any]) -> StatusFields:
    """Take what the queue needs out of a ``TaskStatus`` (a dict or ``addict.Dict``).

    Raises:
        RemoteProtocolError: the status has no task id or state, or a malformed uuid or
            data (the driver's parser normally rejects these first).
    """
    task_id = _value(status.get("task_id"))
    state = status.get("state")
    if not task_id or not state:
        raise RemoteProtocolError(f"a TaskStatus without task_id or state: {dict(status)!r}")
    uuid_text = status.get("uuid")
    data_text = status.get("data")
    data = decode_bytes(str(data_text)) if data_text else None
    message = status.get("message") or None
    return StatusFields(
        mesos_task_id=task_id,
        state=str(state),
        reason=str(status["reason"]) if status.get("reason") else None,
        message=str(message) if message else None,
        source=str(status["source"]) if status.get("source") else None,
        agent_id=_value(status.get("agent_id")),
        executor_id=_value(status.get("executor_id")),
        data=data,
        uuid=decode_uuid(str(uuid_text)) if uuid_text else None,
        exit_code=exit_code_of(data, str(message) if message else None),
    )


@dataclass(frozen=True)
class FollowUp:
    """What the framework does after the queue committed an update.

    Attributes:
        acknowledge: send ACKNOWLEDGE (the update carries a uuid).
        kill: the attempt is alive but must not be (cancelled, stale or unknown).
        attempt_over: the attempt ended (forget its deadlines and resources).
        running: the attempt reached TASK_RUNNING (start its wall-time clock).
        new_work: tasks may have become ready (dependants released or a retry queued).
        workflow_settled: the workflow just reached COMPLETED, FAILED or CANCELED.
    """

    acknowledge: bool
    kill: bool
    attempt_over: bool
    running: bool
    new_work: bool
    workflow_settled: bool


def follow_up(fields: StatusFields, outcome: StatusOutcome) -> FollowUp:
    """Decide the steps after :meth:`~mesos_wm.queue.TaskQueue.apply_status` returned.

    Args:
        fields: the update.
        outcome: what the queue did with it.

    Returns:
        The follow-up.
    """
    over = fields.terminal
    return FollowUp(
        acknowledge=fields.uuid is not None,
        kill=outcome.kill and not over,
        attempt_over=over,
        running=fields.state == "TASK_RUNNING" and outcome.applied,
        new_work=bool(outcome.released) or outcome.retry is not None,
        workflow_settled=outcome.workflow_state in _SETTLED_WORKFLOW,
    )


@dataclass(frozen=True)
class StatusEvent:
    """What user callbacks receive for every status update the queue has committed.

    Attributes:
        workflow_id, task_id, attempt: the attempt (None when Mesos named a task the queue
            does not know).
        mesos_task_id: the Mesos task id.
        state: the Mesos state (``TASK_RUNNING``...).
        task_state: the task's state in the queue afterwards.
        workflow_state: the workflow's new state, when it changed.
        applied: False for stale or duplicate updates the queue only recorded.
        retry: True when the attempt failed and the task will be retried.
        reason, message, exit_code: from the update.
        at: when the framework applied it.
    """

    workflow_id: str | None
    task_id: str | None
    attempt: int | None
    mesos_task_id: str
    state: str
    task_state: TaskState | None
    workflow_state: WorkflowState | None
    applied: bool
    retry: bool
    reason: str | None
    message: str | None
    exit_code: int | None
    at: float

    @classmethod
    def of(cls, fields: StatusFields, outcome: StatusOutcome, at: float) -> StatusEvent:
        """Combine an update and the queue's outcome."""
        return cls(
            workflow_id=outcome.workflow_id, task_id=outcome.task_id, attempt=outcome.attempt,
            mesos_task_id=fields.mesos_task_id, state=fields.state,
            task_state=outcome.task_state, workflow_state=outcome.workflow_state,
            applied=outcome.applied, retry=outcome.retry is not None, reason=fields.reason,
            message=fields.message, exit_code=fields.exit_code, at=at,
        )
