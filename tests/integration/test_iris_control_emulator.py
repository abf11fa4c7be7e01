# SPDX-License-Identifier: GPL-3.0-or-later
"""IrisControl against real emulated instances: the control command run as a process (recorded for the unit tests in
tests/unit/plugins/module_utils/test_iris_control.py)."""

from __future__ import annotations

import os
import subprocess
from typing import Dict, List, Optional, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl, IrisControlError
from tests.support.control_session import check_control_session
from tests.support.emulator import EmulatorEnv


def run_command(args: List[str], environ_update: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """What AnsibleModule.run_command does for IrisControl: run the command with the extra environment."""
    done = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(environ_update or {})), check=False)
    return done.returncode, done.stdout, done.stderr


def test_control_against_the_emulator(emulator_in_process: EmulatorEnv) -> None:
    emulator_in_process.create("CTL")
    control = IrisControl(emulator_in_process.iris_bin, run_command)
    check_control_session(control)


def test_control_reports_a_failing_qlist(emulator_in_process: EmulatorEnv) -> None:
    with pytest.raises(IrisControlError, match=r"qlist NOPE' failed \(rc=1\): Instance 'NOPE' is not installed."):
        IrisControl(emulator_in_process.iris_bin, run_command).qlist("NOPE")
