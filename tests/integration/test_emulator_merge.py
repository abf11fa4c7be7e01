# SPDX-License-Identifier: GPL-3.0-or-later
"""``iris merge`` on emulated instances: live activation, pending values, actions, and IRIS's documented quirks."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from tests.support.emulator import EmulatorEnv

pytestmark = pytest.mark.slow
FAST_FAULTS = {"fault_interval_seconds": 0.1}
SUCCESS = "IRIS Merge completed successfully"


def state(emulator: EmulatorEnv, name: str) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((emulator.instances[name.upper()] / "mgr" / "emulator-state.json").read_text())
    return data


def cpf(emulator: EmulatorEnv, name: str) -> CpfDocument:
    return CpfDocument.parse((emulator.instances[name.upper()] / "iris.cpf").read_bytes())


def merge(emulator: EmulatorEnv, name: str, path: Path, text: str) -> str:
    path.write_text(text)
    result = emulator.iris("merge", name, str(path))
    assert result.stdout.strip() == SUCCESS, result
    return result.stdout


def counter_after(emulator: EmulatorEnv, name: str, metric: str, seconds: float) -> float:
    time.sleep(seconds)
    return emulator.metrics(name)[metric]


def test_live_parameters_are_active_at_once_without_a_restart(emulator: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator.create("LIVE", switches=dict(FAST_FAULTS, sql_row_locks_per_transaction=2000))
    doc = cpf(emulator, "LIVE")
    doc.set("config", "locksiz", "1048576")
    (install_dir / "iris.cpf").write_bytes(doc.render())
    emulator.start("LIVE")
    since = emulator.instance("LIVE").since
    pid = state(emulator, "LIVE")["pid"]
    assert emulator.wait_for("LIVE", "iris_lock_table_full_total", 3)["iris_lock_table_full_total"] >= 3
    assert emulator.metrics("LIVE")["iris_sql_lock_escalations_total"] >= 1

    merge(emulator, "LIVE", tmp_path / "fix.cpf", "[config]\nlocksiz=33554432\n[SQL]\nLockThreshold=5000\n")

    published = state(emulator, "LIVE")
    assert published["active"]["config"]["locksiz"] == "33554432" and published["active"]["SQL"]["LockThreshold"] == "5000"
    assert published["pending"] == {} and published["pid"] == pid
    assert sorted(published["last_merge"]["activated"]) == ["[SQL] LockThreshold", "[config] locksiz"]
    assert emulator.instance("LIVE").since == since  # no restart
    metrics = emulator.metrics("LIVE")
    assert metrics["iris_lock_table_size_bytes"] == 33554432 and metrics["iris_sql_lock_threshold"] == 5000
    assert metrics['iris_cpf_active_value{section="SQL",parameter="LockThreshold"}'] == 5000
    # Both faults stop at once: their counters no longer move.
    full, escalations = metrics["iris_lock_table_full_total"], metrics["iris_sql_lock_escalations_total"]
    assert counter_after(emulator, "LIVE", "iris_lock_table_full_total", 0.5) == full
    assert emulator.metrics("LIVE")["iris_sql_lock_escalations_total"] == escalations
    assert cpf(emulator, "LIVE").get("SQL", "LockThreshold") == "5000"
    assert "Configuration merge: [config] locksiz=33554432 activated (was 1048576)" in emulator.messages_log("LIVE")


def test_a_restart_required_value_waits_for_the_restart(emulator: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator.create("PEND", switches=FAST_FAULTS)
    doc = cpf(emulator, "PEND")
    doc.set("config", "gmheap", "16384")
    (install_dir / "iris.cpf").write_bytes(doc.render())
    emulator.start("PEND")
    since = emulator.instance("PEND").since
    merge(emulator, "PEND", tmp_path / "heap.cpf", "[config]\ngmheap=307200\n")

    published = state(emulator, "PEND")
    assert published["active"]["config"]["gmheap"] == "16384"
    assert published["pending"] == {"config": {"gmheap": "307200"}}
    assert published["last_merge"]["pending"] == ["[config] gmheap"]
    assert cpf(emulator, "PEND").get("config", "gmheap") == "307200"
    assert emulator.instance("PEND").since == since
    metrics = emulator.metrics("PEND")
    assert metrics["iris_cpf_pending_values"] == 1 and metrics["iris_smh_total"] == 16384
    errors = metrics["iris_smh_allocation_errors_total"]
    assert counter_after(emulator, "PEND", "iris_smh_allocation_errors_total", 0.4) > errors  # still failing

    emulator.stop("PEND")
    emulator.start("PEND")
    published = state(emulator, "PEND")
    assert published["active"]["config"]["gmheap"] == "307200" and published["pending"] == {}
    assert emulator.metrics("PEND")["iris_smh_allocation_errors_total"] == 0


def test_actions_create_what_they_name_in_iris_order(emulator: EmulatorEnv, tmp_path: Path) -> None:
    emulator.create("ACTS")
    emulator.start("ACTS")
    data_dir = tmp_path / "data"
    # Namespace before its database in the file: IRIS runs CreateDatabase first whatever the order.
    merge(emulator, "ACTS", tmp_path / "actions.cpf", (
        "[Actions]\n"
        "CreateNamespace:Name=APPA,Globals=APPA,Interop=1\n"
        "CreateDatabase:Name=APPA,Directory=%s/APPA\n"
        "\n"
        "CreateDatabase:Name=MYAPP2,Directory=TEST\n"
        "CreateUser:Name=alice,Password=s3cret,Roles=%%All\n"
        "ModifyService:Name=%%Service_CallIn,Enabled=1,AutheEnabled=48\n") % data_dir)

    published = state(emulator, "ACTS")
    install_dir = emulator.instances["ACTS"]
    assert published["databases"]["APPA"] == "%s/APPA/" % data_dir
    assert published["databases"]["MYAPP2"] == "%s/mgr/TEST/" % install_dir  # relative to mgr/
    assert published["namespaces"]["APPA"] == "APPA"
    assert published["security"]["users"]["alice"] == {"Password": "********", "Roles": "%All"}
    assert published["security"]["services"]["%Service_CallIn"] == {"Enabled": "1", "AutheEnabled": "48"}
    assert (data_dir / "APPA" / "IRIS.DAT").is_file()
    doc = cpf(emulator, "ACTS")
    assert doc.get("Databases", "APPA") == "%s/APPA/" % data_dir and doc.get("Namespaces", "APPA") == "APPA"
    assert "s3cret" not in json.dumps(published) and "s3cret" not in emulator.messages_log("ACTS")
    assert "Mounted database %s/APPA/" % data_dir in emulator.messages_log("ACTS")

    # Created objects survive a restart (CPF and security store), and creating them again changes nothing.
    emulator.stop("ACTS")
    emulator.start("ACTS")
    before = (install_dir / "iris.cpf").read_bytes()
    merge(emulator, "ACTS", tmp_path / "again.cpf", "[Actions]\nCreateDatabase:Name=APPA,Directory=%s/APPA\n" % data_dir)
    assert (install_dir / "iris.cpf").read_bytes() == before
    assert state(emulator, "ACTS")["security"]["users"]["alice"]["Roles"] == "%All"


def test_documented_quirks(emulator: EmulatorEnv, tmp_path: Path) -> None:
    emulator.create("QUIRK")
    emulator.start("QUIRK")
    cpf_path = emulator.instances["QUIRK"] / "iris.cpf"
    before = cpf_path.read_bytes()
    # A missing merge file: "completed successfully", nothing done.
    result = emulator.iris("merge", "QUIRK", str(tmp_path / "missing.cpf"))
    assert (result.returncode, result.stdout.strip()) == (0, SUCCESS) and cpf_path.read_bytes() == before
    # A relative path is refused.
    (tmp_path / "rel.cpf").write_text("[SQL]\nLockThreshold=2000\n")
    result = emulator.iris("merge", "QUIRK", "rel.cpf", check=False)
    assert result.returncode == 1 and "must be absolute" in result.stderr and cpf_path.read_bytes() == before
    # A secret merged (waiting for the restart) is neither published nor logged.
    merge(emulator, "QUIRK", tmp_path / "secret.cpf", "[Startup]\nPasswordHash=abc123def,salt42\n")
    assert state(emulator, "QUIRK")["pending"] == {"Startup": {"PasswordHash": "********"}}
    assert "abc123def" not in emulator.messages_log("QUIRK") and "abc123def" in cpf_path.read_text()
    before = cpf_path.read_bytes()
    # [actions] in the wrong case is silently ignored (the parameters still apply).
    merge(emulator, "QUIRK", tmp_path / "case.cpf", "[SQL]\nLockTimeout=20\n[actions]\nCreateDatabase:Name=NOPE,Directory=/x\n")
    assert state(emulator, "QUIRK")["active"]["SQL"]["LockTimeout"] == "20"
    assert cpf(emulator, "QUIRK").get("Databases", "NOPE") is None


@pytest.mark.parametrize("text, reason", [
    ("[config]\nlocksiz=12\n", "out of range"),
    ("[Nonsense]\nx=1\n", "not a CPF section"),
    ("[SQL]\nLockTimeout=30\n[Actions]\nExecute:Name=x\n", "does not implement Execute"),
    ("[Actions]\nCreateNamespace:Name=N,Globals=NODB\n", "database 'NODB' does not exist"),
])
def test_a_bad_merge_file_changes_nothing(emulator: EmulatorEnv, tmp_path: Path, text: str, reason: str) -> None:
    emulator.create("BAD")
    emulator.start("BAD")
    cpf_path = emulator.instances["BAD"] / "iris.cpf"
    before = cpf_path.read_bytes()
    (tmp_path / "bad.cpf").write_text(text)
    result = emulator.iris("merge", "BAD", str(tmp_path / "bad.cpf"), check=False)
    assert result.returncode == 1 and reason in result.stderr, result
    assert cpf_path.read_bytes() == before and state(emulator, "BAD")["merge_id"] == ""


def test_merge_needs_a_running_instance_and_a_target_cpf_is_only_edited(emulator: EmulatorEnv, tmp_path: Path) -> None:
    emulator.create("DOWN")
    (tmp_path / "m.cpf").write_text("[SQL]\nLockThreshold=3000\n")
    result = emulator.iris("merge", "DOWN", str(tmp_path / "m.cpf"), check=False)
    assert result.returncode == 1 and "not running" in result.stderr
    emulator.start("DOWN")
    other = tmp_path / "other.cpf"
    other.write_bytes((emulator.instances["DOWN"] / "iris.cpf").read_bytes())
    emulator.iris("merge", "DOWN", str(tmp_path / "m.cpf"), str(other))
    assert CpfDocument.parse(other.read_bytes()).get("SQL", "LockThreshold") == "3000"
    assert state(emulator, "DOWN")["active"]["SQL"]["LockThreshold"] == "1000"
    assert cpf(emulator, "DOWN").get("SQL", "LockThreshold") == "1000"


def test_a_merge_during_the_start_is_refused_and_the_start_completes(emulator: EmulatorEnv, tmp_path: Path) -> None:
    emulator.create("SLOW", switches={"start_delay_seconds": 1.5})
    (tmp_path / "m.cpf").write_text("[SQL]\nLockThreshold=3000\n")
    starting = subprocess.Popen([emulator.iris_bin, "start", "SLOW", "quietly"], env=emulator.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state_file = emulator.instances["SLOW"] / "mgr" / "emulator-state.json"
        deadline = time.monotonic() + 10
        while not state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        result = emulator.iris("merge", "SLOW", str(tmp_path / "m.cpf"), check=False)
        assert result.returncode == 1 and "is starting" in result.stderr, result
    finally:
        assert starting.wait(timeout=60) == 0
    assert emulator.instance("SLOW").running and state(emulator, "SLOW")["active"]["SQL"]["LockThreshold"] == "1000"
