# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf where Ansible's file handling runs lsattr/chattr (processes): backups and an immutable CPF
(the rest of the module in-process: tests/unit/plugins/modules/test_cpf.py)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from ansible_collections.irisops.iris.plugins.modules import cpf as cpf_module
from tests.support.in_process import run_module


def run(args: Dict[str, Any], check_mode: bool = False, diff: bool = False) -> Dict[str, Any]:
    return run_module(cpf_module, args, check_mode=check_mode, diff=diff)


def test_backup_is_taken_only_when_something_changes(cpf: Path) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section="config", parameter="gmheap", value="65536", backup=True))
    assert Path(result["backup_file"]).read_bytes() == before
    again = run(dict(path=str(cpf), section="config", parameter="gmheap", value="65536", backup=True))
    assert "backup_file" not in again


@pytest.fixture
def immutable_cpf(cpf: Path) -> Iterator[Path]:
    chattr = subprocess.run(["chattr", "+i", str(cpf)], capture_output=True, check=False) if shutil.which("chattr") else None
    if chattr is None or chattr.returncode:
        pytest.skip("chattr +i is not supported here (needs root and ext4/xfs/btrfs)")
    try:
        yield cpf
    finally:
        subprocess.run(["chattr", "-i", str(cpf)], check=True)


@pytest.mark.parametrize("unsafe_writes", [False, True])
def test_immutable_file_fails_cleanly_and_stays_untouched(immutable_cpf: Path, unsafe_writes: bool) -> None:
    digest = hashlib.sha256(immutable_cpf.read_bytes()).hexdigest()
    result = run(dict(path=str(immutable_cpf), section="config", parameter="gmheap", value="307200",
                      unsafe_writes=unsafe_writes))
    assert result["failed"] is True and "exception" not in result
    assert result["msg"].startswith("%s: cannot replace the file: " % immutable_cpf)
    assert "Operation not permitted" in result["msg"] and result["msg"].endswith("; nothing was changed")
    assert result["tool_result"]["status"] == "failure" and result["changed"] is False
    assert hashlib.sha256(immutable_cpf.read_bytes()).hexdigest() == digest
    assert sorted(path.name for path in immutable_cpf.parent.iterdir()) == ["iris.cpf"]
