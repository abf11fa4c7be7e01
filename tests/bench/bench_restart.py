# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""instance_restart through ansible-playbook: 10 emulated instances with --forks 10 against 1 instance alone.

Run: .venv/bin/python tests/bench/bench_restart.py   (prints per-phase timings of both runs and the 10/1 ratios)
Both runs use the same emulator install, playbook (tests/integration/playbooks/restart_parallel.yml) and
settings, so the ratio shows what running in parallel costs on this machine; 1.0 would be perfect scaling.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO))

from tests.support.emulator import EmulatorEnv  # noqa: E402
from tests.support.restart_playbook import PHASES, PlaybookRun, phase_table, run_restart_playbook  # noqa: E402

INSTANCES = ["BENCH%02d" % number for number in range(1, 11)]
STABLE_SECONDS = 1.0


def ansible_environment(work_dir: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_LOCAL_TEMP=str(work_dir / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(work_dir / "ansible-remote"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return env


def checked(run: PlaybookRun, expected_hosts: int) -> PlaybookRun:
    if run.returncode != 0 or len(run.results) != expected_hosts:
        raise SystemExit("playbook failed (rc=%d, %d results):\n%s" % (run.returncode, len(run.results), run.output))
    failed = [host for host, result in run.results.items() if result.get("failed") or not result.get("since_changed")]
    if failed:
        raise SystemExit("not restarted: %s" % failed)
    return run


def median_phase(results: Dict[str, Dict[str, Any]], phase: str) -> float:
    return statistics.median(result["timings"][phase] for result in results.values())


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        work_dir = Path(directory)
        env = ansible_environment(work_dir)
        emulator = EmulatorEnv(work_dir / "iris")
        try:
            for name in INSTANCES:
                emulator.create(name)
                emulator.start(name)
            single = checked(run_restart_playbook(emulator, INSTANCES[:1], work_dir / "single", 1, STABLE_SECONDS, env), 1)
            parallel = checked(run_restart_playbook(emulator, INSTANCES, work_dir / "parallel", 10, STABLE_SECONDS, env), 10)
        finally:
            emulator.cleanup()
    print("CPUs: %d, stable_seconds: %g" % (os.cpu_count() or 0, STABLE_SECONDS))
    print("\n1 instance (baseline), ansible-playbook wall time %.2fs" % single.wall_seconds)
    print("\n".join(phase_table(single.results)))
    print("\n%d instances, --forks 10, ansible-playbook wall time %.2fs" % (len(INSTANCES), parallel.wall_seconds))
    print("\n".join(phase_table(parallel.results)))
    print("\nratio 10 parallel / 1 alone (median per phase):")
    for phase in PHASES:
        print("  %-10s %6.2f x" % (phase, median_phase(parallel.results, phase) / median_phase(single.results, phase)))
    print("  %-10s %6.2f x  (10 instances' wall time / 1 instance's)" % ("wall", parallel.wall_seconds / single.wall_seconds))


if __name__ == "__main__":
    main()
