# SPDX-License-Identifier: GPL-3.0-or-later
"""iris_memory.py: an instance's shared memory need from its real CPF and messages.log, and what it means per parameter."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_memory
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, parse_qlist_line
from tests.support.paths import REPO

SAMPLES = REPO / "log_samples" / "messages"
# [config] globals 100 MB, routines 35: 523 MB (tests/unit/plugins/module_utils/test_cpf_catalog.py).
CPF_523MB = REPO / "tests" / "fixtures" / "cpf" / "merge" / "pyduquesnoy-IRIS-Docker-HugePages__communityEdition_shared_irislpmerge.cpf"


def instance_in(install_dir: Path, cpf: Optional[Path] = None, log: Optional[Path] = None) -> Instance:
    """A qlist line of the real 13-field format for an instance installed in ``install_dir``, with copies of real files."""
    (install_dir / "mgr").mkdir(parents=True)
    if cpf is not None:
        shutil.copy(cpf, install_dir / "iris.cpf")
    if log is not None:
        shutil.copy(log, install_dir / "mgr" / "messages.log")
    return parse_qlist_line("IRIS^%s/^2024.1.0.267.2^running, since Fri May 13 22:07:02 2016^iris.cpf"
                            "^1972^52773^62972^ok^IRIS^^^" % install_dir)


@pytest.mark.parametrize("sample, megabytes", [
    ("huge-pages-allocation.log", 306),
    ("shared-memory-allocation-kubernetes.log", 689),
    ("alerts-large-pages-journal-license.log", 1592),
    ("durable-sys-first-boot.log", None),
])
def test_last_allocation_from_real_logs(sample: str, megabytes: int) -> None:
    assert iris_memory.last_allocation_mb(str(SAMPLES / sample)) == megabytes


def test_last_allocation_missing_log_is_none(tmp_path: Path) -> None:
    assert iris_memory.last_allocation_mb(str(tmp_path / "messages.log")) is None
    with pytest.raises(iris_memory.MemoryNeedError, match="^cannot read %s: Is a directory$" % tmp_path):
        iris_memory.last_allocation_mb(str(tmp_path))


def test_cpf_estimate_of_a_real_cpf_missing_or_unreadable(tmp_path: Path) -> None:
    assert iris_memory.cpf_estimate_mb(str(CPF_523MB)) == 523
    assert iris_memory.cpf_estimate_mb(str(tmp_path / "iris.cpf")) is None
    with pytest.raises(iris_memory.MemoryNeedError, match="^cannot read %s: Is a directory$" % tmp_path):
        iris_memory.cpf_estimate_mb(str(tmp_path))
    broken = tmp_path / "broken.cpf"
    broken.write_bytes(b"[config]\nglobals=0,0,100,0,0,0\ngmheap=big\n")
    with pytest.raises(iris_memory.MemoryNeedError, match=r"^%s: cannot size shared memory: \[config\] gmheap" % broken):
        iris_memory.cpf_estimate_mb(str(broken))


@pytest.mark.parametrize("sample, required_mb, log_mb", [
    ("huge-pages-allocation.log", 523, 306),  # the CPF asks for more than the last start allocated
    ("alerts-large-pages-journal-license.log", 1592, 1592),  # the last start allocated more than the CPF estimate
])
def test_memory_need_is_the_larger_of_cpf_and_log(tmp_path: Path, sample: str, required_mb: int, log_mb: int) -> None:
    need = iris_memory.memory_need(instance_in(tmp_path, CPF_523MB, SAMPLES / sample), 2048, 5)
    assert need == iris_memory.MemoryNeed("IRIS", required_mb, 523, log_mb, 2048, 5)


def test_memory_need_from_one_source_alone(tmp_path: Path) -> None:
    assert iris_memory.memory_need(instance_in(tmp_path / "cpf", cpf=CPF_523MB), 2048, 0).log_allocated_mb is None
    need = iris_memory.memory_need(instance_in(tmp_path / "log", log=SAMPLES / "huge-pages-allocation.log"), 2048, 0)
    assert (need.required_mb, need.cpf_estimate_mb) == (306, None)


def test_memory_need_without_cpf_or_allocation_line_names_both_places(tmp_path: Path) -> None:
    instance = instance_in(tmp_path, log=SAMPLES / "durable-sys-first-boot.log")
    with pytest.raises(iris_memory.MemoryNeedError) as raised:
        iris_memory.memory_need(instance, 2048, 5)
    assert str(raised.value) == ("cannot size shared memory of IRIS: no CPF at %s/iris.cpf and no 'Allocated ...MB shared "
                                 "memory' line in %s/mgr/messages.log" % (tmp_path, tmp_path))


def test_memory_need_translates_to_each_parameter() -> None:
    need = iris_memory.MemoryNeed("IRIS", 306, 300, 306, 2048, 5)
    # 306MB * 1.05 = 321.3MB -> 161 pages of 2MB; bytes rounded up; other parameters have no need.
    assert need.value_for("vm.nr_hugepages") == 161
    assert need.value_for("kernel.shmmax") == 336907469
    assert need.value_for("kernel.shmall") == -(-336907469 // os.sysconf("SC_PAGE_SIZE"))
    assert need.value_for("vm.swappiness") is None


def test_memory_need_as_returned_for_a_parameter() -> None:
    need = iris_memory.MemoryNeed("IRIS", 306, 300, 306, 1048576, 0)
    assert need.as_dict("vm.nr_hugepages") == {"instance": "IRIS", "required_mb": 306, "cpf_estimate_mb": 300,
                                               "log_allocated_mb": 306, "hugepage_size_kb": 1048576, "required_value": "1"}
    assert need.as_dict("vm.swappiness")["required_value"] is None


@pytest.mark.parametrize("runtime_before, value", [
    (None, "161"),  # unknown runtime value: the need
    ("0", "161"),  # too low: raised to the need
    ("200", "200"),  # already enough: auto never lowers
    (" 0161 ", "0161"),  # enough, kept as the kernel wrote it
    ("161 1", "161"),  # not one number: the need
])
def test_auto_value_never_lowers(runtime_before: Optional[str], value: str) -> None:
    assert iris_memory.auto_value(161, runtime_before) == value


def test_danger_is_any_change_to_below_need() -> None:
    need = iris_memory.MemoryNeed("IRIS", 306, 306, None, 2048, 5)
    assert iris_memory.danger("vm.nr_hugepages", "100", "200", need) == (
        "vm.nr_hugepages=100 is below the 161 instance IRIS needs for 306MB shared memory (+5%)")
    assert iris_memory.danger("vm.nr_hugepages", "100", "0", need) == (  # raising, but not enough
        "vm.nr_hugepages=100 is below the 161 instance IRIS needs for 306MB shared memory (+5%)")
    assert iris_memory.danger("vm.nr_hugepages", "100", "100", need) is None  # no change, nothing new to refuse
    assert iris_memory.danger("vm.nr_hugepages", "161", "200", need) is None
    assert iris_memory.danger("vm.swappiness", "1", "60", need) is None
    assert iris_memory.danger("vm.nr_hugepages", "1", "200", None) is None


def test_danger_needs_an_integer_value() -> None:
    need = iris_memory.MemoryNeed("IRIS", 306, 306, None, 2048, 5)
    with pytest.raises(ValueError, match="^value: '1 2' is not an integer$"):
        iris_memory.danger("kernel.shmmax", "1 2", None, need)
