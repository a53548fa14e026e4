"""HTTP Basic authentication, TLS verification and ZooKeeper leader changes."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from mesos_wm.drivers.events import Disconnected
from mesos_wm.drivers.scheduler import SchedulerDriver
from mesos_wm.errors import AuthenticationFailed, ConnectError
from mesos_wm.wire.scheduler_events import Subscribed
from tests.drivers.conftest import Recorder
from tests.drivers.fake_master import FakeMaster, Validator
from tests.fixtures.zookeeper import ZooKeeperServer
from tests.support import require_binary

MakeDriver = Callable[..., SchedulerDriver]


def basic(principal: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{principal}:{secret}".encode()).decode()


async def test_basic_auth_header_on_subscribe_and_calls(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    fake_master.require_auth = basic("wm-principal", "s3cret")
    driver = make_driver(principal="wm-principal", secret="s3cret")
    await driver.start()
    await driver.wait_subscribed(5)
    await driver.reconcile()
    assert fake_master.subscribes[0].headers["Authorization"] == basic("wm-principal", "s3cret")
    assert fake_master.calls[0].headers["Authorization"] == basic("wm-principal", "s3cret")
    info = fake_master.subscribes[0].body["subscribe"]["framework_info"]
    assert info["principal"] == "wm-principal"


async def test_wrong_secret_is_authentication_failed(
    fake_master: FakeMaster, make_driver: MakeDriver
) -> None:
    fake_master.require_auth = basic("wm-principal", "s3cret")
    driver = make_driver(principal="wm-principal", secret="wrong")
    await driver.start()
    with pytest.raises(AuthenticationFailed) as raised:
        await asyncio.wait_for(driver.join(), 5)
    assert raised.value.status == 401


def test_a_secret_without_principal_is_a_configuration_error() -> None:
    async def handler(event: object) -> None:
        return None

    with pytest.raises(ValueError, match="principal"):
        SchedulerDriver("m1:5050", {"name": "x"}, handler, secret="s")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    openssl = require_binary("openssl", "the Debian package openssl")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


@pytest.fixture
async def tls_master(
    certificate: tuple[Path, Path], validator: Validator | None
) -> AsyncIterator[FakeMaster]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    master = FakeMaster(validator=validator)
    await master.start(ssl_context=context)
    try:
        yield master
    finally:
        await master.close()


async def test_tls_with_the_ca_file_verifies_and_subscribes(
    tls_master: FakeMaster, make_driver: MakeDriver, certificate: tuple[Path, Path]
) -> None:
    assert tls_master.url.startswith("https://")
    driver = make_driver(master=tls_master.url, ca_file=str(certificate[0]))
    await driver.start()
    assert await driver.wait_subscribed(5) == "fw-0001"
    await driver.revive()
    assert tls_master.calls_of("REVIVE")


async def test_tls_certificate_failure_stops_the_driver(
    tls_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = make_driver(master=tls_master.url)
    await driver.start()
    with pytest.raises(ConnectError, match="certificate verification failed"):
        await asyncio.wait_for(driver.join(), 5)
    assert tls_master.subscribes == []


async def test_tls_verification_can_be_turned_off(
    tls_master: FakeMaster, make_driver: MakeDriver
) -> None:
    driver = make_driver(master=tls_master.url, verify=False)
    await driver.start()
    assert await driver.wait_subscribed(5) == "fw-0001"


def test_a_missing_ca_file_is_a_value_error(tmp_path: Path) -> None:
    async def handler(event: object) -> None:
        return None

    driver = SchedulerDriver(
        "https://m1:5050", {"name": "x"}, handler, ca_file=str(tmp_path / "nope.pem")
    )
    with pytest.raises(ValueError, match="TLS"):
        asyncio.run(driver.start())


@pytest.mark.service
async def test_zookeeper_leader_change_moves_the_subscription(
    zookeeper: ZooKeeperServer,
    fake_master: FakeMaster,
    make_driver: MakeDriver,
    recorder: Recorder,
    validator: Validator | None,
) -> None:
    standby = FakeMaster(validator=validator)
    await standby.start()
    zk = KazooClient(hosts=zookeeper.hosts)
    zk.start(timeout=20)
    path = f"/mesos-{uuid.uuid4().hex[:8]}"
    try:
        nodes = []
        for master in (fake_master, standby):
            info = {"address": {"hostname": "127.0.0.1", "ip": "127.0.0.1", "port": master.port}}
            nodes.append(
                zk.create(
                    f"{path}/json.info_",
                    json.dumps(info).encode(),
                    ephemeral=True,
                    sequence=True,
                    makepath=True,
                )
            )
        driver = make_driver(master=zookeeper.url(path))
        await driver.start()
        await driver.wait_subscribed(10)
        assert driver.master_url == fake_master.url
        old_stream = fake_master.open_streams[0]

        zk.delete(nodes[0])
        lost = await recorder.next(Disconnected)
        assert "leading master changed" in lost.reason
        await standby.next_stream()
        resubscribed = await recorder.next(Subscribed)
        assert resubscribed.framework_id == "fw-0001"
        assert standby.subscribes[0].body["framework_id"] == {"value": "fw-0001"}
        assert driver.master_url == standby.url
        await driver.revive()
        assert standby.calls_of("REVIVE") and not fake_master.calls
        await asyncio.sleep(0.05)
        assert old_stream.closed_by_peer
    finally:
        zk.stop()
        zk.close()
        await standby.close()
