# SPDX-License-Identifier: GPL-3.0-or-later
"""remediate.yml on a fleet against Ansible's own floor for the same task shape, all measured in one run.

Run: .venv/bin/python tests/bench/bench_fleet.py   (about 3 minutes on 2 cores)
Every instance starts with the gmheap fault; the command raises gmheap and restarts (approved). One inventory
host per instance (ansible_connection local), forks 50, so the instances are remediated in parallel while
each instance's steps run in order. Both remediate runs must end with a SUCCESS trace for every instance.

The floor is a playbook of builtin tasks with the role's count and shape per host: a controller-side action for
the plan, a debug, an assert, two loops that are skipped, a module call for the CPF and one for the restart, a
controller-side action for the trace in ``always``. It runs at 1 and 50 hosts with the same forks.

CPU is split into the Ansible side (ansible-playbook, its workers and the module processes) and the emulator
(the ``iris`` commands the modules run and the instance daemons), which on real hosts is IRIS itself. The
``iris`` commands run through a shell wrapper that appends their CPU (``times``) to a file; the daemons, which
are not children of any waiting process, are sampled with psutil. Ansible side = all CPU of waited-for
descendants of ansible-playbook minus the ``iris`` commands'.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO))

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument  # noqa: E402
from tests.support.emulator import EmulatorEnv, emulator_pids  # noqa: E402

FLEET_SIZE = 50
GOAL_WALL_RATIO = 1.5
GOAL_CPU_RATIO = 1.3
EXAMPLE = json.loads((REPO / "examples" / "commands" / "fault-gmheap-too-small.json").read_text())
# Same count and shape of tasks per host as roles/remediate/tasks/main.yml on the success path.
FLOOR_PLAYBOOK = """---
- name: Ansible's floor for the remediate role's task shape
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Floor
      block:
        - name: Plan (a controller-side action, like remediation_plan)
          ansible.builtin.set_fact:
            floor_plan: {instance: "{{ inventory_hostname }}", kernel_before_cpf: [], kernel_after_cpf: []}
        - name: Show the plan
          ansible.builtin.debug:
            msg: "{{ floor_plan }}"
        - name: One host per instance
          ansible.builtin.assert:
            that: floor_plan.instance == inventory_hostname
            quiet: true
        - name: Steps
          block:
            - name: Kernel parameters before the CPF (skipped loop)
              ansible.builtin.command: "true"
              loop: "{{ floor_plan.kernel_before_cpf }}"
            - name: Change the CPF (a module call)
              ansible.builtin.command: "true"
            - name: Kernel parameters after the CPF (skipped loop)
              ansible.builtin.command: "true"
              loop: "{{ floor_plan.kernel_after_cpf }}"
            - name: Restart (a module call)
              ansible.builtin.command: "true"
      always:
        - name: Trace (a controller-side action, like remediation_trace)
          ansible.builtin.set_fact:
            floor_trace: "{{ floor_plan.instance }}"
"""
# Runs the real `iris` and appends the CPU of the shell and of what it waited for (bash `times`) to a file.
IRIS_WRAPPER = """#!/bin/bash
%s "$@"
rc=$?
times >> %s
exit $rc
"""


@dataclass
class Run:
    wall: float
    cpu: float  # everything ansible-playbook waited for, the `iris` commands included
    iris_commands: float
    daemons: float

    @property
    def ansible_side(self) -> float:
        return self.cpu - self.iris_commands

    @property
    def emulator(self) -> float:
        return self.iris_commands + self.daemons


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


class DaemonSampler(object):
    """CPU of the emulator daemons during a run: psutil samples of every daemon alive at some point of it.

    A daemon stopped by a restart loses at most its last sampling interval; its CPU before the run is subtracted.
    """

    INTERVAL = 0.2

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.baseline: Dict[int, float] = {}
        self.latest: Dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> Dict[int, float]:
        seen = {}
        for pid in emulator_pids(self.marker):
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            seen[pid] = times.user + times.system
        return seen

    def _loop(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self.latest.update(self._sample())

    def __enter__(self) -> "DaemonSampler":
        self.baseline = self._sample()
        self.latest = dict(self.baseline)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.latest.update(self._sample())

    @property
    def cpu(self) -> float:
        return sum(value - self.baseline.get(pid, 0.0) for pid, value in self.latest.items())


def iris_command_cpu(times_file: Path) -> float:
    """Sum of every `times` report (``0m0.012s 0m0.004s`` lines) the wrapper appended."""
    total = 0.0
    if times_file.exists():
        for field in times_file.read_text().split():
            minutes, _sep, seconds = field.rstrip("s").partition("m")
            total += int(minutes) * 60 + float(seconds)
    return total


def ansible_env(emulator: EmulatorEnv, work: Path, label: str) -> Dict[str, str]:
    """Environment of an ansible-playbook run whose `iris` is the CPU-reporting wrapper."""
    wrapper_dir = work / ("wrap-%s" % label)
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "iris"
    wrapper.write_text(IRIS_WRAPPER % (emulator.iris_bin, work / ("iris-times-%s" % label)))
    wrapper.chmod(0o755)
    return dict(emulator.env, PATH="%s:%s" % (wrapper_dir, emulator.env["PATH"]),
                ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_FORKS=str(FLEET_SIZE),
                ANSIBLE_CALLBACKS_ENABLED="irisops.iris.workflow_trace", IRISOPS_TRACE_DIR=str(work / ("traces-%s" % label)),
                ANSIBLE_LOCAL_TEMP=str(work / "tmp"), ANSIBLE_REMOTE_TMP=str(work / "tmp"), ANSIBLE_NOCOLOR="1",
                LANG="C.UTF-8", LC_ALL="C.UTF-8")


def run_playbook(emulator: EmulatorEnv, work: Path, label: str, args: List[str]) -> Run:
    env = ansible_env(emulator, work, label)
    cpu_before = children_cpu()
    with DaemonSampler(str(emulator.base_dir)) as daemons:
        started = time.perf_counter()
        run = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook")] + args,
                             env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    if run.returncode != 0:
        raise SystemExit("%s run failed (rc=%d):\n%s%s" % (label, run.returncode, run.stdout[-4000:], run.stderr[-2000:]))
    return Run(elapsed, cpu, iris_command_cpu(work / ("iris-times-%s" % label)), daemons.cpu)


def remediate(emulator: EmulatorEnv, work: Path, label: str, names: List[str]) -> Run:
    inventory_file = work / ("%s.json" % label)
    inventory_file.write_text(json.dumps(inventory(emulator, names, work)))
    result = run_playbook(emulator, work, label, ["-i", str(inventory_file), str(REPO / "playbooks" / "remediate.yml"),
                                                  "-e", "target=fleet", "-e", "approve_restart=true"])
    statuses = [json.loads(path.read_text())["overall_status"] for path in (work / ("traces-%s" % label)).glob("*.json")]
    if statuses != ["success"] * len(names):
        raise SystemExit("%s run: trace statuses %s, expected %d successes" % (label, statuses, len(names)))
    return result


def floor(emulator: EmulatorEnv, work: Path, label: str, hosts: int) -> Run:
    inventory_file = work / ("%s.json" % label)
    inventory_file.write_text(json.dumps({"all": {"children": {"fleet": {"hosts": {
        "floor%02d" % number: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        for number in range(1, hosts + 1)}}}}}))
    playbook = work / "floor.yml"
    playbook.write_text(FLOOR_PLAYBOOK)
    return run_playbook(emulator, work, label, ["-i", str(inventory_file), str(playbook)])


def line(label: str, run: Run, hosts: int) -> str:
    return "  %-18s %6.1f s wall | ansible side %6.1f s cpu (%.3f s/host) | emulator %5.1f s cpu (iris commands %.1f, daemons %.1f)" % (
        label, run.wall, run.ansible_side, run.ansible_side / hosts, run.emulator, run.iris_commands, run.daemons)


def verdict(value: float, goal: float) -> str:
    return "goal <= %.1fx: %s" % (goal, "met" if value <= goal else "NOT met")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as directory:
        work = Path(directory)
        emulator = EmulatorEnv(work / "iris")
        try:
            fleet = ["FLEET%02d" % number for number in range(1, FLEET_SIZE + 1)]
            for name in ["SOLO"] + fleet:
                create_faulty(emulator, name)
            floor_solo = floor(emulator, work, "floor-1", 1)
            floor_many = floor(emulator, work, "floor-%d" % FLEET_SIZE, FLEET_SIZE)
            solo = remediate(emulator, work, "solo", ["SOLO"])
            many = remediate(emulator, work, "fleet", fleet)
        finally:
            emulator.cleanup()
    cores = os.cpu_count() or 1
    wall_ratio = many.wall / floor_many.wall
    cpu_ratio = (many.ansible_side / FLEET_SIZE) / (floor_many.ansible_side / FLEET_SIZE)
    print("remediate.yml (gmheap fix + approved restart) against Ansible's floor for the same task shape, forks %d "
          "(cpu cores: %d, load average now %.1f)" % (FLEET_SIZE, cores, os.getloadavg()[0]))
    print(line("floor, 1 host", floor_solo, 1))
    print(line("floor, %d hosts" % FLEET_SIZE, floor_many, FLEET_SIZE))
    print(line("remediate, 1", solo, 1))
    print(line("remediate, %d" % FLEET_SIZE, many, FLEET_SIZE))
    print("  scale-out %d/1: remediate %.2fx, floor %.2fx" % (FLEET_SIZE, many.wall / solo.wall, floor_many.wall / floor_solo.wall))
    print("  remediate(%d)/floor(%d) wall: %.2fx (%s)" % (FLEET_SIZE, FLEET_SIZE, wall_ratio, verdict(wall_ratio, GOAL_WALL_RATIO)))
    print("  ansible-side cpu per host remediate/floor: %.2fx (%s)" % (cpu_ratio, verdict(cpu_ratio, GOAL_CPU_RATIO)))


if __name__ == "__main__":
    main()
