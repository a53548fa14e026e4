"""Master URL parsing and MasterInfo addresses (pure)."""

from __future__ import annotations

import pytest

from mesos_wm.drivers.detector import StaticDetector, make_detector
from mesos_wm.drivers.master import (
    HttpMaster,
    ZooKeeperMaster,
    address_from_master_info,
    parse_master,
    unpack_ip,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://m1:5050", "http://m1:5050"),
        ("https://m1:8443/", "https://m1:8443"),
        ("m1:5051", "http://m1:5051"),
        ("m1", "http://m1:5050"),
        ("10.0.0.5:5050", "http://10.0.0.5:5050"),
        ("http://[::1]:5050", "http://[::1]:5050"),
        ("  http://m1  ", "http://m1:5050"),
    ],
)
def test_http_masters(text: str, expected: str) -> None:
    assert parse_master(text) == HttpMaster(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zk://z1:2181/mesos", ZooKeeperMaster("z1:2181", "/mesos")),
        ("zk://z1:2181,z2:2182,z3/mesos/", ZooKeeperMaster("z1:2181,z2:2182,z3:2181", "/mesos")),
        (
            "zk://alice:s%40cret@z1:2181,z2:2181/a/b",
            ZooKeeperMaster("z1:2181,z2:2181", "/a/b", "alice", "s@cret"),
        ),
        ("zk://[::1]:2181/mesos", ZooKeeperMaster("[::1]:2181", "/mesos")),
    ],
)
def test_zookeeper_masters(text: str, expected: ZooKeeperMaster) -> None:
    assert parse_master(text) == expected


def test_zookeeper_credentials_become_digest_auth() -> None:
    parsed = parse_master("zk://u:p@z1/mesos")
    assert isinstance(parsed, ZooKeeperMaster)
    assert parsed.auth_data == [("digest", "u:p")]
    assert ZooKeeperMaster("z1:2181", "/m").auth_data == []


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "empty"),
        ("ftp://m1:21", "scheme"),
        ("http://m1:5050/api", "path"),
        ("http://m1:99999", "port"),
        ("zk://z1:2181", "znode path"),
        ("zk://z1:2181/", "znode path"),
        ("zk://z1:x/mesos", "port"),
        ("zk://z1,,z2/mesos", "empty host"),
    ],
)
def test_bad_master_urls_say_what_is_wrong(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        parse_master(text)


def test_packed_ip_is_network_order_in_memory() -> None:
    assert unpack_ip(16777343) == "127.0.0.1"
    assert unpack_ip(0x0500000A) == "10.0.0.5"
    with pytest.raises(ValueError):
        unpack_ip(2**32)


def test_master_info_address_prefers_hostname_then_ip_then_legacy() -> None:
    full = {"address": {"hostname": "m1.example", "ip": "10.0.0.1", "port": 5050}}
    assert address_from_master_info(full) == ("m1.example", 5050)
    assert address_from_master_info(full, prefer_ip=True) == ("10.0.0.1", 5050)
    assert address_from_master_info({"address": {"ip": "10.0.0.1", "port": 5051}}) == (
        "10.0.0.1",
        5051,
    )
    assert address_from_master_info({"hostname": "legacy", "port": 5052}) == ("legacy", 5052)
    assert address_from_master_info({"ip": 16777343, "port": 5053, "id": "x"}) == (
        "127.0.0.1",
        5053,
    )


@pytest.mark.parametrize("info", [{}, {"address": {"hostname": "h"}}, {"ip": 1, "port": 0}])
def test_master_info_without_address_is_rejected(info: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="MasterInfo"):
        address_from_master_info(info)


async def test_static_detector_serves_its_url_until_closed() -> None:
    detector = make_detector("m1:5050")
    assert isinstance(detector, StaticDetector)
    await detector.start()
    assert await detector.leader() == "http://m1:5050"
    await detector.wait_changed("http://other:5050")
    await detector.close()
    await detector.wait_changed("http://m1:5050")
