# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.instance_info in-process over recorded real ``iris qlist`` output (tests/fixtures/emulator).

The module's own code runs: argument parsing, finding the control command, qlist parsing and the result. Only the
command's answer is the recording (tests/support/recorded.py); the same cases against live emulated instances are
in tests/integration/test_instance_info_emulator.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.irisops.iris.plugins.modules import instance_info
from tests.support.in_process import run_module
from tests.support.recorded import Replay


def executable(path: Path) -> str:
    """A file the module accepts as the control command; it is never run (the replay answers instead)."""
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(0o755)
    return str(path)


def replaying(monkeypatch: pytest.MonkeyPatch, scenario: str, base: Path) -> Replay:
    replay = Replay(scenario, base)
    monkeypatch.setattr(AnsibleModule, "run_command", lambda _module, args, **kwargs: replay(args, **kwargs))
    return replay


def test_facts_of_running_and_down_instances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay = replaying(monkeypatch, "instances", tmp_path)
    iris_bin = executable(tmp_path / "iris")
    result = run_module(instance_info, dict(iris_bin=iris_bin), check_mode=True)
    assert replay.calls == [["qlist"]]
    assert result["changed"] is False and result["instance"] is None and result["iris_bin"] == iris_bin
    by_name = {facts["name"]: facts for facts in result["instances"]}
    up, up_dir = by_name["UP"], tmp_path / "instances" / "up"
    assert (up["status"], up["running"], up["state"], up["version"]) == ("running", True, "ok", "2024.1.0.267.2")
    assert up["install_dir"] == str(up_dir) + "/" and up["cpf_path"] == str(up_dir / "iris.cpf")
    assert up["messages_log_path"] == str(up_dir / "mgr" / "messages.log")
    assert isinstance(up["superserver_port"], int) and isinstance(up["web_port"], int) and up["since"]
    assert (up["mirror_member_type"], up["mirror_status"], up["data_dir"], up["jdbc_port"]) == ("", "", "", None)
    down = by_name["DOWN"]
    assert (down["status"], down["running"], down["state"]) == ("down", False, "")
    assert down["activity"].startswith("last used ")


def test_named_instance_is_case_insensitive_and_unknown_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    iris_bin = executable(tmp_path / "iris")
    replaying(monkeypatch, "instances", tmp_path)
    result = run_module(instance_info, dict(name="up", iris_bin=iris_bin))
    assert [facts["name"] for facts in result["instances"]] == ["UP"] and result["instance"]["name"] == "UP"
    replaying(monkeypatch, "instances", tmp_path)
    missing = run_module(instance_info, dict(name="OTHER", iris_bin=iris_bin))
    assert missing["instances"] == [] and missing["instance"] is None and not missing.get("failed")


def test_control_command_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    iris_bin = executable(bin_dir / "iris")
    monkeypatch.setenv("PATH", "%s:/usr/bin:/bin" % bin_dir)
    replaying(monkeypatch, "instances", tmp_path)
    result = run_module(instance_info, dict())
    assert result["iris_bin"] == iris_bin and [facts["name"] for facts in result["instances"]] == ["DOWN", "UP"]


def test_bad_iris_bin_and_failing_qlist_fail_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay = replaying(monkeypatch, "broken_registry", tmp_path)
    result = run_module(instance_info, dict(iris_bin=str(tmp_path / "nope")))
    assert result["failed"] and "is not an executable file" in result["msg"] and replay.calls == []
    broken = run_module(instance_info, dict(iris_bin=executable(tmp_path / "iris")))
    assert broken["failed"] and "qlist' failed (rc=1)" in broken["msg"] and "BROKEN.json is not valid JSON" in broken["msg"]
    assert str(tmp_path / "registry" / "BROKEN.json") in broken["msg"]
