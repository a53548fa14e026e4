"""Checks of the Vagrant cluster that run without booting it (CI cannot run VMs).

The daemon flags have one source, ``vagrant/provision.sh``; these tests run it in its
``flags`` mode with the environment the Vagrantfile gives each VM, and require the same
flags in ``vagrant/README.md`` and ``docs/cluster.md``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import missing_service, require_binary

ROOT = Path(__file__).resolve().parent.parent
VAGRANT_DIR = ROOT / "vagrant"
PROVISION = VAGRANT_DIR / "provision.sh"
FLAG_DOCS = (VAGRANT_DIR / "README.md", ROOT / "docs" / "cluster.md")

FLAG_REGION = re.compile(r"<!-- flags:(mesos-master|mesos-agent) -->(.*?)<!-- end flags -->", re.S)
FLAG_TOKEN = re.compile(r"--[a-z_]+=[^\s`|\\]+")


def vagrant(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    binary = require_binary("vagrant", "Debian's vagrant package")
    full_env = {
        **os.environ,
        "VAGRANT_DOTFILE_PATH": str(tmp_path / "dotfile"),
        "VAGRANT_CHECKPOINT_DISABLE": "1",
        "VAGRANT_NO_COLOR": "1",
        **env,
    }
    return subprocess.run(
        [binary, *args], cwd=VAGRANT_DIR, env=full_env, capture_output=True, text=True,
        timeout=60, check=False,
    )


def cluster_plan(tmp_path: Path, **env: str) -> list[dict[str, Any]]:
    plan = tmp_path / "nodes.json"
    result = vagrant(
        tmp_path, "validate", "--ignore-provider", MESOS_WM_NODES_JSON=str(plan), **env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    nodes: list[dict[str, Any]] = json.loads(plan.read_text())
    return nodes


def script_flags(role: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        ["bash", str(PROVISION), "flags", role],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, check=True,
    )
    return result.stdout.split()


def documented_flags(path: Path) -> dict[str, list[str]]:
    text = path.read_text()
    regions = {name: FLAG_TOKEN.findall(body) for name, body in FLAG_REGION.findall(text)}
    assert set(regions) == {"mesos-master", "mesos-agent"}, f"{path}: flag regions missing"
    return regions


def test_vagrantfile_validates_without_any_provider_installed(tmp_path: Path) -> None:
    result = vagrant(tmp_path, "validate", "--ignore-provider", VAGRANT_NO_PLUGINS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


def test_libvirt_provider_settings_validate(tmp_path: Path) -> None:
    plugins = vagrant(tmp_path, "plugin", "list")
    if "vagrant-libvirt" not in plugins.stdout:
        missing_service("the vagrant-libvirt plugin is not installed (Debian's vagrant-libvirt)")
    result = vagrant(tmp_path, "validate", VAGRANT_DEFAULT_PROVIDER="libvirt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


def test_cluster_plan_follows_the_settings(tmp_path: Path) -> None:
    nodes = cluster_plan(tmp_path, MESOS_WM_AGENTS="3", MESOS_WM_AGENT_MEMORY="4096")
    assert [(n["name"], n["ip"]) for n in nodes] == [
        ("master", "192.168.56.10"),
        ("agent-1", "192.168.56.11"),
        ("agent-2", "192.168.56.12"),
        ("agent-3", "192.168.56.13"),
    ]
    agent = nodes[3]
    assert agent["memory"] == 4096
    assert agent["env"]["MESOS_WM_RACK"] == "r3"
    assert agent["env"]["MESOS_WM_AGENT_RESOURCES"].startswith("cpus:2;mem:3584;")


@pytest.mark.parametrize(
    ("setting", "value"),
    [("MESOS_WM_AGENTS", "0"), ("MESOS_WM_AGENTS", "two"), ("MESOS_WM_DOCKER", "yes")],
)
def test_bad_settings_are_refused_with_their_name(tmp_path: Path, setting: str, value: str) -> None:
    result = vagrant(tmp_path, "validate", "--ignore-provider", **{setting: value})
    assert result.returncode != 0
    assert setting in result.stdout + result.stderr


def test_provisioning_scripts_pass_shellcheck() -> None:
    shellcheck = require_binary("shellcheck", "Debian's shellcheck package")
    scripts = sorted(VAGRANT_DIR.rglob("*.sh"))
    assert PROVISION in scripts
    for script in scripts:
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script
        assert "set -euo pipefail" in script.read_text(), script
    result = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", *map(str, scripts)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("doc", FLAG_DOCS, ids=lambda p: p.name)
def test_flags_written_by_the_scripts_are_the_documented_ones(tmp_path: Path, doc: Path) -> None:
    nodes = {n["name"]: n for n in cluster_plan(tmp_path)}
    documented = documented_flags(doc)
    master = script_flags("master", nodes["master"]["env"])
    agent = script_flags("agent", {**nodes["agent-1"]["env"], "MESOS_WM_DOCKER": "0"})
    assert master == documented["mesos-master"]
    assert agent == documented["mesos-agent"]


def test_required_flags_are_present(tmp_path: Path) -> None:
    nodes = {n["name"]: n for n in cluster_plan(tmp_path)}
    master = dict(f.split("=", 1) for f in script_flags("master", nodes["master"]["env"]))
    assert master["--zk"] == "zk://192.168.56.10:2181/mesos"
    assert master["--quorum"] == "1"
    assert not master["--work_dir"].startswith("/tmp")
    for key in ("--ip", "--advertise_ip", "--hostname"):
        assert master[key] == "192.168.56.10"
    agent_env = nodes["agent-2"]["env"]
    agent_flags = script_flags("agent", {**agent_env, "MESOS_WM_DOCKER": "1"})
    agent = dict(f.split("=", 1) for f in agent_flags)
    assert agent["--master"] == "zk://192.168.56.10:2181/mesos"
    assert agent["--work_dir"] == "/var/lib/mesos/agent"
    assert agent["--containerizers"] == "mesos,docker"
    assert agent["--attributes"] == "rack:r2"
    for key in ("--ip", "--advertise_ip", "--hostname"):
        assert agent[key] == "192.168.56.12"


def test_provisioning_refuses_a_machine_that_is_not_a_cluster_vm() -> None:
    result = subprocess.run(
        ["bash", str(PROVISION), "agent"],
        env={"PATH": os.environ["PATH"], "MESOS_WM_NODE_IP": "192.0.2.77"},
        capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0
    assert "provision.sh:" in result.stderr


def test_unknown_role_is_a_usage_error() -> None:
    result = subprocess.run(
        ["bash", str(PROVISION), "flags", "scheduler"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "usage" in result.stderr
