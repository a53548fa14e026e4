from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_TYPE_UNSPECIFIED: _ClassVar[TaskType]
    ENV_SETUP: _ClassVar[TaskType]
    DATA_STAGING: _ClassVar[TaskType]
    JOB_SUBMISSION: _ClassVar[TaskType]
    MONITORING: _ClassVar[TaskType]
    OUTPUT_FETCHING: _ClassVar[TaskType]
    ENV_CLEANUP: _ClassVar[TaskType]
    COMMAND: _ClassVar[TaskType]
    PLUGIN: _ClassVar[TaskType]

class StagingDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STAGING_DIRECTION_UNSPECIFIED: _ClassVar[StagingDirection]
    INPUT: _ClassVar[StagingDirection]
    OUTPUT: _ClassVar[StagingDirection]
    ARCHIVE_OUTPUT: _ClassVar[StagingDirection]
TASK_TYPE_UNSPECIFIED: TaskType
ENV_SETUP: TaskType
DATA_STAGING: TaskType
JOB_SUBMISSION: TaskType
MONITORING: TaskType
OUTPUT_FETCHING: TaskType
ENV_CLEANUP: TaskType
COMMAND: TaskType
PLUGIN: TaskType
STAGING_DIRECTION_UNSPECIFIED: StagingDirection
INPUT: StagingDirection
OUTPUT: StagingDirection
ARCHIVE_OUTPUT: StagingDirection

class Command(_message.Message):
    __slots__ = ("argv", "shell")
    ARGV_FIELD_NUMBER: _ClassVar[int]
    SHELL_FIELD_NUMBER: _ClassVar[int]
    argv: _containers.RepeatedScalarFieldContainer[str]
    shell: str
    def __init__(self, argv: _Optional[_Iterable[str]] = ..., shell: _Optional[str] = ...) -> None: ...

class StagingSource(_message.Message):
    __slots__ = ("uri", "destination", "sha256", "max_bytes")
    URI_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    uri: str
    destination: str
    sha256: str
    max_bytes: int
    def __init__(self, uri: _Optional[str] = ..., destination: _Optional[str] = ..., sha256: _Optional[str] = ..., max_bytes: _Optional[int] = ...) -> None: ...

class Staging(_message.Message):
    __slots__ = ("direction", "sources", "output_globs", "destination_uri")
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_GLOBS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_URI_FIELD_NUMBER: _ClassVar[int]
    direction: StagingDirection
    sources: _containers.RepeatedCompositeFieldContainer[StagingSource]
    output_globs: _containers.RepeatedScalarFieldContainer[str]
    destination_uri: str
    def __init__(self, direction: _Optional[_Union[StagingDirection, str]] = ..., sources: _Optional[_Iterable[_Union[StagingSource, _Mapping]]] = ..., output_globs: _Optional[_Iterable[str]] = ..., destination_uri: _Optional[str] = ...) -> None: ...

class TaskSpec(_message.Message):
    __slots__ = ("workflow_id", "task_id", "attempt", "type", "plugin_type", "command", "env", "working_directory", "wall_time_seconds", "kill_grace_period_seconds", "staging", "directory_mode", "output_fetch_period_seconds", "staging_timeout_seconds", "params")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PLUGIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    WORKING_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    KILL_GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STAGING_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_MODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FETCH_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STAGING_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    task_id: str
    attempt: int
    type: TaskType
    plugin_type: str
    command: Command
    env: _containers.ScalarMap[str, str]
    working_directory: str
    wall_time_seconds: float
    kill_grace_period_seconds: float
    staging: Staging
    directory_mode: int
    output_fetch_period_seconds: float
    staging_timeout_seconds: float
    params: _containers.ScalarMap[str, str]
    def __init__(self, workflow_id: _Optional[str] = ..., task_id: _Optional[str] = ..., attempt: _Optional[int] = ..., type: _Optional[_Union[TaskType, str]] = ..., plugin_type: _Optional[str] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., env: _Optional[_Mapping[str, str]] = ..., working_directory: _Optional[str] = ..., wall_time_seconds: _Optional[float] = ..., kill_grace_period_seconds: _Optional[float] = ..., staging: _Optional[_Union[Staging, _Mapping]] = ..., directory_mode: _Optional[int] = ..., output_fetch_period_seconds: _Optional[float] = ..., staging_timeout_seconds: _Optional[float] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class OutputFile(_message.Message):
    __slots__ = ("path", "size_bytes", "sha256", "uri")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    path: str
    size_bytes: int
    sha256: str
    uri: str
    def __init__(self, path: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., uri: _Optional[str] = ...) -> None: ...

class TaskResult(_message.Message):
    __slots__ = ("workflow_id", "task_id", "attempt", "exit_code", "signal", "outputs", "duration_seconds", "staging_seconds", "run_seconds", "message", "started_at", "finished_at")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STAGING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RUN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    task_id: str
    attempt: int
    exit_code: int
    signal: int
    outputs: _containers.RepeatedCompositeFieldContainer[OutputFile]
    duration_seconds: float
    staging_seconds: float
    run_seconds: float
    message: str
    started_at: float
    finished_at: float
    def __init__(self, workflow_id: _Optional[str] = ..., task_id: _Optional[str] = ..., attempt: _Optional[int] = ..., exit_code: _Optional[int] = ..., signal: _Optional[int] = ..., outputs: _Optional[_Iterable[_Union[OutputFile, _Mapping]]] = ..., duration_seconds: _Optional[float] = ..., staging_seconds: _Optional[float] = ..., run_seconds: _Optional[float] = ..., message: _Optional[str] = ..., started_at: _Optional[float] = ..., finished_at: _Optional[float] = ...) -> None: ...
