# SPDX-License-Identifier: GPL-3.0-or-later
"""kernel_param against emulated IRIS instances: value auto, the danger guard, and the huge pages fault fixed end to end."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Dict

import pytest
from tests.support.emulator import EmulatorEnv

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import estimate_shared_memory
from ansible_collections.irisops.iris.plugins.modules import kernel_param
from tests.support.in_process import run_module

pytestmark = pytest.mark.slow


def cpf_total_mb(install_dir: Path) -> int:
    return estimate_shared_memory(CpfDocument.parse((install_dir / "iris.cpf").read_bytes())).total_mb


def pages_for(total_mb: int, margin_percent: int = 5) -> int:
    return math.ceil(math.ceil(total_mb * 1024 * 1024 * (100 + margin_percent) / 100) / (2048 * 1024))


def run(emulator: EmulatorEnv, tmp_path: Path, instance: str, check: bool = False, diff: bool = False,
        **options: Any) -> Dict[str, Any]:
    options.setdefault("proc_root", str(emulator.proc_root(instance)))
    args = dict(instance=instance, iris_bin=emulator.iris_bin, sysctl_dir=str(tmp_path), **options)
    return run_module(kernel_param, args, check_mode=check, diff=diff)


def test_auto_fixes_the_huge_pages_fault_end_to_end(emulator_in_process: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator_in_process.create("IRIS1", nr_hugepages=10)
    emulator_in_process.start("IRIS1")
    total = cpf_total_mb(install_dir)
    assert "Failed to allocate %dMB shared memory using large pages.  Switching to small pages." % total \
        in emulator_in_process.messages_log("IRIS1")
    proc_file = emulator_in_process.proc_root("IRIS1") / "vm" / "nr_hugepages"

    preview = run(emulator_in_process, tmp_path, "IRIS1", check=True, diff=True, name="vm.nr_hugepages", value="auto")
    assert preview["changed"] is True and proc_file.read_text() == "10\n"
    assert preview["shared_memory"] == {"instance": "IRIS1", "required_mb": total, "cpf_estimate_mb": total,
                                        "log_allocated_mb": total, "hugepage_size_kb": 2048,
                                        "required_value": str(pages_for(total))}
    assert preview["diff"][0]["after"] == "%d\n" % pages_for(total)

    result = run(emulator_in_process, tmp_path, "IRIS1", name="vm.nr_hugepages", value="auto")
    assert result["changed"] is True and result["value"] == str(pages_for(total))
    assert proc_file.read_text() == "%d\n" % pages_for(total)
    assert (tmp_path / "99-irisops-iris.conf").read_text() == "vm.nr_hugepages = %d\n" % pages_for(total)
    assert run(emulator_in_process, tmp_path, "IRIS1", name="vm.nr_hugepages", value="auto")["changed"] is False

    emulator_in_process.stop("IRIS1")
    emulator_in_process.start("IRIS1")
    last_allocation = re.findall(r"Allocated \d+MB shared memory.*", emulator_in_process.messages_log("IRIS1"))[-1]
    assert last_allocation == "Allocated %dMB shared memory using Huge Pages" % total


def test_auto_follows_a_raised_cpf_before_restart(emulator_in_process: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator_in_process.create("IRIS2", nr_hugepages=0)
    emulator_in_process.start("IRIS2")
    started_mb = cpf_total_mb(install_dir)
    cpf = CpfDocument.parse((install_dir / "iris.cpf").read_bytes())
    cpf.set("config", "globals", "0,0,400,0,0,0")  # a remediation raised the 8KB buffers; restart pending
    (install_dir / "iris.cpf").write_bytes(cpf.render())
    raised_mb = cpf_total_mb(install_dir)
    assert raised_mb > started_mb
    result = run(emulator_in_process, tmp_path, "IRIS2", name="vm.nr_hugepages", value="auto", persist=False)
    assert result["shared_memory"]["cpf_estimate_mb"] == raised_mb
    assert result["shared_memory"]["log_allocated_mb"] == started_mb
    assert result["value"] == str(pages_for(raised_mb))


def test_auto_never_lowers_a_value_that_fits(emulator_in_process: EmulatorEnv, tmp_path: Path) -> None:
    emulator_in_process.create("IRIS3", nr_hugepages=5000)
    result = run(emulator_in_process, tmp_path, "IRIS3", name="vm.nr_hugepages", value="auto", auto_margin_percent=0)
    assert result["changed"] is True and result["value"] == "5000"  # only the file was missing
    assert result["tool_result"]["changes"] == [
        {"target": "%s:vm.nr_hugepages" % (tmp_path / "99-irisops-iris.conf"), "old_value": None, "new_value": "5000"}]


def test_lowering_below_the_need_is_dangerous(emulator_in_process: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator_in_process.create("IRIS4", nr_hugepages=5000)
    need = pages_for(cpf_total_mb(install_dir))
    proc_file = emulator_in_process.proc_root("IRIS4") / "vm" / "nr_hugepages"

    refused = run(emulator_in_process, tmp_path, "IRIS4", name="vm.nr_hugepages", value=10)
    assert refused["failed"] and refused["msg"] == (
        "vm.nr_hugepages=10 is below the %d instance IRIS4 needs for %dMB shared memory (+5%%); "
        "set allow_dangerous=true to do it anyway. Nothing changed." % (need, cpf_total_mb(install_dir)))
    assert refused["tool_result"]["status"] == "failure"
    assert proc_file.read_text() == "5000\n" and not (tmp_path / "99-irisops-iris.conf").exists()

    assert run(emulator_in_process, tmp_path, "IRIS4", name="vm.nr_hugepages", value=need + 1)["changed"] is True

    confirmed = run(emulator_in_process, tmp_path, "IRIS4", name="vm.nr_hugepages", value=10, allow_dangerous=True)
    assert confirmed["changed"] is True and proc_file.read_text() == "10\n"
    assert any("allow_dangerous: vm.nr_hugepages=10 is below" in item["event"]["msg"] for item in confirmed["warnings"])


def test_shmmax_auto_persists_for_an_instance_without_runtime_file(emulator_in_process: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator_in_process.create("IRIS5")
    total = cpf_total_mb(install_dir)
    missing = run(emulator_in_process, tmp_path, "IRIS5", name="kernel.shmmax", value="auto")
    assert missing["failed"] and "no such kernel parameter on this host" in missing["msg"]
    result = run(emulator_in_process, tmp_path, "IRIS5", name="kernel.shmmax", value="auto", apply=False)
    assert result["value"] == str(math.ceil(total * 1024 * 1024 * 1.05))
    assert result["shared_memory"]["log_allocated_mb"] is None  # never started: the CPF alone sizes it


@pytest.mark.parametrize("options, message", [
    ({"name": "vm.swappiness", "value": "auto"}, "value: 'auto' is only defined for vm.nr_hugepages, kernel.shmmax, kernel.shmall"),
    ({"name": "vm.nr_hugepages", "value": "auto", "hugepage_size_kb": -1}, "hugepage_size_kb: must be > 0, got -1"),
    ({"name": "vm.nr_hugepages", "value": "auto", "auto_margin_percent": -5}, "auto_margin_percent: must be >= 0, got -5"),
])
def test_auto_option_errors(emulator_in_process: EmulatorEnv, tmp_path: Path, options: Dict[str, Any], message: str) -> None:
    emulator_in_process.create("IRIS6")
    result = run(emulator_in_process, tmp_path, "IRIS6", **options)
    assert result["failed"] and result["msg"].startswith(message)


def test_unknown_instance_and_unsized_instance(emulator_in_process: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator_in_process.create("IRIS7")
    unknown = run(emulator_in_process, tmp_path, "NOPE", name="vm.nr_hugepages", value="auto",
                  proc_root=str(emulator_in_process.proc_root("IRIS7")))
    assert unknown["failed"] and unknown["msg"].startswith("instance: instance 'NOPE' is not known to")
    (install_dir / "iris.cpf").unlink()
    unsized = run(emulator_in_process, tmp_path, "IRIS7", name="vm.nr_hugepages", value="auto")
    assert unsized["failed"] and unsized["msg"].startswith("instance: cannot size shared memory of IRIS7: no CPF at")
