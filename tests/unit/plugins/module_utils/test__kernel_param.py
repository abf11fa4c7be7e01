# SPDX-License-Identifier: GPL-3.0-or-later
"""_kernel_param.py without AnsibleModule: the plan (reads only), apply (runtime, then file), and what the plan reports.

Hosts are temp roots laid out like / (tests/support/sysctl_host.py); an instance is a real
CPF and a real messages.log in a temp install dir, listed by a recorded ``iris qlist`` line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import _kernel_param as kp
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder
from ansible_collections.irisops.iris.plugins.modules.kernel_param import argument_spec
from tests.support.paths import REPO
from tests.support.sysctl_host import Host

IRIS_BIN = "/usr/irissys/bin/iris"
# [config] globals 100 MB, routines 35: 523 MB (test_cpf_catalog.py); 523 MB + 5 % in 2 MB pages is 275.
CPF_523MB = REPO / "tests" / "fixtures" / "cpf" / "merge" / "pyduquesnoy-IRIS-Docker-HugePages__communityEdition_shared_irislpmerge.cpf"
PAGES_523MB = 275


def options(host: Host, **given: Any) -> Dict[str, Any]:
    """The module's options as AnsibleModule hands them over: every default of the real argument spec."""
    defaults = {option: spec.get("default") for option, spec in argument_spec().items()}
    return dict(defaults, **host.args(**given))


def files(host: Host) -> Dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(host.root.rglob("*")) if path.is_file()}


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path / "host")


def no_control() -> IrisControl:
    raise AssertionError("the control command is only needed with instance")


def control_listing(install_dir: Path) -> Tuple[IrisControl, List[Sequence[str]]]:
    """The control command answering qlist with a recorded 13-field line for instance IRIS installed in ``install_dir``."""
    calls: List[Sequence[str]] = []
    line = "IRIS^%s/^2024.1.0.267.2^running, since Fri May 13 22:07:02 2016^iris.cpf^1972^52773^62972^ok^IRIS^^^\n" % install_dir

    def run_command(args: Sequence[str], environ_update: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
        calls.append(args)
        return 0, line, ""

    return IrisControl(IRIS_BIN, run_command), calls


def installed(root: Path, sample: str = "huge-pages-allocation.log") -> Path:
    install_dir = root / "iris"
    (install_dir / "mgr").mkdir(parents=True)
    shutil.copy(CPF_523MB, install_dir / "iris.cpf")
    shutil.copy(REPO / "log_samples" / "messages" / sample, install_dir / "mgr" / "messages.log")
    return install_dir


def test_plan_reads_only_and_decides_both_changes(host: Host) -> None:
    before = files(host)
    plan = kp.make_plan(options(host, name="vm.swappiness", value=5), no_control)
    assert files(host) == before
    assert (plan.target, plan.runtime_before, plan.runtime_changes) == ("5", "60", True)
    assert (plan.file_path, plan.file_before, plan.file_after) == (str(host.conf), None, b"vm.swappiness = 5\n")
    assert plan.changed and plan.file_changes and plan.need is None
    assert plan.recommendations == [] and plan.warnings() == []


def test_plan_reports_like_the_module_returns(host: Host) -> None:
    plan = kp.make_plan(options(host, name="vm.swappiness", value=30), no_control)
    builder = ToolResultBuilder("kernel_param")
    plan.record_changes(builder)
    assert builder.changes == [{"target": str(host.path("vm.swappiness")), "old_value": "60", "new_value": "30"},
                               {"target": "%s:vm.swappiness" % host.conf, "old_value": None, "new_value": "30"}]
    assert plan.result("/backup", False) == {
        "changed": True, "name": "vm.swappiness", "value": "30", "proc_path": str(host.path("vm.swappiness")),
        "runtime_value_before": "60", "runtime_value": "30", "sysctl_file": str(host.conf),
        "persisted_value_before": None, "persisted_value": "30", "duplicates": 0, "overridden_by": [],
        "recommendations": ["vm.swappiness=30 is above the 5 recommended for IRIS hosts"], "backup_file": "/backup"}
    assert plan.warnings() == plan.recommendations
    header = "%s (runtime)" % host.path("vm.swappiness")
    assert plan.diff() == [
        {"before_header": header, "after_header": header, "before": "60\n", "after": "30\n"},
        {"before_header": "%s (content)" % host.conf, "after_header": "%s (content)" % host.conf,
         "before": "", "after": "vm.swappiness = 30\n"}]


def test_a_plan_with_nothing_to_change_warns_of_nothing(host: Host) -> None:
    host.conf.write_bytes(b"vm.swappiness = 60\n")
    plan = kp.make_plan(options(host, name="vm.swappiness", value="060"), no_control)
    assert not plan.changed and plan.diff() == [] and plan.warnings() == []
    assert plan.recommendations == ["vm.swappiness=060 is above the 5 recommended for IRIS hosts"]
    assert plan.result(None, True)["changed"] is True  # an attribute-only difference is a change too


def test_auto_sizes_huge_pages_from_the_instance(host: Host, tmp_path: Path) -> None:
    control, calls = control_listing(installed(tmp_path))
    plan = kp.make_plan(options(host, name="vm.nr_hugepages", value="auto", instance="iris"), lambda: control)
    assert calls == [[IRIS_BIN, "qlist"]]
    assert plan.target == str(PAGES_523MB)
    assert plan.result(None, False)["shared_memory"] == {
        "instance": "IRIS", "required_mb": 523, "cpf_estimate_mb": 523, "log_allocated_mb": 306,
        "hugepage_size_kb": 2048, "required_value": str(PAGES_523MB)}
    assert plan.recommendations == ["transparent huge pages are 'madvise'; 'never' is recommended for IRIS hosts "
                                    "(transparent_hugepage=never on the kernel command line)"]


def test_lowering_below_the_need_is_refused_or_warned(host: Host, tmp_path: Path) -> None:
    control, _calls = control_listing(installed(tmp_path))
    params = options(host, name="vm.nr_hugepages", value=10, instance="IRIS", persist=False)
    with pytest.raises(kp.ModuleFailure) as refused:
        kp.make_plan(params, lambda: control)
    assert str(refused.value) == ("vm.nr_hugepages=10 is below the %d instance IRIS needs for 523MB shared memory (+5%%); "
                                  "set allow_dangerous=true to do it anyway. Nothing changed." % PAGES_523MB)
    plan = kp.make_plan(dict(params, allow_dangerous=True), lambda: control)
    assert plan.warnings()[-1] == "allow_dangerous: vm.nr_hugepages=10 is below the %d instance IRIS needs for 523MB shared memory (+5%%)" % PAGES_523MB


@pytest.mark.parametrize("setup, message", [
    ("unknown", "instance: instance 'NOPE' is not known to %s qlist" % IRIS_BIN),
    ("log is a directory", "instance: cannot read {log}: Is a directory"),
    ("no cpf, no allocation", "instance: cannot size shared memory of IRIS: no CPF at {cpf} and no 'Allocated ...MB "
                              "shared memory' line in {log}"),
])
def test_instance_problems_name_the_option(host: Host, tmp_path: Path, setup: str, message: str) -> None:
    install_dir = installed(tmp_path, "durable-sys-first-boot.log")
    log, cpf = install_dir / "mgr" / "messages.log", install_dir / "iris.cpf"
    if setup == "log is a directory":
        log.unlink()
        log.mkdir()
    if setup == "no cpf, no allocation":
        cpf.unlink()
    control, _calls = control_listing(install_dir)
    instance = "NOPE" if setup == "unknown" else "IRIS"
    with pytest.raises(kp.ModuleFailure) as raised:
        kp.make_plan(options(host, name="vm.nr_hugepages", value="auto", instance=instance), lambda: control)
    assert str(raised.value) == message.format(log=log, cpf=cpf)


def test_apply_writes_runtime_then_file_with_a_backup(host: Host) -> None:
    host.conf.write_bytes(b"# mine\nvm.swappiness = 60\n")
    plan = kp.make_plan(options(host, name="vm.swappiness", value=5), no_control)
    backups: List[str] = []

    def backup(path: str) -> str:
        backups.append(path + ".bak")
        shutil.copy(path, backups[-1])
        return backups[-1]

    assert kp.apply(plan, os.replace, backup) == str(host.conf) + ".bak"
    assert host.path("vm.swappiness").read_text() == "5\n"
    assert host.conf.read_bytes() == b"# mine\nvm.swappiness = 5\n"
    assert Path(backups[0]).read_bytes() == b"# mine\nvm.swappiness = 60\n"


def no_backup(path: str) -> str:
    raise AssertionError("nothing to back up at %s" % path)


def test_apply_makes_no_backup_of_a_file_that_did_not_exist(host: Host) -> None:
    plan = kp.make_plan(options(host, name="vm.swappiness", value=5), no_control)
    assert kp.apply(plan, os.replace, no_backup) is None
    assert host.conf.read_bytes() == b"vm.swappiness = 5\n"


@pytest.mark.parametrize("given, restored", [
    ({}, "runtime value restored to '60'"),
    ({"apply": False}, "runtime value untouched"),
])
def test_a_file_that_cannot_be_replaced_puts_the_runtime_value_back(host: Host, given: Dict[str, Any], restored: str) -> None:
    plan = kp.make_plan(options(host, name="vm.swappiness", value=5, **given), no_control)
    host.conf.mkdir()  # appears between plan and apply: the rename fails with the kernel's EISDIR
    (host.conf / "x").mkdir()
    with pytest.raises(kp.ModuleFailure) as raised:
        kp.apply(plan, os.replace, None)
    assert str(raised.value).startswith("cannot replace %s: " % host.conf)
    assert str(raised.value).endswith("; file left as it was, %s" % restored)
    assert host.path("vm.swappiness").read_text() == "60\n"


def test_a_huge_page_read_back_mismatch_says_why(host: Host) -> None:
    # /dev/null accepts every write and keeps nothing, like a kernel that reserves no page at all.
    host.path("vm.nr_hugepages").unlink()
    host.path("vm.nr_hugepages").symlink_to("/dev/null")
    plan = kp.make_plan(options(host, name="vm.nr_hugepages", value=64), no_control)
    with pytest.raises(kp.sysctl.SysctlError) as raised:
        kp.apply(plan, os.replace, None)
    assert str(raised.value) == ("read-back mismatch for %s: wrote '64' but the kernel reports ''%s; runtime value restored "
                                 "to ''" % (host.path("vm.nr_hugepages"), kp.HUGEPAGES_READ_BACK_HINT))
    assert not host.conf.exists()
