"""Mesos v1 HTTP drivers: the I/O shells around the sans-IO wire layer.

The scheduler driver talks to the master, the executor driver to the agent; master
detection finds the leading master (directly or through ZooKeeper).
"""

from __future__ import annotations
