"""Representative events as a Mesos master or agent sends them, shared by the parsing
tests and the conformance tests (which check each against the Mesos protos)."""

from __future__ import annotations

import base64
from typing import Any

UUID16 = bytes(range(16))
UUID16_B64 = base64.b64encode(UUID16).decode()

MASTER_INFO: dict[str, Any] = {
    "id": "c0ffee-master",
    "ip": 16777343,
    "port": 5050,
    "pid": "master@127.0.0.1:5050",
    "hostname": "localhost",
    "version": "1.11.0",
    "address": {"hostname": "localhost", "ip": "127.0.0.1", "port": 5050},
}

OFFER: dict[str, Any] = {
    "id": {"value": "c0ffee-O1"},
    "framework_id": {"value": "c0ffee-0000"},
    "agent_id": {"value": "c0ffee-S0"},
    "hostname": "agent-1",
    "url": {
        "scheme": "http",
        "address": {"hostname": "agent-1", "ip": "10.0.0.2", "port": 5051},
        "path": "/slave(1)",
    },
    "resources": [
        {
            "name": "cpus",
            "type": "SCALAR",
            "scalar": {"value": 4.0},
            "role": "*",
            "allocation_info": {"role": "airavata"},
        },
        {
            "name": "ports",
            "type": "RANGES",
            "ranges": {"range": [{"begin": 31000, "end": 32000}]},
            "allocation_info": {"role": "airavata"},
        },
    ],
    "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r1"}}],
    "executor_ids": [{"value": "wm-executor"}],
    "allocation_info": {"role": "airavata"},
}

TASK_STATUS: dict[str, Any] = {
    "task_id": {"value": "task-1"},
    "state": "TASK_RUNNING",
    "source": "SOURCE_EXECUTOR",
    "agent_id": {"value": "c0ffee-S0"},
    "executor_id": {"value": "wm-executor"},
    "timestamp": 1700000000.5,
    "uuid": UUID16_B64,
    "container_status": {"container_id": {"value": "ctr-1"}},
}

SCHEDULER_EVENTS: dict[str, dict[str, Any]] = {
    "SUBSCRIBED": {
        "type": "SUBSCRIBED",
        "subscribed": {
            "framework_id": {"value": "c0ffee-0000"},
            "heartbeat_interval_seconds": 15.0,
            "master_info": MASTER_INFO,
        },
    },
    "OFFERS": {"type": "OFFERS", "offers": {"offers": [OFFER]}},
    "INVERSE_OFFERS": {
        "type": "INVERSE_OFFERS",
        "inverse_offers": {
            "inverse_offers": [
                {
                    "id": {"value": "c0ffee-O2"},
                    "framework_id": {"value": "c0ffee-0000"},
                    "agent_id": {"value": "c0ffee-S0"},
                    "unavailability": {"start": {"nanoseconds": 1700000000000000000}},
                }
            ]
        },
    },
    "RESCIND": {"type": "RESCIND", "rescind": {"offer_id": {"value": "c0ffee-O1"}}},
    "RESCIND_INVERSE_OFFER": {
        "type": "RESCIND_INVERSE_OFFER",
        "rescind_inverse_offer": {"inverse_offer_id": {"value": "c0ffee-O2"}},
    },
    "UPDATE": {"type": "UPDATE", "update": {"status": TASK_STATUS}},
    "UPDATE_OPERATION_STATUS": {
        "type": "UPDATE_OPERATION_STATUS",
        "update_operation_status": {
            "status": {
                "operation_id": {"value": "op-1"},
                "state": "OPERATION_FINISHED",
                "uuid": {"value": UUID16_B64},
                "agent_id": {"value": "c0ffee-S0"},
            }
        },
    },
    "MESSAGE": {
        "type": "MESSAGE",
        "message": {
            "agent_id": {"value": "c0ffee-S0"},
            "executor_id": {"value": "wm-executor"},
            "data": "aGVsbG8=",
        },
    },
    "FAILURE": {
        "type": "FAILURE",
        "failure": {
            "agent_id": {"value": "c0ffee-S0"},
            "executor_id": {"value": "wm-executor"},
            "status": 256,
        },
    },
    "ERROR": {"type": "ERROR", "error": {"message": "Framework failed over"}},
    "HEARTBEAT": {"type": "HEARTBEAT"},
}

EXECUTOR_INFO: dict[str, Any] = {
    "type": "CUSTOM",
    "executor_id": {"value": "wm-executor"},
    "framework_id": {"value": "c0ffee-0000"},
    "command": {"shell": True, "value": "python3 -m mesos_wm.executor"},
}

TASK_INFO: dict[str, Any] = {
    "name": "task one",
    "task_id": {"value": "task-1"},
    "agent_id": {"value": "c0ffee-S0"},
    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}],
    "executor": EXECUTOR_INFO,
    "data": "c3BlYw==",
}

EXECUTOR_EVENTS: dict[str, dict[str, Any]] = {
    "SUBSCRIBED": {
        "type": "SUBSCRIBED",
        "subscribed": {
            "executor_info": EXECUTOR_INFO,
            "framework_info": {"user": "alice", "name": "wm", "id": {"value": "c0ffee-0000"}},
            "agent_info": {"hostname": "agent-1", "port": 5051, "id": {"value": "c0ffee-S0"}},
            "container_id": {"value": "ctr-1"},
        },
    },
    "LAUNCH": {"type": "LAUNCH", "launch": {"task": TASK_INFO}},
    "LAUNCH_GROUP": {
        "type": "LAUNCH_GROUP",
        "launch_group": {"task_group": {"tasks": [TASK_INFO]}},
    },
    "KILL": {
        "type": "KILL",
        "kill": {
            "task_id": {"value": "task-1"},
            "kill_policy": {"grace_period": {"nanoseconds": 3000000000}},
        },
    },
    "ACKNOWLEDGED": {
        "type": "ACKNOWLEDGED",
        "acknowledged": {"task_id": {"value": "task-1"}, "uuid": UUID16_B64},
    },
    "MESSAGE": {"type": "MESSAGE", "message": {"data": "aGVsbG8="}},
    "SHUTDOWN": {"type": "SHUTDOWN"},
    "ERROR": {"type": "ERROR", "error": {"message": "agent is going away"}},
    "HEARTBEAT": {"type": "HEARTBEAT"},
}
