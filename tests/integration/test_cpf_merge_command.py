# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/cpf_merge.run_merge against a control command run as a process (the recorded emulator's answers:
tests/unit/plugins/module_utils/test_cpf_merge.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import cpf_merge
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl


def run_command(args: Any, environ_update: Any = None) -> Tuple[int, str, str]:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def fake_iris(tmp_path: Path, body: str) -> IrisControl:
    script = tmp_path / "iris"
    script.write_text("#!/bin/sh\n%s\n" % body)
    script.chmod(0o755)
    return IrisControl(str(script), run_command)


def test_run_merge_needs_the_success_line_and_rc_zero(tmp_path: Path) -> None:
    cpf_merge.run_merge(fake_iris(tmp_path, 'echo "IRIS Merge completed successfully"'), "IRIS", "/m.cpf")
    with pytest.raises(cpf_merge.MergeError, match="rc=1"):
        cpf_merge.run_merge(fake_iris(tmp_path, 'echo "bad path" >&2; exit 1'), "IRIS", "/m.cpf")
    with pytest.raises(cpf_merge.MergeError, match="no output"):
        cpf_merge.run_merge(fake_iris(tmp_path, "exit 0"), "IRIS", "/m.cpf")
