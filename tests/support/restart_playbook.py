# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run playbooks/restart_parallel.yml against emulated instances, one inventory host per instance.

Shared by tests/integration/test_instance_restart_parallel.py and tests/bench/bench_restart.py.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence

import psutil

from tests.support.emulator import EmulatorEnv
from tests.support.paths import REPO

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "restart_parallel.yml"
PHASES = ("users_wait", "stop", "start", "health", "stable", "total")
PLAYBOOK_TIMEOUT = 600


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    wall_seconds: float
    results: Dict[str, Dict[str, Any]]


def host_name(instance: str) -> str:
    return "host_%s" % instance.lower()


def write_inventory(path: Path, instances: Sequence[str]) -> None:
    """INI inventory: one local host per instance, naming it in ``iris_instance``."""
    lines = ["[iris]"]
    lines += ["%s ansible_connection=local iris_instance=%s" % (host_name(name), name) for name in instances]
    path.write_text("\n".join(lines) + "\n")


def run_restart_playbook(emulator: EmulatorEnv, instances: Sequence[str], work_dir: Path, forks: int,
                         stable_seconds: float, env: Dict[str, str]) -> PlaybookRun:
    """ansible-playbook with ``forks`` over one host per instance; the results are read from the files the play writes."""
    work_dir.mkdir(parents=True, exist_ok=True)
    inventory = work_dir / "inventory.ini"
    results_dir = work_dir / "results"
    results_dir.mkdir(exist_ok=True)
    write_inventory(inventory, instances)
    extra_vars = {"iris_bin": emulator.iris_bin, "results_dir": str(results_dir), "stable_seconds": stable_seconds,
                  "ansible_python_interpreter": sys.executable}
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "--forks", str(forks),
               "-e", json.dumps(extra_vars), str(PLAYBOOK)]
    began = time.monotonic()
    completed = subprocess.run(command, env=dict(env, IRISEMU_REGISTRY=emulator.registry), capture_output=True,
                               text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    wall = time.monotonic() - began
    results = {path.stem: json.loads(path.read_text()) for path in sorted(results_dir.glob("*.json"))}
    return PlaybookRun(completed.returncode, completed.stdout + completed.stderr, wall, results)


def phase_table(results: Dict[str, Dict[str, Any]]) -> List[str]:
    """One line per phase: min / median / max seconds over the hosts that ran it."""
    lines = ["%-10s %8s %8s %8s %6s" % ("phase", "min s", "median s", "max s", "hosts")]
    for phase in PHASES:
        values = [result["timings"][phase] for result in results.values() if phase in result.get("timings", {})]
        if values:
            lines.append("%-10s %8.3f %8.3f %8.3f %6d" % (phase, min(values), statistics.median(values), max(values), len(values)))
    return lines


def processes_mentioning(marker: str) -> Dict[int, List[str]]:
    """Live (non-zombie) processes whose command line contains ``marker``: pid -> argv."""
    found: Dict[int, List[str]] = {}
    for process in psutil.process_iter(["cmdline", "status"]):
        argv = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and any(marker in arg for arg in argv):
            found[process.pid] = argv
    return found
