"""sftp:// staging against a real OpenSSH server on loopback (tests/fixtures/sshd.py)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mesos_wm.executor.context import ExecutorSettings, TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.outcome import Outcome
from mesos_wm.executor.registry import HandlerRegistry
from mesos_wm.executor.sftp import parse_sftp_uri
from tests.executor.helpers import make_spec
from tests.fixtures.sshd import SshServer

MakeContext = Callable[..., TaskContext]
REGISTRY = HandlerRegistry(plugins={})
PAYLOAD = b"".join(bytes([n % 251]) * 1000 for n in range(3000))


@pytest.fixture
def ssh_settings(settings: ExecutorSettings, sshd: SshServer) -> ExecutorSettings:
    return dataclasses.replace(
        settings, ssh_identity_files=(sshd.client_key,), ssh_known_hosts=sshd.known_hosts
    )


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote"
    path.mkdir()
    return path


def partials(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if ".partial" in p.name]


async def test_fetch_over_sftp(
    sshd: SshServer, ssh_settings: ExecutorSettings, remote: Path, sandbox: Path,
    make_context: MakeContext,
) -> None:
    (remote / "input.bin").write_bytes(PAYLOAD)
    spec = make_spec(
        "DATA_STAGING", direction="INPUT",
        sources=[{"uri": sshd.uri(f"{remote}/input.bin"), "destination": "inputs/input.bin",
                  "sha256": hashlib.sha256(PAYLOAD).hexdigest()}],
    )
    outcome = await execute(spec, make_context(spec, settings=ssh_settings), REGISTRY)
    assert outcome.state is Outcome.FINISHED, outcome.message
    assert (sandbox / "wf-1" / "inputs" / "input.bin").read_bytes() == PAYLOAD


async def test_store_over_sftp(
    sshd: SshServer, ssh_settings: ExecutorSettings, remote: Path, sandbox: Path,
    make_context: MakeContext,
) -> None:
    outputs = sandbox / "wf-1" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "a.dat").write_bytes(PAYLOAD)
    (outputs / "b.dat").write_bytes(b"small")
    spec = make_spec(
        "DATA_STAGING", direction="OUTPUT", globs=["outputs/*.dat"],
        destination_uri=sshd.uri(f"{remote}/exp-42/"),
    )
    outcome = await execute(spec, make_context(spec, settings=ssh_settings), REGISTRY)
    assert outcome.state is Outcome.FINISHED, outcome.message
    assert (remote / "exp-42" / "outputs" / "a.dat").read_bytes() == PAYLOAD
    assert (remote / "exp-42" / "outputs" / "b.dat").read_bytes() == b"small"
    assert partials(remote) == []
    archive = make_spec(
        "DATA_STAGING", direction="ARCHIVE_OUTPUT", globs=["outputs/*.dat"],
        destination_uri=sshd.uri(f"{remote}/archive.tar.gz"),
    )
    outcome = await execute(archive, make_context(archive, settings=ssh_settings), REGISTRY)
    assert outcome.ok, outcome.message
    assert (remote / "archive.tar.gz").stat().st_size > 0


async def test_an_unknown_host_key_is_refused(
    sshd: SshServer, ssh_settings: ExecutorSettings, remote: Path, sandbox: Path,
    tmp_path: Path, make_context: MakeContext,
) -> None:
    (remote / "input.bin").write_bytes(PAYLOAD)
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    strict = dataclasses.replace(ssh_settings, ssh_known_hosts=empty)
    spec = make_spec(
        "DATA_STAGING", direction="INPUT",
        sources=[{"uri": sshd.uri(f"{remote}/input.bin"), "destination": "x"}],
    )
    outcome = await execute(spec, make_context(spec, settings=strict), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "HostKeyNotVerifiable" in outcome.message
    assert not (sandbox / "wf-1" / "x").exists()
    assert partials(sandbox) == []


async def test_a_key_the_server_does_not_know_is_refused(
    sshd: SshServer, ssh_settings: ExecutorSettings, remote: Path, tmp_path: Path,
    make_context: MakeContext,
) -> None:
    import subprocess

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True, capture_output=True)
    wrong = dataclasses.replace(ssh_settings, ssh_identity_files=(stranger,))
    (remote / "input.bin").write_bytes(b"x")
    spec = make_spec(
        "DATA_STAGING", direction="INPUT",
        sources=[{"uri": sshd.uri(f"{remote}/input.bin"), "destination": "x"}],
    )
    outcome = await execute(spec, make_context(spec, settings=wrong), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "PermissionDenied" in outcome.message


async def test_size_limit_and_missing_files_over_sftp(
    sshd: SshServer, ssh_settings: ExecutorSettings, remote: Path, sandbox: Path,
    make_context: MakeContext,
) -> None:
    (remote / "input.bin").write_bytes(PAYLOAD)
    for source, words in (
        ({"uri": sshd.uri(f"{remote}/input.bin"), "destination": "x", "max_bytes": 100},
         "limit of 100 bytes"),
        ({"uri": sshd.uri(f"{remote}/missing.bin"), "destination": "x"}, "sftp fetch of"),
    ):
        spec = make_spec("DATA_STAGING", direction="INPUT", sources=[source])
        outcome = await execute(spec, make_context(spec, settings=ssh_settings), REGISTRY)
        assert outcome.state is Outcome.FAILED
        assert words in outcome.message
    assert partials(sandbox) == []
    assert not (sandbox / "wf-1" / "x").exists()


def test_sftp_uris() -> None:
    assert parse_sftp_uri("sftp://alice@h:2222/data/a%20b/../c") == ("h", 2222, "alice", "/data/c")
    assert parse_sftp_uri("sftp://h/x") == ("h", 22, None, "/x")
    for bad in ("sftp://alice:hunter2@h/x", "sftp:///x", "sftp://h", "http://h/x"):
        with pytest.raises(Exception) as info:
            parse_sftp_uri(bad)
        assert "hunter2" not in str(info.value)
