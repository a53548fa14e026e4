"""One offer cycle: match the ready set against the offers, record intents, ACCEPT, DECLINE.

Theory of operation
-------------------
For every OFFERS event the framework

1. brings its ready set up to date with the queue (only if the queue said something
   became ready since the last cycle);
2. runs the matcher over all offers of the event and every ready task;
3. keeps each workflow on one agent (its home, where its executor and working directory
   are): placements of a workflow on a second agent in the same cycle are dropped and the
   tasks stay ready, pinned to the first;
4. for each agent, records the launch intents in the queue in one transaction
   (``mark_launching_many``: QUEUED -> LAUNCHING, one attempt each) **before** sending one
   ACCEPT with one LAUNCH operation for all of that agent's offers.  Tasks the queue no
   longer holds as QUEUED (cancelled meanwhile) are left out.  The ACCEPT is put on the
   wire at once and the next agent's intents are recorded while the master handles it;
   its answer is awaited in the background, so the framework reads the updates of the
   launched tasks while the master is still launching others.  If an ACCEPT fails, its
   attempts stay LAUNCHING and are reconciled at once (or after resubscribing): Mesos then
   reports them lost if the launch never arrived, and they are retried as new attempts;
5. declines every offer it did not use, with the policy's filter (all of them, without
   matching, while more than ``ack_backlog`` acknowledgements wait to be sent: launching
   more would only delay the updates of the tasks already running);
6. now and then stores why the tasks left over were not placed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from mesos_wm.errors import MesosWmError, QueueError
from mesos_wm.framework.launch import kind_of
from mesos_wm.framework.pending import matcher_resources
from mesos_wm.framework.runtime import Alive, Runtime
from mesos_wm.framework.timeouts import Timeout, describe
from mesos_wm.matcher import MatchResult, Offer, Placement
from mesos_wm.wire.messages import launch as launch_operation

__all__ = ["OfferCycle"]

log = logging.getLogger("mesos_wm.framework")

_MAX_REASONS = 20_000
SYNC_SLICE = 2_000
"""Ready tasks taken into the matcher's index per step while a large sync is under way
(about 30 ms of work, so events are not held up).  When the index is empty (after a
restart) the first step takes the queue's first ``SYNC_SLICE`` tasks alone, and a whole
pass follows."""


class OfferCycle:
    """Handles OFFERS for one framework (see the module docstring).

    Args:
        rt: the framework's runtime state.
    """

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.last_reasons = float("-inf")
        self._sending: set[asyncio.Task[None]] = set()

    async def drain(self) -> None:
        """Wait for the ACCEPTs still waiting for their answers."""
        while self._sending:
            await asyncio.wait(list(self._sending))

    # -- the ready set -------------------------------------------------------------------

    def sync(self, now: float) -> None:
        """Bring the ready set up to date if the queue signalled new work (a slice of at
        most ``SYNC_SLICE`` new tasks per call; the rest follows on the next calls, and new
        work signalled meanwhile starts another pass after this one)."""
        rt = self.rt
        if rt.queue.promote_due(now=now):
            rt.dirty = True
        if rt.dirty and not rt.ready.syncing:
            rt.dirty = False
            if len(rt.ready) == 0 and rt.queue.ready_count() > SYNC_SLICE:
                rt.ready.begin(rt.queue.ready_tasks(SYNC_SLICE, now=now), partial=True)
                rt.dirty = True
            else:
                rt.ready.begin(rt.queue.ready_tasks(now=now))
        if not rt.ready.syncing:
            return
        added, removed, rejected = rt.ready.step(SYNC_SLICE)
        for task in added:
            if task.shape.offer_wait is not None:
                rt.deadlines.set(Timeout.OFFER_WAIT, task.key, task.queued_at +
                                 task.shape.offer_wait, task.shape.offer_wait)
        for task in removed:
            rt.deadlines.clear(Timeout.OFFER_WAIT, task.key)
        for task, why in rejected:
            self.give_up(task.key, f"cannot be matched: {why}", now)
        if added:
            rt.policy.work_arrived()

    def give_up(self, key: int, reason: str, now: float) -> None:
        """Fail a ready task that cannot or did not get placed (QUEUED -> ERROR)."""
        rt = self.rt
        rt.ready.remove(key)
        rt.deadlines.clear(Timeout.OFFER_WAIT, key)
        try:
            outcome = rt.queue.give_up(key, reason, now=now)
        except QueueError as exc:
            log.info("could not give up task %s: %s", key, exc)
            return
        log.warning("%s/%s: %s", outcome.workflow_id, outcome.task_id, reason)
        rt.settled_changed = True
        if outcome.released:
            rt.dirty = True

    # -- a cycle -------------------------------------------------------------------------

    async def handle(self, offers: Sequence[Mapping[str, Any]]) -> None:
        """Use or decline the offers of one OFFERS event."""
        rt = self.rt
        now = rt.clock()
        rt.stats.offers += len(offers)
        parsed: list[Offer] = []
        bad: list[str] = []
        for raw in offers:
            try:
                parsed.append(rt.matcher.parse_offer(raw))
            except ValueError as exc:
                log.warning("declining a malformed offer: %s", exc)
                bad.append(str(raw.get("id", {}).get("value", "")))
        self.sync(now)
        accepted: set[str] = set()
        if parsed and len(rt.ready) and self._acks_keep_up():
            result = rt.matcher.match(parsed, rt.ready.index, rt.running)
            accepted = await self._launch(self._keep_homes(result), now)
            self._record_reasons(result, now)
        unused = [o.offer_id for o in parsed if o.offer_id not in accepted] + [b for b in bad if b]
        if unused:
            await self._decline(unused, rt.policy.refuse_seconds(now, len(rt.ready)))

    def _acks_keep_up(self) -> bool:
        backlog = self.rt.ack_backlog()
        if backlog <= self.rt.config.ack_backlog:
            return True
        log.debug("declining offers: %d acknowledgements wait to be sent", backlog)
        return False

    def _keep_homes(self, result: MatchResult) -> dict[str, list[Placement]]:
        rt = self.rt
        chosen: dict[str, str] = {}
        by_agent: dict[str, list[Placement]] = {}
        limit = rt.config.max_launches_per_offer
        for p in result.placements:
            task = rt.ready.tasks.get(int(p.task_key))
            if task is None:
                continue
            if not task.shape.image:
                home = rt.homes.get(task.workflow_id) or chosen.get(task.workflow_id)
                if home is None:
                    chosen[task.workflow_id] = p.agent_id
                elif home != p.agent_id:
                    continue
            group = by_agent.setdefault(p.agent_id, [])
            if limit is None or len(group) < limit:
                group.append(p)
        return by_agent

    async def _launch(self, by_agent: dict[str, list[Placement]], now: float) -> set[str]:
        rt = self.rt
        accepted: set[str] = set()
        repin: set[str] = set()
        for agent_id, placements in by_agent.items():
            by_key = {int(p.task_key): p for p in placements}
            try:
                claims = rt.queue.mark_launching_many(list(by_key), agent_id=agent_id, now=now)
            except QueueError as exc:
                log.error("could not record launch intents on %s: %s", agent_id, exc)
                continue
            for ref in claims.lost:
                if isinstance(ref, int):
                    rt.ready.remove(ref)
                    rt.deadlines.clear(Timeout.OFFER_WAIT, ref)
            if not claims.launched:
                continue
            assert rt.builder is not None
            infos, launched = [], []
            for launch in claims.launched:
                placement = by_key[launch.key]
                task = rt.ready.remove(launch.key)
                rt.deadlines.clear(Timeout.OFFER_WAIT, launch.key)
                infos.append(rt.builder.task_info(launch, placement.resources()))
                launched.append(launch.mesos_task_id)
                kind = kind_of(launch, rt.config)
                if kind.custom_executor:
                    if rt.homes.learn(launch.workflow_id, agent_id):
                        repin.add(launch.workflow_id)
                    rt.homes.executor_started(launch.workflow_id, agent_id)
                spec = launch.spec
                rt.alive[launch.mesos_task_id] = Alive(
                    launch.workflow_id, launch.task_id, launch.attempt, agent_id,
                    launched_at=now, wall_time=spec.wall_time_seconds,
                    staging_timeout=spec.staging_timeout_seconds)
                if spec.staging_timeout_seconds > 0:
                    rt.deadlines.set(Timeout.STAGING, launch.mesos_task_id,
                                     now + spec.staging_timeout_seconds,
                                     spec.staging_timeout_seconds)
                rt.running.add(
                    launch.mesos_task_id, agent_id, resources=matcher_resources(launch.shape),
                    owner=task.owner if task else "default",
                    group=launch.workflow_id if launch.shape.constraints else None,
                    hostname=placement.hostname, attributes=placement.agent.attributes)
            rt.stats.launched += len(infos)
            offer_ids = list(placements[0].agent.offer_ids)
            accepted.update(offer_ids)
            sending = asyncio.get_running_loop().create_task(
                self._accept(offer_ids, infos, launched, now))
            self._sending.add(sending)
            sending.add_done_callback(self._sending.discard)
            await asyncio.sleep(0)
        if repin:
            rt.ready.repin(repin)
        return accepted

    async def _accept(self, offer_ids: list[str], infos: list[dict[str, Any]],
                      launched: list[str], now: float) -> None:
        rt = self.rt
        assert rt.driver is not None
        try:
            await rt.driver.accept(offer_ids, [launch_operation(infos)],
                                   refuse_seconds=rt.policy.refuse_seconds(now, len(rt.ready)))
        except MesosWmError as exc:
            log.warning("ACCEPT of %d task(s) failed (%s); reconciling them", len(infos), exc)
            await self.reconcile_now(launched)
            return
        rt.stats.accepts += 1
        rt.stats.calls += 1
        if rt.stats.first_accept_at is None:
            rt.stats.first_accept_at = rt.clock()

    async def reconcile_now(self, mesos_task_ids: Sequence[str]) -> None:
        """Ask Mesos about attempts whose fate is unknown (best effort)."""
        rt = self.rt
        if rt.driver is None or not rt.subscribed:
            return
        tasks = [(mid, rt.alive[mid].agent_id if mid in rt.alive else None)
                 for mid in mesos_task_ids]
        try:
            for i in range(0, len(tasks), rt.config.reconcile_batch):
                await rt.driver.reconcile(tasks[i:i + rt.config.reconcile_batch])
                rt.stats.calls += 1
        except MesosWmError as exc:
            log.warning("RECONCILE failed (%s); it is repeated after resubscribing", exc)

    async def _decline(self, offer_ids: list[str], refuse_seconds: float) -> None:
        rt = self.rt
        assert rt.driver is not None
        try:
            await rt.driver.decline(offer_ids, refuse_seconds=refuse_seconds)
            rt.stats.declines += 1
            rt.stats.calls += 1
        except MesosWmError as exc:
            log.info("DECLINE failed (%s); the master rescinds the offers anyway", exc)

    def _record_reasons(self, result: MatchResult, now: float) -> None:
        rt = self.rt
        if now - self.last_reasons < rt.config.reasons_interval:
            return
        self.last_reasons = now
        reasons: dict[int | tuple[str, str], str] = {}
        for group in result.unplaced:
            text = group.reason
            if group.unschedulable:
                text = f"unschedulable: {text}"
            for key in group.task_keys:
                reasons[int(key)] = text
                if len(reasons) >= _MAX_REASONS:
                    break
            if len(reasons) >= _MAX_REASONS:
                break
        if reasons:
            try:
                rt.queue.record_reasons(reasons, now=now)
            except QueueError as exc:
                log.info("could not store why-pending reasons: %s", exc)

    def offer_wait_expired(self, key: int, limit: float, now: float) -> None:
        """A ready task waited longer than its ``offer_wait``: give it up with a reason."""
        task = self.rt.ready.tasks.get(key)
        if task is None:
            return
        self.give_up(key, describe(Timeout.OFFER_WAIT, limit), now)
