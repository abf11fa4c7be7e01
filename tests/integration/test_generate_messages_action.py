# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generate_messages action plugin run in-process over the local connection, where it runs modules on the target:
ansible.builtin.copy for ``dest``, instance_info and command for ``append_to_instance_log`` (the rest, which starts
no process: tests/unit/plugins/action/test_generate_messages.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage
from tests.support.emulator import EmulatorEnv
from tests.support.in_process import run_action_on_this_host

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def run_action(tmp_path: Path, check_mode: bool = False, diff: bool = False, **args: Any) -> Dict[str, Any]:
    return run_action_on_this_host("irisops.iris.generate_messages", tmp_path, check_mode, diff, **args)


def test_dest_is_written_once_checked_without_writing_and_diffed(tmp_path: Path) -> None:
    dest = tmp_path / "generated.ndjson"
    args = dict(category="lock", count=30, seed=5, start_time="2025-03-01T08:00:00", timezone="UTC",
                output="ndjson", dest=str(dest), trace_id=TRACE_ID, return_limit=10)
    preview = run_action(tmp_path, check_mode=True, diff=True, **args)
    assert preview["changed"] is True and not dest.exists() and preview["tool_result"]["dry_run"] is True
    assert [item["after_header"] for item in preview["diff"]] == ["%s (generated)" % dest]
    written = run_action(tmp_path, **args)
    assert written["changed"] is True and written["dest"] == str(dest)
    assert written["messages"] == [] and written["count"] == 30
    lines = dest.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30 and all(IRISMessage.model_validate(json.loads(line)) for line in lines)
    assert written["tool_result"]["changes"] == [{"target": str(dest), "old_value": None,
                                                  "new_value": "30 messages (ndjson)"}]
    again = run_action(tmp_path, **args)
    assert again["changed"] is False and again["checksum"] == written["checksum"] == preview["checksum"]


def test_entries_are_appended_to_an_emulated_instance_log(tmp_path: Path, emulator_in_process: EmulatorEnv) -> None:
    emulator = emulator_in_process
    emulator.create("APPEND")
    emulator.start("APPEND")
    log_path = Path(emulator.instance("APPEND").messages_log_path)
    before = log_path.read_text(encoding="utf-8")
    args = dict(category="lock", count=4, severity="2", instance="APPEND", append_to_instance_log=True,
                output="log", iris_bin=emulator.iris_bin, seed=1)
    preview = run_action(tmp_path, check_mode=True, **args)
    assert preview["changed"] is True and preview["dest"] == str(log_path)
    assert log_path.read_text(encoding="utf-8") == before
    result = run_action(tmp_path, **args)
    assert result["changed"] is True and result["dest"] == str(log_path)
    after = log_path.read_text(encoding="utf-8")
    assert after.startswith(before)
    appended = [entry.text for entry in iris_log.parse_text(after[len(before):])[0]]
    returned = [message["text"] for message in result["messages"]]
    assert returned and set(returned) <= set(appended)


def test_failing_control_command_is_reported(tmp_path: Path) -> None:
    with pytest.raises(AnsibleActionFail, match="instance: could not list the IRIS instances on the target"):
        run_action(tmp_path, category="lock", count=2, instance="IRIS", append_to_instance_log=True, output="log",
                   iris_bin=str(tmp_path / "no-such-iris"))


def test_unknown_instance_is_reported_before_anything_is_appended(tmp_path: Path) -> None:
    iris_bin = tmp_path / "iris"
    iris_bin.write_text("#!/bin/sh\nexit 0\n")  # an `iris` that lists no instance
    iris_bin.chmod(0o755)
    with pytest.raises(AnsibleActionFail, match="instance: 'NOPE' is not listed by"):
        run_action(tmp_path, category="lock", count=2, instance="NOPE", append_to_instance_log=True, output="log",
                   iris_bin=str(iris_bin))
