"""What one shape takes from a cycle's columns of free amounts.

A cycle keeps the free amount of each resource per slot in a column (a list of ints).  A
:class:`Needs` holds a shape's three scarcest (column, amount) pairs as plain fields, padded
with an all-zero column asked for nothing, and any further ones (ports, GPUs, custom
scalars) in two tuples.  The compiled build checks and takes the usual three without
walking a tuple of pairs, which it would unpack and type-check pair by pair.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Needs"]


class Needs:
    """A shape's amounts per column, scarcest first.

    Args:
        pairs: (column, amount) pairs, the scarcest first (it is checked first).
        zero: a column of zeros as long as the others, for the missing pairs.
    """

    __slots__ = ("a0", "a1", "a2", "amounts", "c0", "c1", "c2", "more")

    def __init__(self, pairs: Sequence[tuple[list[int], int]], zero: list[int]) -> None:
        padded = [*pairs[:3], *[(zero, 0)] * (3 - min(3, len(pairs)))]
        self.c0, self.a0 = padded[0]
        self.c1, self.a1 = padded[1]
        self.c2, self.a2 = padded[2]
        self.more = tuple(col for col, _ in pairs[3:])
        self.amounts = tuple(amount for _, amount in pairs[3:])

    def fit(self, s: int) -> bool:
        """Has slot ``s`` room for one task?"""
        if self.c0[s] < self.a0 or self.c1[s] < self.a1 or self.c2[s] < self.a2:
            return False
        more = self.more
        if more:
            amounts = self.amounts
            for i in range(len(more)):
                if more[i][s] < amounts[i]:
                    return False
        return True

    def take(self, s: int) -> None:
        """Take one task's amounts from slot ``s`` (which has room for them)."""
        if self.a0:
            col = self.c0
            col[s] = col[s] - self.a0
        if self.a1:
            col = self.c1
            col[s] = col[s] - self.a1
        if self.a2:
            col = self.c2
            col[s] = col[s] - self.a2
        more = self.more
        if more:
            amounts = self.amounts
            for i in range(len(more)):
                col = more[i]
                col[s] = col[s] - amounts[i]
