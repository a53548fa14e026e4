"""The state of one matching cycle: slots, free resources, slot orders, group counts.

Theory of operation: the cycle flattens the offered agents into *slots* (one per pool) and
keeps the free amount of every resource a pending shape asks for in one column (a list
indexed by slot), in thousandths.  The slots are ordered once per cycle (most free cpus
first; GPU slots last, or alone, for the shapes that should avoid or need them).  Free
resources only shrink during a cycle, so a slot where even the smallest pending shape does
not fit stays full: the *front* of each order moves past the leading full slots, and the
full positions found further on are marked per order (``_full``), so the cursors that walk
a whole order step over them.  Port numbers are chosen from the offered ranges only when a
task is placed (``_discrete``), and placements are logged in flat lists
(:meth:`CycleState.record`) that :meth:`CycleState.placements` turns into ``Placement``
objects when the result is read.  The cursors themselves are made and moved in ``_cycle``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from mesos_wm.matcher._discrete import DiscreteFree
from mesos_wm.matcher._full import FullSlots
from mesos_wm.matcher._needs import Needs
from mesos_wm.matcher._usage import Amounts
from mesos_wm.matcher.constraints import HOSTNAME, GroupCounts
from mesos_wm.matcher.fitness import AgentView, Fitness, Strategy
from mesos_wm.matcher.offers import AgentCapacity, Pool
from mesos_wm.matcher.request import GPUS, MILLI, Check, Shape, Signature, TaskRequest
from mesos_wm.matcher.result import Discrete, Placement
from mesos_wm.matcher.running import RunningIndex

if TYPE_CHECKING:
    from mesos_wm.matcher._never import NeverFits

NO_DISCRETE: Final[Discrete] = ()
NO_SLOTS: Final[list[Any]] = []
_NO_LANES: Final[dict[str, Any]] = {}
_NO_SHAPE: Final = Shape(-1, ())
_NO_SIG: Final = Signature(-1, (), None, None)
_NO_NEEDS: Final = Needs((), [])


def combo_key(shape: Shape, sig: Signature) -> int:
    """The key of (shape, signature) in a cycle's cursors (ints hash fastest)."""
    return (sig.index << 32) | shape.index


class Cursor:
    """Where the next task of one (shape, signature) may go.

    ``fast`` cursors (bin packing, no dynamic constraint, no fitness) are advanced inline by
    the matcher and by :meth:`Cycle.walk`; the others through ``place``.
    """

    __slots__ = ("cands", "checks", "dead", "disc", "drf", "fast", "full", "group", "inc", "kind",
                 "lane", "lane_front", "lane_pos", "lanes", "master", "needs", "place", "pos",
                 "rank_of", "ranks", "shape", "sig", "tier2", "unschedulable")

    def __init__(self, shape: Shape, sig: Signature) -> None:
        self.shape = shape
        self.sig = sig
        self.needs = _NO_NEEDS
        self.disc: tuple[tuple[str, int], ...] = ()
        self.cands: list[int] = NO_SLOTS
        self.ranks: list[int] = NO_SLOTS
        self.rank_of: list[int] = NO_SLOTS
        self.tier2: list[int] | None = None
        self.pos = 0
        self.dead = False
        self.unschedulable = False
        self.fast = False
        self.kind = 0
        self.inc = 0.0
        self.drf: Amounts = (0.0, 0.0, 0.0, 0.0)
        self.checks: tuple[Check, ...] = sig.checks
        self.group: GroupCounts | None = None
        self.lane: Cursor | None = None
        self.master: Cursor | None = None
        self.lanes: dict[str, list[int]] = _NO_LANES
        self.lane_pos: dict[str, int] = _NO_LANES
        self.lane_front: dict[str, int] = _NO_LANES
        self.place: Callable[[Any, Cursor, str, bool], bool] = _never
        self.full: FullSlots | None = None


def _never(cycle: Any, cursor: Cursor, key: str, grouped: bool) -> bool:
    return False


def first_at_least(values: list[int], x: int, lo: int) -> int:
    """The first index from ``lo`` on whose value is at least ``x`` in ascending
    ``values`` (``bisect_left``, typed: the compiled build would call the C one
    generically)."""
    hi = len(values)
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _largest(values: list[int]) -> tuple[int, int]:
    """The largest of ``values`` and its first index ((0, -1) when empty), in a typed loop
    for the compiled build."""
    most = 0
    at = -1
    for i in range(len(values)):
        v = values[i]
        if at < 0 or v > most:
            most = v
            at = i
    return most, at


class CycleState:
    """Free resources, slot orders and group counts of one :meth:`Matcher.match` call."""

    def __init__(
        self,
        agents: list[AgentCapacity],
        shapes: list[Shape],
        *,
        strategy: Strategy,
        avoid_gpu: bool,
        running: RunningIndex,
        tasks: Mapping[str, tuple[TaskRequest, Any]],
        fitness: Fitness | None,
        fitness_window: int,
        never: NeverFits,
        drf_total: Mapping[str, int],
        group_sigs: dict[str, tuple[Signature, ...]],
    ) -> None:
        self.agents = agents
        self.never = never
        self.drf_total = drf_total
        pools: list[Pool] = []
        slot_agent: list[int] = []
        for ai, agent in enumerate(agents):
            for pool in agent.pools:
                pools.append(pool)
                slot_agent.append(ai)
        self.pools = pools
        self.slot_agent = slot_agent
        self.slot_is_agent = all(len(agent.pools) == 1 for agent in agents)
        self.slot_owner = [agents[a] for a in slot_agent]
        self.kind: dict[str, str] = {}
        for pool in pools:
            if pool.ranges:
                for n in pool.ranges:
                    self.kind[n] = "ranges"
            if pool.sets:
                for n in pool.sets:
                    self.kind.setdefault(n, "set")
        names = {n for shape in shapes for n, _ in shape.items}
        self.cols: dict[str, list[int]] = {}
        scalars = [p.scalars for p in pools]
        for n in names:
            if n in self.kind:
                self.cols[n] = [p.count(n) * MILLI for p in pools]
            else:
                self.cols[n] = [scalar.get(n, 0) for scalar in scalars]
        self.scale = {id(col): max(1, sum(col)) for col in self.cols.values()}
        self.zero = [0] * len(pools)
        self.discrete = DiscreteFree(pools)
        gpu_agent = [False] * len(agents)
        for s, gpus in enumerate([p.scalars.get(GPUS, 0) for p in pools]):
            if gpus > 0:
                gpu_agent[slot_agent[s]] = True
        self.gpu = [gpu_agent[a] for a in slot_agent]
        self.any_gpu = any(self.gpu)
        self.strategy = strategy
        self.first_fit = fitness is None and strategy is Strategy.BINPACK
        self.avoid_gpu = avoid_gpu and self.any_gpu
        self.running = running
        self.tasks = tasks
        self.fitness = fitness
        self.fitness_window = max(1, fitness_window)
        self.placed_keys: list[str] = []
        self.placed_slots: list[int] = []
        self.placed_cursors: list[Cursor] = []
        self.placed_ports: list[int] = []
        self.placed_discrete: dict[int, Discrete] = {}
        self.cursors: dict[int, Cursor] = {}
        self.groups: dict[str, GroupCounts] = {}
        self.group_fields: dict[str, set[str]] = {}
        self.group_sigs = group_sigs
        self._values: dict[str, list[str | None]] = {}
        self._static: dict[tuple[Signature, int], tuple[list[int], list[int]]] = {}
        self._admits: dict[Signature, list[bool]] = {}
        self.explained: dict[tuple[object, ...], int] = {}
        self._order_lanes: dict[tuple[int, str], tuple[
            dict[str, list[int]], dict[str, list[int]]]] = {}
        self._value_lanes: dict[tuple[Cursor, str], tuple[
            dict[str, list[int]], list[int], dict[str, int]]] = {}
        self.orders = self._orders()
        self.dead_cursor = Cursor(_NO_SHAPE, _NO_SIG)
        self.dead_cursor.dead = True
        self.unschedulable_cursor = Cursor(self.dead_cursor.shape, self.dead_cursor.sig)
        self.unschedulable_cursor.dead = self.unschedulable_cursor.unschedulable = True
        self.front = [0, 0, 0]
        self._full: list[FullSlots | None] = [None] * len(self.orders)
        # sliced into the ranks of whole orders, so their numbers are boxed once per cycle
        self.positions = list(range(len(pools)))
        self.top: dict[str, int] = {}
        self._top_at = -1
        self._top_slot: dict[str, int] = {}
        self._reach: dict[Shape, bool] = {}
        self.refresh_top()
        smallest = {n: min(self._need(n, s.amounts.get(n, 0)) for s in shapes) for n in names}
        self.floor = {n: m for n, m in sorted(smallest.items()) if m > 0}
        self.smallest = Needs([(self.cols[n], m) for n, m in self.floor.items()], self.zero)

    def refresh_top(self) -> None:
        """Recompute the largest free amount per resource over all slots.

        Free amounts only shrink during a cycle, so :attr:`top` stays an upper bound until
        the next refresh: a shape needing more than it of any resource fits no slot.  For
        the same reason a column whose largest amount is still where it was found has not
        changed its largest, and is not scanned again.
        """
        placed = len(self.placed_keys)
        if placed != self._top_at:
            self._top_at = placed
            top = self.top
            where = self._top_slot
            for n, col in self.cols.items():
                s = where.get(n, -1)
                if s < 0 or col[s] != top[n]:
                    top[n], where[n] = _largest(col)
            self._reach.clear()

    def exhausted(self) -> bool:
        """True when no slot has room for even the smallest pending shape (the least of
        every resource all shapes ask for): every remaining task fails unexamined.

        Checked against :attr:`top` (refresh it first), then by moving the front of the
        plain order, which is shared with the cursors that walk that order.
        """
        top = self.top
        if any(top[n] < m for n, m in self.floor.items()):
            return True
        return self.advance_front(0) >= len(self.pools)

    def split_by_value(self, slots: list[int], name: str) -> dict[str, list[int]]:
        """The ``slots`` (in their order) grouped by their agent's value of field ``name``;
        agents without the field are left out."""
        vals = self.values(name)
        agent_of = self.slot_agent
        lanes: dict[str, list[int]] = {}
        for s in slots:
            value = vals[agent_of[s]]
            if value is not None:
                lanes.setdefault(value, []).append(s)
        return lanes

    def full_slots(self, kind: int) -> FullSlots:
        """The full positions of order ``kind``, made on first use."""
        full = self._full[kind]
        if full is None:
            full = self._full[kind] = FullSlots(len(self.orders[kind][0]))
        return full

    def advance_front(self, kind: int) -> int:
        """Move the front of order ``kind`` past the slots where the smallest shape does
        not fit (they never will again this cycle); returns its position."""
        order = self.orders[kind][0]
        g = self.front[kind]
        smallest = self.smallest
        while g < len(order) and not smallest.fit(order[g]):
            g += 1
        self.front[kind] = g
        return g

    def out_of_reach(self, shape: Shape) -> bool:
        """True when no slot can have room for ``shape`` (checked against :attr:`top`)."""
        known = self._reach.get(shape)
        if known is None:
            top = self.top
            known = self._reach[shape] = any(
                self._need(n, m) > top[n] for n, m in shape.items)
        return known

    def _need(self, name: str, amount: int) -> int:
        return -(-amount // MILLI) * MILLI if name in self.kind else amount

    def _orders(self) -> list[tuple[list[int], list[int]]]:
        """Slot orders with their rank lists: plain, GPU slots last, GPU slots only.

        Both strategies start from the agents with the most free cpus (ties in agent id
        order): bin packing fills them one after the other, spread goes round robin.
        """
        cpus = [-p.scalars.get("cpus", 0) for p in self.pools]
        plain = sorted(range(len(self.pools)), key=cpus.__getitem__)
        gpu = self.gpu
        tiered = [s for s in plain if not gpu[s]] + [s for s in plain if gpu[s]]
        only = [s for s in plain if gpu[s]]
        out = []
        for order in (plain, tiered, only):
            rank = [0] * len(self.pools)
            for r, s in enumerate(order):
                rank[s] = r
            out.append((order, rank))
        return out

    def order_kind(self, shape: Shape) -> int:
        """Which of :attr:`orders` a shape walks: 2 GPU only, 1 GPU last, 0 plain."""
        if shape.gpu and self.any_gpu:
            return 2
        return 1 if self.avoid_gpu else 0

    def values(self, name: str) -> list[str | None]:
        """The value of field ``name`` per agent (not per slot)."""
        vals = self._values.get(name)
        if vals is None:
            vals = self._values[name] = (
                [a.hostname for a in self.agents] if name == HOSTNAME
                else [a.attributes.get(name) for a in self.agents])
        return vals


    def group_state(self, group: str) -> GroupCounts:
        """Where the tasks of a tracked group run: running tasks, then this cycle's
        placements (made on first use)."""
        state = self.groups.get(group)
        if state is None:
            state = self.groups[group] = GroupCounts()
            fields = self.group_fields[group] = set()
            for sig in self.group_sigs[group]:
                for c in sig.dynamic:
                    if c.field not in fields:
                        fields.add(c.field)
                        state.counts[c.field] = self.running.group_counts(group, c.field)
        return state

    def commit(self, cur: Cursor, s: int, key: str, grouped: bool) -> None:
        """Place task ``key`` of the cursor's shape on slot ``s``."""
        cur.needs.take(s)
        self.record(cur, s, key)
        group = cur.sig.group
        if group is None and grouped and self.group_sigs:
            group = self.tasks[key][0].group
        if group is not None and group in self.group_sigs:
            self.count_in_group(group, s)

    def count_in_group(self, group: str, s: int) -> None:
        """Count a task of ``group`` placed on slot ``s`` for the dynamic constraints."""
        counts = self.group_state(group).counts
        a = self.slot_agent[s]
        for name in self.group_fields[group]:
            value = self.values(name)[a]
            if value is not None:
                per = counts[name]
                per[value] = per.get(value, 0) + 1

    def record(self, cur: Cursor, s: int, key: str) -> None:
        """Log task ``key`` of the cursor's shape as placed on slot ``s`` (its resources
        are already taken from the columns); choose its port numbers and set items.

        The log is a few flat lists: a cycle makes no object per placement until
        :meth:`placements` is asked for, so thousands of placements do not wake the
        cyclic garbage collector in the middle of the cycle.
        """
        first = -1
        disc = cur.disc
        if disc:
            if len(disc) == 1:
                first = self.discrete.take_run(s, disc[0][0], disc[0][1])
            if first < 0:
                self.placed_discrete[len(self.placed_keys)] = self.discrete.take(s, disc)
        self.placed_keys.append(key)
        self.placed_slots.append(s)
        self.placed_cursors.append(cur)
        self.placed_ports.append(first)

    def placements(self) -> list[Placement]:
        """The placements of the cycle so far, in decision order."""
        slot_owner = self.slot_owner
        pools = self.pools
        slots = self.placed_slots
        cursors = self.placed_cursors
        ports = self.placed_ports
        discrete = self.placed_discrete
        out: list[Placement] = []
        for i, key in enumerate(self.placed_keys):
            s = slots[i]
            cur = cursors[i]
            first = ports[i]
            disc: Discrete
            if first >= 0:
                disc = ((cur.disc[0][0], tuple(range(first, first + cur.disc[0][1]))),)
            else:
                disc = discrete.get(i, NO_DISCRETE)
            out.append(Placement(key, slot_owner[s], pools[s], cur.shape, disc))
        return out

    def used_pools(self) -> list[Pool]:
        """The pools the cycle placed tasks on, in slot order."""
        used = [False] * len(self.pools)
        for s in self.placed_slots:
            used[s] = True
        return [pool for pool, u in zip(self.pools, used, strict=True) if u]

    def view(self, s: int) -> AgentView:
        """A read-only view of slot ``s`` for fitness functions."""
        return AgentView(self.slot_owner[s], self.pools[s], self.cols, s)
