# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.instance_info in-process against real emulated instances."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from ansible_collections.irisops.iris.plugins.modules import instance_info
from tests.conftest import run_module
from tests.integration.emulator import EmulatorEnv


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorEnv]:
    env = EmulatorEnv(tmp_path / "iris")
    monkeypatch.setenv("IRISEMU_REGISTRY", env.registry)
    try:
        yield env
    finally:
        env.cleanup()


def test_facts_of_running_and_down_instances(emulator: EmulatorEnv) -> None:
    up_dir = emulator.create("UP", version="2024.1.0.267.2")
    emulator.create("DOWN")
    emulator.start("UP")
    result = run_module(instance_info, dict(iris_bin=emulator.iris_bin), check_mode=True)
    assert result["changed"] is False and result["instance"] is None
    by_name = {facts["name"]: facts for facts in result["instances"]}
    up = by_name["UP"]
    assert (up["status"], up["running"], up["state"], up["version"]) == ("running", True, "ok", "2024.1.0.267.2")
    assert up["install_dir"] == str(up_dir) + "/" and up["cpf_path"] == str(up_dir / "iris.cpf")
    assert up["messages_log_path"] == str(up_dir / "mgr" / "messages.log")
    assert up["superserver_port"] == emulator.instance("UP").superserver_port and up["since"]
    assert (up["mirror_member_type"], up["mirror_status"], up["data_dir"], up["jdbc_port"]) == ("", "", "", None)
    down = by_name["DOWN"]
    assert (down["status"], down["running"], down["state"]) == ("down", False, "")
    assert down["activity"].startswith("last used ")


def test_named_instance_is_case_insensitive_and_unknown_is_empty(emulator: EmulatorEnv) -> None:
    emulator.create("IRIS")
    result = run_module(instance_info, dict(name="iris", iris_bin=emulator.iris_bin))
    assert [facts["name"] for facts in result["instances"]] == ["IRIS"] and result["instance"]["name"] == "IRIS"
    missing = run_module(instance_info, dict(name="OTHER", iris_bin=emulator.iris_bin))
    assert missing["instances"] == [] and missing["instance"] is None and not missing.get("failed")


def test_control_command_found_on_path(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.create("ONPATH")
    monkeypatch.setenv("PATH", emulator.env["PATH"])
    result = run_module(instance_info, dict())
    assert result["iris_bin"] == emulator.iris_bin and result["instances"][0]["name"] == "ONPATH"


def test_bad_iris_bin_and_failing_qlist_fail_clearly(
        emulator: EmulatorEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_module(instance_info, dict(iris_bin=str(tmp_path / "nope")))
    assert result["failed"] and "is not an executable file" in result["msg"]
    registry_file = Path(emulator.registry) / "BROKEN.json"
    emulator.create("BROKEN")
    registry_file.write_text("{not json")
    broken = run_module(instance_info, dict(iris_bin=emulator.iris_bin))
    assert broken["failed"] and "qlist' failed (rc=1)" in broken["msg"] and "BROKEN.json is not valid JSON" in broken["msg"]
