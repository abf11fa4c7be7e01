# SPDX-License-Identifier: GPL-3.0-or-later
"""kernel_param where the kernel itself answers: real /proc/sys (check mode only), real permission
denials and a real read-back mismatch, plus a playbook run (check, apply, check, apply).

How the privileged cases are made real while the tests run as root:
- Permission denied: root ignores file modes only through CAP_DAC_OVERRIDE (and CAP_DAC_READ_SEARCH,
  CAP_FOWNER). The module runs as its own process, the way Ansible runs it (``python -m <module> <args file>``),
  under ``setpriv --bounding-set -dac_override,-dac_read_search,-fowner``: still uid 0, but a chmod 0444 file
  or a 0555 directory now refuses writes with a genuine EACCES from the kernel.
- Read-back mismatch: the module runs in a private UTS namespace (``unshare --uts``) and sets
  ``kernel.hostname`` to 80 characters through the real /proc/sys. The kernel accepts the write and silently
  keeps 64 characters, the same kind of partial acceptance as a vm.nr_hugepages the kernel cannot fully
  reserve. The namespace dies with the process; the machine's hostname is never touched.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Sequence

import pytest

from ansible_collections.irisops.iris.plugins.modules import kernel_param
from tests.support.in_process import run_module
from tests.support import module_process
from tests.support.module_process import unprivileged_wrapper

PRIVATE_UTS_NAMESPACE = ["unshare", "--uts"]
ROOT_HINT = "changing kernel parameters needs root or CAP_SYS_ADMIN (use become: true)"


def run_module_process(tmp_path: Path, args: Dict[str, Any], wrapper: Sequence[str] = ()) -> Dict[str, Any]:
    return module_process.run_module_process(tmp_path, "kernel_param", args, wrapper)


def make_proc(root: Path, name: str, value: str) -> Path:
    path = root.joinpath("proc", "sys", *name.split("."))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")
    return path


def test_read_only_runtime_file_fails_with_root_hint_and_changes_nothing(tmp_path: Path) -> None:
    proc_file = make_proc(tmp_path, "vm.swappiness", "60")
    proc_file.chmod(0o444)
    sysctl_dir = tmp_path / "sysctl.d"
    sysctl_dir.mkdir()
    result = run_module_process(tmp_path, {"name": "vm.swappiness", "value": 5, "proc_root": str(tmp_path / "proc" / "sys"),
                                           "sysctl_dir": str(sysctl_dir)}, unprivileged_wrapper())
    assert result["failed"] is True
    assert result["msg"] == "cannot write %s: Permission denied; %s" % (proc_file, ROOT_HINT)
    assert result["tool_result"]["status"] == "failure" and result["tool_result"]["requires_user_action"] is True
    assert proc_file.read_text() == "60\n" and list(sysctl_dir.iterdir()) == []


def test_read_only_sysctl_dir_restores_the_runtime_value(tmp_path: Path) -> None:
    proc_file = make_proc(tmp_path, "vm.swappiness", "60")
    sysctl_dir = tmp_path / "sysctl.d"
    sysctl_dir.mkdir()
    conf = sysctl_dir / "99-irisops-iris.conf"
    original = b"# owned by the platform team\nvm.swappiness = 60\n"
    conf.write_bytes(original)
    conf.chmod(0o444)
    sysctl_dir.chmod(0o555)
    try:
        result = run_module_process(tmp_path, {"name": "vm.swappiness", "value": 5,
                                               "proc_root": str(tmp_path / "proc" / "sys"),
                                               "sysctl_dir": str(sysctl_dir)}, unprivileged_wrapper())
    finally:
        sysctl_dir.chmod(0o755)
    assert result["failed"] is True
    assert result["msg"] == ("cannot write in %s: Permission denied; %s; file left as it was, runtime value restored to '60'"
                             % (sysctl_dir, ROOT_HINT))
    assert proc_file.read_text() == "60\n" and conf.read_bytes() == original
    assert sorted(p.name for p in sysctl_dir.iterdir()) == ["99-irisops-iris.conf"]  # no temp file left


def test_read_back_mismatch_from_the_real_kernel_restores_and_reports_both_values(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(PRIVATE_UTS_NAMESPACE + ["true"], capture_output=True, check=False).returncode:
        pytest.skip("no permission to create a private UTS namespace here")
    hostname = socket.gethostname()
    wanted = "x" * 80
    result = run_module_process(tmp_path, {"name": "kernel.hostname", "value": wanted, "persist": False},
                                PRIVATE_UTS_NAMESPACE)
    assert result["failed"] is True
    assert result["msg"] == ("read-back mismatch for /proc/sys/kernel/hostname: wrote %r but the kernel reports %r; "
                             "runtime value restored to %r" % (wanted, "x" * 64, hostname))
    assert result["tool_result"]["status"] == "failure" and result["tool_result"]["changes"] == []
    assert socket.gethostname() == hostname


REAL_PARAMETERS = ["vm.swappiness", "vm.nr_hugepages", "kernel.shmmax", "vm.dirty_ratio"]


def snapshot(paths: Sequence[Path]) -> Dict[str, bytes]:
    return {str(path): path.read_bytes() for path in paths if path.is_file()}


@pytest.mark.parametrize("name", REAL_PARAMETERS)
def test_real_proc_sys_in_check_mode_reads_and_never_writes(name: str) -> None:
    proc_file = Path("/proc/sys", *name.split("."))
    sysctl_dir = Path("/etc/sysctl.d")
    watched = [proc_file] + (sorted(sysctl_dir.iterdir()) if sysctl_dir.is_dir() else [])
    before = snapshot(watched)
    current = proc_file.read_text().strip()

    other = run_module(kernel_param, {"name": name, "value": str(int(current) + 1)}, check_mode=True, diff=True)
    same = run_module(kernel_param, {"name": name, "value": current, "persist": False}, check_mode=True)

    assert other["changed"] is True and other["runtime_value_before"] == current
    assert other["diff"][0] == {"before_header": "%s (runtime)" % proc_file, "after_header": "%s (runtime)" % proc_file,
                                "before": current + "\n", "after": "%d\n" % (int(current) + 1)}
    assert other["tool_result"]["dry_run"] is True
    assert same["changed"] is False and same["runtime_value"] == current
    assert snapshot(watched) == before
    if sysctl_dir.is_dir():
        assert sorted(sysctl_dir.iterdir()) == watched[1:]


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    args: &args
      name: vm.nr_hugepages
      value: 168
      proc_root: "{proc_root}"
      sysctl_dir: "{sysctl_dir}"
  tasks:
    - {{name: preview, irisops.iris.kernel_param: *args, check_mode: true, register: preview}}
    - {{name: apply, irisops.iris.kernel_param: *args, register: applied}}
    - {{name: preview again, irisops.iris.kernel_param: *args, check_mode: true, register: preview_again}}
    - {{name: apply again, irisops.iris.kernel_param: *args, register: applied_again}}
    - ansible.builtin.assert:
        that:
          - preview is changed and applied is changed
          - preview_again is not changed and applied_again is not changed
          - preview.tool_result.dry_run and not applied.tool_result.dry_run
          - applied.runtime_value == '168' and applied.persisted_value == '168'
          - applied.tool_result.changes | length == 2 and applied_again.tool_result.changes == []
"""


@pytest.mark.slow
def test_playbook_check_apply_check_apply(tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    proc_file = make_proc(tmp_path, "vm.nr_hugepages", "0")
    sysctl_dir = tmp_path / "sysctl.d"
    sysctl_dir.mkdir()
    conf = sysctl_dir / "99-irisops-iris.conf"
    conf.write_bytes(b"# hand-written\r\nvm.swappiness=5\r\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(proc_root=tmp_path / "proc" / "sys", sysctl_dir=sysctl_dir))
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", "--diff",
         "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)],
        capture_output=True, text=True, env=ansible_env, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "(runtime)" in completed.stdout and "+vm.nr_hugepages=168" in completed.stdout
    assert proc_file.read_text() == "168\n"
    assert conf.read_bytes() == b"# hand-written\r\nvm.swappiness=5\r\nvm.nr_hugepages=168\r\n"
