"""The example gateway through the Python API runs to completion (from a copy of
examples/, so the storage directory it writes is not in the repository)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.framework.harness import EXAMPLES

pytestmark = pytest.mark.timeout(120)


def test_the_python_api_gateway_example_completes(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "airavata_gateway.py", tmp_path)
    shutil.copytree(EXAMPLES / "gateway", tmp_path / "gateway")
    done = subprocess.run([sys.executable, str(tmp_path / "airavata_gateway.py")],
                          capture_output=True, text=True, timeout=110, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("exp-argon-")
            and "energy" in line]
    assert {r[0]: (r[2], r[4]) for r in rows} == {
        "exp-argon-12": ("COMPLETED", "-20.352911"), "exp-argon-20": ("COMPLETED", "-46.865089"),
        "exp-argon-32": ("COMPLETED", "-84.953576"), "exp-argon-8": ("COMPLETED", "-14.825249")}
    assert (tmp_path / "storage" / "exp-argon-8" / "outputs" / "energy.dat").exists()
