"""From a TaskStatus to the queue's arguments, and from the queue's outcome to follow-ups."""

from __future__ import annotations

import pytest

from mesos_wm.errors import RemoteProtocolError
from mesos_wm.framework.status import StatusEvent, exit_code_of, follow_up, read_status
from mesos_wm.queue.records import RetryScheduled, StatusOutcome
from mesos_wm.queue.states import TaskState, WorkflowState
from tests.framework.builders import result_bytes, status


def test_reads_every_field_the_queue_needs() -> None:
    fields = read_status(status("wf.t.a1", "TASK_FAILED", reason="REASON_COMMAND_EXECUTOR_FAILED",
                                message="boom", data=result_bytes(7)))
    assert fields.mesos_task_id == "wf.t.a1"
    assert fields.state == "TASK_FAILED"
    assert fields.reason == "REASON_COMMAND_EXECUTOR_FAILED"
    assert fields.agent_id == "S1"
    assert fields.exit_code == 7
    assert fields.uuid is not None and len(fields.uuid) == 16
    assert fields.terminal


def test_master_generated_updates_have_no_uuid() -> None:
    fields = read_status(status("x", "TASK_LOST", uuid_bytes=False, agent_id=None))
    assert fields.uuid is None and fields.agent_id is None
    assert not follow_up(fields, StatusOutcome(known=False, applied=False)).acknowledge


def test_exit_codes_come_from_the_task_result_or_the_command_executor_message() -> None:
    assert exit_code_of(result_bytes(0), None) == 0
    assert exit_code_of(result_bytes(None), "Command exited with status 3") == 3
    assert exit_code_of(None, "Command exited with status 2") == 2
    assert exit_code_of(b"\xff\xff not protobuf", None) is None
    assert exit_code_of(None, "killed") is None


def test_a_status_without_task_id_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError):
        read_status({"state": "TASK_RUNNING"})


def test_follow_up_of_a_terminal_update_that_released_work_and_settled_the_workflow() -> None:
    fields = read_status(status("wf.t.a1", "TASK_FINISHED"))
    outcome = StatusOutcome(True, True, "wf", "t", 1, task_state=TaskState.FINISHED,
                            released=("u",), workflow_state=WorkflowState.COMPLETED)
    up = follow_up(fields, outcome)
    assert up.acknowledge and up.attempt_over and up.new_work and up.workflow_settled
    assert not up.kill and not up.running


def test_follow_up_kills_a_live_attempt_the_queue_rejects_but_not_a_dead_one() -> None:
    alive = read_status(status("wf.t.a1", "TASK_RUNNING"))
    up = follow_up(alive, StatusOutcome(True, False, kill=True))
    assert up.kill and not up.running
    dead = read_status(status("wf.t.a1", "TASK_KILLED"))
    assert not follow_up(dead, StatusOutcome(True, False, kill=True)).kill


def test_retries_count_as_new_work_and_reach_the_callback_event() -> None:
    fields = read_status(status("wf.t.a1", "TASK_LOST", uuid_bytes=False))
    outcome = StatusOutcome(True, True, "wf", "t", 1, task_state=TaskState.QUEUED,
                            retry=RetryScheduled(0.0, True, 2))
    assert follow_up(fields, outcome).new_work
    event = StatusEvent.of(fields, outcome, at=5.0)
    assert event.retry and event.task_state is TaskState.QUEUED and event.at == 5.0
