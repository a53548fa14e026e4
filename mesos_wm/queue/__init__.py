"""The central durable task queue and the Airavata task model.

::

    from mesos_wm.queue import TaskQueue, load_file

    with TaskQueue.open("sqlite:///./mesos_wm_queue.db") as queue:
        for workflow in load_file("exp-42.yaml"):
            queue.submit(workflow)
        ready = queue.ready_tasks(limit=100)

The model (:mod:`~mesos_wm.queue.model`), the transition tables
(:mod:`~mesos_wm.queue.states`) and the workflow file parser (:mod:`~mesos_wm.queue.spec`)
are pure; the store backends (SQLite, PostgreSQL) do the I/O.
"""

from __future__ import annotations

from mesos_wm.queue.model import (
    BUILTIN_TYPES,
    PRIORITY_NAMES,
    Constraint,
    Direction,
    Operator,
    Resources,
    RetryPolicy,
    Staging,
    StagingSource,
    TaskDef,
    TaskShape,
    Timeouts,
    Workflow,
    mesos_task_id,
)
from mesos_wm.queue.records import (
    ActiveAttempt,
    AttemptRecord,
    ChangeResult,
    Claims,
    HistoryEntry,
    KillRequest,
    Launch,
    ReadyTask,
    RetryScheduled,
    StatusOutcome,
    StatusUpdate,
    SubmitResult,
    TaskRecord,
    TaskRef,
    WorkflowRecord,
)
from mesos_wm.queue.spec import load_file, load_text, parse_duration, parse_workflows
from mesos_wm.queue.states import (
    TASK_TRANSITIONS,
    WORKFLOW_TRANSITIONS,
    RunOn,
    TaskState,
    WorkflowState,
)
from mesos_wm.queue.store import DEFAULT_URL, TaskQueue
from mesos_wm.queue.validation import problems

__all__ = [
    "BUILTIN_TYPES",
    "DEFAULT_URL",
    "PRIORITY_NAMES",
    "TASK_TRANSITIONS",
    "WORKFLOW_TRANSITIONS",
    "ActiveAttempt",
    "AttemptRecord",
    "ChangeResult",
    "Claims",
    "Constraint",
    "Direction",
    "HistoryEntry",
    "KillRequest",
    "Launch",
    "Operator",
    "ReadyTask",
    "Resources",
    "RetryPolicy",
    "RetryScheduled",
    "RunOn",
    "Staging",
    "StagingSource",
    "StatusOutcome",
    "StatusUpdate",
    "SubmitResult",
    "TaskDef",
    "TaskQueue",
    "TaskRecord",
    "TaskRef",
    "TaskShape",
    "TaskState",
    "Timeouts",
    "Workflow",
    "WorkflowRecord",
    "WorkflowState",
    "load_file",
    "load_text",
    "mesos_task_id",
    "parse_duration",
    "parse_workflows",
    "problems",
]
