"""ENV_SETUP and ENV_CLEANUP on real directories."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.handlers.env_cleanup import env_cleanup
from mesos_wm.executor.handlers.env_setup import env_setup
from mesos_wm.executor.outcome import Outcome
from mesos_wm.executor.paths import PathEscapeError
from tests.executor.helpers import make_spec

MakeContext = Callable[..., TaskContext]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_setup_creates_the_layout_with_the_given_mode(
    sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec("ENV_SETUP", working_directory="exp-42", directory_mode=0o701)
    outcome = await env_setup(spec, make_context(spec))
    assert outcome.state is Outcome.FINISHED, outcome.message
    workdir = sandbox / "exp-42"
    for path in (workdir, workdir / "inputs", workdir / "outputs", workdir / "logs"):
        assert path.is_dir()
        assert mode_of(path) == 0o701


async def test_setup_is_idempotent_and_resets_modes(
    sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec("ENV_SETUP")
    await env_setup(spec, make_context(spec))
    workdir = sandbox / "wf-1"
    (workdir / "inputs" / "keep.dat").write_text("kept")
    (workdir / "logs").chmod(0o777)
    outcome = await env_setup(spec, make_context(spec))
    assert outcome.ok
    assert mode_of(workdir / "logs") == 0o750
    assert (workdir / "inputs" / "keep.dat").read_text() == "kept"


async def test_setup_refuses_modes_that_lock_out_the_owner(make_context: MakeContext) -> None:
    spec = make_spec("ENV_SETUP", directory_mode=0o055)
    outcome = await env_setup(spec, make_context(spec))
    assert outcome.state is Outcome.ERROR


async def test_setup_refuses_a_planted_symlink(
    sandbox: Path, tmp_path: Path, make_context: MakeContext
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o700)
    outside.chmod(0o700)
    workdir = sandbox / "wf-1"
    workdir.mkdir()
    (workdir / "logs").symlink_to(outside)
    spec = make_spec("ENV_SETUP")
    with pytest.raises(PathEscapeError):
        await env_setup(spec, make_context(spec))
    assert mode_of(outside) == 0o700


async def test_cleanup_removes_the_working_directory_even_read_only_parts(
    sandbox: Path, make_context: MakeContext
) -> None:
    spec = make_spec("ENV_SETUP")
    await env_setup(spec, make_context(spec))
    workdir = sandbox / "wf-1"
    locked = workdir / "outputs" / "locked"
    locked.mkdir()
    (locked / "f").write_text("x")
    locked.chmod(0o500)
    cleanup = make_spec("ENV_CLEANUP")
    outcome = await env_cleanup(cleanup, make_context(cleanup))
    assert outcome.state is Outcome.FINISHED, outcome.message
    assert not workdir.exists()
    assert sandbox.is_dir()
    again = await env_cleanup(cleanup, make_context(cleanup))
    assert again.ok
    assert "already gone" in again.message


async def test_cleanup_of_a_symlinked_workdir_removes_only_the_link(
    sandbox: Path, tmp_path: Path, make_context: MakeContext
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data").write_text("keep me")
    inside = sandbox / "real"
    inside.mkdir()
    (sandbox / "wf-1").symlink_to(inside)
    spec = make_spec("ENV_CLEANUP")
    outcome = await env_cleanup(spec, make_context(spec))
    assert outcome.ok
    assert not (sandbox / "wf-1").exists()
    assert inside.is_dir()
    assert (precious / "data").read_text() == "keep me"


async def test_cleanup_never_touches_a_directory_outside_the_sandbox(
    sandbox: Path, tmp_path: Path, make_context: MakeContext
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data").write_text("keep me")
    spec = make_spec("ENV_CLEANUP", working_directory="../precious")
    with pytest.raises(PathEscapeError):
        make_context(spec)
    (sandbox / "escape").symlink_to(precious)
    linked = make_spec("ENV_CLEANUP", working_directory="escape/")
    with pytest.raises(PathEscapeError):
        make_context(linked)
    assert (precious / "data").read_text() == "keep me"
