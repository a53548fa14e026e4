"""Local staging paths in a workflow file are relative to the file's directory."""

from __future__ import annotations

from pathlib import Path

from mesos_wm.queue import load_file, load_text
from mesos_wm.queue.spec import resolve_paths

TEXT = """
id: exp
tasks:
  - {id: a, type: DATA_STAGING, direction: INPUT, source: data/in.xyz,
     destination: inputs/in.xyz}
  - id: b
    type: DATA_STAGING
    direction: INPUT
    sources:
      - {uri: ../shared/params.json, destination: inputs/params.json}
      - {uri: /abs/model.py, destination: model.py}
      - {uri: "https://example.org/x.dat", destination: x.dat}
      - {uri: "file:///already/a/uri", destination: y.dat}
  - {id: c, type: DATA_STAGING, direction: OUTPUT, outputs: ["outputs/*"],
     destination: storage/exp/, depends_on: [a, b]}
  - {id: d, type: DATA_STAGING, direction: ARCHIVE_OUTPUT, outputs: ["logs/*"],
     destination: "sftp://host/srv/exp.tar.gz", depends_on: [c]}
  - {id: e, type: DATA_STAGING, direction: INPUT, source: "my data/in put.txt",
     destination: inputs/in.txt}
"""


def staging(workflows: list, task_id: str):  # type: ignore[no-untyped-def]
    return next(t for t in workflows[0].tasks if t.id == task_id).staging


def test_load_file_resolves_local_paths_against_the_files_directory(tmp_path: Path) -> None:
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "wf.yaml").write_text(TEXT)
    workflows = load_file(folder / "wf.yaml")
    assert staging(workflows, "a").sources[0].uri == f"file://{folder}/data/in.xyz"
    assert staging(workflows, "a").sources[0].destination == "inputs/in.xyz"
    uris = [s.uri for s in staging(workflows, "b").sources]
    assert uris == [f"file://{tmp_path}/shared/params.json", "file:///abs/model.py",
                    "https://example.org/x.dat", "file:///already/a/uri"]
    assert staging(workflows, "c").destination == f"file://{folder}/storage/exp/"
    assert staging(workflows, "d").destination == "sftp://host/srv/exp.tar.gz"
    assert staging(workflows, "e").sources[0].uri == f"file://{folder}/my%20data/in%20put.txt"


def test_text_without_a_base_directory_is_left_as_written() -> None:
    workflows = load_text(TEXT, "wf.yaml")
    assert staging(workflows, "a").sources[0].uri == "data/in.xyz"
    resolved = resolve_paths(workflows, "/base")
    assert staging(resolved, "a").sources[0].uri == "file:///base/data/in.xyz"
    assert staging(workflows, "a").sources[0].uri == "data/in.xyz", "inputs unchanged"


def test_the_same_file_in_the_same_place_is_the_same_workflow(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(TEXT)
    assert load_file(tmp_path / "wf.yaml") == load_file(str(tmp_path / "wf.yaml"))
