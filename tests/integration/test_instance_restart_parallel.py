# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""instance_restart through ansible-playbook: 10 emulated instances restarted in parallel (--forks 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from tests.support.emulator import EmulatorEnv
from tests.support.restart_playbook import host_name, phase_table, processes_mentioning, run_restart_playbook

pytestmark = pytest.mark.slow
INSTANCES = ["PAR%02d" % number for number in range(1, 11)]


def test_ten_instances_restart_in_parallel(emulator: EmulatorEnv, tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    for name in INSTANCES:
        emulator.create(name)
        emulator.start(name)
    since_before = {name: emulator.instance(name).activity for name in INSTANCES}
    daemons_before = set(emulator.pids())
    assert len(daemons_before) == len(INSTANCES)

    run = run_restart_playbook(emulator, INSTANCES, tmp_path / "parallel", forks=10, stable_seconds=1, env=ansible_env)

    assert run.returncode == 0, run.output
    assert "ok=2" in run.output and "failed=0" in run.output and "unreachable=0" in run.output
    assert sorted(run.results) == sorted(host_name(name) for name in INSTANCES)
    for name in INSTANCES:
        result = run.results[host_name(name)]
        after = emulator.instance(name)
        assert not result.get("failed") and result["changed"] and result["actions"] == ["stop", "start"], result
        assert result["since_changed"] and result["tool_result"]["status"] == "success"
        assert after.running and after.state == "ok" and after.activity != since_before[name]
        assert result["qlist_after"]["activity"] == after.activity
        assert all(check["ok"] for check in result["health"])
        assert set(result["timings"]) == {"users_wait", "stop", "start", "health", "stable", "total"}

    # No leaks: every old daemon is gone, exactly one new daemon per instance, and no control command
    # (or anything else started from this emulator install) is left behind.
    leftovers = processes_mentioning(str(emulator.base_dir))
    daemons_after = set(emulator.pids())
    assert len(daemons_after) == len(INSTANCES) and not daemons_after & daemons_before
    assert set(leftovers) == daemons_after, leftovers

    print("\n%d instances restarted with --forks 10 in %.2fs (ansible-playbook wall time)" % (len(INSTANCES), run.wall_seconds))
    print("\n".join(phase_table(run.results)))
