"""A tiny guard process that kills the executor's process groups if the executor dies.

Jobs run in process groups of their own, so that a kill reaches every process of a job and
nothing else.  The price is that a hard crash of the executor (SIGKILL, out of memory) would
leave those groups running.  The executor therefore starts this guard in a session of its
own and tells it, one line at a time on its standard input, which groups exist
(``+<pgid>``) and which have ended (``-<pgid>``).  When the pipe closes, because the
executor exited for whatever reason, the guard sends SIGKILL to every group still listed.

The guard runs this file as a script in isolated mode (``python -I .../watchdog.py``), so
it imports nothing beyond the standard library and starts in milliseconds.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TextIO


def guard(stream: TextIO) -> int:
    """Read ``+pgid``/``-pgid`` lines until EOF, then SIGKILL every group still listed.

    Args:
        stream: the pipe from the executor.

    Returns:
        the number of groups that were still alive and got SIGKILL.
    """
    groups: set[int] = set()
    for line in stream:
        text = line.strip()
        if len(text) < 2 or text[0] not in "+-" or not text[1:].isdigit():
            continue
        pgid = int(text[1:])
        if pgid <= 1:
            continue
        if text[0] == "+":
            groups.add(pgid)
        else:
            groups.discard(pgid)
    killed = 0
    for pgid in sorted(groups):
        try:
            os.killpg(pgid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def main() -> None:
    """Ignore the signals a terminal or an agent sends to process groups, then guard."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    guard(sys.stdin)


if __name__ == "__main__":
    main()
