# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf apply=merge and cpf_info's active values on running emulated instances."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.modules import cpf as cpf_module
from ansible_collections.irisops.iris.plugins.modules import cpf_info
from tests.support.emulator import EmulatorEnv
from tests.support.in_process import run_module

pytestmark = pytest.mark.slow


def active(emulator: EmulatorEnv, name: str, section: str, parameter: str) -> str:
    state = json.loads((emulator.instances[name.upper()] / "mgr" / "emulator-state.json").read_text())
    value: str = state["active"][section][parameter]
    return value


def started(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch, name: str, **switches: Any) -> Path:
    install_dir = emulator.create(name, switches=switches or None)
    emulator.start(name)
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    return install_dir


def merge_args(emulator: EmulatorEnv, name: str, **args: Any) -> Dict[str, Any]:
    return dict(instance=name, iris_bin=emulator.iris_bin, apply="merge", **args)


def test_live_change_is_active_without_a_restart_and_idempotent(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    install_dir = started(emulator, monkeypatch, "LIVE")
    since = emulator.instance("LIVE").since
    args = merge_args(emulator, "LIVE", backup=True, settings=[
        dict(section="SQL", parameter="LockThreshold", current_value="1000", value="5000"),
        dict(section="config", parameter="locksiz", value="33554432")])
    before = (install_dir / "iris.cpf").read_bytes()

    preview = run_module(cpf_module, args, check_mode=True, diff=True)
    assert preview["changed"] is True and preview["restart_required"] is False, preview
    assert preview["activated"] == ["[SQL] LockThreshold", "[config] locksiz"] and preview["pending_restart"] == []
    assert "LockThreshold=5000" in preview["diff"]["after"]
    assert (install_dir / "iris.cpf").read_bytes() == before and active(emulator, "LIVE", "SQL", "LockThreshold") == "1000"

    applied = run_module(cpf_module, args)
    assert applied["changed"] is True and applied["restart_required"] is False, applied
    assert [change["activation"] for change in applied["changes"]] == ["activated", "activated"]
    assert [(change["active_before"], change["active_after"]) for change in applied["changes"]] == [
        ("1000", "5000"), ("16777216", "33554432")]
    assert applied["active_source"].endswith("emulator-state.json") and applied["tool_result"]["requires_user_action"] is False
    assert Path(applied["backup_file"]).read_bytes() == before
    assert active(emulator, "LIVE", "SQL", "LockThreshold") == "5000"
    assert emulator.metrics("LIVE")["iris_lock_table_size_bytes"] == 33554432
    assert emulator.instance("LIVE").since == since
    assert not list(install_dir.glob(".irisops-merge.*"))  # the merge file is removed

    again = run_module(cpf_module, args)
    assert again["changed"] is False and again["activated"] == [] and again["tool_result"]["changes"] == [], again


def test_mixed_change_restarts_only_for_what_needs_it(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    install_dir = started(emulator, monkeypatch, "MIXED")
    applied = run_module(cpf_module, merge_args(emulator, "MIXED", settings=[
        dict(section="config", parameter="gmheap", value="307200"),
        dict(section="SQL", parameter="LockThreshold", value="4000")]))
    assert applied["changed"] is True and applied["restart_required"] is True, applied
    assert applied["activated"] == ["[SQL] LockThreshold"] and applied["pending_restart"] == ["[config] gmheap"]
    assert applied["tool_result"]["requires_user_action"] is True
    assert active(emulator, "MIXED", "config", "gmheap") == "73728" and active(emulator, "MIXED", "SQL", "LockThreshold") == "4000"
    assert CpfDocument.parse((install_dir / "iris.cpf").read_bytes()).get("config", "gmheap") == "307200"

    info = run_module(cpf_info, dict(instance="MIXED", iris_bin=emulator.iris_bin, sections=["config", "SQL"],
                                     parameters=["gmheap", "LockThreshold"]))
    assert info["active"]["config"]["gmheap"] == dict(file="307200", active="73728", in_effect=False, pending="307200",
                                                      requires_restart=True)
    assert info["active"]["SQL"]["LockThreshold"] == dict(file="4000", active="4000", in_effect=True, pending=None,
                                                          requires_restart=False)
    assert info["active_source"].endswith("emulator-state.json") and info["active_reason"] is None

    emulator.stop("MIXED")
    emulator.start("MIXED")
    assert active(emulator, "MIXED", "config", "gmheap") == "307200"
    info = run_module(cpf_info, dict(instance="MIXED", iris_bin=emulator.iris_bin, sections=["config"], parameters=["gmheap"]))
    assert info["active"]["config"]["gmheap"]["in_effect"] is True and info["active"]["config"]["gmheap"]["pending"] is None


def test_failed_merge_is_rolled_back_to_the_previous_active_values(
        emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # The instance "completes successfully" but leaves the last parameter out: the read-back catches it.
    install_dir = started(emulator, monkeypatch, "ROLL", merge_drops_last_parameter=True)
    before = (install_dir / "iris.cpf").read_bytes()
    failed = run_module(cpf_module, merge_args(emulator, "ROLL", settings=[
        dict(section="config", parameter="locksiz", value="33554432"),
        dict(section="SQL", parameter="LockThreshold", value="5000")]))
    assert failed["failed"] is True and failed["changed"] is False, failed
    assert "[SQL] LockThreshold: the CPF holds '1000', not '5000'" in failed["msg"]
    assert "active values restored" in failed["msg"] and failed["tool_result"]["status"] == "failure"
    # locksiz was activated by the merge, then the rollback merged the previous value back.
    assert active(emulator, "ROLL", "config", "locksiz") == "16777216"
    assert emulator.metrics("ROLL")["iris_lock_table_size_bytes"] == 16777216
    assert (install_dir / "iris.cpf").read_bytes() == before
    log = emulator.messages_log("ROLL")
    assert "locksiz=33554432 activated (was 16777216)" in log and "locksiz=16777216 activated (was 33554432)" in log


def test_merging_the_previous_value_back_restores_the_active_value(
        emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a rescue does after a later step failed: apply=merge with the old values."""
    started(emulator, monkeypatch, "UNDO")
    change = dict(section="config", parameter="locksiz", current_value="16777216", value="1048576")
    run_module(cpf_module, merge_args(emulator, "UNDO", settings=[change]))
    assert active(emulator, "UNDO", "config", "locksiz") == "1048576"
    undo = run_module(cpf_module, merge_args(emulator, "UNDO", settings=[
        dict(section="config", parameter="locksiz", current_value="1048576", value="16777216")]))
    assert undo["changed"] is True and undo["activated"] == ["[config] locksiz"], undo
    assert active(emulator, "UNDO", "config", "locksiz") == "16777216"


def test_a_value_written_to_the_file_only_is_activated_by_a_merge(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    started(emulator, monkeypatch, "TEXT")
    setting = dict(section="SQL", parameter="LockTimeout", value="25")
    written = run_module(cpf_module, dict(instance="TEXT", iris_bin=emulator.iris_bin, settings=[setting]))
    assert written["changed"] is True and active(emulator, "TEXT", "SQL", "LockTimeout") == "10"
    merged = run_module(cpf_module, merge_args(emulator, "TEXT", settings=[setting]))
    assert merged["changed"] is True and merged["changes"][0]["activation"] == "activated", merged
    assert merged["tool_result"]["changes"][0]["target"] == "TEXT [SQL] LockTimeout (active)"
    assert active(emulator, "TEXT", "SQL", "LockTimeout") == "25"


def test_merge_file_actions_create_what_they_name(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    install_dir = started(emulator, monkeypatch, "ACTS")
    merge_file = tmp_path / "merge.cpf"
    merge_file.write_text("[SQL]\nLockThreshold=3000\n\n[Actions]\nCreateDatabase:Name=APPA,Directory=%s/APPA\n"
                          "CreateNamespace:Name=APPA,Globals=APPA,Interop=1\nCreateUser:Name=ops,Password=pw1,Roles=%%All\n"
                          % tmp_path)
    args = merge_args(emulator, "ACTS", merge_file=str(merge_file))
    preview = run_module(cpf_module, args, check_mode=True)
    assert preview["changed"] is True and [action["run"] for action in preview["actions"]] == [True, True, True], preview
    assert preview["actions"][2]["action"] == "CreateUser:Name=ops,Password=********,Roles=%All"

    applied = run_module(cpf_module, args)
    assert applied["changed"] is True and "pw1" not in json.dumps(applied), applied
    state = json.loads((install_dir / "mgr" / "emulator-state.json").read_text())
    assert state["databases"]["APPA"] == "%s/APPA/" % tmp_path and state["namespaces"]["APPA"] == "APPA"
    assert "ops" in state["security"]["users"] and active(emulator, "ACTS", "SQL", "LockThreshold") == "3000"
    doc = CpfDocument.parse((install_dir / "iris.cpf").read_bytes())
    assert doc.get("Databases", "APPA") == "%s/APPA/" % tmp_path and doc.get("Namespaces", "APPA") == "APPA"

    again = run_module(cpf_module, args)
    assert again["changed"] is False and [action["run"] for action in again["actions"]] == [False, False, False], again


@pytest.mark.parametrize("text, args, reason", [
    ("[SQL]\nLockThreshold=3000\n[actions]\nCreateDatabase:Name=X,Directory=/x\n", {}, "would be ignored by IRIS"),
    ("[Actions]\nnot an action\n", {}, "must look like Verb:Name=Value"),
    (None, dict(settings=[dict(section="SQL", parameter="LockTimeout", state="absent")]), "cannot remove a parameter"),
    (None, dict(settings=[dict(section="config", parameter="locksiz", value="12")]), "out of range"),
])
def test_bad_requests_change_nothing(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     text: Any, args: Dict[str, Any], reason: str) -> None:
    install_dir = started(emulator, monkeypatch, "BAD")
    before = (install_dir / "iris.cpf").read_bytes()
    if text is not None:
        (tmp_path / "bad.cpf").write_text(text)
        args = dict(args, merge_file=str(tmp_path / "bad.cpf"))
    result = run_module(cpf_module, merge_args(emulator, "BAD", **args))
    assert result["failed"] is True and reason in result["msg"], result
    assert (install_dir / "iris.cpf").read_bytes() == before


def test_merge_needs_a_running_instance_and_cpf_info_says_why_active_is_unknown(
        emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    install_dir = emulator.create("DOWN")
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    result = run_module(cpf_module, merge_args(emulator, "DOWN", settings=[
        dict(section="SQL", parameter="LockThreshold", value="3000")]))
    assert result["failed"] is True and "needs a running instance" in result["msg"], result
    down = run_module(cpf_info, dict(instance="DOWN", iris_bin=emulator.iris_bin, sections=["SQL"], parameters=["LockThreshold"]))
    assert down["active"]["SQL"]["LockThreshold"]["active"] is None and down["active_source"] is None
    assert "not running" in down["active_reason"]
    by_path = run_module(cpf_info, dict(path=str(install_dir / "iris.cpf"), sections=["SQL"]))
    assert by_path["active_source"] is None and "give instance" in by_path["active_reason"]
