# SPDX-License-Identifier: GPL-3.0-or-later
"""WorkflowTrace of a remediation run: steps from registered results, overall status, files and summaries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import TraceStatus, WorkflowTrace
from ansible_collections.irisops.iris.plugins.plugin_utils.workflow_trace import (
    RunRecord, plain_identity, refusal_trace, summary_line, trace_directory, trace_file_name, write_trace)
from tests.support.in_process import run_action

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def tool_result(tool: str, status: str = "success", trace_id: str = TRACE_ID, **extra: Any) -> dict[str, Any]:
    return dict({"tool": tool, "status": status, "changes": [], "error_message": None, "requires_user_action": False,
                 "dry_run": False, "duration_ms": 5, "trace_id": trace_id}, **extra)


def plan(status: str = "success") -> dict[str, Any]:
    identity = {"command_id": "cmd-1", "instance": "IRIS1", "trace_id": TRACE_ID}
    return {"tool_result": tool_result("remediation_plan", status), "started_at": T0.isoformat(),
            "plan" if status == "success" else "refused": identity}


def record(steps: list[Any], rollback: list[Any] = (), status: str = "success") -> WorkflowTrace:  # type: ignore[assignment]
    return RunRecord(plan=plan(status), steps=steps, rollback=rollback, started_at=T0,
                     finished_at=T0 + timedelta(seconds=2)).trace()


def test_steps_in_order_with_loop_items_skips_and_foreign_results_left_out() -> None:
    trace = record([{"results": [{"tool_result": tool_result("kernel_param")}, {"skipped": True}]},
                    {"skipped": True, "changed": False},
                    {"tool_result": tool_result("cpf")},
                    {"tool_result": tool_result("instance_restart", trace_id=OTHER_TRACE_ID)},  # an earlier command's
                    None, {"tool_result": {"tool": "x", "status": "maybe"}}])
    assert [step.tool for step in trace.steps_executed] == ["kernel_param", "cpf"]
    assert trace.overall_status == TraceStatus.SUCCESS
    assert (trace.trace_id, trace.command_id, trace.instance, trace.duration_ms) == (TRACE_ID, "cmd-1", "IRIS1", 2000)


@pytest.mark.parametrize("steps, rollback, expected", [
    ([tool_result("cpf")], [], TraceStatus.SUCCESS),
    ([tool_result("cpf", "failure")], [], TraceStatus.FAILURE),  # nothing had changed
    ([tool_result("cpf"), tool_result("kernel_param", "failure")], [{"dest": "/iris.cpf", "changed": True}],
     TraceStatus.ROLLED_BACK),
    ([tool_result("cpf"), tool_result("kernel_param", "failure")],
     [{"dest": "/iris.cpf", "failed": True, "msg": "read-only file system"}], TraceStatus.PARTIAL),
    ([tool_result("cpf"), tool_result("instance_restart", "partial")],
     [{"dest": "/iris.cpf"}, {"tool_result": tool_result("instance_restart")}], TraceStatus.ROLLED_BACK),
    ([tool_result("cpf"), tool_result("instance_restart", "partial")],
     [{"dest": "/iris.cpf"}, {"tool_result": tool_result("instance_restart", "failure")}], TraceStatus.PARTIAL),
    # A stop that hung (acted, yet a failure) leaves a state only an operator can judge, whatever was restored.
    ([tool_result("cpf"), tool_result("instance_restart", "failure",
                                      changes=[{"target": "IRIS", "old_value": "running", "new_value": "down"}])],
     [{"dest": "/iris.cpf"}], TraceStatus.FAILURE),
])
def test_overall_status(steps: list[dict[str, Any]], rollback: list[dict[str, Any]], expected: TraceStatus) -> None:
    trace = record([{"tool_result": step} for step in steps], rollback)
    assert trace.overall_status == expected
    restores = [step for step in trace.steps_executed if step.tool == "file_restore"]
    assert all(step.changes[0].target == "/iris.cpf" for step in restores if step.status.value == "success")


def test_refused_plan_is_the_only_step_and_a_failure() -> None:
    trace = record([{"tool_result": tool_result("cpf")}], status="failure")
    assert [step.tool for step in trace.steps_executed] == ["remediation_plan", "cpf"]
    only = record([], status="failure")
    assert [step.tool for step in only.steps_executed] == ["remediation_plan"]
    assert only.overall_status == TraceStatus.FAILURE and only.command_id == "cmd-1"


def test_refusal_trace_names_only_plain_identities() -> None:
    error = ValidationError("remediation_command is invalid: $.exec: x", [("$.exec", "x")])
    named = refusal_trace(error, json.dumps({"command_id": "c-1", "instance": "IRIS", "trace_id": TRACE_ID}))
    assert (named.command_id, named.instance, named.trace_id) == ("c-1", "IRIS", TRACE_ID)
    assert named.overall_status == TraceStatus.FAILURE and named.steps_executed[0].error_message == str(error)
    hostile = refusal_trace(error, {"command_id": "../x", "instance": "{{ x }}", "trace_id": "0" * 32}, check_mode=True)
    assert (hostile.command_id, hostile.instance) == (None, None) and hostile.trace_id != "0" * 32
    assert hostile.check_mode and trace_file_name(hostile).endswith(".unknown.preview.json")
    assert plain_identity(b"not json") == {"command_id": None, "instance": None, "trace_id": None}


def test_trace_file_round_trips_and_is_redacted(tmp_path: Path) -> None:
    secret = tool_result("cpf", changes=[{"target": "[Startup] x", "old_value": "password=hunter2", "new_value": "b"}])
    trace = record([{"tool_result": secret}])
    path = write_trace(str(tmp_path / "traces"), trace)
    assert Path(path).name == trace_file_name(trace) == "%s.IRIS1.json" % TRACE_ID
    text = Path(path).read_text()
    assert "hunter2" not in text
    assert WorkflowTrace.model_validate(json.loads(text)) == trace.model_copy(update={"steps_executed": [
        trace.steps_executed[0].model_copy(update={"changes": [trace.steps_executed[0].changes[0].model_copy(
            update={"old_value": "password=********"})]})]})
    line = summary_line(trace, path)
    assert line.startswith("IRIS1 cmd-1: SUCCESS in 2.0s [cpf success]") and path in line


def test_trace_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRISOPS_TRACE_DIR", str(tmp_path))
    assert trace_directory("/explicit") == "/explicit" and trace_directory("") == str(tmp_path)
    monkeypatch.delenv("IRISOPS_TRACE_DIR")
    assert trace_directory(None).endswith("/.ansible/irisops/traces")


def test_action_reads_registered_results_by_name_and_writes_the_trace(tmp_path: Path) -> None:
    task_vars = {"planned": plan(), "cpf_step": {"tool_result": tool_result("cpf")}, "restart_step": {"skipped": True}}
    result = run_action("irisops.iris.remediation_trace",
                        {"plan": "planned", "steps": ["cpf_step", "restart_step", "never_ran"],
                         "output_dir": str(tmp_path)}, task_vars, check_mode=True)
    assert not result.get("failed") and result["changed"] is False
    assert Path(result["path"]).name == "%s.IRIS1.preview.json" % TRACE_ID
    assert result["trace"]["check_mode"] and [step["tool"] for step in result["trace"]["steps_executed"]] == ["cpf"]
    assert result["summary"].startswith("[preview] IRIS1 cmd-1: SUCCESS")


def test_a_failed_check_of_the_role_is_a_refusal_before_any_step() -> None:
    trace = RunRecord(plan=plan(), checks=[{"failed": True, "msg": "localhost IRIS is remediated by more than one host"},
                                           {"changed": False}, None],
                      started_at=T0, finished_at=T0).trace()
    assert [(step.tool, step.status.value) for step in trace.steps_executed] == [("remediation_plan", "failure")]
    assert trace.overall_status == TraceStatus.FAILURE
    assert "more than one host" in (trace.steps_executed[0].error_message or "")
