"""The TaskSpec protobuf: checked-in generated code matches the .proto; helpers round-trip."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from mesos_wm import proto
from mesos_wm.errors import SpecError
from mesos_wm.proto import taskspec_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTO = "mesos_wm/proto/taskspec.proto"
GENERATED = ("mesos_wm/proto/taskspec_pb2.py", "mesos_wm/proto/taskspec_pb2.pyi")
GENERATOR = "1.62."  # grpcio-tools series whose code imports with protobuf >= 4.25


def protoc(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I.", *args, PROTO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def without_json_names(message: descriptor_pb2.DescriptorProto) -> None:
    for field in message.field:
        field.ClearField("json_name")
    for nested in message.nested_type:
        without_json_names(nested)


def test_checked_in_descriptor_matches_the_proto_file(tmp_path: Path) -> None:
    """Any grpcio-tools version can check that the generated code is not stale."""
    out = tmp_path / "set.pb"
    protoc(f"--descriptor_set_out={out}")
    fresh = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    for message in fresh.message_type:
        without_json_names(message)
    checked_in = descriptor_pb2.FileDescriptorProto.FromString(
        taskspec_pb2.DESCRIPTOR.serialized_pb
    )
    assert fresh == checked_in, "taskspec.proto changed: regenerate taskspec_pb2.py (see .proto)"


def test_regenerating_gives_the_same_files(tmp_path: Path) -> None:
    """Byte-exact, with the generator series the checked-in code was made with."""
    from importlib.metadata import version

    installed = version("grpcio-tools")
    if not installed.startswith(GENERATOR):  # no 1.62 wheels for Python 3.13: setup.cfg
        pytest.skip(f"grpcio-tools {GENERATOR}x generates the checked-in code, not {installed}")
    (tmp_path / "mesos_wm" / "proto").mkdir(parents=True)
    protoc(f"--python_out={tmp_path}", f"--pyi_out={tmp_path}")
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (ROOT / name).read_bytes(), name


def test_generated_code_imports_with_protobuf_4_25() -> None:
    code = (ROOT / GENERATED[0]).read_text()
    match = re.search(r"^# Protobuf Python Version: (\d+)\.(\d+)\.", code, re.MULTILINE)
    assert match is not None
    assert (int(match[1]), int(match[2])) <= (4, 25)
    assert "runtime_version" not in code


def make_spec() -> proto.TaskSpec:
    spec = proto.TaskSpec(
        workflow_id="exp-42",
        task_id="stage-in",
        attempt=2,
        command=proto.Command(argv=["python3", "compute.py"]),
        env={"B": "2", "A": "1"},
        working_directory="exp-42",
        wall_time_seconds=1800.0,
        staging=proto.Staging(
            direction=proto.INPUT,
            sources=[proto.StagingSource(uri="https://x/in.dat", destination="in.dat")],
        ),
        params={"z": "1", "a": "2"},
    )
    proto.set_task_type(spec, "DATA_STAGING")
    return spec


def test_task_spec_round_trips_deterministically() -> None:
    spec = make_spec()
    data = proto.encode_task_spec(spec)
    assert proto.decode_task_spec(data) == spec
    copy = proto.TaskSpec()
    copy.CopyFrom(spec)
    copy.env.clear()
    copy.env.update({"A": "1", "B": "2"})
    assert proto.encode_task_spec(copy) == data


@pytest.mark.parametrize(
    ("name", "enum", "plugin"),
    [
        ("ENV_SETUP", proto.ENV_SETUP, ""),
        ("COMMAND", proto.COMMAND, ""),
        ("gsissh", proto.PLUGIN, "gsissh"),
    ],
)
def test_task_type_names(name: str, enum: int, plugin: str) -> None:
    spec = proto.TaskSpec()
    proto.set_task_type(spec, name)
    assert (spec.type, spec.plugin_type) == (enum, plugin)
    assert proto.task_type_name(spec) == name


def test_unset_and_empty_task_types() -> None:
    assert proto.task_type_name(proto.TaskSpec()) == ""
    with pytest.raises(ValueError):
        proto.set_task_type(proto.TaskSpec(), "")


def test_task_result_keeps_optional_exit_code() -> None:
    outputs = [proto.OutputFile(path="o", size_bytes=3)]
    result = proto.TaskResult(task_id="run", exit_code=0, outputs=outputs)
    back = proto.decode_task_result(proto.encode_task_result(result))
    assert back.HasField("exit_code") and back.exit_code == 0
    assert not proto.decode_task_result(b"").HasField("exit_code")


@pytest.mark.parametrize("decode", [proto.decode_task_spec, proto.decode_task_result])
def test_garbage_is_a_spec_error(decode: object) -> None:
    with pytest.raises(SpecError):
        decode(b"\xff\xff\xff")  # type: ignore[operator]
