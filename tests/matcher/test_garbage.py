"""A matching cycle leaves no reference cycles: its state is freed as soon as the result is.

A cycle holds thousands of objects (free-resource columns, slot orders, cursors); left as
cyclic garbage they would be walked by every collection until a full one frees them.
"""

from __future__ import annotations

import gc

import pytest

from mesos_wm.matcher import Matcher

from .builders import index_of, offer, task


@pytest.mark.parametrize("config", [
    {}, {"strategy": "spread"}, {"avoid_gpu_agents": False},
], ids=["binpack", "spread", "gpu-agents-shared"])
def test_a_cycle_leaves_no_cyclic_garbage(config: dict[str, object]) -> None:
    offers = [offer(8, 8192, ports=[(31000, 31009)], gpus=1 if i == 0 else 0,
                    attributes={"rack": f"r{i % 3}"}) for i in range(6)]
    tasks = [task(f"t{i}", 1 + i % 3, 512, ports=i % 2, priority=i % 2, owner=f"u{i % 3}",
                  submitted=float(i),
                  constraints=[["rack", "GROUP_BY"]] if i % 5 == 0 else
                  [["hostname", "UNIQUE"]] if i % 7 == 0 else [],
                  group="sweep" if i % 5 == 0 or i % 7 == 0 else None)
             for i in range(60)]
    index = index_of(tasks)
    matcher = Matcher(**config)  # type: ignore[arg-type]
    matcher.match(offers, index)
    gc.collect()
    gc.disable()
    try:
        result = matcher.match(offers, index)
        assert result.placements and result.unplaced
        assert all(u.reason for u in result.unplaced)
        del result
        assert gc.collect() == 0
    finally:
        gc.enable()
