"""What happens to a task when an attempt ends: done, retried (after a backoff), or failed.

Pure: the time comes in as ``now``, jitter from an injected ``random.Random``.

Infrastructure losses — the agent or its executor went away, the offer was invalid, Mesos
no longer knows the task — are not the task's fault: they are retried at once without
consuming the user's ``retries.max``, up to their own cap ``retries.max_infra``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mesos_wm.queue.model import RetryPolicy
from mesos_wm.queue.states import TaskState

INFRA_STATES: frozenset[str] = frozenset(
    {"TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"}
)
"""Mesos states that mean the attempt was lost, not that the task failed."""

INFRA_REASONS: frozenset[str] = frozenset(
    {
        "REASON_AGENT_DISCONNECTED",
        "REASON_AGENT_REMOVED",
        "REASON_AGENT_REMOVED_BY_OPERATOR",
        "REASON_AGENT_RESTARTED",
        "REASON_AGENT_UNKNOWN",
        "REASON_CONTAINER_PREEMPTED",
        "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        "REASON_EXECUTOR_TERMINATED",
        "REASON_EXECUTOR_UNREGISTERED",
        "REASON_GC_ERROR",
        "REASON_INVALID_OFFERS",
        "REASON_IO_SWITCHBOARD_EXITED",
        "REASON_MASTER_DISCONNECTED",
        "REASON_RESOURCES_UNKNOWN",
        "REASON_TASK_KILLED_DURING_LAUNCH",
    }
)
"""Reasons that make a TASK_FAILED/TASK_KILLED an infrastructure loss."""

MESOS_STATES: frozenset[str] = frozenset(
    {
        "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
        "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
        "TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
    }
)

JITTER = 0.2


@dataclass(frozen=True, slots=True)
class Decision:
    """The task's fate after an attempt ended.

    Attributes:
        state: the task's new state (PENDING/QUEUED mean it will be retried).
        infra: the attempt was lost to the infrastructure.
        not_before: when a retry may start (None: at once or never).
        retries_used: the task's user retries used, after this decision.
        infra_used: the task's infrastructure retries used, after this decision.
        note: a short explanation for the history.
    """

    state: TaskState
    infra: bool
    not_before: float | None
    retries_used: int
    infra_used: int
    note: str


def is_infra_loss(mesos_state: str, reason: str | None) -> bool:
    """Tell whether an attempt that ended in ``mesos_state`` was lost to the infrastructure."""
    return mesos_state in INFRA_STATES or (
        mesos_state in ("TASK_FAILED", "TASK_KILLED") and reason in INFRA_REASONS
    )


def decide(
    mesos_state: str,
    reason: str | None,
    *,
    cancel_requested: bool,
    policy: RetryPolicy,
    retries_used: int,
    infra_used: int,
    now: float,
    rng: random.Random | None = None,
) -> Decision:
    """Decide what a terminal status of a task's current attempt does to the task.

    Args:
        mesos_state: the terminal Mesos state (``TASK_FAILED``...).
        reason: the status's reason, if any.
        cancel_requested: the task is being cancelled.
        policy: the task's retry policy.
        retries_used: user retries used so far.
        infra_used: infrastructure retries used so far.
        now: the current time.
        rng: jitter source for backoffs (up to -20%); None for exact backoffs.

    Returns:
        The decision.
    """
    if mesos_state == "TASK_FINISHED":
        return Decision(TaskState.FINISHED, False, None, retries_used, infra_used, "finished")
    if cancel_requested:
        return Decision(TaskState.CANCELED, False, None, retries_used, infra_used, "cancelled")
    if mesos_state == "TASK_ERROR":
        note = "Mesos refused the task (TASK_ERROR); not retried"
        return Decision(TaskState.ERROR, False, None, retries_used, infra_used, note)
    if is_infra_loss(mesos_state, reason):
        if infra_used < policy.max_infra:
            note = f"infrastructure loss {infra_used + 1}/{policy.max_infra}; relaunching"
            return Decision(TaskState.QUEUED, True, None, retries_used, infra_used + 1, note)
        note = f"infrastructure losses exhausted ({policy.max_infra})"
        return Decision(TaskState.ERROR, True, None, retries_used, infra_used, note)
    final = TaskState.KILLED if mesos_state == "TASK_KILLED" else TaskState.FAILED
    if retries_used < policy.max:
        delay = policy.delay(retries_used + 1)
        if rng is not None:
            delay *= 1.0 - JITTER * rng.random()
        note = f"retry {retries_used + 1}/{policy.max} in {delay:.3g}s"
        state = TaskState.PENDING if delay > 0 else TaskState.QUEUED
        return Decision(state, False, now + delay, retries_used + 1, infra_used, note)
    note = f"no retries left ({policy.max})" if policy.max else "no retries configured"
    return Decision(final, False, None, retries_used, infra_used, note)
