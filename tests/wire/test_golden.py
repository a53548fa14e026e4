"""Golden conformance: every call builder's output and every event shape a master or agent
sends, checked against Mesos's own protos (tests/fixtures/conformance.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mesos_wm.resources import ResourceSet, parse_resource_string, ranges, scalar, set_resource
from mesos_wm.wire import executor_calls, executor_events, scheduler_calls, scheduler_events
from mesos_wm.wire import messages as msg
from tests.fixtures.conformance import MesosProtos
from tests.wire.samples import EXECUTOR_EVENTS, SCHEDULER_EVENTS, TASK_INFO, UUID16

pytestmark = pytest.mark.service

FID = "c0ffee-0000"
RESOURCES = parse_resource_string("cpus:1.5;mem:256;ports:[31000-31001]").to_json("airavata")
COMMAND = msg.command_info("echo hi", environment={"A": "1"}, uris=["http://x/in.txt"])
EXECUTOR = msg.executor_info(
    executor_id="wm-executor",
    framework_id=FID,
    command=msg.command_info(
        "/usr/bin/python3", shell=False, arguments=["python3", "-m", "mesos_wm.executor"]
    ),
    resources=[scalar("cpus", 0.1, "airavata")],
    name="mesos_wm executor",
    shutdown_grace_period_seconds=5,
    labels={"component": "executor"},
    container=msg.docker_container("python:3.12"),
    data=b"config",
)
COMMAND_TASK = msg.task_info(
    name="command task",
    task_id="t-1",
    agent_id="c0ffee-S0",
    resources=RESOURCES,
    command=COMMAND,
    container=msg.docker_container("alpine:3", network="BRIDGE", force_pull=True),
    labels={"workflow": "w-1"},
    kill_grace_period_seconds=3,
)
EXECUTOR_TASK = msg.task_info(
    name="executor task",
    task_id="t-2",
    agent_id="c0ffee-S0",
    resources=RESOURCES,
    executor=EXECUTOR,
    data=b"\x08\x01TaskSpec bytes",
)
FRAMEWORK_INFO = scheduler_calls.framework_info(
    user="alice",
    name="mesos_wm",
    roles=["airavata"],
    failover_timeout=604800,
    checkpoint=True,
    principal="wm",
    capabilities=["PARTITION_AWARE", "TASK_KILLING_STATE", "GPU_RESOURCES"],
    hostname="scheduler.example",
    webui_url="http://scheduler.example:8080",
    labels={"team": "airavata"},
    framework_id=FID,
)

SCHEDULER_CALLS: dict[str, Callable[[], dict[str, Any]]] = {
    "subscribe (new)": lambda: scheduler_calls.subscribe(
        scheduler_calls.framework_info(user="alice", name="mesos_wm")
    ),
    "subscribe (resubscribe)": lambda: scheduler_calls.subscribe(FRAMEWORK_INFO, ["airavata"]),
    "teardown": lambda: scheduler_calls.teardown(FID),
    "accept launch": lambda: scheduler_calls.accept(
        FID, ["c0ffee-O1"], [msg.launch([COMMAND_TASK, EXECUTOR_TASK])], refuse_seconds=10
    ),
    "accept launch_group": lambda: scheduler_calls.accept(
        FID, ["c0ffee-O1", "c0ffee-O2"], [msg.launch_group(EXECUTOR, [EXECUTOR_TASK])]
    ),
    "decline": lambda: scheduler_calls.decline(FID, ["c0ffee-O1"], refuse_seconds=3600),
    "accept_inverse_offers": lambda: scheduler_calls.accept_inverse_offers(
        FID, ["c0ffee-O9"], refuse_seconds=1
    ),
    "decline_inverse_offers": lambda: scheduler_calls.decline_inverse_offers(FID, ["c0ffee-O9"]),
    "revive all": lambda: scheduler_calls.revive(FID),
    "revive roles": lambda: scheduler_calls.revive(FID, ["airavata"]),
    "suppress": lambda: scheduler_calls.suppress(FID, ["airavata", "batch"]),
    "kill": lambda: scheduler_calls.kill(FID, "t-1"),
    "kill with policy": lambda: scheduler_calls.kill(
        FID, "t-1", "c0ffee-S0", grace_period_seconds=1.5
    ),
    "shutdown": lambda: scheduler_calls.shutdown(FID, "wm-executor", "c0ffee-S0"),
    "acknowledge": lambda: scheduler_calls.acknowledge(FID, "c0ffee-S0", "t-1", UUID16),
    "reconcile implicit": lambda: scheduler_calls.reconcile(FID),
    "reconcile explicit": lambda: scheduler_calls.reconcile(
        FID, [("t-1", "c0ffee-S0"), ("t-2", None)]
    ),
    "message": lambda: scheduler_calls.message(FID, "c0ffee-S0", "wm-executor", b"\x00\xffhi"),
    "request": lambda: scheduler_calls.request(
        FID, [("c0ffee-S0", RESOURCES), scheduler_calls.resource_request(RESOURCES)]
    ),
}

NEWER_SCHEDULER_CALLS: dict[str, Callable[[], dict[str, Any]]] = {
    "update_framework": lambda: scheduler_calls.update_framework(FRAMEWORK_INFO, ["airavata"]),
    "acknowledge_operation_status": lambda: scheduler_calls.acknowledge_operation_status(
        FID, UUID16, "op-1", agent_id="c0ffee-S0", resource_provider_id="rp-1"
    ),
    "reconcile_operations": lambda: scheduler_calls.reconcile_operations(
        FID, [("op-1", "c0ffee-S0"), ("op-2", None)]
    ),
    "accept with operation ids": lambda: scheduler_calls.accept(
        FID, ["c0ffee-O1"], [msg.launch([COMMAND_TASK], operation_id="op-3")]
    ),
}

STATUS = msg.task_status(
    task_id="t-2",
    state="TASK_RUNNING",
    uuid=UUID16,
    message="running",
    reason="REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
    data=b"progress",
    agent_id="c0ffee-S0",
    executor_id="wm-executor",
    timestamp=1700000000.125,
    healthy=True,
)

EXECUTOR_CALLS: dict[str, Callable[[], dict[str, Any]]] = {
    "subscribe": lambda: executor_calls.subscribe(FID, "wm-executor"),
    "resubscribe": lambda: executor_calls.subscribe(
        FID, "wm-executor", [EXECUTOR_TASK, TASK_INFO], [STATUS]
    ),
    "update": lambda: executor_calls.update(FID, "wm-executor", STATUS),
    "update minimal": lambda: executor_calls.update(
        FID,
        "wm-executor",
        executor_calls.task_status(task_id="t-2", state="TASK_FINISHED", uuid=UUID16),
    ),
    "message": lambda: executor_calls.message(FID, "wm-executor", b"hello"),
}


def roundtrip(obj: dict[str, Any]) -> dict[str, Any]:
    """What goes on the wire is json.dumps of the builder's dict."""
    result: dict[str, Any] = json.loads(json.dumps(obj))
    return result


@pytest.mark.parametrize("name", sorted(SCHEDULER_CALLS))
def test_scheduler_calls_conform(mesos_protos: MesosProtos, name: str) -> None:
    mesos_protos.check("mesos.scheduler.Call", roundtrip(SCHEDULER_CALLS[name]()))


@pytest.mark.parametrize("name", sorted(NEWER_SCHEDULER_CALLS))
def test_newer_scheduler_calls_conform_by_structure(mesos_protos: MesosProtos, name: str) -> None:
    """The mesos-go protos predate these calls (UPDATE_FRAMEWORK is Mesos 1.9, the
    operation-feedback calls and ``Offer.Operation.id`` are 1.6), so the oracle alone would
    reject them as unknown enum values/fields.  ``check_scheduler_call`` checks their exact
    top-level keys against Apache Mesos 1.11's scheduler.proto and validates every
    sub-message with the protos that do define it (``update_framework`` has the shape of
    ``Call.Subscribe``: ``framework_info`` + ``suppressed_roles``)."""
    call = roundtrip(NEWER_SCHEDULER_CALLS[name]())
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.scheduler.Call", call)
    mesos_protos.check_scheduler_call(call)


def test_update_framework_structure(mesos_protos: MesosProtos) -> None:
    """Explicit structure of UPDATE_FRAMEWORK (not in the mesos-go protos, see above)."""
    call = roundtrip(NEWER_SCHEDULER_CALLS["update_framework"]())
    assert set(call) == {"type", "framework_id", "update_framework"}
    assert call["type"] == "UPDATE_FRAMEWORK"
    assert call["framework_id"] == {"value": FID}
    assert set(call["update_framework"]) == {"framework_info", "suppressed_roles"}
    assert call["update_framework"]["framework_info"]["id"] == {"value": FID}
    mesos_protos.check("mesos.FrameworkInfo", call["update_framework"]["framework_info"])
    mesos_protos.check("mesos.scheduler.Call.Subscribe", call["update_framework"])


@pytest.mark.parametrize("name", sorted(EXECUTOR_CALLS))
def test_executor_calls_conform(mesos_protos: MesosProtos, name: str) -> None:
    mesos_protos.check("mesos.executor.Call", roundtrip(EXECUTOR_CALLS[name]()))


def test_executor_heartbeat_conforms_by_structure(mesos_protos: MesosProtos) -> None:
    """Executor HEARTBEAT (Mesos 1.9) is not in the mesos-go protos."""
    call = roundtrip(executor_calls.heartbeat(FID, "wm-executor"))
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.executor.Call", call)
    mesos_protos.check_executor_call(call)


@pytest.mark.parametrize(
    ("message_type", "obj"),
    [
        ("mesos.FrameworkInfo", FRAMEWORK_INFO),
        ("mesos.TaskInfo", COMMAND_TASK),
        ("mesos.TaskInfo", EXECUTOR_TASK),
        ("mesos.ExecutorInfo", EXECUTOR),
        ("mesos.CommandInfo", COMMAND),
        ("mesos.ContainerInfo", msg.docker_container("alpine")),
        ("mesos.KillPolicy", msg.kill_policy(0.25)),
        ("mesos.TaskStatus", STATUS),
        ("mesos.Offer.Operation", msg.launch([COMMAND_TASK])),
        ("mesos.Offer.Operation", msg.launch_group(EXECUTOR, [EXECUTOR_TASK])),
        ("mesos.Resource", scalar("gpus", 1)),
        ("mesos.Resource", scalar("mem", 0.0015, "r")),
        ("mesos.Resource", ranges("ports", [(1, 2), (4, 9)], "r")),
        ("mesos.Resource", set_resource("zones", ["a", "b"])),
    ],
)
def test_messages_conform(mesos_protos: MesosProtos, message_type: str, obj: Any) -> None:
    mesos_protos.check(message_type, roundtrip(obj))


def test_resource_set_json_conforms(mesos_protos: MesosProtos) -> None:
    res = ResourceSet({"cpus": 2, "mem": 1024}, {"ports": ((31000, 31010),)}, {"z": frozenset("a")})
    for role in (None, "airavata"):
        for resource in res.to_json(role):
            mesos_protos.check("mesos.Resource", roundtrip(resource))


@pytest.mark.parametrize("name", sorted(set(SCHEDULER_EVENTS) - {"UPDATE_OPERATION_STATUS"}))
def test_scheduler_event_samples_conform_and_parse(mesos_protos: MesosProtos, name: str) -> None:
    event = SCHEDULER_EVENTS[name]
    mesos_protos.check("mesos.scheduler.Event", event)
    scheduler_events.parse_event(json.dumps(event).encode())


def test_update_operation_status_sample_conforms_by_structure(mesos_protos: MesosProtos) -> None:
    """UPDATE_OPERATION_STATUS (Mesos 1.6) is not in the mesos-go protos."""
    event = SCHEDULER_EVENTS["UPDATE_OPERATION_STATUS"]
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.scheduler.Event", event)
    mesos_protos.check_scheduler_event(event)
    scheduler_events.parse_event(json.dumps(event).encode())


@pytest.mark.parametrize("name", sorted(set(EXECUTOR_EVENTS) - {"HEARTBEAT"}))
def test_executor_event_samples_conform_and_parse(mesos_protos: MesosProtos, name: str) -> None:
    event = EXECUTOR_EVENTS[name]
    mesos_protos.check("mesos.executor.Event", event)
    executor_events.parse_event(json.dumps(event).encode())


def test_executor_heartbeat_event_conforms_by_structure(mesos_protos: MesosProtos) -> None:
    """Executor HEARTBEAT events (Mesos 1.9) are not in the mesos-go protos."""
    event = EXECUTOR_EVENTS["HEARTBEAT"]
    with pytest.raises(AssertionError):
        mesos_protos.check("mesos.executor.Event", event)
    mesos_protos.check_executor_event(event)


def test_every_builder_is_covered() -> None:
    builders = {n for n in scheduler_calls.__all__ if n[0].islower()} - set(msg.__all__)
    covered = {
        "subscribe", "teardown", "accept", "decline", "accept_inverse_offers",
        "decline_inverse_offers", "revive", "suppress", "kill", "shutdown", "acknowledge",
        "reconcile", "message", "request", "resource_request", "update_framework",
        "acknowledge_operation_status", "reconcile_operations", "framework_info",
    }  # fmt: skip
    assert builders == covered
    executor_builders = set(executor_calls.__all__) - {"task_status"}
    assert executor_builders == {"subscribe", "update", "message", "heartbeat"}
