"""Which positions of one slot order are full, found past in blocks.

Free resources only shrink during a cycle, so a slot where even the smallest pending shape
does not fit is full for every shape until the cycle ends.  The cursors that walk a whole
order mark such positions here and step over them.  A position's flag is a bool and each
block of four positions counts its unmarked ones, so marking allocates nothing (small ints
are shared) and a stretch of full positions is passed four at a time.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FullSlots"]

_SHIFT: Final = 2
_BLOCK: Final = 1 << _SHIFT


class FullSlots:
    """The full positions of an order of ``n`` slots."""

    __slots__ = ("left", "marked")

    def __init__(self, n: int) -> None:
        self.marked = [False] * n
        blocks = (n + _BLOCK - 1) >> _SHIFT
        self.left = [_BLOCK] * blocks
        if n % _BLOCK:
            self.left[blocks - 1] = n % _BLOCK

    def mark(self, pos: int) -> None:
        """Position ``pos`` is full."""
        marked = self.marked
        if not marked[pos]:
            marked[pos] = True
            block = pos >> _SHIFT
            self.left[block] = self.left[block] - 1

    def next_open(self, pos: int) -> int:
        """The first position from ``pos`` on not marked full (the order's length when
        there is none)."""
        marked = self.marked
        left = self.left
        end = len(marked)
        while pos < end:
            if left[pos >> _SHIFT] == 0:
                pos = (pos | (_BLOCK - 1)) + 1
            elif marked[pos]:
                pos += 1
            else:
                return pos
        return end
