# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The data contracts (controller side). ``make contracts`` publishes them as contracts/*.schema.json.

These models are the source of truth for what crosses the system's edges: messages we publish,
generation requests, remediation commands we accept, the ToolResult every module returns and the
WorkflowTrace of a remediation run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_serializer, model_validator

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TRACE_ID_LENGTH, TRACE_ID_PATTERN, new_trace_id

TraceId = Annotated[
    str,
    Field(
        pattern=TRACE_ID_PATTERN.pattern,
        min_length=TRACE_ID_LENGTH,
        max_length=TRACE_ID_LENGTH,
        description="W3C trace-context trace id: 32 lowercase hex digits, not all zero.",
        examples=["4bf92f3577b34da6a3ce929d0e0e4736"],
    ),
]
# Instance names go into command lines and file paths: letters, digits, '_' and '-' only.
InstanceName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$", description="IRIS instance name.")]
Severity = Annotated[int, Field(ge=iris_log.MIN_SEVERITY, le=iris_log.MAX_SEVERITY,
                                description="0 information, 1 warning, 2 severe error, 3 fatal error.")]
JsonScalar = Union[str, int, float, bool, None]


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo in a command must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MessageCategory(str, Enum):
    """Families of messages.log events the generator produces and commands refer to."""

    CONFIG = "config"
    LICENSE = "license"
    MEMORY = "memory"
    LOCK = "lock"
    JOURNAL = "journal"
    STARTUP = "startup"
    MIRROR = "mirror"
    NETWORK = "network"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone offset")
    return value


class IRISMessage(StrictModel):
    """One messages.log entry as published to external consumers."""

    timestamp: Annotated[datetime, AfterValidator(_aware)] = Field(description="ISO 8601 with offset, millisecond precision.")
    pid: int = Field(ge=0, description="Process id that wrote the entry.")
    severity: Severity
    category: str = Field(pattern=iris_log.CATEGORY_PATTERN.pattern, description="messages.log tag, e.g. Generic.Event.")
    text: str = Field(description="Message text; continuation lines joined with newlines.")
    instance: Optional[InstanceName] = None
    host: Optional[str] = Field(default=None, max_length=253)
    trace_id: TraceId = Field(default_factory=new_trace_id, description=(
        "W3C trace id of the run that published the message: every message a publication run accepts carries that "
        "run's trace id (also sent as traceparent); receivers correlate by this field. A redelivery keeps it. "
        "Not part of the Idempotency-Key."))

    @field_serializer("timestamp")
    def _millisecond_timestamp(self, value: datetime) -> str:
        # messages.log has millisecond resolution; keep the published form as precise, and no more.
        return value.isoformat(timespec="milliseconds")

    @classmethod
    def from_entry(cls, entry: iris_log.LogEntry, instance: Optional[str] = None,
                   host: Optional[str] = None, trace_id: Optional[str] = None) -> IRISMessage:
        values: dict[str, Any] = dict(timestamp=entry.timestamp, pid=entry.pid, severity=entry.severity,
                                      category=entry.category, text=entry.full_text, instance=instance, host=host)
        if trace_id is not None:
            values["trace_id"] = trace_id
        return cls(**values)

    def to_entry(self) -> iris_log.LogEntry:
        first, *rest = self.text.split("\n")
        return iris_log.make_entry(self.timestamp, self.pid, self.severity, self.category, first, rest)


class GenerationEngine(str, Enum):
    TEMPLATE = "template"
    LLM = "llm"


class MessageGenerationRequest(StrictModel):
    """What to generate: categories, how many, which severities, from which engine."""

    categories: list[MessageCategory] = Field(min_length=1)
    count: int = Field(default=10, ge=1, le=100_000)
    severity_min: Severity = 0
    severity_max: Severity = 3
    engine: GenerationEngine = GenerationEngine.TEMPLATE
    seed: Optional[int] = None
    start_time: Optional[Annotated[datetime, AfterValidator(_aware)]] = None
    instance: Optional[InstanceName] = None
    trace_id: TraceId = Field(default_factory=new_trace_id)

    @model_validator(mode="after")
    def _severity_range(self) -> MessageGenerationRequest:
        if self.severity_min > self.severity_max:
            raise ValueError("severity_min must not exceed severity_max")
        return self


class ErrorType(str, Enum):
    CONFIG = "config"
    LICENSE = "license"
    RESOURCE = "resource"
    OS = "os"


class CpfChange(StrictModel):
    section: str = Field(pattern=r"^[A-Za-z][\w.%-]{0,63}$")
    parameter: str = Field(pattern=r"^[%\w][\w %.,\"()-]{0,127}$")
    new_value: str = Field(pattern=r"^[^\x00-\x1f\x7f]*$", max_length=4096)
    current_value: Optional[str] = Field(default=None, description="Guard: abort unless the file holds this value.")


class KernelChange(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_-]+)+$", description="Dotted sysctl name, e.g. vm.nr_hugepages.")
    new_value: Union[int, Literal["auto"]]
    current_value: Optional[int] = None
    min_value: Optional[int] = None
    max_value: Optional[int] = None

    @model_validator(mode="after")
    def _bounds(self) -> KernelChange:
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValueError("min_value must not exceed max_value")
        value = self.new_value
        if isinstance(value, int):
            if self.min_value is not None and value < self.min_value:
                raise ValueError(f"new_value {value} is below min_value {self.min_value}")
            if self.max_value is not None and value > self.max_value:
                raise ValueError(f"new_value {value} is above max_value {self.max_value}")
        return self


class CpfAction(StrictModel):
    action: Literal["cpf"] = "cpf"
    changes: list[CpfChange] = Field(min_length=1)


class KernelAction(StrictModel):
    action: Literal["kernel"] = "kernel"
    changes: list[KernelChange] = Field(min_length=1)


class RestartAction(StrictModel):
    action: Literal["restart"] = "restart"
    user_wait_timeout: int = Field(default=60, ge=0, le=3600)
    stop_timeout: int = Field(default=120, ge=1, le=100_000)
    start_timeout: int = Field(default=60, ge=1, le=3600)
    force_users: bool = False


RemediationAction = Annotated[Union[CpfAction, KernelAction, RestartAction], Field(discriminator="action")]
ActionName = Literal["cpf", "kernel", "restart"]


class RemediationCommand(StrictModel):
    """A remediation request from outside: what to change on which instance, in which order."""

    command_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
    trace_id: TraceId = Field(default_factory=new_trace_id)
    instance: InstanceName
    error_type: ErrorType
    severity: Severity
    requires_restart: bool = False
    execution_order: list[ActionName] = Field(default_factory=list,
                                              description="Order of the actions; defaults to the order of parameters.")
    parameters: list[RemediationAction] = Field(min_length=1)
    reason: Optional[str] = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _order_matches_actions(self) -> RemediationCommand:
        names = [action.action for action in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError("parameters: each action (cpf, kernel, restart) may appear once; merge the changes")
        if self.execution_order and sorted(self.execution_order) != sorted(names):
            raise ValueError("execution_order %s must name exactly the actions in parameters %s" % (self.execution_order, names))
        return self

    def ordered_actions(self) -> list[Union[CpfAction, KernelAction, RestartAction]]:
        by_name = {action.action: action for action in self.parameters}
        return [by_name[name] for name in self.execution_order] if self.execution_order else list(self.parameters)


class ChangeDetail(StrictModel):
    target: str
    old_value: JsonScalar
    new_value: JsonScalar


class ToolStatus(str, Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    PARTIAL = "partial"


class ToolResult(StrictModel):
    """What every module returns under ``tool_result`` (built target-side by module_utils.tool_result)."""

    tool: str
    status: ToolStatus
    changes: list[ChangeDetail] = Field(default_factory=list)
    error_message: Optional[str] = None
    requires_user_action: bool = False
    dry_run: bool = False
    duration_ms: int = Field(ge=0)
    trace_id: TraceId


class TraceStatus(str, Enum):
    """How a remediation run ended (plugin_utils.workflow_trace.overall_status decides)."""

    SUCCESS = "success"
    FAILURE = "failure"
    PARTIAL = "partial"
    ROLLED_BACK = "rolled_back"


class WorkflowTrace(StrictModel):
    """The record of one remediation run across its steps."""

    trace_id: TraceId
    command_id: Optional[str] = None
    instance: Optional[str] = None
    check_mode: bool = False
    started_at: Annotated[datetime, AfterValidator(_aware)]
    finished_at: Annotated[datetime, AfterValidator(_aware)]
    duration_ms: int = Field(ge=0)
    steps_executed: list[ToolResult] = Field(description="Steps in the order they ran, rollback actions last.")
    overall_status: TraceStatus = Field(description=(
        "success: every step succeeded. rolled_back: a step failed and everything the run had changed was restored. "
        "failure: refused, or a step failed with nothing to restore, or a stop hung. "
        "partial: a rollback action failed."))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


CONTRACT_MODELS: dict[str, type[BaseModel]] = {
    "iris_message": IRISMessage,
    "message_generation_request": MessageGenerationRequest,
    "remediation_command": RemediationCommand,
    "tool_result": ToolResult,
    "workflow_trace": WorkflowTrace,
}
