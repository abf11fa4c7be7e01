# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder
from ansible_collections.irisops.iris.plugins.plugin_utils.models import (
    IRISMessage, KernelChange, MessageGenerationRequest, ToolResult, TraceStatus, WorkflowTrace, utc_now)

REAL_LINE = "08/11/21-05:49:43:342 (18374) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE"


def test_message_round_trips_through_the_log_format() -> None:
    entries, _malformed = iris_log.parse_text(REAL_LINE + "\nJournaling switched to: /iris/journal1/20210811.003\n")
    message = IRISMessage.from_entry(entries[0], instance="IRIS", host="db1")
    assert message.text.endswith("Journaling switched to: /iris/journal1/20210811.003")
    assert message.to_entry().format() == entries[0].format()
    assert IRISMessage.model_validate_json(message.model_dump_json()) == message


def test_message_requires_an_aware_timestamp() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        IRISMessage(timestamp=datetime(2026, 1, 1), pid=1, severity=0, category="Generic.Event", text="x")


@pytest.mark.parametrize("field,value", [("severity", 4), ("pid", -1), ("category", "Not A Tag")])
def test_message_fields_are_checked(field: str, value: object) -> None:
    values = dict(timestamp=utc_now(), pid=1, severity=0, category="Generic.Event", text="x")
    values[field] = value
    with pytest.raises(ValidationError, match=field):
        IRISMessage(**values)  # type: ignore[arg-type]


def test_generation_request_severity_range() -> None:
    with pytest.raises(ValidationError, match="severity_min"):
        MessageGenerationRequest(categories=["lock"], severity_min=3, severity_max=1)  # type: ignore[list-item]


def test_kernel_change_bounds() -> None:
    with pytest.raises(ValidationError, match="below min_value"):
        KernelChange(name="vm.nr_hugepages", new_value=10, min_value=100)
    with pytest.raises(ValidationError, match="above max_value"):
        KernelChange(name="vm.nr_hugepages", new_value=1000, max_value=100)
    with pytest.raises(ValidationError, match="must not exceed"):
        KernelChange(name="vm.nr_hugepages", new_value="auto", min_value=10, max_value=1)
    assert KernelChange(name="vm.nr_hugepages", new_value="auto").new_value == "auto"


def test_module_side_tool_result_satisfies_the_contract() -> None:
    builder = ToolResultBuilder("cpf", trace_id="not-a-trace")
    builder.add_change("[config] locksiz", "65536", "16777216")
    result = ToolResult.model_validate(builder.build(dry_run=True))
    assert result.dry_run and result.changes[0].new_value == "16777216"
    assert len(result.trace_id) == 32 and result.trace_id != builder.tool


def test_tool_result_builder_refuses_unknown_status() -> None:
    with pytest.raises(ValueError, match="status"):
        ToolResultBuilder("cpf").build(status="maybe")


def _step(status: str) -> ToolResult:
    return ToolResult.model_validate(ToolResultBuilder("x").build(status=status))


def test_workflow_trace_carries_steps() -> None:
    start = datetime.now(timezone.utc)
    steps = [_step("success")]
    trace = WorkflowTrace(trace_id=steps[0].trace_id, started_at=start, finished_at=start + timedelta(seconds=1),
                          duration_ms=1000, steps_executed=steps, overall_status=TraceStatus.ROLLED_BACK)
    assert trace.model_dump(mode="json")["overall_status"] == "rolled_back"
