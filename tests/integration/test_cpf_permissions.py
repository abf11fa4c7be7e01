# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf against genuine EACCES: a read-only CPF directory, with and without unsafe_writes.

The module runs as its own process without root's permission bypass (module_process.py), so the
kernel refuses new files in a 0555 directory exactly as it would for a non-root user.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from tests.support.module_process import run_module_process, unprivileged_wrapper

RCEMPER = Path(__file__).resolve().parents[1] / "fixtures" / "cpf" / "rcemper-CrossECP-IRIS__iris.cpf"
GMHEAP = dict(section="config", parameter="gmheap", value="307200")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """iris.cpf (0644, writable by its owner) in a 0555 directory; the module's own temp dir stays writable."""
    directory = tmp_path / "mgr"
    directory.mkdir()
    cpf = directory / "iris.cpf"
    shutil.copyfile(RCEMPER, cpf)
    cpf.chmod(0o644)
    directory.chmod(0o555)
    try:
        yield cpf
    finally:
        directory.chmod(0o755)


def run(tmp_path: Path, args: Dict[str, Any]) -> Dict[str, Any]:
    return run_module_process(tmp_path, "cpf", args, unprivileged_wrapper())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_only_directory_fails_cleanly_and_the_cpf_is_untouched(read_only_dir: Path, tmp_path: Path) -> None:
    before = digest(read_only_dir)
    result = run(tmp_path, dict(path=str(read_only_dir), **GMHEAP))
    assert result["failed"] is True and "exception" not in result
    assert result["msg"].startswith("%s: cannot replace the file: " % read_only_dir)
    assert "Permission denied" in result["msg"] and result["msg"].endswith("; nothing was changed")
    assert result["tool_result"]["status"] == "failure"
    assert digest(read_only_dir) == before and [path.name for path in read_only_dir.parent.iterdir()] == ["iris.cpf"]


def test_backup_into_a_read_only_directory_fails_cleanly(read_only_dir: Path, tmp_path: Path) -> None:
    before = digest(read_only_dir)
    result = run(tmp_path, dict(path=str(read_only_dir), backup=True, unsafe_writes=True, **GMHEAP))
    assert result["failed"] is True and "exception" not in result
    assert result["msg"].startswith("%s: cannot keep a backup copy: Could not make backup of " % read_only_dir)
    assert "Permission denied" in result["msg"] and result["msg"].endswith("; nothing was changed")
    assert digest(read_only_dir) == before


def test_unsafe_writes_updates_the_file_in_place(read_only_dir: Path, tmp_path: Path) -> None:
    original = read_only_dir.read_bytes()
    inode = read_only_dir.stat().st_ino
    result = run(tmp_path, dict(path=str(read_only_dir), unsafe_writes=True, **GMHEAP))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    # Written through the existing inode (a rename is impossible in this directory), byte-exact otherwise.
    assert read_only_dir.stat().st_ino == inode
    assert read_only_dir.read_bytes() == original.replace(b"gmheap=37568\r\n", b"gmheap=307200\r\n")
    assert [path.name for path in read_only_dir.parent.iterdir()] == ["iris.cpf"]
    again = run(tmp_path, dict(path=str(read_only_dir), unsafe_writes=True, **GMHEAP))
    assert not again.get("failed") and again["changed"] is False
