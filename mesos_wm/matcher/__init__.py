"""The offer matcher: fast, fair, constraint-aware placement of ready tasks onto offers.

Pure and deterministic: no I/O, no clock, no randomness; everything comes in as arguments.
``Matcher.match(offers, pending, running)`` is one synchronous call (Fenzo's
``scheduleOnce``): it neither launches nor declines, it returns a :class:`MatchResult`.

How the framework uses it::

    matcher = Matcher(strategy="binpack", roles=["airavata"])
    pending = PendingIndex()     # kept equal to the queue's ready set
    running = RunningIndex()     # the framework's running tasks
    held: dict[str, Offer] = {}  # offers not yet used or declined

    # when a task becomes ready / stops being ready:
    pending.add(TaskRequest(key, {"cpus": 2, "mem": 2048, "ports": 1}, priority=5,
                            owner="gateway-user-7", submitted=t,
                            constraints=(Constraint.parse(["rack", "EQ", "r1"]),)))
    pending.remove(key)

    # on every OFFERS event:
    for o in event.offers:
        held[o.id.value] = matcher.parse_offer(o)
    result = matcher.match(held.values(), pending, running)
    for launch in result.launches():          # one ACCEPT per agent
        infos = [task_info(..., agent_id=launch.agent_id, resources=p.resources())
                 for p in launch.placements]
        accept(framework_id, launch.offer_ids, [launch_op(infos)])
        for p in launch.placements:
            pending.remove(p.task_key)
            running.add_placement(p, task)
    decline(framework_id, result.unused_offers)
    for group in result.unplaced:             # why-pending, for `mesos-wm why`
        store_reason(group.task_keys, group.reason, group.unschedulable)

    # on RESCIND drop the offer from `held`; on a terminal UPDATE: running.remove(key)

Cost of a cycle: buckets + shapes x agents + placements — never tasks x offers.
"""

from __future__ import annotations

from pathlib import Path

from mesos_wm._compiled import choose_source

choose_source(__name__, Path(__file__).parent)

from mesos_wm.matcher.cluster import ClusterView, SeenAgent
from mesos_wm.matcher.constraints import (
    HOSTNAME,
    AgentAttributes,
    Constraint,
    GroupCounts,
    Operator,
    field_value,
)
from mesos_wm.matcher.fairness import dominant_share
from mesos_wm.matcher.fitness import (
    AgentView,
    BinPackingFitness,
    Fitness,
    SpreadFitness,
    Strategy,
)
from mesos_wm.matcher.index import Bucket, PendingIndex
from mesos_wm.matcher.matcher import Matcher
from mesos_wm.matcher.offers import AgentCapacity, Offer, Pool
from mesos_wm.matcher.request import Shape, Signature, TaskRequest
from mesos_wm.matcher.result import (
    Failure,
    Launch,
    MatchResult,
    MatchStats,
    Placement,
    Unplaced,
)
from mesos_wm.matcher.running import RunningIndex

__all__ = [
    "HOSTNAME",
    "AgentAttributes",
    "AgentCapacity",
    "AgentView",
    "BinPackingFitness",
    "Bucket",
    "ClusterView",
    "Constraint",
    "Failure",
    "Fitness",
    "GroupCounts",
    "Launch",
    "MatchResult",
    "MatchStats",
    "Matcher",
    "Offer",
    "Operator",
    "PendingIndex",
    "Placement",
    "Pool",
    "RunningIndex",
    "SeenAgent",
    "Shape",
    "Signature",
    "SpreadFitness",
    "Strategy",
    "TaskRequest",
    "Unplaced",
    "dominant_share",
    "field_value",
]
