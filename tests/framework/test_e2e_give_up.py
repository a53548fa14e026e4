"""The framework when its scheduler driver gives up for good (master unreachable past
``give_up_after``, 503 for too long, authentication refused) and nobody calls ``stop()``:
the typed error comes out of the API, the timer ends, and asyncio has no task exception
left unretrieved."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from mesos_wm.errors import AuthenticationFailed, ConnectError, MesosWmError, NotLeader
from mesos_wm.framework import Framework, FrameworkConfig
from mesos_wm.local import FAST
from mesos_wm.queue import TaskQueue, load_text
from tests.framework.harness import FAST_FRAMEWORK, Cluster

pytestmark = pytest.mark.timeout(60)

TASK_NAMES = ("mesos-wm-framework-timer", "mesos-wm-framework-supervisor")

ONE_JOB = """
id: stranded
tasks:
  - {id: job, type: COMMAND, command: "true"}
"""


@pytest.fixture
def queue_url(tmp_path: Path) -> str:
    """A queue with one workflow; each test opens it, so that once it drops the queue and
    the framework nothing else keeps the framework's tasks from being collected."""
    url = f"sqlite:///{tmp_path}/queue.db"
    queue = TaskQueue.open(url)
    queue.submit_many(load_text(ONE_JOB, "test.yaml"))
    queue.close()
    return url


@pytest.fixture
def unreachable_url() -> str:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest_asyncio.fixture
async def unretrieved(caplog: pytest.LogCaptureFixture) -> AsyncIterator[list[dict[str, Any]]]:
    """The contexts asyncio reports to the loop's exception handler meanwhile.

    The driver's warnings are not recorded: a captured record would keep the error it
    names, and through its traceback the framework and its tasks, from being collected.
    """
    caplog.set_level(logging.ERROR, logger="mesos_wm")
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    yield seen
    loop.set_exception_handler(previous)


def config(**changes: Any) -> FrameworkConfig:
    return FrameworkConfig(python=sys.executable,
                           **{**FAST_FRAMEWORK, "refresh_interval": 0.05, **changes})


def framework_tasks() -> dict[str, asyncio.Task[Any]]:
    return {t.get_name(): t for t in asyncio.all_tasks() if t.get_name() in TASK_NAMES}


async def assert_background_work_ends(tasks: dict[str, asyncio.Task[Any]]) -> None:
    """Every task the framework started ends by itself (looking at how they ended would
    retrieve their exceptions, which the callers check asyncio does not report)."""
    assert set(tasks) == set(TASK_NAMES)
    _, running = await asyncio.wait(tasks.values(), timeout=5)
    assert not running, f"still running after the driver gave up: {running}"


def assert_nothing_unretrieved(unretrieved: list[dict[str, Any]]) -> None:
    gc.collect()
    assert not [c for c in unretrieved if "never retrieved" in str(c.get("message"))], \
        unretrieved


async def test_an_unreachable_master_ends_join_and_the_timer_with_the_drivers_error(
        queue_url: str, unreachable_url: str,
        unretrieved: list[dict[str, Any]]) -> None:
    queue = TaskQueue.open(queue_url)
    framework = Framework(queue=queue, master=unreachable_url,
                          config=config(give_up_after=0.2))
    await framework.start()
    tasks = framework_tasks()
    with pytest.raises(ConnectError, match="no subscription for 0.2s"):
        await asyncio.wait_for(framework.join(), 10)
    await assert_background_work_ends(tasks)
    with pytest.raises(ConnectError):
        await framework.run_until_idle()
    with pytest.raises(ConnectError):
        await framework.wait_subscribed(1)
    await framework.stop()
    with pytest.raises(ConnectError):
        await framework.join()
    queue.close()
    assert not unretrieved


async def test_run_until_idle_alone_gets_the_error_and_nothing_is_left_unretrieved(
        queue_url: str, unreachable_url: str,
        unretrieved: list[dict[str, Any]]) -> None:
    queue = TaskQueue.open(queue_url)
    framework = Framework(queue=queue, master=unreachable_url,
                          config=config(give_up_after=0.2))
    run = asyncio.ensure_future(framework.run_until_idle())
    while len(framework_tasks()) < len(TASK_NAMES) and not run.done():
        await asyncio.sleep(0)
    tasks = framework_tasks()
    with pytest.raises(ConnectError):
        await asyncio.wait_for(run, 10)
    await assert_background_work_ends(tasks)
    queue.close()
    del framework, queue, tasks, run
    assert_nothing_unretrieved(unretrieved)


async def test_a_master_answering_503_past_give_up_after_raises_not_leader(
        cluster: Cluster, queue_url: str,
        unretrieved: list[dict[str, Any]]) -> None:
    cluster.master.faults.refuse_calls(30.0)
    queue = TaskQueue.open(queue_url)
    framework = Framework(queue=queue, master=cluster.master,
                          config=config(give_up_after=0.2))
    await framework.start()
    tasks = framework_tasks()
    with pytest.raises(NotLeader):
        await asyncio.wait_for(framework.wait_subscribed(), 10)
    with pytest.raises(NotLeader):
        await asyncio.wait_for(framework.run_until_idle(), 10)
    await assert_background_work_ends(tasks)
    queue.close()
    del framework, queue, tasks
    assert_nothing_unretrieved(unretrieved)


@pytest.mark.cluster(config=dataclasses.replace(FAST, credentials={"wm": "right"}))
async def test_refused_credentials_raise_authentication_failed_without_stop(
        cluster: Cluster, queue_url: str,
        unretrieved: list[dict[str, Any]]) -> None:
    queue = TaskQueue.open(queue_url)
    framework = Framework(queue=queue, master=cluster.master,
                          config=config(principal="wm", secret="wrong"))
    await framework.start()
    tasks = framework_tasks()
    with pytest.raises(AuthenticationFailed):
        await asyncio.wait_for(framework.join(), 10)
    await assert_background_work_ends(tasks)
    assert isinstance(framework.connection.failure, MesosWmError)
    queue.close()
    del framework, queue, tasks
    assert_nothing_unretrieved(unretrieved)
