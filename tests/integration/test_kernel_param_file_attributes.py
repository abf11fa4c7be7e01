# SPDX-License-Identifier: GPL-3.0-or-later
"""kernel_param where Ansible's file handling runs lsattr/chattr (processes): backups and an immutable sysctl file,
on temp roots laid out like a host's / (tests/support/sysctl_host.py); the rest of kernel_param runs in-process in
tests/unit/plugins/modules/test_kernel_param.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.irisops.iris.plugins.modules import kernel_param
from tests.support.in_process import run_module
from tests.support.sysctl_host import CONF, Host


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def run(host: Host, check: bool = False, diff: bool = False, **options: Any) -> Dict[str, Any]:
    return run_module(kernel_param, host.args(**options), check_mode=check, diff=diff)


def test_backup_only_when_changed(host: Host) -> None:
    host.conf.write_bytes(b"# mine\nvm.swappiness = 60\n")
    result = run(host, name="vm.swappiness", value=5, backup=True)
    assert Path(result["backup_file"]).read_bytes() == b"# mine\nvm.swappiness = 60\n"
    assert "backup_file" not in run(host, name="vm.swappiness", value=5, backup=True)


def test_immutable_sysctl_file_fails_cleanly_and_restores_the_runtime_value(host: Host) -> None:
    host.conf.write_bytes(b"vm.swappiness = 60\n")
    chattr = subprocess.run(["chattr", "+i", str(host.conf)], capture_output=True, check=False) \
        if shutil.which("chattr") else None
    if chattr is None or chattr.returncode:
        pytest.skip("chattr +i is not supported here (needs root and ext4/xfs/btrfs)")
    try:
        result = run(host, name="vm.swappiness", value=5)
    finally:
        subprocess.run(["chattr", "-i", str(host.conf)], check=True)
    assert result["failed"] is True and "exception" not in result
    assert result["msg"].startswith("cannot replace %s: " % host.conf) and "Operation not permitted" in result["msg"]
    assert result["msg"].endswith("; file left as it was, runtime value restored to '60'")
    assert host.runtime("vm.swappiness") == "60\n" and host.conf.read_bytes() == b"vm.swappiness = 60\n"
    assert sorted(path.name for path in host.sysctl_dir.iterdir()) == [CONF]
