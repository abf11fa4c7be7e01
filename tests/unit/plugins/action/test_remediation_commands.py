# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation_commands action plugin, loaded and run in-process on real directories and a real HTTP server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolResult
from tests.support.http_sink import HttpSink, free_port
from tests.support.in_process import run_action as action_result

TOKEN = "planted-consume-token-9a3e"
COMMAND: Dict[str, Any] = {
    "command_id": "act-001", "instance": "IRIS", "error_type": "os", "severity": 1,
    "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}],
}
RESTART: Dict[str, Any] = dict(COMMAND, command_id="act-restart", requires_restart=True,
                               parameters=COMMAND["parameters"] + [{"action": "restart"}])


def run_action(check_mode: bool = False, task_vars: Optional[Dict[str, Any]] = None, **args: Any) -> Dict[str, Any]:
    result = action_result("irisops.iris.remediation_commands", args, task_vars, check_mode=check_mode)
    ToolResult.model_validate(result["tool_result"])
    return result


def test_directory_source_returns_the_queue_and_logs_to_the_state_dir(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.json").write_text(json.dumps(COMMAND))
    (inbox / "b.json").write_text("{broken")
    result = run_action(source=str(inbox), state_dir=str(tmp_path / "state"))
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [command["command_id"] for command in result["commands"]] == ["act-001"]
    assert result["accepted"][0]["queue_position"] == 1
    assert result["rejected"][0]["origin"] == "b.json" and result["warnings"][0].startswith("b.json: $: malformed JSON")
    assert result["msg"] == "1 accepted (1. act-001 on IRIS), 1 rejected, 0 duplicate, 0 pending approval (1 polls)"
    log = (tmp_path / "state" / "intake.log").read_text()
    assert '"command_queued"' in log and '"queue_position": 1' in log
    again = run_action(source=str(inbox), state_dir=str(tmp_path / "state"))
    assert again["changed"] is False and again["accepted"] == []


def test_eda_event_payload_is_read_untemplated_and_template_markers_are_refused(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    hostile = dict(COMMAND, command_id="act-hostile", reason="{{ lookup('pipe', 'touch %s') }}" % canary)
    task_vars = {"ansible_eda": {"event": {"payload": [COMMAND, hostile]}}}
    result = run_action(task_vars=task_vars, eda_event=True, state_dir=str(tmp_path / "state"))
    assert [command["command_id"] for command in result["commands"]] == ["act-001"]
    assert result["rejected"][0]["errors"][0]["path"] == "$.reason"
    assert not canary.exists()


def test_eda_event_without_payload_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(AnsibleActionFail, match="ansible_eda.event.payload"):
        run_action(task_vars={"ansible_eda": {"event": {"message": {}}}}, eda_event=True, state_dir=str(tmp_path))


def test_no_source_is_an_error_naming_the_option(tmp_path: Path) -> None:
    result = run_action(state_dir=str(tmp_path))
    assert result["failed"] and result["errors"] == [{"path": "source", "reason": "no command source given"}]
    assert result["tool_result"]["status"] == "failure"


def test_pending_command_is_reported_and_needs_user_action(tmp_path: Path) -> None:
    result = run_action(documents=[RESTART], state_dir=str(tmp_path / "state"))
    assert result["accepted"] == [] and [entry["command_id"] for entry in result["pending"]] == ["act-restart"]
    assert result["tool_result"]["requires_user_action"] is True
    assert any("act-restart waits for approval" in warning for warning in result["warnings"])
    approved = run_action(documents=[], state_dir=str(tmp_path / "state"), approve_restart=True)
    assert [command["command_id"] for command in approved["commands"]] == ["act-restart"]


def test_http_source_with_token_from_the_environment_is_never_reported(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRISOPS_COMMANDS_TOKEN", TOKEN)
    with HttpSink(token=TOKEN) as sink:
        sink.serve_documents(COMMAND)
        result = run_action(source=sink.commands_url, state_dir=str(tmp_path / "state"), interval=0)
    assert [command["command_id"] for command in result["commands"]] == ["act-001"]
    assert TOKEN not in json.dumps(result) + (tmp_path / "state" / "intake.log").read_text()


def test_unreachable_http_source_fails_the_task(tmp_path: Path) -> None:
    url = "http://127.0.0.1:%d/commands" % free_port()
    result = run_action(source=url, state_dir=str(tmp_path / "state"), polls=2, interval=0, timeout=2)
    assert result["failed"] is True and result["msg"].startswith("command source unreachable: GET %s failed" % url)
    assert result["tool_result"]["status"] == "failure"


def test_check_mode_previews_without_touching_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.json").write_text(json.dumps(COMMAND))
    result = run_action(check_mode=True, source=str(inbox), state_dir=str(tmp_path / "state"))
    assert result["changed"] is False and result["msg"].startswith("[preview] 1 accepted")
    assert result["tool_result"]["dry_run"] is True
    assert (inbox / "a.json").exists() and not (tmp_path / "state").exists()


def test_bad_option_value_is_reported_with_its_name(tmp_path: Path) -> None:
    result = run_action(source=str(tmp_path / "missing"), state_dir=str(tmp_path / "state"))
    assert result["failed"] and result["errors"][0]["path"] == "source"
