"""Leader detection against a real ZooKeeper (tests/fixtures/zookeeper.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl

from mesos_wm.drivers.detector import make_detector
from mesos_wm.drivers.master import ZooKeeperMaster, parse_master
from mesos_wm.drivers.zookeeper import ZooKeeperDetector, election_order
from tests.fixtures.zookeeper import ZooKeeperServer

pytestmark = pytest.mark.service


def master_info(host: str, port: int) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "ip": 16777343,
            "port": port,
            "hostname": host,
            "address": {"hostname": host, "ip": "127.0.0.1", "port": port},
            "version": "1.11.0",
        }
    ).encode()


@pytest.fixture
def zk(zookeeper: ZooKeeperServer) -> Iterator[KazooClient]:
    client = KazooClient(hosts=zookeeper.hosts)
    client.start(timeout=20)
    try:
        yield client
    finally:
        client.stop()
        client.close()


@pytest.fixture
def path() -> str:
    return f"/mesos-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def detector(zookeeper: ZooKeeperServer, path: str) -> AsyncIterator[ZooKeeperDetector]:
    made = make_detector(zookeeper.url(path))
    assert isinstance(made, ZooKeeperDetector)
    await made.start()
    try:
        yield made
    finally:
        await made.close()


def contend(zk: KazooClient, path: str, host: str, port: int) -> str:
    created: str = zk.create(
        f"{path}/json.info_",
        master_info(host, port),
        ephemeral=True,
        sequence=True,
        makepath=True,
    )
    return created


def test_election_order_ranks_by_sequence_and_ignores_other_nodes() -> None:
    children = ["json.info_0000000012", "log_replicas", "info_0000000001", "json.info_0000000003"]
    assert election_order(children) == ["json.info_0000000003", "json.info_0000000012"]


async def test_lowest_sequence_leads_and_changes_are_watched(
    zk: KazooClient, path: str, detector: ZooKeeperDetector
) -> None:
    first = contend(zk, path, "m1.local", 5050)
    contend(zk, path, "m2.local", 5051)
    zk.create(f"{path}/log_replicas", b"", makepath=True)
    assert await asyncio.wait_for(detector.leader(), 10) == "http://m1.local:5050"

    zk.delete(first)
    await asyncio.wait_for(detector.wait_changed("http://m1.local:5050"), 10)
    assert await detector.leader() == "http://m2.local:5051"


async def test_waits_for_the_path_and_the_first_master(
    zk: KazooClient, path: str, detector: ZooKeeperDetector
) -> None:
    waiting = asyncio.ensure_future(detector.leader())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    zk.ensure_path(path)
    await asyncio.sleep(0.1)
    assert not waiting.done()
    contend(zk, path, "m3.local", 6060)
    assert await asyncio.wait_for(waiting, 10) == "http://m3.local:6060"


async def test_no_master_left_means_no_leader(
    zk: KazooClient, path: str, detector: ZooKeeperDetector
) -> None:
    only = contend(zk, path, "m1.local", 5050)
    assert await asyncio.wait_for(detector.leader(), 10) == "http://m1.local:5050"
    zk.delete(only)
    await asyncio.wait_for(detector.wait_changed("http://m1.local:5050"), 10)
    assert detector.current is None


async def test_packed_ip_fallback_and_https(
    zookeeper: ZooKeeperServer, zk: KazooClient, path: str
) -> None:
    zk.create(
        f"{path}/json.info_0000000001",
        json.dumps({"ip": 16777343, "port": 5050}).encode(),
        makepath=True,
    )
    detector = make_detector(zookeeper.url(path), tls=True)
    await detector.start()
    try:
        assert await asyncio.wait_for(detector.leader(), 10) == "https://127.0.0.1:5050"
    finally:
        await detector.close()


async def test_digest_credentials_from_the_url(
    zookeeper: ZooKeeperServer, zk: KazooClient, path: str
) -> None:
    acl = make_digest_acl("mesos", "s3cret", all=True)
    zk.create(path, b"", acl=[acl])
    writer = KazooClient(hosts=zookeeper.hosts, auth_data=[("digest", "mesos:s3cret")])
    writer.start(timeout=20)
    try:
        writer.create(f"{path}/json.info_0000000007", master_info("secure.local", 5050), acl=[acl])
        parsed = parse_master(f"zk://mesos:s3cret@{zookeeper.hosts}{path}")
        assert isinstance(parsed, ZooKeeperMaster)
        detector = ZooKeeperDetector(parsed)
        await detector.start()
        try:
            assert await asyncio.wait_for(detector.leader(), 10) == "http://secure.local:5050"
        finally:
            await detector.close()
    finally:
        writer.stop()
        writer.close()
