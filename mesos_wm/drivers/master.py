"""Where the Mesos master is: parsing master URLs and reading ``MasterInfo``.

A master is named in one of three ways:

* ``http://host:port`` or ``https://host:port`` — one master (or a load balancer); a
  non-leading master answers 307 and the driver follows it;
* ``host:port`` (or just ``host``, port 5050) — the same, over plain HTTP;
* ``zk://[user:pass@]h1:p1,h2:p2/path`` — a ZooKeeper ensemble where the masters elect a
  leader; see :mod:`mesos_wm.drivers.zookeeper`.

Everything here is pure: parsing and formatting only.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "DEFAULT_MASTER_PORT",
    "HttpMaster",
    "MasterUrl",
    "ZooKeeperMaster",
    "address_from_master_info",
    "format_base_url",
    "parse_master",
    "unpack_ip",
]

DEFAULT_MASTER_PORT = 5050
DEFAULT_ZOOKEEPER_PORT = 2181


@dataclass(frozen=True)
class HttpMaster:
    """A master reached directly over HTTP(S).

    Attributes:
        base_url: ``scheme://host:port`` without a trailing slash or path.
    """

    base_url: str


@dataclass(frozen=True)
class ZooKeeperMaster:
    """Masters that elect their leader in ZooKeeper.

    Attributes:
        hosts: the ensemble as kazoo wants it (``"h1:2181,h2:2181"``).
        path: the znode under which masters register (``"/mesos"``).
        username: digest-auth user, if the URL carried credentials.
        password: digest-auth password, if the URL carried credentials.
    """

    hosts: str
    path: str
    username: str | None = None
    password: str | None = None

    @property
    def auth_data(self) -> list[tuple[str, str]]:
        """kazoo ``auth_data``: a ``digest`` entry when credentials were given."""
        if self.username is None:
            return []
        return [("digest", f"{self.username}:{self.password or ''}")]


MasterUrl = HttpMaster | ZooKeeperMaster


def format_base_url(scheme: str, host: str, port: int) -> str:
    """Build ``scheme://host:port``, bracketing IPv6 literals.

    Args:
        scheme: ``http`` or ``https``.
        host: a hostname, IPv4 or IPv6 address.
        port: the TCP port.

    Returns:
        The base URL.
    """
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def parse_master(master: str) -> MasterUrl:
    """Parse a master URL as given by a user (``--master``).

    Args:
        master: ``http(s)://host[:port]``, ``host[:port]``, or
            ``zk://[user:pass@]h1:p1,h2:p2/path``.

    Returns:
        An :class:`HttpMaster` or a :class:`ZooKeeperMaster`.

    Raises:
        ValueError: the URL is empty, has an unknown scheme, a bad port, a path on an HTTP
            master, or a ZooKeeper URL without hosts or path.
    """
    text = master.strip()
    if not text:
        raise ValueError("the master URL is empty; use http://host:5050 or zk://host:2181/mesos")
    if text.startswith("zk://"):
        return _parse_zookeeper(text)
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            f"unknown master URL scheme {parts.scheme!r} in {master!r}; "
            "use http://, https://, zk:// or host:port"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"the master URL {master!r} must not have a path; give only scheme://host:port"
        )
    host = parts.hostname
    if not host:
        raise ValueError(f"the master URL {master!r} has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"the master URL {master!r} has an invalid port") from exc
    return HttpMaster(format_base_url(parts.scheme, host, port or DEFAULT_MASTER_PORT))


def _parse_zookeeper(text: str) -> ZooKeeperMaster:
    rest = text[len("zk://") :]
    slash = rest.find("/")
    if slash < 0 or slash == len(rest) - 1:
        raise ValueError(
            f"the ZooKeeper URL {text!r} needs a znode path, e.g. zk://host:2181/mesos"
        )
    authority, path = rest[:slash], rest[slash:].rstrip("/")
    username: str | None = None
    password: str | None = None
    if "@" in authority:
        credentials, authority = authority.rsplit("@", 1)
        user, _, secret = credentials.partition(":")
        username, password = unquote(user), unquote(secret)
    hosts: list[str] = []
    for item in authority.split(","):
        host, port = _split_host_port(item.strip(), DEFAULT_ZOOKEEPER_PORT, text)
        hosts.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return ZooKeeperMaster(",".join(hosts), path, username, password)


def _split_host_port(item: str, default_port: int, url: str) -> tuple[str, int]:
    if not item:
        raise ValueError(f"the ZooKeeper URL {url!r} has an empty host")
    if item.startswith("["):
        host, _, tail = item[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else ""
    elif item.count(":") == 1:
        host, port_text = item.split(":")
    else:
        host, port_text = item, ""
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"the ZooKeeper URL {url!r} has an invalid port {port_text!r}")
    return host, int(port_text)


def unpack_ip(packed: int) -> str:
    """Decode the legacy ``MasterInfo.ip`` field.

    Mesos stores the ``in_addr`` of the master as a uint32 whose bytes in memory are in
    network order; read back as a little-endian integer, 127.0.0.1 is ``16777343``.

    Args:
        packed: the integer from ``MasterInfo.ip``.

    Returns:
        The dotted IPv4 address.

    Raises:
        ValueError: ``packed`` does not fit in 32 bits.
    """
    if not 0 <= packed <= 0xFFFFFFFF:
        raise ValueError(f"MasterInfo.ip {packed} is not a 32-bit value")
    return socket.inet_ntoa(struct.pack("<I", packed))


def address_from_master_info(
    info: Mapping[str, Any], *, prefer_ip: bool = False
) -> tuple[str, int]:
    """Find where to reach a master from its ``MasterInfo`` JSON.

    ``address.hostname`` is used first (it is what TLS certificates name), then
    ``address.ip``, then the legacy top-level ``hostname`` and the packed ``ip``.

    Args:
        info: ``MasterInfo`` as parsed JSON (from ZooKeeper or a SUBSCRIBED event).
        prefer_ip: try the IP address before the hostname (when the masters' hostnames
            do not resolve where the framework runs).

    Returns:
        ``(host, port)``.

    Raises:
        ValueError: neither a host nor a port can be found.
    """
    address = info.get("address") or {}
    port = address.get("port") or info.get("port")
    names: list[object] = [address.get("hostname"), address.get("ip"), info.get("hostname")]
    if prefer_ip:
        names = [address.get("ip"), address.get("hostname"), info.get("hostname")]
    host = next((str(name) for name in names if name), None)
    if host is None and isinstance(info.get("ip"), int):
        host = unpack_ip(info["ip"])
    if host is None or not port:
        raise ValueError(f"MasterInfo has no usable address: {dict(info)!r}")
    port = int(port)
    if not 0 < port < 65536:
        raise ValueError(f"MasterInfo has an invalid port {port}")
    return host, port
