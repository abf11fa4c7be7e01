# SPDX-License-Identifier: GPL-3.0-or-later
"""IrisControl against real emulated instances: the control command run as a process (recorded for the unit tests in
tests/unit/plugins/module_utils/test_iris_control.py)."""

from __future__ import annotations

import os
import subprocess
from typing import Dict, List, Optional, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl, IrisControlError
from tests.support.emulator import EmulatorEnv


def run_command(args: List[str], environ_update: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """What AnsibleModule.run_command does for IrisControl: run the command with the extra environment."""
    done = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(environ_update or {})), check=False)
    return done.returncode, done.stdout, done.stderr


def test_control_against_the_emulator(emulator_in_process: EmulatorEnv) -> None:
    emulator_in_process.create("CTL")
    control = IrisControl(emulator_in_process.iris_bin, run_command)
    assert [instance.name for instance in control.qlist()] == ["CTL"]
    assert control.instance("ctl").running is False
    rc, out, _err = control.start("CTL")
    assert rc == 0 and "Starting CTL" in out
    instance = control.instance("CTL")
    assert instance.running and instance.state == "ok" and instance.since is not None
    rc, out, _err = control.stop("CTL", ("quietly", "restart"))
    assert rc == 0 and "Shutdown of CTL complete" in out and control.instance("CTL").running
    assert control.force("CTL")[0] == 0
    assert control.qlist("CTL")[0].status == "down"
    assert control.start("CTL", quietly=False)[0] == 0
    assert control.stop("CTL")[0] == 0
    with pytest.raises(IrisControlError, match="instance 'NOPE' is not known"):
        control.instance("NOPE")


def test_control_reports_a_failing_qlist(emulator_in_process: EmulatorEnv) -> None:
    with pytest.raises(IrisControlError, match=r"qlist NOPE' failed \(rc=1\): Instance 'NOPE' is not installed."):
        IrisControl(emulator_in_process.iris_bin, run_command).qlist("NOPE")
