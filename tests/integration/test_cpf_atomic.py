# SPDX-License-Identifier: GPL-3.0-or-later
"""Atomicity of irisops.iris.cpf writes under real crashes (SIGKILL of a writing process) and rollback."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument, CpfError, replace_file_verified

TESTS = Path(__file__).resolve().parents[1]
COLLECTIONS_ROOT = TESTS.parent / "build" / "collections"
RCEMPER = TESTS / "fixtures" / "cpf" / "rcemper-CrossECP-IRIS__iris.cpf"
# Runs the module in-process; argv: cpf path, then "crash-at-rename" or "loop".
WRITER = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [%(collections)r, %(repo)r]
    from tests.support.in_process import run_module
    from ansible_collections.irisops.iris.plugins.modules import cpf as cpf_module
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "crash-at-rename":
        # The temp file is written and fsynced; die exactly where the rename would happen.
        os.rename = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
        run_module(cpf_module, dict(path=path, section="config", parameter="gmheap", value="307200"))
    else:
        for round in range(100000):
            value = "307200" if round %% 2 else "65536"
            run_module(cpf_module, dict(path=path, section="config", parameter="gmheap", value=value))
            if round == 0:
                print("written", flush=True)
""") % dict(collections=str(COLLECTIONS_ROOT), repo=str(TESTS.parent))


def versions(original: bytes) -> List[bytes]:
    return [original.replace(b"gmheap=37568", b"gmheap=" + value) for value in (b"37568", b"65536", b"307200")]


@pytest.fixture
def cpf(tmp_path: Path) -> Path:
    target = tmp_path / "iris.cpf"
    shutil.copyfile(RCEMPER, target)
    return target


def test_crash_between_temp_write_and_rename_leaves_the_old_file(cpf: Path) -> None:
    original = cpf.read_bytes()
    result = subprocess.run([sys.executable, "-c", WRITER, str(cpf), "crash-at-rename"], capture_output=True,
                            timeout=120, check=False)
    assert result.returncode == -9, result.stderr.decode()
    assert cpf.read_bytes() == original
    leftovers = [path.name for path in cpf.parent.iterdir() if path.name != "iris.cpf"]
    # The fsynced temp file is left beside it, complete, and is never taken for the CPF.
    assert len(leftovers) == 1 and leftovers[0].startswith(".iris.cpf.") and leftovers[0].endswith(".tmp")
    assert (cpf.parent / leftovers[0]).read_bytes() == versions(original)[2]


@pytest.mark.slow
def test_killing_a_writer_at_random_moments_never_tears_the_file(cpf: Path) -> None:
    original = cpf.read_bytes()
    allowed = versions(original)
    chooser = random.Random(5)
    for _attempt in range(8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(cpf), "loop"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"written\n", writer.stderr.read() if writer.stderr else b""
        try:
            writer.wait(timeout=chooser.uniform(0.0, 0.3))
        except subprocess.TimeoutExpired:
            writer.kill()
        writer.communicate()
        assert writer.returncode == -9
        assert cpf.read_bytes() in allowed
        CpfDocument.parse(cpf.read_bytes()).get("config", "gmheap")


def test_failed_verification_restores_the_previous_content(cpf: Path) -> None:
    original = cpf.read_bytes()
    updated = original.replace(b"gmheap=37568", b"gmheap=65536")
    seen: List[bytes] = []

    def verify(written: bytes) -> None:
        seen.append(written)
        raise CpfError("read-back disagreed")

    with pytest.raises(CpfError, match="read-back disagreed"):
        replace_file_verified(str(cpf), original, updated, lambda src, dst: Path(src).replace(dst), verify)
    assert seen == [updated]
    assert cpf.read_bytes() == original
    assert [path.name for path in cpf.parent.iterdir()] == ["iris.cpf"]
