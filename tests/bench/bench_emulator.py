# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fleet of emulated instances: start time, stop time, memory and idle CPU per instance.

Run: .venv/bin/python tests/bench/bench_emulator.py [instances]   (default 50)
Start and stop times are printed with their ratio to the baseline measured in the same run: starting the
same Python interpreter with ``-c pass``, the floor of any command written in Python. Memory is each
daemon's resident set (RSS) and proportional set (PSS, shared pages split between the processes that map
them). CPU: what each daemon used to start (from exec to READY, imports included), what all daemons use
together while nobody talks to them (idle), and what serving a round of requests costs each (busy: user sessions
opened and closed and metrics scrapes).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO))

from tests.support.emulator import EmulatorEnv  # noqa: E402

IDLE_SECONDS = 10.0
BASELINE_ROUNDS = 20
BUSY_ROUNDS = 20  # per daemon: one user session opened and closed, one metrics scrape


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interpreter_start() -> float:
    """Median wall time of ``python -c pass``: the same interpreter the emulator's commands run on."""
    samples = [timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _round in range(BASELINE_ROUNDS)]
    return statistics.median(samples)


def memory_kb(pid: int) -> Dict[str, int]:
    values = {}
    for line in Path("/proc/%d/smaps_rollup" % pid).read_text().splitlines():
        key, _colon, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    fields = Path("/proc/%d/stat" % pid).read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_round(superserver_port: int, web_port: int) -> None:
    with socket.create_connection(("127.0.0.1", superserver_port), timeout=10):
        with urllib.request.urlopen("http://127.0.0.1:%d/api/monitor/metrics" % web_port, timeout=10) as response:
            response.read()


def report(label: str, samples: List[float], baseline: float) -> None:
    median = statistics.median(samples)
    print("%-28s median %6.3f s  max %6.3f s  ratio to python -c pass %5.1fx" % (label, median, max(samples), median / baseline))


def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as base:
        env = EmulatorEnv(Path(base))
        try:
            names = ["BENCH%02d" % number for number in range(count)]
            for name in names:
                env.create(name)
            baseline = interpreter_start()
            starts = [timed(lambda name=name: env.start(name)) for name in names]
            pids = env.pids()
            assert len(pids) == count, "expected %d daemons, found %d" % (count, len(pids))
            memory = [memory_kb(pid) for pid in pids]
            cpu_before = {pid: cpu_seconds(pid) for pid in pids}
            time.sleep(IDLE_SECONDS)
            idle_cpu = sum(cpu_seconds(pid) - used for pid, used in cpu_before.items())
            start_cpu = list(cpu_before.values())
            ports = [(env.instance(name).superserver_port or 0, env.instance(name).web_port or 0) for name in names]
            busy_before = sum(cpu_seconds(pid) for pid in pids)
            for superserver_port, web_port in ports:
                for _round in range(BUSY_ROUNDS):
                    busy_round(superserver_port, web_port)
            busy_cpu = sum(cpu_seconds(pid) for pid in pids) - busy_before
            stops = [timed(lambda name=name: env.stop(name)) for name in names]
        finally:
            env.cleanup()
    print("instances: %d   baseline python -c pass: %.3f s" % (count, baseline))
    report("iris start (per instance)", starts, baseline)
    report("iris stop quietly", stops, baseline)
    rss = [sample["Rss"] for sample in memory]
    pss = [sample["Pss"] for sample in memory]
    print("memory per daemon            RSS median %.1f MB (max %.1f)  PSS median %.1f MB  all %d: PSS %.0f MB" % (
        statistics.median(rss) / 1024, max(rss) / 1024, statistics.median(pss) / 1024, count, sum(pss) / 1024))
    # /proc counts CPU in clock ticks (10 ms): the mean over the daemons is finer than any one sample.
    print("CPU to start, per daemon     mean %.1f ms  max %.0f ms" % (1000 * statistics.mean(start_cpu), 1000 * max(start_cpu)))
    print("idle CPU, all daemons        %.3f CPU-seconds in %.0f s (%.2f%% of one core)" % (
        idle_cpu, IDLE_SECONDS, 100 * idle_cpu / IDLE_SECONDS))
    print("busy CPU, per daemon         %.2f ms per round (a user session and a metrics scrape; %d rounds each)" % (
        1000 * busy_cpu / (count * BUSY_ROUNDS), BUSY_ROUNDS))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
