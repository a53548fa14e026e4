"""Offers: the allocation round, refuse filters, DECLINE / REVIVE / SUPPRESS, rescinding.

Every allocation round offers each agent's unallocated resources by DRF (see
:mod:`~mesos_wm.local.allocator`), skipped when nothing that could change its outcome
happened.  A declined offer (and the unused part of an accepted one) leaves a refuse
filter for ``Filters.refuse_seconds`` (default 5, negative = default, at most a year);
REVIVE clears filters and un-suppresses; SUPPRESS stops offers for roles.  Inverse offers
and operation feedback are accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from mesos_wm.local import messages as msg
from mesos_wm.local.allocator import allocate
from mesos_wm.local.core import CoreState, Reply, scalar_part
from mesos_wm.local.effects import Effect
from mesos_wm.local.model import Agent, Framework, Offer, RefuseFilter
from mesos_wm.resources import ResourceSet

__all__ = ["ONE_YEAR", "OfferState"]

JsonDict = dict[str, Any]

ONE_YEAR = 365 * 24 * 3600.0


class OfferState(CoreState):
    """The offer layer of the master core (see the module docstring)."""

    def _refuse_seconds(self, filters: JsonDict | None) -> float:
        if not filters or "refuse_seconds" not in filters:
            return self.config.default_refuse_seconds
        value = float(filters["refuse_seconds"])
        if value < 0:
            return self.config.default_refuse_seconds
        return min(value, ONE_YEAR)

    def _call_decline(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        body = call["decline"]
        refuse = self._refuse_seconds(body.get("filters"))
        for item in body.get("offer_ids", []):
            offer = self.offers.get(item.get("value", ""))
            if offer is None or offer.framework_id != framework.framework_id:
                continue
            self._remove_offer(offer.offer_id, rescind=False)
            self._add_filter(
                framework, offer.agent_id, offer.role, offer.resources, refuse=refuse, now=now
            )
        return Reply(202)

    def _add_filter(
        self,
        framework: Framework,
        agent_id: str,
        role: str,
        resources: ResourceSet,
        *,
        refuse: float,
        now: float,
    ) -> None:
        if refuse <= 0 or resources.is_empty():
            return
        framework.filters[(agent_id, role)] = RefuseFilter(resources, now + refuse)
        self._filter_deadline = min(self._filter_deadline, now + refuse)

    def _call_revive(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        roles = set(call.get("revive", {}).get("roles", [])) or set(framework.roles)
        framework.filters = {k: v for k, v in framework.filters.items() if k[1] not in roles}
        framework.suppressed -= roles
        self._wake_allocator(now)
        return Reply(202)

    def _call_suppress(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        roles = set(call.get("suppress", {}).get("roles", [])) or set(framework.roles)
        framework.suppressed |= roles
        return Reply(202)

    def _call_request(self, framework: Framework, call: JsonDict, now: float) -> Reply:
        return Reply(202)

    def _call_accept_inverse_offers(
        self, framework: Framework, call: JsonDict, now: float
    ) -> Reply:
        return Reply(202)

    _call_decline_inverse_offers = _call_accept_inverse_offers

    _call_acknowledge_operation_status = _call_accept_inverse_offers

    _call_reconcile_operations = _call_accept_inverse_offers

    def _remove_offer(self, offer_id: str, *, rescind: bool, recover: bool = True) -> list[Effect]:
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            return []
        framework = self.frameworks.get(offer.framework_id)
        agent = self.agents.get(offer.agent_id)
        if agent is not None:
            agent.offers.discard(offer_id)
        effects: list[Effect] = []
        if framework is not None:
            framework.offers.discard(offer_id)
            if recover and agent is not None:
                self._recover(framework, agent, offer.resources)
            if rescind:
                effects += self._send(framework, msg.rescind(offer_id))
        return effects

    def _offer_json(self, offer: Offer, framework: Framework, agent: Agent) -> JsonDict:
        multi = framework.has("MULTI_ROLE")
        executor_ids = sorted(agent.executors.get(framework.framework_id, {}))
        body: JsonDict = {
            "id": msg.id_of(offer.offer_id),
            "framework_id": msg.id_of(framework.framework_id),
            "agent_id": msg.id_of(agent.agent_id),
            "hostname": agent.hostname,
            "url": {
                "scheme": "http",
                "address": {"hostname": agent.hostname, "ip": self.ip, "port": agent.port},
                "path": "/slave(1)",
            },
            "resources": offer.resources.to_json(offer.role if multi else None),
            "attributes": msg.attributes_json(agent.attributes),
            "executor_ids": [msg.id_of(e) for e in executor_ids],
        }
        if multi:
            body["allocation_info"] = {"role": offer.role}
        return body

    def allocate(self, now: float) -> list[Effect]:
        """Run one allocation round and return the OFFERS events.

        A round is skipped when nothing that could change its outcome happened since the
        last one (no resources recovered, no framework or agent change, no refuse filter
        expired).
        """
        self._next_allocation = now + self.config.allocation_interval
        if not self._allocation_dirty and now < self._filter_deadline:
            return []
        self._allocation_dirty = False
        self._filter_deadline = min(
            (
                f.until
                for fw in self.frameworks.values()
                for f in fw.filters.values()
                if f.until > now
            ),
            default=float("inf"),
        )
        by_framework: dict[str, list[JsonDict]] = {}
        for item in allocate(self.agents.values(), list(self.frameworks.values()), now, self.rng):
            offer_id = f"{self.master_id}-O{self._offer_seq}"
            self._offer_seq += 1
            expires = now + self.config.offer_timeout if self.config.offer_timeout else None
            offer = Offer(
                offer_id,
                item.framework.framework_id,
                item.agent.agent_id,
                item.role,
                item.resources,
                now,
                expires,
            )
            self.offers[offer_id] = offer
            item.agent.offers.add(offer_id)
            item.agent.allocated = item.agent.allocated + item.resources
            item.framework.offers.add(offer_id)
            item.framework.allocated = item.framework.allocated + scalar_part(item.resources)
            by_framework.setdefault(item.framework.framework_id, []).append(
                self._offer_json(offer, item.framework, item.agent)
            )
        effects: list[Effect] = []
        for framework_id, offer_list in by_framework.items():
            self.metrics["master/offers_sent"] += len(offer_list)
            effects += self._send(self.frameworks[framework_id], msg.offers(offer_list))
        return effects

    def rescind_offers(self, framework_id: str | None = None) -> list[Effect]:
        """Rescind outstanding offers (all, or one framework's), sending RESCIND events."""
        effects: list[Effect] = []
        for offer_id, offer in list(self.offers.items()):
            if framework_id is None or offer.framework_id == framework_id:
                effects += self._remove_offer(offer_id, rescind=True)
        return effects
