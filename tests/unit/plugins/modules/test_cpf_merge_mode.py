# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf apply=merge: argument rules checked before anything runs (the merge itself: tests/integration/test_cpf_merge_emulator.py)."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.irisops.iris.plugins.modules import cpf as cpf_module
from tests.support.in_process import run_module


def test_merge_needs_an_instance(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_bytes(b"[SQL]\nLockThreshold=1000\n")
    result = run_module(cpf_module, dict(path=str(path), apply="merge", section="SQL", parameter="LockThreshold",
                                         value="5000"))
    assert result["failed"] is True and "apply is merge" in result["msg"] and "instance" in result["msg"], result
    assert path.read_bytes() == b"[SQL]\nLockThreshold=1000\n"


def test_file_mode_still_refuses_actions_and_names_the_merge_mode(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_bytes(b"[SQL]\nLockThreshold=1000\n")
    merge = tmp_path / "merge.cpf"
    merge.write_bytes(b"[Actions]\nCreateDatabase:Name=APPA,Directory=/data/APPA\n")
    result = run_module(cpf_module, dict(path=str(path), merge_file=str(merge)))
    assert result["failed"] is True and "apply: merge" in result["msg"], result
