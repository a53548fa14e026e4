"""The framework's ordering rules and offer decisions, with the queue and driver mocked.

Only decision logic is tested here (which call, in which order, with which filter); the
end-to-end tests run the same code against the embedded master and a real queue.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from pytest_mock import MockerFixture

from mesos_wm.drivers.scheduler import SchedulerDriver
from mesos_wm.errors import StoreError
from mesos_wm.framework import FrameworkConfig, LaunchBuilder
from mesos_wm.framework.homes import Homes
from mesos_wm.framework.maintenance import Maintenance
from mesos_wm.framework.offers import OfferCycle
from mesos_wm.framework.pending import ReadySet
from mesos_wm.framework.policy import OfferPolicy
from mesos_wm.framework.reconcile import Reconciler
from mesos_wm.framework.runtime import Runtime
from mesos_wm.framework.updates import StatusHandler
from mesos_wm.matcher import Matcher
from mesos_wm.queue import TaskQueue
from mesos_wm.queue.records import Claims, StatusOutcome
from mesos_wm.queue.states import TaskState
from tests.framework.builders import launch, offer, ready, shape, status

CONFIG = FrameworkConfig(refuse_seconds=1.5, refuse_seconds_idle=90.0, suppress_after=5.0,
                         revive_interval=2.0, reconcile_interval=1000.0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rt(mocker: MockerFixture, clock: Clock) -> Runtime:
    queue = mocker.create_autospec(TaskQueue, instance=True)
    queue.promote_due.return_value = 0
    queue.ready_tasks.return_value = []
    queue.refresh.return_value = 0
    queue.active_attempts.return_value = []
    queue.list_workflows.return_value = []
    queue.next_wakeup.return_value = None
    queue.ready_count.return_value = 0
    runtime = Runtime(queue=queue, config=CONFIG, clock=clock, matcher=Matcher(roles=["*"]),
                      ready=ReadySet(lambda wf: None), homes=Homes(),
                      policy=OfferPolicy(CONFIG, clock()),
                      reconciler=Reconciler(1000.0, 30.0, 100))
    runtime.driver = mocker.create_autospec(SchedulerDriver, instance=True)
    runtime.subscribed = True
    runtime.builder = LaunchBuilder(CONFIG, "F-1")
    return runtime


def order(mocker: MockerFixture, **mocks: Any) -> Any:
    manager = mocker.Mock()
    for name, mock in mocks.items():
        manager.attach_mock(mock, name)
    return manager


async def test_an_update_is_acknowledged_only_after_the_queue_committed_it(
        rt: Runtime, mocker: MockerFixture) -> None:
    rt.queue.apply_statuses.return_value = [StatusOutcome(  # type: ignore[attr-defined]
        True, True, "wf", "t", 1, task_state=TaskState.RUNNING)]
    calls = order(mocker, apply_statuses=rt.queue.apply_statuses,
                  acknowledge=rt.driver.acknowledge)
    handler = StatusHandler(rt, [])
    update = status("wf.t.a1", "TASK_RUNNING")
    await handler.handle(update)
    await handler.drain()
    assert [c[0] for c in calls.mock_calls] == ["apply_statuses", "acknowledge"]
    assert calls.mock_calls[1].args == (update,)


async def test_updates_that_arrived_together_are_committed_at_once_before_any_ack(
        rt: Runtime, mocker: MockerFixture) -> None:
    rt.queue.apply_statuses.return_value = [  # type: ignore[attr-defined]
        StatusOutcome(True, True, "wf", "t", 1, task_state=TaskState.RUNNING),
        StatusOutcome(True, True, "wf", "t", 1, task_state=TaskState.FINISHED),
        StatusOutcome(False, False, note="bad", error="bad")]
    calls = order(mocker, apply_statuses=rt.queue.apply_statuses,
                  acknowledge=rt.driver.acknowledge)
    handler = StatusHandler(rt, [])
    batch = [status("wf.t.a1", "TASK_RUNNING"), status("wf.t.a1", "TASK_FINISHED"),
             status("wf.u.a1", "TASK_NONSENSE")]
    await handler.handle_many(batch)
    await handler.drain()
    assert [c[0] for c in calls.mock_calls] == ["apply_statuses"] + ["acknowledge"] * 3
    updates = calls.mock_calls[0].args[0]
    assert [(u.mesos_task_id, u.state) for u in updates] == [
        ("wf.t.a1", "TASK_RUNNING"), ("wf.t.a1", "TASK_FINISHED"), ("wf.u.a1", "TASK_NONSENSE")]
    assert [c.args for c in calls.mock_calls[1:]] == [(u,) for u in batch]
    assert rt.stats.updates == 3


async def test_an_update_the_queue_failed_to_store_is_not_acknowledged(
        rt: Runtime, mocker: MockerFixture) -> None:
    rt.queue.apply_statuses.side_effect = StoreError("disk full")  # type: ignore[attr-defined]
    handler = StatusHandler(rt, [])
    await handler.handle_many([status("wf.t.a1", "TASK_RUNNING"),
                               status("wf.t.a1", "TASK_FINISHED")])
    await handler.drain()
    rt.driver.acknowledge.assert_not_called()  # type: ignore[union-attr]


async def test_callbacks_see_the_committed_update_after_the_acknowledgement_is_sent(
        rt: Runtime, mocker: MockerFixture) -> None:
    rt.queue.apply_statuses.return_value = [StatusOutcome(  # type: ignore[attr-defined]
        True, True, "wf", "t", 1, task_state=TaskState.FINISHED)]
    seen: list[Any] = []

    async def callback(event: Any) -> None:
        seen.append((event.state, rt.queue.apply_statuses.called))  # type: ignore[attr-defined]

    handler = StatusHandler(rt, [callback, lambda e: 1 / 0])
    await handler.handle(status("wf.t.a1", "TASK_FINISHED"))
    await handler.drain()
    assert seen == [("TASK_FINISHED", True)]


async def test_a_cancelled_attempt_reporting_running_is_killed(rt: Runtime) -> None:
    rt.queue.apply_statuses.return_value = [StatusOutcome(  # type: ignore[attr-defined]
        True, True, "wf", "t", 1, task_state=TaskState.RUNNING, kill=True)]
    handler = StatusHandler(rt, [])
    await handler.handle(status("wf.t.a1", "TASK_RUNNING", agent_id="S4"))
    rt.driver.kill.assert_awaited_once_with("wf.t.a1", "S4")  # type: ignore[union-attr]


async def test_intents_are_recorded_before_the_accept_and_the_rest_is_declined_short(
        rt: Runtime, mocker: MockerFixture) -> None:
    rt.queue.ready_tasks.return_value = [ready(1, "wf", "run"),  # type: ignore[attr-defined]
                                         ready(2, "big", task_shape=shape(cpus=64))]
    one = dataclasses.replace(launch("wf", "run", agent_id="S1"), key=1)
    rt.queue.mark_launching_many.return_value = Claims((one,), ())  # type: ignore[attr-defined]
    calls = order(mocker, mark=rt.queue.mark_launching_many, accept=rt.driver.accept,
                  decline=rt.driver.decline)
    cycle = OfferCycle(rt)
    await cycle.handle([offer("O1", "S1"), offer("O2", "S2")])
    names = [c[0] for c in calls.mock_calls]
    assert names == ["mark", "accept", "decline"]
    assert calls.mock_calls[0].kwargs["agent_id"] == "S1"
    accept = calls.mock_calls[1]
    assert accept.args[0] == ["O1"]
    infos = accept.args[1][0]["launch"]["task_infos"]
    assert [i["task_id"]["value"] for i in infos] == [one.mesos_task_id]
    assert accept.kwargs["refuse_seconds"] == 1.5
    assert calls.mock_calls[2].args == (["O2"],)
    assert calls.mock_calls[2].kwargs == {"refuse_seconds": 1.5}
    assert list(rt.ready.tasks) == [2]
    assert one.mesos_task_id in rt.alive and rt.homes.get("wf") == "S1"


async def test_next_intents_are_recorded_while_an_accept_is_on_the_wire_answered_apart(
        rt: Runtime, mocker: MockerFixture) -> None:
    rt.queue.ready_tasks.return_value = [  # type: ignore[attr-defined]
        ready(1, "wf1", task_shape=shape(cpus=4)), ready(2, "wf2", task_shape=shape(cpus=4))]
    first = dataclasses.replace(launch("wf1", "t1", agent_id="S1"), key=1)
    second = dataclasses.replace(launch("wf2", "t2", agent_id="S2"), key=2)
    events: list[str] = []
    release = asyncio.Event()

    async def accept(offer_ids: list[str], operations: Any, **kwargs: Any) -> None:
        events.append(f"accept {offer_ids[0]} sent")
        await release.wait()
        events.append(f"accept {offer_ids[0]} answered")

    def mark(keys: list[int], **kwargs: Any) -> Claims:
        events.append(f"mark {kwargs['agent_id']}")
        return Claims((first,) if keys == [1] else (second,), ())

    rt.driver.accept.side_effect = accept  # type: ignore[union-attr]
    rt.queue.mark_launching_many.side_effect = mark  # type: ignore[attr-defined]
    offers = OfferCycle(rt)
    cycle = asyncio.ensure_future(offers.handle([offer("O1", "S1", cpus=4),
                                                 offer("O2", "S2", cpus=4)]))
    await cycle
    assert events == ["mark S1", "accept O1 sent", "mark S2", "accept O2 sent"]
    assert rt.stats.accepts == 0 and rt.stats.launched == 2
    release.set()
    await offers.drain()
    assert events[4:] == ["accept O1 answered", "accept O2 answered"]
    assert rt.stats.accepts == 2


async def test_offers_are_declined_unmatched_while_acknowledgements_back_up(
        rt: Runtime) -> None:
    rt.queue.ready_tasks.return_value = [ready(1)]  # type: ignore[attr-defined]
    rt.ack_backlog = lambda: CONFIG.ack_backlog + 1
    await OfferCycle(rt).handle([offer("O1", "S1")])
    rt.queue.mark_launching_many.assert_not_called()  # type: ignore[attr-defined]
    rt.driver.accept.assert_not_called()  # type: ignore[union-attr]
    rt.driver.decline.assert_awaited_once_with(["O1"], refuse_seconds=1.5)  # type: ignore[union-attr]
    assert list(rt.ready.tasks) == [1]
    rt.ack_backlog = lambda: CONFIG.ack_backlog
    await OfferCycle(rt).handle([offer("O2", "S1")])
    rt.queue.mark_launching_many.assert_called_once()  # type: ignore[attr-defined]


async def test_offers_are_declined_long_when_nothing_waits(rt: Runtime, clock: Clock) -> None:
    cycle = OfferCycle(rt)
    clock.now += 10
    await cycle.handle([offer("O1", "S1")])
    rt.driver.decline.assert_awaited_once_with(["O1"], refuse_seconds=90.0)  # type: ignore[union-attr]
    rt.driver.accept.assert_not_called()  # type: ignore[union-attr]
    rt.queue.mark_launching_many.assert_not_called()  # type: ignore[attr-defined]


async def test_tasks_cancelled_meanwhile_are_not_launched(rt: Runtime) -> None:
    rt.queue.ready_tasks.return_value = [ready(1)]  # type: ignore[attr-defined]
    rt.queue.mark_launching_many.return_value = Claims((), (1,))  # type: ignore[attr-defined]
    await OfferCycle(rt).handle([offer("O1", "S1")])
    rt.driver.accept.assert_not_called()  # type: ignore[union-attr]
    rt.driver.decline.assert_awaited_once()  # type: ignore[union-attr]
    assert len(rt.ready) == 0


async def test_idle_framework_suppresses_and_revives_when_work_arrives(
        rt: Runtime, clock: Clock) -> None:
    updates = StatusHandler(rt, [])
    maintenance = Maintenance(rt, OfferCycle(rt), updates)
    await maintenance.tick()
    rt.driver.suppress.assert_not_called()  # type: ignore[union-attr]
    clock.now += 6
    await maintenance.tick()
    rt.driver.suppress.assert_awaited_once_with(("*",))  # type: ignore[union-attr]
    rt.queue.ready_tasks.return_value = [ready(1)]  # type: ignore[attr-defined]
    rt.dirty = True
    clock.now += 1
    await maintenance.tick()
    rt.driver.revive.assert_awaited_once_with(("*",))  # type: ignore[union-attr]
    rt.queue.ready_tasks.return_value = []  # type: ignore[attr-defined]
    rt.dirty = True
    clock.now += 10
    await maintenance.tick()
    assert rt.driver.suppress.await_count == 2  # type: ignore[union-attr]
    rt.queue.ready_tasks.return_value = [ready(2)]  # type: ignore[attr-defined]
    rt.dirty = True
    clock.now += 0.5
    await maintenance.tick()
    assert rt.driver.revive.await_count == 2  # type: ignore[union-attr]


async def test_subscribing_reconciles_every_alive_attempt_and_stores_the_id(
        rt: Runtime) -> None:
    from tests.framework.builders import active

    rt.queue.get_framework_id.return_value = None  # type: ignore[attr-defined]
    rt.queue.active_attempts.return_value = [  # type: ignore[attr-defined]
        active("w.a.a1"), active("w.b.a2", agent=None, state="LAUNCHING", kill=True)]
    maintenance = Maintenance(rt, OfferCycle(rt), StatusHandler(rt, []))
    await maintenance.subscribed("F-2")
    await maintenance.wait_reconciled()
    rt.queue.set_framework_id.assert_called_once_with("F-2")  # type: ignore[attr-defined]
    rt.driver.reconcile.assert_awaited_once_with(  # type: ignore[union-attr]
        [("w.a.a1", "S1"), ("w.b.a2", None)])
    rt.driver.kill.assert_awaited_once_with("w.b.a2", None)  # type: ignore[union-attr]
    assert rt.builder is not None and rt.builder.framework_id == "F-2"
    assert rt.homes.get("w") == "S1"


async def test_offer_wait_expiry_gives_the_task_up(rt: Runtime, clock: Clock) -> None:
    rt.queue.ready_tasks.return_value = [  # type: ignore[attr-defined]
        ready(1, queued_at=clock.now, task_shape=shape(cpus=64, offer_wait=30))]
    rt.queue.give_up.return_value = StatusOutcome(  # type: ignore[attr-defined]
        True, True, "wf", "t1", None, task_state=TaskState.ERROR)
    maintenance = Maintenance(rt, OfferCycle(rt), StatusHandler(rt, []))
    await maintenance.tick()
    rt.queue.give_up.assert_not_called()  # type: ignore[attr-defined]
    clock.now += 30
    await maintenance.tick()
    rt.queue.give_up.assert_called_once()  # type: ignore[attr-defined]
    args = rt.queue.give_up.call_args  # type: ignore[attr-defined]
    assert args.args[0] == 1 and "offer wait timeout" in args.args[1]
    assert len(rt.ready) == 0


async def test_staging_timeout_kills_with_a_reason_that_reaches_the_history(
        rt: Runtime, clock: Clock) -> None:
    from mesos_wm.framework.runtime import Alive
    from mesos_wm.framework.timeouts import Timeout

    rt.alive["wf.t.a1"] = Alive("wf", "t", 1, "S1", launched_at=clock.now, staging_timeout=5)
    rt.deadlines.set(Timeout.STAGING, "wf.t.a1", clock.now + 5, 5)
    updates = StatusHandler(rt, [])
    maintenance = Maintenance(rt, OfferCycle(rt), updates)
    clock.now += 5
    await maintenance.tick()
    rt.driver.kill.assert_awaited_once_with("wf.t.a1", "S1")  # type: ignore[union-attr]
    rt.queue.apply_statuses.return_value = [StatusOutcome(  # type: ignore[attr-defined]
        True, True, "wf", "t", 1, task_state=TaskState.FAILED)]
    await updates.handle(status("wf.t.a1", "TASK_KILLED", message="killed by signal"))
    message = rt.queue.apply_statuses.call_args.args[0][0].message  # type: ignore[attr-defined]
    assert message.startswith("staging timeout") and message.endswith("killed by signal")
    assert "wf.t.a1" not in rt.alive
    await asyncio.sleep(0)


async def test_periodic_reconciliation_leaves_out_fresh_launches_then_asks_for_everything(
        rt: Runtime, clock: Clock) -> None:
    from mesos_wm.framework.runtime import Alive
    from tests.framework.builders import active

    rt.queue.active_attempts.return_value = [  # type: ignore[attr-defined]
        active("w.old.a1"), active("w.new.a1")]
    rt.alive["w.new.a1"] = Alive("w", "new", 1, "S1", launched_at=clock.now - 1)
    rt.reconciler.done(clock.now - 1000)
    maintenance = Maintenance(rt, OfferCycle(rt), StatusHandler(rt, []))
    await maintenance.tick()
    calls = [c.args[0] for c in rt.driver.reconcile.await_args_list]  # type: ignore[union-attr]
    assert calls == [[("w.old.a1", "S1")], []]
    await maintenance.tick()
    assert rt.driver.reconcile.await_count == 2, "not again before the interval"  # type: ignore[union-attr]
