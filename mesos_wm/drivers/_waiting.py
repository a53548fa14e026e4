"""A small asyncio helper shared by the drivers."""

from __future__ import annotations

import asyncio


async def wait_any(*events: asyncio.Event, timeout: float | None) -> None:
    """Return as soon as one of ``events`` is set.

    Raises:
        TimeoutError: none was set within ``timeout`` seconds (None waits forever).
    """
    async with asyncio.timeout(timeout):
        waits = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
