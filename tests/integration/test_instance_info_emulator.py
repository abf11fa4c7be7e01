# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.instance_info in-process against real emulated instances (without them: tests/unit/plugins/modules/test_instance_info.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.modules import instance_info
from tests.support.emulator import EmulatorEnv
from tests.support.in_process import run_module


def test_facts_of_running_and_down_instances(emulator_in_process: EmulatorEnv) -> None:
    up_dir = emulator_in_process.create("UP", version="2024.1.0.267.2")
    emulator_in_process.create("DOWN")
    emulator_in_process.start("UP")
    result = run_module(instance_info, dict(iris_bin=emulator_in_process.iris_bin), check_mode=True)
    assert result["changed"] is False and result["instance"] is None
    by_name = {facts["name"]: facts for facts in result["instances"]}
    up = by_name["UP"]
    assert (up["status"], up["running"], up["state"], up["version"]) == ("running", True, "ok", "2024.1.0.267.2")
    assert up["install_dir"] == str(up_dir) + "/" and up["cpf_path"] == str(up_dir / "iris.cpf")
    assert up["messages_log_path"] == str(up_dir / "mgr" / "messages.log")
    assert up["superserver_port"] == emulator_in_process.instance("UP").superserver_port and up["since"]
    assert (up["mirror_member_type"], up["mirror_status"], up["data_dir"], up["jdbc_port"]) == ("", "", "", None)
    down = by_name["DOWN"]
    assert (down["status"], down["running"], down["state"]) == ("down", False, "")
    assert down["activity"].startswith("last used ")


def test_named_instance_is_case_insensitive_and_unknown_is_empty(emulator_in_process: EmulatorEnv) -> None:
    emulator_in_process.create("IRIS")
    result = run_module(instance_info, dict(name="iris", iris_bin=emulator_in_process.iris_bin))
    assert [facts["name"] for facts in result["instances"]] == ["IRIS"] and result["instance"]["name"] == "IRIS"
    missing = run_module(instance_info, dict(name="OTHER", iris_bin=emulator_in_process.iris_bin))
    assert missing["instances"] == [] and missing["instance"] is None and not missing.get("failed")


def test_control_command_found_on_path(emulator_in_process: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator_in_process.create("ONPATH")
    monkeypatch.setenv("PATH", emulator_in_process.env["PATH"])
    result = run_module(instance_info, dict())
    assert result["iris_bin"] == emulator_in_process.iris_bin and result["instances"][0]["name"] == "ONPATH"


def test_bad_iris_bin_and_failing_qlist_fail_clearly(
        emulator_in_process: EmulatorEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_module(instance_info, dict(iris_bin=str(tmp_path / "nope")))
    assert result["failed"] and "is not an executable file" in result["msg"]
    registry_file = Path(emulator_in_process.registry) / "BROKEN.json"
    emulator_in_process.create("BROKEN")
    registry_file.write_text("{not json")
    broken = run_module(instance_info, dict(iris_bin=emulator_in_process.iris_bin))
    assert broken["failed"] and "qlist' failed (rc=1)" in broken["msg"] and "BROKEN.json is not valid JSON" in broken["msg"]
