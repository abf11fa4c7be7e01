# SPDX-License-Identifier: GPL-3.0-or-later
"""sysctl.py: name validation, runtime access on real files, and the line-preserving sysctl.d editor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import sysctl
from tests.support.sysctl_host import Host


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


def test_verified_write_keeps_a_value_the_kernel_took(tmp_path: Path) -> None:
    path = tmp_path / "swappiness"
    path.write_text("60\n")
    sysctl.write_runtime_verified(str(path), "5", "60")
    assert path.read_bytes() == b"5\n"


def test_verified_write_that_reads_back_differently_restores_and_says_so(tmp_path: Path) -> None:
    # /dev/null accepts every write and keeps nothing: a real file that ignores writes.
    path = tmp_path / "ignores-writes"
    path.symlink_to("/dev/null")
    with pytest.raises(sysctl.SysctlError) as raised:
        sysctl.write_runtime_verified(str(path), "5", "60", " (why)")
    assert str(raised.value) == "read-back mismatch for %s: wrote '5' but the kernel reports '' (why); runtime value restored to '60'" % path


def test_restore_runtime_reports_what_it_did(tmp_path: Path) -> None:
    path = tmp_path / "swappiness"
    path.write_text("5\n")
    assert sysctl.restore_runtime(str(path), None) == "runtime value left as the kernel reports it"
    assert path.read_bytes() == b"5\n"
    assert sysctl.restore_runtime(str(path), "60") == "runtime value restored to '60'"
    assert path.read_bytes() == b"60\n"
    assert sysctl.restore_runtime(str(tmp_path), "60") == (
        "restoring the runtime value '60' failed too: cannot write %s: is a directory, not a kernel parameter; "
        "name a leaf like 'vm.swappiness'" % tmp_path)


def test_hugepage_size_from_meminfo(tmp_path: Path) -> None:
    host = Host(tmp_path)
    assert sysctl.hugepage_size_kb(str(host.proc_sys)) == 2048
    (host.root / "proc" / "meminfo").write_text("Hugepagesize:    1048576 kB\n")
    assert sysctl.hugepage_size_kb(str(host.proc_sys)) == 1048576
    assert sysctl.hugepage_size_kb(str(host.root / "nowhere" / "sys")) == sysctl.DEFAULT_HUGEPAGE_KB
    (host.root / "proc" / "meminfo").write_text("Hugepagesize:\n")
    assert sysctl.hugepage_size_kb(str(host.proc_sys)) == sysctl.DEFAULT_HUGEPAGE_KB


def test_transparent_hugepages_mode_beside_the_proc_root(tmp_path: Path) -> None:
    host = Host(tmp_path)
    enabled = host.root / "sys" / "kernel" / "mm" / "transparent_hugepage" / "enabled"
    assert sysctl.transparent_hugepages(str(host.proc_sys)) == "madvise"
    enabled.write_text("always madvise [never]\n")
    assert sysctl.transparent_hugepages(str(host.proc_sys)) == "never"
    enabled.write_text("always madvise never\n")
    assert sysctl.transparent_hugepages(str(host.proc_sys)) is None
    enabled.unlink()
    assert sysctl.transparent_hugepages(str(host.proc_sys)) is None


def copy_aside(path: str) -> str:
    backup = path + ".bak"
    Path(backup).write_bytes(Path(path).read_bytes())
    return backup


def test_replace_file_replaces_a_symlinks_target_and_backs_it_up(tmp_path: Path) -> None:
    real = tmp_path / "managed.conf"
    real.write_bytes(b"vm.swappiness = 60\n")
    link = tmp_path / "99-irisops-iris.conf"
    link.symlink_to(real)
    backup = sysctl.replace_file(str(link), b"vm.swappiness = 5\n", os.replace, copy_aside)
    assert backup == str(real) + ".bak" and Path(backup).read_bytes() == b"vm.swappiness = 60\n"
    assert link.is_symlink() and real.read_bytes() == b"vm.swappiness = 5\n"
    assert sysctl.replace_file(str(link), b"vm.swappiness = 1\n", os.replace) is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["99-irisops-iris.conf", "managed.conf", "managed.conf.bak"]


def test_replace_file_that_cannot_be_moved_leaves_no_temp_file(tmp_path: Path) -> None:
    # A directory where the file should be: the rename fails with the kernel's EISDIR.
    (tmp_path / "99-irisops-iris.conf" / "x").mkdir(parents=True)
    with pytest.raises(sysctl.SysctlError, match="^cannot replace %s: .*Is a directory" % (tmp_path / "99-irisops-iris.conf")):
        sysctl.replace_file(str(tmp_path / "99-irisops-iris.conf"), b"vm.swappiness = 5\n", os.replace)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["99-irisops-iris.conf"]
