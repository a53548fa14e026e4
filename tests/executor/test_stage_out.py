"""DATA_STAGING OUTPUT and ARCHIVE_OUTPUT to a file:// storage directory."""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable
from pathlib import Path

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.execute import execute
from mesos_wm.executor.outcome import Outcome
from mesos_wm.executor.registry import HandlerRegistry
from tests.executor.helpers import make_spec

MakeContext = Callable[..., TaskContext]
REGISTRY = HandlerRegistry(plugins={})


def populate(workdir: Path) -> None:
    (workdir / "outputs" / "sub").mkdir(parents=True)
    (workdir / "logs").mkdir()
    (workdir / "outputs" / "a.dat").write_bytes(b"A" * 10)
    (workdir / "outputs" / "b.dat").write_bytes(b"B" * 20)
    (workdir / "outputs" / "notes.txt").write_text("not a .dat")
    (workdir / "outputs" / "sub" / "c.dat").write_bytes(b"C")
    (workdir / "logs" / "run.stdout").write_text("out\n")


async def test_outputs_are_copied_with_their_relative_paths(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    workdir = sandbox / "wf-1"
    populate(workdir)
    spec = make_spec(
        "DATA_STAGING",
        direction="OUTPUT",
        globs=["outputs/*.dat", "logs/*", "outputs/sub", "missing/*"],
        destination_uri=f"file://{storage}/exp-42/",
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FINISHED, outcome.message
    target = storage / "exp-42"
    copied = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert copied == ["logs/run.stdout", "outputs/a.dat", "outputs/b.dat", "outputs/sub/c.dat"]
    for name in copied:
        assert (target / name).read_bytes() == (workdir / name).read_bytes()
    described = {o.path: o for o in outcome.result.outputs}
    assert described["outputs/b.dat"].size_bytes == 20
    assert described["outputs/b.dat"].sha256 == hashlib.sha256(b"B" * 20).hexdigest()
    assert described["outputs/b.dat"].uri == f"file://{target}/outputs/b.dat"
    assert "no match for missing/*" in outcome.message


async def test_nothing_matched_is_a_failure(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    (sandbox / "wf-1").mkdir()
    spec = make_spec(
        "DATA_STAGING", direction="OUTPUT", globs=["outputs/*"], destination_uri=f"file://{storage}"
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FAILED
    assert "no match for outputs/*" in outcome.message


async def test_symlinks_leading_out_of_the_workdir_are_not_copied(
    sandbox: Path, storage: Path, tmp_path: Path, make_context: MakeContext
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not exfiltrate")
    workdir = sandbox / "wf-1"
    populate(workdir)
    (workdir / "outputs" / "leak.dat").symlink_to(secret)
    (workdir / "outputs" / "etc").symlink_to("/etc")
    spec = make_spec(
        "DATA_STAGING",
        direction="OUTPUT",
        globs=["outputs/*.dat", "outputs/etc/passwd", "outputs/etc"],
        destination_uri=f"file://{storage}/out",
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.ok, outcome.message
    assert "refused" in outcome.message
    assert "outputs/leak.dat" in outcome.message
    stored = [p for p in storage.rglob("*") if p.is_file()]
    assert all(b"exfiltrate" not in p.read_bytes() for p in stored)
    assert not (storage / "out" / "outputs" / "etc").exists()


async def test_destination_outside_the_storage_roots_is_an_error(
    sandbox: Path, tmp_path: Path, make_context: MakeContext
) -> None:
    populate(sandbox / "wf-1")
    elsewhere = tmp_path / "elsewhere"
    spec = make_spec(
        "DATA_STAGING", direction="OUTPUT", globs=["outputs/*"], destination_uri=f"file://{elsewhere}"
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.ERROR
    assert not elsewhere.exists()


async def test_globs_that_climb_are_errors(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    populate(sandbox / "wf-1")
    for pattern in ("../*", "/etc/*", "outputs/../../*"):
        spec = make_spec(
            "DATA_STAGING", direction="OUTPUT", globs=[pattern], destination_uri=f"file://{storage}"
        )
        outcome = await execute(spec, make_context(spec), REGISTRY)
        assert outcome.state is Outcome.ERROR, pattern
    assert list(storage.iterdir()) == []


async def test_archive_output_packs_the_matches(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    workdir = sandbox / "wf-1"
    populate(workdir)
    spec = make_spec(
        "DATA_STAGING",
        direction="ARCHIVE_OUTPUT",
        globs=["outputs/*.dat", "logs/*"],
        destination_uri=f"file://{storage}/archives/",
        task_id="archive",
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.state is Outcome.FINISHED, outcome.message
    archive = storage / "archives" / "wf-1-archive.tar.gz"
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
        assert names == ["logs/run.stdout", "outputs/a.dat", "outputs/b.dat"]
        member = tar.extractfile("outputs/b.dat")
        assert member is not None
        assert member.read() == b"B" * 20
    [described] = outcome.result.outputs
    assert described.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert [p.name for p in sandbox.iterdir()] == ["wf-1"]


async def test_archive_output_to_a_named_file(
    sandbox: Path, storage: Path, make_context: MakeContext
) -> None:
    populate(sandbox / "wf-1")
    spec = make_spec(
        "DATA_STAGING",
        direction="ARCHIVE_OUTPUT",
        globs=["outputs"],
        destination_uri=f"file://{storage}/result.tgz",
    )
    outcome = await execute(spec, make_context(spec), REGISTRY)
    assert outcome.ok, outcome.message
    with tarfile.open(storage / "result.tgz") as tar:
        assert "outputs/sub/c.dat" in tar.getnames()
