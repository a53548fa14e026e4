"""The mypyc-compiled matcher: in use where it was built, equal to the interpreted one, and
never shadowing an edited source (see ``mesos_wm._compiled`` and ``setup.py``)."""

from __future__ import annotations

import importlib.machinery
import json
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import mesos_wm.matcher._walk
from mesos_wm import _compiled
from mesos_wm.matcher import Matcher, Offer, RunningIndex
from tests.matcher.builders import index_of, make_offer, task
from tests.support import missing_service

REPO = Path(__file__).resolve().parents[2]
MATCHER_DIR = Path(mesos_wm.matcher._walk.__file__).parent
CONSTRAINTS = (
    (), (), (), (), (("rack", "EQ", "r1"),), (("rack", "LIKE", "r[0-2]"),),
    (("zone", "UNLIKE", "z0"),), (("hostname", "UNIQUE"),), (("rack", "GROUP_BY"),),
    (("zone", "MAX_PER", "3"),), (("rack", "CLUSTER", "r2"),),
)


def workload() -> dict[str, Any]:
    """One seeded cycle over every kind of constraint, GPUs, ports, several offers per
    agent, priorities and owners; placements and reasons as plain JSON-able data."""
    rng = random.Random(7)
    offers = []
    for a in range(40):
        attrs = {"rack": f"r{a % 5}", "zone": f"z{a % 3}"}
        for part in range(1 + a % 2):
            offers.append(Offer.from_json(make_offer(
                rng.choice([4, 8, 16]), rng.choice([4096, 16384]), disk=1000,
                gpus=2 if a % 9 == 0 and part == 0 else 0, ports=[(31000 + part * 100, 31099)],
                attributes=attrs, agent=f"agent-{a}", hostname=f"host-{a}")))
    tasks = []
    for i in range(1500):
        constraints = rng.choice(CONSTRAINTS)
        tasks.append(task(
            f"t{i:05d}", rng.choice([0.5, 1, 2, 4]), rng.choice([256, 1024, 4096]),
            ports=rng.choice([0, 0, 1, 2]), gpus=1 if rng.random() < 0.03 else 0,
            priority=rng.randrange(4), owner=f"user{rng.randrange(5)}",
            submitted=float(rng.randrange(10_000)), constraints=constraints,
            group=f"wf{i % 30}" if constraints else None))
    result = Matcher().match(offers, index_of(tasks), RunningIndex())
    return {
        "placements": [[p.task_key, p.agent_id, list(p.offer_ids), p.resources()]
                       for p in result.placements],
        "unplaced": [[list(g.task_keys), g.reason, g.unschedulable] for g in result.unplaced],
        "unused": sorted(result.unused_offers),
    }


def _interpreted(code: str) -> str:
    env = {**os.environ, _compiled.PURE_ENV: "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_matcher_is_compiled_where_it_was_built() -> None:
    if not _compiled.is_compiled(mesos_wm.matcher._walk):
        missing_service("the matcher runs interpreted (installed without a C compiler or "
                        "with MESOS_WM_COMPILE=never); its speed figures assume the build")
    assert not _compiled.stale_modules(MATCHER_DIR)


def test_every_matcher_module_but_the_user_facing_ones_is_listed_for_compiling() -> None:
    leaves = {path.stem for path in MATCHER_DIR.glob("*.py")} - {"__init__"}
    listed = {name.rsplit(".", 1)[1] for name in _compiled.COMPILED}
    assert listed <= leaves
    assert leaves - listed == {"constraints", "fitness"}


def test_interpreted_and_compiled_matchers_decide_alike() -> None:
    if not _compiled.is_compiled(mesos_wm.matcher._walk):
        missing_service("no compiled matcher to compare with the interpreted one")
    out = _interpreted(
        "import json, mesos_wm.matcher._walk as w\n"
        "from mesos_wm import _compiled\n"
        "from tests.matcher.test_compiled import workload\n"
        "assert not _compiled.is_compiled(w)\n"
        "print(json.dumps(workload()))\n")
    interpreted = json.loads(out)
    compiled = json.loads(json.dumps(workload()))
    assert len(compiled["placements"]) > 200
    assert compiled["unplaced"]
    assert interpreted == compiled


def test_pure_python_switch_loads_every_listed_module_from_source() -> None:
    out = _interpreted(
        "import json, importlib\n"
        "import mesos_wm.matcher\n"
        "from mesos_wm import _compiled\n"
        "print(json.dumps([importlib.import_module(n).__file__ for n in _compiled.COMPILED]))\n")
    files = json.loads(out)
    assert len(files) == len(_compiled.COMPILED)
    assert all(f.endswith(".py") for f in files)


def _fake_build(package: Path, names: list[str], digests: dict[str, str]) -> None:
    package.mkdir()
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for name in names:
        leaf = name.rpartition(".")[2]
        (package / f"{leaf}.py").write_text(f"VALUE = {leaf!r}\n")
        (package / f"{leaf}{suffix}").write_bytes(b"not really a shared object")
    (package / _compiled.MANIFEST).write_text(json.dumps(digests))


def test_a_build_of_other_sources_is_stale(tmp_path: Path) -> None:
    names = ["pkg.alpha", "pkg.beta", "pkg.gamma"]
    package = tmp_path / "pkg"
    _fake_build(package, names, {})
    recorded = _compiled.source_digests(package, names)
    (package / _compiled.MANIFEST).write_text(json.dumps(recorded))
    assert _compiled.stale_modules(package, names) == []

    (package / "beta.py").write_text("VALUE = 'edited'\n")
    assert _compiled.stale_modules(package, names) == ["pkg.beta"]
    (package / _compiled.MANIFEST).unlink()
    assert _compiled.stale_modules(package, names) == names


def test_no_build_is_not_stale(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "alpha.py").write_text("VALUE = 1\n")
    assert _compiled.stale_modules(package, ["pkg.alpha"]) == []


def test_a_stale_build_is_bypassed_with_a_warning(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["stalepkg.alpha"]
    package = tmp_path / "stalepkg"
    _fake_build(package, names, {"stalepkg.alpha": "0" * 64})
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(_compiled, "COMPILED", tuple(names))
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path
                                           if not isinstance(f, _compiled._SourceFinder)])
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(_compiled.PURE_ENV, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _compiled.choose_source("stalepkg", package)
    assert any("built from another version of the source" in str(w.message) for w in caught)
    import stalepkg.alpha  # type: ignore[import-not-found]

    assert stalepkg.alpha.VALUE == "alpha"
    assert stalepkg.alpha.__file__.endswith("alpha.py")
    for name in ("stalepkg", "stalepkg.alpha"):
        sys.modules.pop(name, None)
