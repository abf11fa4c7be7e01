# SPDX-License-Identifier: GPL-3.0-or-later
"""kernel_param in-process against temp proc roots and sysctl dirs laid out like a host's / ."""

from __future__ import annotations

import errno
import stat
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import sysctl
from ansible_collections.irisops.iris.plugins.modules import kernel_param
from tests.support.in_process import run_module
from tests.support.sysctl_host import Host


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def warning_texts(result: Dict[str, Any]) -> List[str]:
    return [item["event"]["msg"] for item in result.get("warnings", [])]


def run(host: Host, check: bool = False, diff: bool = False, **options: Any) -> Dict[str, Any]:
    return run_module(kernel_param, host.args(**options), check_mode=check, diff=diff)


def test_check_mode_is_a_dry_run_with_both_diffs(host: Host) -> None:
    result = run(host, check=True, diff=True, name="vm.swappiness", value=5)
    assert result["changed"] is True and not result.get("failed")
    assert host.runtime("vm.swappiness") == "60\n" and not host.conf.exists()
    runtime_diff, file_diff = result["diff"]
    assert runtime_diff == {"before_header": "%s (runtime)" % host.path("vm.swappiness"),
                            "after_header": "%s (runtime)" % host.path("vm.swappiness"), "before": "60\n", "after": "5\n"}
    assert file_diff["before"] == "" and file_diff["after"] == "vm.swappiness = 5\n"
    assert file_diff["before_header"] == "%s (content)" % host.conf
    tool_result = result["tool_result"]
    assert tool_result["status"] == "success" and tool_result["dry_run"] is True
    assert tool_result["changes"] == [
        {"target": str(host.path("vm.swappiness")), "old_value": "60", "new_value": "5"},
        {"target": "%s:vm.swappiness" % host.conf, "old_value": None, "new_value": "5"}]


def test_apply_then_persist_then_idempotent(host: Host) -> None:
    result = run(host, name="vm.swappiness", value="5", trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
    assert result["changed"] is True and not result.get("failed")
    assert host.runtime("vm.swappiness") == "5\n"
    assert host.conf.read_bytes() == b"vm.swappiness = 5\n"
    assert (result["runtime_value_before"], result["runtime_value"]) == ("60", "5")
    assert (result["persisted_value_before"], result["persisted_value"]) == (None, "5")
    assert result["tool_result"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert result["tool_result"]["dry_run"] is False
    for check in (False, True):
        again = run(host, check=check, diff=True, name="vm.swappiness", value=5)
        assert again["changed"] is False and again["diff"] == [] and again["tool_result"]["changes"] == []
    assert host.conf.read_bytes() == b"vm.swappiness = 5\n"


def test_persist_edits_only_the_key_line(host: Host) -> None:
    original = (b"# Tuned for IRIS by the DBA team\r\n"
                b"vm.dirty_ratio=10\r\n"
                b"# vm.swappiness = 1   (commented out on purpose)\r\n"
                b"vm.swappiness=30\r\n"
                b"; keep the duplicate below, it documents history\r\n"
                b"vm.swappiness=40")
    host.conf.write_bytes(original)
    host.set_runtime("vm.swappiness", "40")
    result = run(host, diff=True, name="vm.swappiness", value=5)
    assert result["changed"] is True
    assert host.conf.read_bytes() == original[:-len(b"vm.swappiness=40")] + b"vm.swappiness=5"
    assert result["duplicates"] == 1
    assert result["diff"][1]["after"].endswith("vm.swappiness=5")
    run(host, name="vm.nr_hugepages", value=16, apply=False)
    assert host.conf.read_bytes() == original[:-len(b"vm.swappiness=40")] + b"vm.swappiness=5\r\nvm.nr_hugepages=16"


def test_persist_only_leaves_runtime_alone_and_accepts_unknown_runtime(host: Host) -> None:
    result = run(host, name="vm.swappiness", value=5, apply=False)
    assert result["changed"] is True and host.runtime("vm.swappiness") == "60\n"
    assert result["runtime_value"] == "60"
    result = run(host, name="vm.not_on_this_kernel", value=1, apply=False)
    assert result["changed"] is True and result["runtime_value_before"] is None
    assert host.conf.read_bytes() == b"vm.swappiness = 5\nvm.not_on_this_kernel = 1\n"


def test_apply_only_writes_no_file(host: Host) -> None:
    result = run(host, name="vm.swappiness", value=5, persist=False)
    assert result["changed"] is True and result["sysctl_file"] is None
    assert host.runtime("vm.swappiness") == "5\n" and not host.conf.exists()


def test_apply_and_persist_both_false_is_refused(host: Host) -> None:
    result = run(host, name="vm.swappiness", value=5, apply=False, persist=False)
    assert result["failed"] and result["msg"].startswith("apply, persist: ")


def test_current_value_guard(host: Host) -> None:
    result = run(host, name="vm.swappiness", value=5, current_value=30)
    assert result["failed"] and "current_value: expected 30 (or the new value 5) but the runtime value of vm.swappiness is 60" in result["msg"]
    assert result["tool_result"]["status"] == "failure" and result["tool_result"]["changes"] == []
    assert host.runtime("vm.swappiness") == "60\n" and not host.conf.exists()
    assert run(host, name="vm.swappiness", value=5, current_value="060")["changed"] is True


def test_current_value_guard_uses_file_when_runtime_unknown(host: Host) -> None:
    host.conf.write_text("vm.future_key = 3\n")
    result = run(host, name="vm.future_key", value=4, apply=False, current_value=2)
    assert result["failed"] and "persisted value of vm.future_key is 3" in result["msg"]
    assert run(host, name="vm.future_key", value=4, apply=False, current_value=3)["changed"] is True


@pytest.mark.parametrize("options, message", [
    ({"min_value": 10}, "value: 5 is below min_value 10; nothing changed"),
    ({"max_value": 4}, "value: 5 is above max_value 4; nothing changed"),
])
def test_range_limits_refuse_and_change_nothing(host: Host, options: Dict[str, int], message: str) -> None:
    result = run(host, name="vm.swappiness", value=5, **options)
    assert result["failed"] and result["msg"] == message
    assert host.runtime("vm.swappiness") == "60\n" and not host.conf.exists()


def test_range_inside_limits_is_applied(host: Host) -> None:
    assert run(host, name="vm.swappiness", value=5, min_value=0, max_value=100)["changed"] is True


def test_range_needs_an_integer(host: Host) -> None:
    result = run(host, name="kernel.sem", value="250 32000 32 128", min_value=1)
    assert result["failed"] and result["msg"] == "value: '250 32000 32 128' is not an integer"


@pytest.mark.parametrize("name", ["../../../etc/passwd", "vm/swappiness", "vm.swappiness\n", "vm.swappiness; reboot",
                                  "vm.*", "VM.SWAPPINESS", "swappiness"])
def test_injection_in_name_is_refused_and_nothing_written(host: Host, name: str) -> None:
    before = sorted(str(p) for p in host.root.rglob("*"))
    result = run(host, name=name, value=1)
    assert result["failed"] and result["msg"].startswith("name: ")
    assert sorted(str(p) for p in host.root.rglob("*")) == before


@pytest.mark.parametrize("value, message", [
    (True, "value: must be an integer or a string, got bool True"),
    ([1, 2], "value: must be an integer or a string, got list [1, 2]"),
    ("", "value: must not be empty"),
    ("5\nkernel.core_pattern=|/tmp/x", "value: must be a single line without control characters"),
    # A NUL used to reach Ansible's syslog logging first, which failed naming no option.
    ("1\x002", "value: must be a single line without control characters, got '1\\x002'"),
    ("10\x7f", "value: must be a single line without control characters"),
    ("10\x85", "value: must be a single line without control characters"),
])
def test_bad_values_are_refused(host: Host, value: Any, message: str) -> None:
    result = run(host, name="vm.swappiness", value=value)
    assert result["failed"] and result["msg"].startswith(message)
    assert host.runtime("vm.swappiness") == "60\n" and not host.conf.exists()


def test_a_nul_in_current_value_is_refused_naming_the_option(host: Host) -> None:
    result = run(host, name="vm.swappiness", value=10, current_value="6\x000")
    assert result["failed"] and result["msg"].startswith("current_value: must be a single line without control")
    assert host.runtime("vm.swappiness") == "60\n" and not host.conf.exists()


def test_a_missing_sysctl_dir_is_named_not_taken_for_a_missing_parameter(host: Host, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "sysctl.d"
    result = run(host, name="vm.swappiness", value=10, sysctl_dir=str(missing))
    assert result["failed"] and result["msg"].startswith("sysctl_dir: %s does not exist; create it" % missing)
    assert "no such kernel parameter" not in result["msg"]
    assert host.runtime("vm.swappiness") == "60\n"  # refused before the runtime change, not rolled back after it


def test_unknown_parameter_fails_when_applying(host: Host) -> None:
    result = run(host, name="vm.no_such_knob", value=1)
    assert result["failed"] and "no such kernel parameter on this host" in result["msg"]
    assert not host.conf.exists()


def test_directory_is_not_a_parameter(host: Host) -> None:
    result = run(host, name="kernel.sem", value=1, proc_root=str(host.root / "proc"))
    assert result["failed"] and "kernel/sem" in result["msg"] and "no such kernel parameter" in result["msg"]
    result = run(host, name="proc.sys", value=1, proc_root=str(host.root))
    assert result["failed"] and "is a directory, not a kernel parameter" in result["msg"]


def test_multi_value_parameter_compares_by_tokens(host: Host) -> None:
    result = run(host, name="kernel.sem", value="32000 1024000000 500 32000", persist=False)
    assert result["changed"] is False
    assert run(host, name="kernel.sem", value="250 32000 32 128", persist=False)["changed"] is True
    assert host.runtime("kernel.sem") == "250 32000 32 128\n"


def test_auto_needs_instance(host: Host) -> None:
    result = run(host, name="vm.nr_hugepages", value="auto")
    assert result["failed"] and result["msg"] == "value: 'auto' needs instance to size shared memory"


def test_symlinked_file_stays_a_symlink(host: Host, tmp_path: Path) -> None:
    real = tmp_path / "managed.conf"
    real.write_text("vm.swappiness=60\n")
    host.conf.symlink_to(real)
    run(host, name="vm.swappiness", value=5)
    assert host.conf.is_symlink() and real.read_text() == "vm.swappiness=5\n"


def test_file_mode_option(host: Host) -> None:
    result = run(host, name="vm.swappiness", value=5, mode="0600")
    assert result["changed"] is True and stat.S_IMODE(host.conf.stat().st_mode) == 0o600
    result = run(host, name="vm.swappiness", value=5, mode="0640")
    assert result["changed"] is True and stat.S_IMODE(host.conf.stat().st_mode) == 0o640


def test_check_mode_reports_an_attribute_only_difference_like_the_real_run(host: Host) -> None:
    run(host, name="vm.swappiness", value=5, mode="0644")
    content = host.conf.read_bytes()
    preview = run(host, check=True, diff=True, name="vm.swappiness", value=5, mode="0600")
    assert preview["changed"] is True and stat.S_IMODE(host.conf.stat().st_mode) == 0o644
    assert preview["diff"] == [{"before": {"mode": "0644"}, "after": {"mode": "0600"},
                                "before_header": "%s (file attributes)" % host.conf,
                                "after_header": "%s (file attributes)" % host.conf}]
    real = run(host, name="vm.swappiness", value=5, mode="0600")
    assert real["changed"] is True and stat.S_IMODE(host.conf.stat().st_mode) == 0o600
    assert host.conf.read_bytes() == content
    assert run(host, check=True, name="vm.swappiness", value=5, mode="0600")["changed"] is False


def test_check_mode_of_a_first_write_with_a_mode_creates_nothing(host: Host) -> None:
    preview = run(host, check=True, name="vm.swappiness", value=5, mode="0600")
    assert preview["changed"] is True and not host.conf.exists()


def test_guarded_change_applied_twice_is_ok_and_unchanged_the_second_time(host: Host) -> None:
    first = run(host, name="vm.swappiness", value=5, current_value=60)
    assert first["changed"] is True and host.runtime("vm.swappiness") == "5\n"
    written = host.conf.read_bytes()
    second = run(host, name="vm.swappiness", value=5, current_value=60)
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False and second["tool_result"]["changes"] == []
    assert host.runtime("vm.swappiness") == "5\n" and host.conf.read_bytes() == written


def test_guard_on_an_applied_runtime_still_persists_a_missing_file_line(host: Host) -> None:
    host.set_runtime("vm.swappiness", "5")
    result = run(host, name="vm.swappiness", value=5, current_value=60)
    assert not result.get("failed") and result["changed"] is True
    assert result["runtime_value"] == "5" and host.conf.read_bytes() == b"vm.swappiness = 5\n"


@pytest.mark.parametrize("file_name", ["../99-x.conf", "99-x.txt", ".hidden.conf"])
def test_sysctl_file_must_be_a_conf_name(host: Host, file_name: str) -> None:
    result = run(host, name="vm.swappiness", value=5, sysctl_file=file_name)
    assert result["failed"] and result["msg"].startswith("sysctl_file: ")
    assert host.runtime("vm.swappiness") == "60\n"


def test_recommendations_warn_only_when_changing(host: Host) -> None:
    result = run(host, name="vm.dirty_ratio", value=30)
    assert result["recommendations"] == ["vm.dirty_ratio=30 is above the 10 recommended for IRIS hosts"]
    assert warning_texts(result) == result["recommendations"]
    again = run(host, name="vm.dirty_ratio", value=30)
    assert again["recommendations"] and warning_texts(again) == []
    assert run(host, name="vm.dirty_ratio", value=10)["recommendations"] == []


def test_transparent_huge_pages_are_reported_for_huge_pages(host: Host) -> None:
    result = run(host, check=True, name="vm.nr_hugepages", value=64)
    assert result["recommendations"] == ["transparent huge pages are 'madvise'; 'never' is recommended for IRIS hosts "
                                         "(transparent_hugepage=never on the kernel command line)"]
    (host.root / "sys" / "kernel" / "mm" / "transparent_hugepage" / "enabled").write_text("always madvise [never]\n")
    assert run(host, check=True, name="vm.nr_hugepages", value=64)["recommendations"] == []


def test_later_files_that_win_at_boot_are_reported(host: Host) -> None:
    (host.sysctl_dir / "99-zz-local.conf").write_text("vm.swappiness = 30\n")
    result = run(host, name="vm.swappiness", value=5)
    assert result["overridden_by"] == [str(host.sysctl_dir / "99-zz-local.conf")]


def test_persist_failure_restores_runtime(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    # The disk fills up between the runtime write and the temp file (root ignores permissions, so ENOSPC it is).
    def disk_full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sysctl.tempfile, "mkstemp", disk_full)
    result = run(host, name="vm.swappiness", value=5)
    assert result["failed"]
    assert "cannot write in %s: No space left on device" % host.sysctl_dir in result["msg"]
    assert "runtime value restored to '60'" in result["msg"]
    assert host.runtime("vm.swappiness") == "60\n"


def test_read_back_mismatch_when_the_file_ignores_writes(host: Host) -> None:
    # /dev/null accepts every write and keeps nothing: a real file that ignores writes (the real-kernel
    # truncation case is in tests/integration/test_kernel_param_kernel.py).
    host.path("vm.swappiness").unlink()
    host.path("vm.swappiness").symlink_to("/dev/null")
    result = run(host, name="vm.swappiness", value=5)
    assert result["failed"] and result["msg"] == (
        "read-back mismatch for %s: wrote '5' but the kernel reports ''; runtime value restored to ''" % host.path("vm.swappiness"))
    assert result["tool_result"]["status"] == "failure" and not host.conf.exists()


def test_read_back_mismatch_hint_for_huge_pages(host: Host) -> None:
    host.path("vm.nr_hugepages").unlink()
    host.path("vm.nr_hugepages").symlink_to("/dev/null")
    result = run(host, name="vm.nr_hugepages", value=64, persist=False)
    assert result["failed"] and "the kernel could not reserve them all" in result["msg"]


@pytest.mark.parametrize("option", ["owner", "group"])
def test_unknown_file_owner_is_refused_before_any_change(host: Host, option: str) -> None:
    result = run(host, name="vm.swappiness", value=5, **{option: "no-such-kernel-param-user"})
    assert result["failed"] and result["msg"] == "%s: 'no-such-kernel-param-user' does not exist on this host; nothing changed" % option
    assert host.runtime("vm.swappiness") == "60\n" and not host.conf.exists()
    assert run(host, name="vm.swappiness", value=5, **{option: "root"})["changed"] is True
