"""Path confinement: every way a spec path could leave its directory is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mesos_wm.executor.paths import (
    PathEscapeError,
    check_relative,
    confine,
    file_uri_path,
    redact_uri,
    safe_name,
)


@pytest.mark.parametrize(
    "text",
    ["", "/etc/passwd", "../x", "a/../../x", "a/..", "~/x", ".", "a\x00b", "inputs/../../etc"],
)
def test_check_relative_refuses(text: str) -> None:
    with pytest.raises(PathEscapeError):
        check_relative(text)


def test_check_relative_normalises() -> None:
    assert str(check_relative("a//b/./c")) == "a/b/c"


def test_confine_accepts_paths_inside(tmp_path: Path) -> None:
    assert confine(tmp_path, "inputs/in.dat") == tmp_path / "inputs" / "in.dat"


def test_confine_refuses_symlinked_directory_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "inputs").symlink_to(outside)
    with pytest.raises(PathEscapeError, match="leads outside"):
        confine(root, "inputs/in.dat")


def test_confine_refuses_symlinked_file_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(PathEscapeError):
        confine(root, "passwd")


def test_confine_allows_symlink_that_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert confine(tmp_path, "alias/x") == tmp_path / "alias" / "x"


def test_confine_refuses_a_root_prefix_sibling(tmp_path: Path) -> None:
    root = tmp_path / "data"
    sibling = tmp_path / "data-evil"
    root.mkdir()
    sibling.mkdir()
    (root / "link").symlink_to(sibling)
    with pytest.raises(PathEscapeError):
        confine(root, "link/f")


def test_file_uri_inside_a_storage_root(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    assert file_uri_path(f"file://{store}/a%20b.dat", [store]) == store / "a b.dat"
    assert file_uri_path(f"file://localhost{store}/x", [store]) == store / "x"


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd",
        "file://otherhost/srv/x",
        "http://example.org/x",
        "file:relative/path",
        "file://{store}/../outside",
        "file://{store}/%2e%2e/outside",
    ],
)
def test_file_uri_outside_the_storage_roots_is_refused(tmp_path: Path, uri: str) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with pytest.raises(PathEscapeError):
        file_uri_path(uri.format(store=store), [store])


def test_file_uri_through_a_symlink_out_of_storage_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "etc").symlink_to("/etc")
    with pytest.raises(PathEscapeError):
        file_uri_path(f"file://{store}/etc/passwd", [store])


def test_file_uri_without_storage_roots_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PathEscapeError, match="--storage-root"):
        file_uri_path(f"file://{tmp_path}/x", [])


def test_redact_uri_hides_credentials_and_query() -> None:
    redacted = redact_uri("https://user:pa55@host.example:8443/p/f.dat?token=abc")
    assert "pa55" not in redacted
    assert "abc" not in redacted
    assert "user" not in redacted
    assert redacted == "https://***@host.example:8443/p/f.dat?…"
    assert redact_uri("http://u:secret@h:notaport/x") == "<unparsable uri>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("run-1", "run-1"), ("a/b c", "a_b_c"), ("..", "task"), ("", "task"), ("x.y", "x.y")],
)
def test_safe_name(text: str, expected: str) -> None:
    assert safe_name(text) == expected
    assert os.sep not in safe_name(text)
