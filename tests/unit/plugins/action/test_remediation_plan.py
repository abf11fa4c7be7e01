# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation_plan action plugin, loaded and run in-process the way the task executor does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import MAX_COMMAND_BYTES
from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolResult
from tests.support.in_process import cli_extra_vars
from tests.support.in_process import run_action as action_result

REPO = Path(__file__).resolve().parents[4]
GMHEAP_FAULT = json.loads((REPO / "examples" / "commands" / "fault-gmheap-too-small.json").read_text())
LOCK_THRESHOLD = json.loads((REPO / "examples" / "commands" / "config-sql-lock-threshold.json").read_text())


def run_action(task_vars: dict[str, Any], check_mode: bool = False, **args: Any) -> dict[str, Any]:
    result = action_result("irisops.iris.remediation_plan", args, task_vars, check_mode=check_mode)
    ToolResult.model_validate(result["tool_result"])
    return result


def test_command_from_the_raw_extra_vars_file_not_from_variables(tmp_path: Path) -> None:
    command_file = tmp_path / "command.json"
    command_file.write_text(json.dumps(LOCK_THRESHOLD))
    # The variables Ansible made of the file are not what the plan reads: the file's bytes are.
    with cli_extra_vars("@%s" % command_file, "approve_restart=false"):
        result = run_action(dict(LOCK_THRESHOLD, command_id="from-variables", inventory_hostname="IRIS"))
    assert not result.get("failed") and result["changed"] is False
    assert result["plan"]["cpf_settings"][0]["parameter"] == "LockThreshold"
    assert result["tool_result"]["status"] == "success"
    assert result["tool_result"]["trace_id"] == result["plan"]["trace_id"]
    assert result["msg"] == "config-sql-lock-threshold-001 on IRIS: 1. cpf ([SQL] LockThreshold)"


def test_command_as_json_text_like_a_survey_answer() -> None:
    command = dict(GMHEAP_FAULT, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
    result = run_action({"remediation_command": json.dumps(command)}, approve_restart=True)
    assert [step["action"] for step in result["plan"]["steps"]] == ["cpf", "restart"]
    assert result["tool_result"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_explicit_command_option_wins() -> None:
    result = run_action({"remediation_command": "not used"}, command=LOCK_THRESHOLD)
    assert result["plan"]["command_id"] == LOCK_THRESHOLD["command_id"]


def test_unapproved_restart_is_refused_before_anything_runs() -> None:
    result = run_action({"remediation_command": GMHEAP_FAULT})
    assert result["failed"] and "approve_restart=true" in result["msg"]
    assert result["tool_result"]["status"] == "failure" and result["tool_result"]["requires_user_action"]
    assert result["errors"] == [{"path": "approve_restart", "reason": "needed for the restart"}]


def test_preview_needs_no_approval() -> None:
    result = run_action({"remediation_command": GMHEAP_FAULT}, check_mode=True)
    assert not result.get("failed") and result["check_mode"] is True
    assert result["tool_result"]["dry_run"] is True and result["msg"].startswith("[preview] ")


def test_invalid_command_lists_paths_and_keeps_its_trace_id() -> None:
    command = dict(GMHEAP_FAULT, trace_id="4bf92f3577b34da6a3ce929d0e0e4736", execution_order=[])
    command["parameters"] = [{"action": "cpf", "changes": [{"section": "config", "parameter": "gmheap", "new_value": "1"}]}]
    result = run_action({"remediation_command": command}, approve_restart=True)
    assert result["failed"] and "out of range" in result["msg"]
    assert result["errors"][0]["path"] == "$.parameters[0].changes[0]"
    assert result["tool_result"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_command_for_another_instance_is_refused() -> None:
    result = run_action({"remediation_command": LOCK_THRESHOLD}, instance="OTHER")
    assert result["failed"] and result["errors"][0]["path"] == "$.instance"
    assert result["refused"] == {"command_id": LOCK_THRESHOLD["command_id"], "instance": "IRIS",
                                 "trace_id": result["tool_result"]["trace_id"]}


def test_refused_command_names_itself_only_with_plain_names() -> None:
    result = run_action({"remediation_command": dict(LOCK_THRESHOLD, instance="../../etc", severity=9)})
    assert result["failed"] and result["refused"] == {"command_id": LOCK_THRESHOLD["command_id"], "instance": None,
                                                      "trace_id": None}
    assert "refused" not in run_action({"remediation_command": LOCK_THRESHOLD})


@pytest.mark.parametrize("raw, reason", [
    ("{not json", "malformed JSON"),
    ("x" * (MAX_COMMAND_BYTES + 1), "larger than the limit of %d bytes" % MAX_COMMAND_BYTES),
    (["a", "list"], "object"),
])
def test_malformed_oversized_and_wrong_shape(raw: Any, reason: str) -> None:
    result = run_action({"remediation_command": raw})
    assert result["failed"] and reason in json.dumps(result["errors"])


def test_template_in_a_command_is_refused_never_rendered(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = dict(LOCK_THRESHOLD, reason="{{ lookup('pipe', 'touch %s') }}" % marker)
    result = run_action({"remediation_command": command})
    assert result["failed"] and result["errors"] == [{"path": "$.reason", "reason": "contains a Jinja template marker "
                                                      "({{, {% or {#); commands are data, never templates"}]
    assert not marker.exists()


def test_secrets_never_reach_the_result() -> None:
    command = dict(LOCK_THRESHOLD, reason="password=hunter2 for the record")
    assert "hunter2" not in json.dumps(run_action({"remediation_command": command}))


def test_missing_command_is_a_clear_error() -> None:
    with cli_extra_vars("approve_restart=true"), pytest.raises(AnsibleActionFail, match="no remediation command"):
        run_action({"inventory_hostname": "IRIS"})


def test_role_include_passes_the_command_as_a_variable_reference() -> None:
    task_vars = {"remediation_command": "{{ intake.items[0]['command'] }}", "intake": {"items": [{"command": "{{ cmd }}"}]},
                 "cmd": LOCK_THRESHOLD}
    result = run_action(task_vars)
    assert result["plan"]["command_id"] == LOCK_THRESHOLD["command_id"]


def test_operator_settings_widen_the_kernel_allow_list() -> None:
    command = {"command_id": "forward", "instance": "IRIS", "error_type": "os", "severity": 1,
               "parameters": [{"action": "kernel", "changes": [{"name": "net.ipv4.ip_forward", "new_value": 1}]}]}
    refused = run_action({"remediation_command": command})
    assert refused["failed"] and "not a kernel parameter IRIS hosts are tuned with" in refused["errors"][0]["reason"]
    allowed = run_action({"remediation_command": command}, allow_kernel_parameters=["net.ipv4.ip_forward"])
    assert not allowed.get("failed") and allowed["plan"]["kernel_before_cpf"][0]["name"] == "net.ipv4.ip_forward"


def test_preview_tells_an_approver_why_what_and_why_a_restart() -> None:
    result = run_action({"remediation_command": GMHEAP_FAULT}, check_mode=True)
    assert result["preview"] == [
        "[preview] fault-gmheap-too-small-001 on instance IRIS (resource, severity 2)",
        "reason: %s" % GMHEAP_FAULT["reason"],
        "1. cpf [config] gmheap -> 307200",
        "2. restart IRIS: the command includes a restart action; [config] gmheap needs a restart"]


@pytest.mark.parametrize("reference, reason", [
    ("{{ nowhere }}", "{{ nowhere }} is not defined"),
    ("{{ cmd.items[3] }}", "{{ cmd.items[3] }} is not defined"),
    ("{{ loop_a }}", "references nested too deep"),
])
def test_broken_variable_references_are_refused(reference: str, reason: str) -> None:
    result = run_action({"remediation_command": reference, "cmd": {"items": []}, "loop_a": "{{ loop_b }}",
                         "loop_b": "{{ loop_a }}"})
    assert result["failed"] and result["errors"] == [{"path": "remediation_command", "reason": reason}]


def test_an_expression_that_is_not_a_plain_reference_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    result = run_action({"remediation_command": "{{ lookup('pipe', 'touch %s') }}" % marker})
    assert result["failed"] and "malformed JSON" in result["msg"] and not marker.exists()
