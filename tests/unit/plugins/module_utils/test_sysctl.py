# SPDX-License-Identifier: GPL-3.0-or-later
"""sysctl.py: name validation, runtime access on real files, and the line-preserving sysctl.d editor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import sysctl


@pytest.mark.parametrize("name", ["vm.nr_hugepages", "kernel.shmmax", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.eth-0.x"])
def test_valid_names_are_accepted(name: str) -> None:
    sysctl.validate_name(name)


@pytest.mark.parametrize("name", [
    "vm", "../etc/passwd", "vm/../../etc/shadow", "vm..swappiness", "/proc/sys/vm/swappiness", "vm.swappiness; rm -rf /",
    "vm.swappiness\n", "VM.Swappiness", "vm.swap piness", "vm.*", "vm.$(id)", ".vm.swappiness", "vm.swappiness.",
])
def test_injection_attempts_in_name_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="^name: "):
        sysctl.validate_name(name)


def test_proc_path_maps_dots_to_directories(tmp_path: Path) -> None:
    assert sysctl.proc_path(str(tmp_path), "vm.nr_hugepages") == str(tmp_path / "vm" / "nr_hugepages")


@pytest.mark.parametrize("left, right, equal", [
    ("250\t32000\t32\t128", "250 32000 32 128", True),
    ("010", "10", True),
    ("5", " 5 ", True),
    ("5", "6", False),
    ("madvise", "never", False),
    (None, None, True),
    (None, "1", False),
])
def test_values_compare_like_the_kernel(left: str, right: str, equal: bool) -> None:
    assert sysctl.values_equal(left, right) is equal


@pytest.mark.parametrize("value", ["", "   ", "1\n2", "a\x00b"])
def test_bad_values_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(ValueError, match="^value: "):
        sysctl.validate_value("value", value)


def test_as_integer_names_field() -> None:
    assert sysctl.as_integer("value", " 42 ") == 42
    with pytest.raises(ValueError, match="value: 'x' is not an integer"):
        sysctl.as_integer("value", "x")


def test_runtime_read_write_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "swappiness"
    path.write_text("60\n")
    assert sysctl.read_runtime(str(path)) == "60"
    sysctl.write_runtime(str(path), "5")
    assert path.read_bytes() == b"5\n"


def test_runtime_errors_name_path_and_reason(tmp_path: Path) -> None:
    with pytest.raises(sysctl.SysctlError, match="no such kernel parameter"):
        sysctl.read_runtime(str(tmp_path / "missing"))
    with pytest.raises(sysctl.SysctlError, match="is a directory"):
        sysctl.read_runtime(str(tmp_path))
    with pytest.raises(sysctl.SysctlError, match="is a directory"):
        sysctl.write_runtime(str(tmp_path), "1")


def test_kernel_rejection_is_reported_as_invalid_value() -> None:
    # /dev/full refuses every write with ENOSPC: a real device, a real error path.
    with pytest.raises(sysctl.SysctlError, match="cannot write /dev/full"):
        sysctl.write_runtime("/dev/full", "1")


SAMPLE = (b"# IRIS host tuning\r\n"
          b"vm.swappiness=10\r\n"
          b"; old setting kept for reference\r\n"
          b"# vm.nr_hugepages = 99\r\n"
          b"kernel.shmmax = 1024\r\n"
          b"-net.ipv4.unknown_key = 1\r\n"
          b"kernel/shmmax   =   2048   \r\n")


def test_unedited_file_renders_byte_identical() -> None:
    for data in (SAMPLE, b"", b"a=1", b"\xef\xbb\xbfvm.swappiness = 5\n", b"bad line\n\n  \n", b"k=\xff\xfe\n"):
        assert sysctl.SysctlFile(data).render() == data


def test_last_assignment_wins_and_slash_keys_count() -> None:
    document = sysctl.SysctlFile(SAMPLE)
    assert document.get("kernel.shmmax") == "2048"
    assert document.duplicates("kernel.shmmax") == 1
    assert document.get("net.ipv4.unknown_key") == "1"
    assert document.get("vm.nr_hugepages") is None  # commented out stays commented out


def test_set_edits_only_the_effective_line_in_its_style() -> None:
    document = sysctl.SysctlFile(SAMPLE)
    document.set("kernel.shmmax", "4096")
    expected = SAMPLE.replace(b"kernel/shmmax   =   2048   \r\n", b"kernel/shmmax   =   4096   \r\n")
    assert document.render() == expected
    document = sysctl.SysctlFile(SAMPLE)
    document.set("vm.swappiness", "5")
    assert document.render() == SAMPLE.replace(b"vm.swappiness=10\r\n", b"vm.swappiness=5\r\n")


def test_set_equal_value_keeps_bytes() -> None:
    document = sysctl.SysctlFile(b"kernel.sem = 250\t32000\t32\t128\n")
    document.set("kernel.sem", "250 32000 32 128")
    assert document.render() == b"kernel.sem = 250\t32000\t32\t128\n"


def test_set_does_not_activate_commented_key() -> None:
    document = sysctl.SysctlFile(SAMPLE)
    document.set("vm.nr_hugepages", "168")
    rendered = document.render()
    assert rendered.startswith(SAMPLE)
    # New line copies the style (separator, CRLF) of the file.
    assert rendered[len(SAMPLE):] == b"kernel/shmmax   =   168\r\n".replace(b"kernel/shmmax", b"vm.nr_hugepages")


def test_append_keeps_missing_final_newline_style() -> None:
    document = sysctl.SysctlFile(b"# tuning\nvm.swappiness=5")
    document.set("vm.dirty_ratio", "10")
    assert document.render() == b"# tuning\nvm.swappiness=5\nvm.dirty_ratio=10"


def test_append_to_empty_file_uses_default_style() -> None:
    document = sysctl.SysctlFile(b"")
    document.set("vm.swappiness", "5")
    assert document.render() == b"vm.swappiness = 5\n"


def test_bom_is_kept_and_first_key_found() -> None:
    document = sysctl.SysctlFile(b"\xef\xbb\xbfvm.swappiness = 60\n")
    assert document.get("vm.swappiness") == "60"
    document.set("vm.swappiness", "5")
    assert document.render() == b"\xef\xbb\xbfvm.swappiness = 5\n"


def test_set_validates_name_and_value() -> None:
    document = sysctl.SysctlFile(b"")
    with pytest.raises(ValueError, match="^name: "):
        document.set("../x", "1")
    with pytest.raises(ValueError, match="^value: "):
        document.set("vm.swappiness", "1\nkernel.x=2")
    assert document.render() == b""


def test_read_file_absent_is_none(tmp_path: Path) -> None:
    assert sysctl.read_file(str(tmp_path / "absent.conf")) is None
    with pytest.raises(sysctl.SysctlError, match="is a directory"):
        sysctl.read_file(str(tmp_path))


def test_write_temp_beside_writes_in_same_directory(tmp_path: Path) -> None:
    target = tmp_path / "99-x.conf"
    temp = sysctl.write_temp_beside(str(target), b"vm.swappiness = 5\n")
    assert os.path.dirname(temp) == str(tmp_path)
    assert Path(temp).read_bytes() == b"vm.swappiness = 5\n"
    with pytest.raises(sysctl.SysctlError, match="cannot write in"):
        sysctl.write_temp_beside(str(tmp_path / "missing-dir" / "x.conf"), b"")


def test_later_definitions_lists_files_that_win_at_boot(tmp_path: Path) -> None:
    (tmp_path / "10-early.conf").write_text("vm.swappiness = 1\n")
    (tmp_path / "99-irisops-iris.conf").write_text("vm.swappiness = 5\n")
    (tmp_path / "99-z-late.conf").write_text("# vm.swappiness = 9\nvm.swappiness = 30\n")
    (tmp_path / "99-zz-other.conf").write_text("vm.dirty_ratio = 10\n")
    (tmp_path / "99-zzz-notconf.txt").write_text("vm.swappiness = 30\n")
    (tmp_path / "99-zzzz.conf").mkdir()
    assert sysctl.later_definitions(str(tmp_path), "99-irisops-iris.conf", "vm.swappiness") == [str(tmp_path / "99-z-late.conf")]
    assert sysctl.later_definitions(str(tmp_path / "absent"), "99-irisops-iris.conf", "vm.swappiness") == []
