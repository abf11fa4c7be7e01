# SPDX-License-Identifier: GPL-3.0-or-later
"""remediate.yml on a fleet: 50 emulated instances in one run against 1 instance, measured in the same run.

Run: .venv/bin/python tests/bench/bench_fleet.py   (prints both wall times and the ratio; the goal is < 2x)
Every instance starts with the gmheap fault; the command raises gmheap and restarts (approved). One inventory
host per instance (ansible_connection local), forks 50, so the instances are remediated in parallel while
each instance's steps run in order. Both runs must end with a SUCCESS trace for every instance.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument  # noqa: E402
from emulator import EmulatorEnv  # noqa: E402

FLEET_SIZE = 50
GOAL_RATIO = 2.0
EXAMPLE = json.loads((REPO / "examples" / "commands" / "fault-gmheap-too-small.json").read_text())


def create_faulty(emulator: EmulatorEnv, name: str) -> None:
    install_dir = emulator.create(name, switches={"fault_interval_seconds": 0.5})
    cpf = install_dir / "iris.cpf"
    document = CpfDocument.parse(cpf.read_bytes())
    document.set("config", "gmheap", "16384")
    cpf.write_bytes(document.render())
    emulator.start(name)


def inventory(emulator: EmulatorEnv, names: List[str], sysctl_dir: Path) -> Dict[str, Any]:
    hosts = {}
    for name in names:
        command = dict(EXAMPLE, command_id="fleet-%s" % name.lower(), instance=name)
        hosts[name.lower()] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                               "remediation_command": command, "remediate_proc_root": str(emulator.proc_root(name)),
                               "remediate_sysctl_dir": str(sysctl_dir), "remediate_restart_stable_seconds": 0.5}
    return {"all": {"children": {"fleet": {"hosts": hosts}}}}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def remediate(emulator: EmulatorEnv, work: Path, label: str, names: List[str]) -> Tuple[float, float]:
    """Wall time and CPU time (ansible-playbook, its workers and modules, the `iris` commands they run)."""
    inventory_file = work / ("%s.json" % label)
    inventory_file.write_text(json.dumps(inventory(emulator, names, work)))
    trace_dir = work / ("traces-%s" % label)
    env = dict(emulator.env, ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_FORKS=str(FLEET_SIZE),
               ANSIBLE_CALLBACKS_ENABLED="irisops.iris.workflow_trace", IRISOPS_TRACE_DIR=str(trace_dir),
               ANSIBLE_LOCAL_TEMP=str(work / "tmp"), ANSIBLE_REMOTE_TMP=str(work / "tmp"), ANSIBLE_NOCOLOR="1",
               LANG="C.UTF-8", LC_ALL="C.UTF-8")
    cpu_before = children_cpu()
    started = time.perf_counter()
    run = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory_file),
                          str(REPO / "playbooks" / "remediate.yml"), "-e", "target=fleet", "-e", "approve_restart=true"],
                         env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    statuses = [json.loads(path.read_text())["overall_status"] for path in trace_dir.glob("*.json")]
    if run.returncode != 0 or statuses != ["success"] * len(names):
        raise SystemExit("%s run failed (rc=%d, statuses %s):\n%s%s" % (label, run.returncode, statuses,
                                                                        run.stdout[-4000:], run.stderr[-2000:]))
    return elapsed, cpu


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as directory:
        work = Path(directory)
        emulator = EmulatorEnv(work / "iris")
        try:
            fleet = ["FLEET%02d" % number for number in range(1, FLEET_SIZE + 1)]
            for name in ["SOLO"] + fleet:
                create_faulty(emulator, name)
            solo, solo_cpu = remediate(emulator, work, "solo", ["SOLO"])
            many, many_cpu = remediate(emulator, work, "fleet", fleet)
        finally:
            emulator.cleanup()
    ratio = many / solo
    cores = os.cpu_count() or 1
    print("remediate.yml, gmheap fix + approved restart (cpu cores: %d, load average now %.1f)" % (cores, os.getloadavg()[0]))
    print("  1 instance:   %6.1f s wall, %6.1f s cpu" % (solo, solo_cpu))
    print("  %d instances: %6.1f s wall, %6.1f s cpu (%.2f s cpu per instance)" % (FLEET_SIZE, many, many_cpu, many_cpu / FLEET_SIZE))
    print("  ratio %d/1: %.2fx (goal < %.0fx: %s); cpu floor on %d cores: %.1f s = %.2fx" % (
        FLEET_SIZE, ratio, GOAL_RATIO, "met" if ratio < GOAL_RATIO else "NOT met", cores, many_cpu / cores,
        many_cpu / cores / solo))


if __name__ == "__main__":
    main()
