#!/usr/bin/env python3
"""A small pymesos-style framework, running on mesos_wm by changing only its imports.

It launches a few shell-command tasks, prints their status updates, and stops (tearing
the framework down) once every task reached a terminal state.  The code is written
exactly as for pymesos: the only mesos_wm-specific lines are the imports below.

Usage::

    python examples/pymesos_framework.py MASTER [--tasks N] [--timeout SECONDS]

where MASTER is ``host:port``, ``http://host:port`` or ``zk://host:2181/mesos``.  The exit
status is 0 when every task finished.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import socket
import sys
import threading

from addict import Dict

# With pymesos this line was:  from pymesos import MesosSchedulerDriver, Scheduler, encode_data
from mesos_wm.compat.pymesos import MesosSchedulerDriver, Scheduler, encode_data

TASK_CPUS = 0.1
TASK_MEM = 32.0
TERMINAL = {
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
}

log = logging.getLogger("pymesos_framework")


class HelloScheduler(Scheduler):
    """Launches ``count`` tasks, one per offer that fits, then waits for them."""

    def __init__(self, count):
        self.to_launch = count
        self.launched = 0
        self.states = {}
        self.lock = threading.Lock()

    def registered(self, driver, frameworkId, masterInfo):
        log.info(
            "registered as %s with master %s:%s",
            frameworkId["value"],
            masterInfo["hostname"],
            masterInfo["port"],
        )

    def reregistered(self, driver, masterInfo):
        log.info("re-registered with master %s:%s", masterInfo["hostname"], masterInfo["port"])

    def disconnected(self, driver):
        log.warning("disconnected; the driver resubscribes by itself")

    def resourceOffers(self, driver, offers):
        for offer_json in offers:
            offer = Dict(offer_json)
            with self.lock:
                wanted = self.to_launch - self.launched
            cpus = self.scalar(offer.resources, "cpus")
            mem = self.scalar(offer.resources, "mem")
            fits = int(min(cpus // TASK_CPUS, mem // TASK_MEM))
            count = min(wanted, fits)
            if count <= 0:
                driver.declineOffer(offer.id, {"refuse_seconds": 5})
                continue
            tasks = [self.make_task(offer) for _ in range(count)]
            driver.launchTasks(offer.id, tasks, {"refuse_seconds": 5})
            if self.launched >= self.to_launch:
                driver.suppressOffers()

    def make_task(self, offer):
        with self.lock:
            self.launched += 1
            number = self.launched
        task = Dict()
        task.task_id.value = f"hello-{number}"
        task.agent_id.value = offer.agent_id.value
        task.name = f"hello {number}"
        task.command.value = f"echo hello from task {number} on $(hostname)"
        task.data = encode_data(f"task {number}".encode())
        task.resources = [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": TASK_CPUS}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": TASK_MEM}},
        ]
        return task

    @staticmethod
    def scalar(resources, name):
        return sum(r.scalar.value for r in resources if r.name == name)

    def statusUpdate(self, driver, update):
        update = Dict(update)
        log.info("task %s is %s %s", update.task_id.value, update.state, update.message or "")
        with self.lock:
            self.states[update.task_id.value] = update.state
            done = (
                self.launched >= self.to_launch
                and all(state in TERMINAL for state in self.states.values())
                and len(self.states) >= self.to_launch
            )
        if done:
            log.info("all %d tasks ended; stopping", self.to_launch)
            driver.stop()

    def finished_all(self):
        with self.lock:
            return len(self.states) >= self.to_launch and all(
                state == "TASK_FINISHED" for state in self.states.values()
            )

    def error(self, driver, message):
        log.error("error from Mesos: %s", message)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("master", help="host:port, http://host:port or zk://host:2181/mesos")
    parser.add_argument("--tasks", type=int, default=3, help="how many tasks to run")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    framework = Dict()
    framework.user = getpass.getuser()
    framework.name = "pymesos-style hello"
    framework.hostname = socket.gethostname()

    scheduler = HelloScheduler(args.tasks)
    driver = MesosSchedulerDriver(scheduler, framework, args.master, use_addict=True)
    timer = threading.Timer(args.timeout, driver.stop)
    timer.daemon = True
    timer.start()
    driver.run()
    timer.cancel()
    return 0 if scheduler.finished_all() else 1


if __name__ == "__main__":
    sys.exit(main())
