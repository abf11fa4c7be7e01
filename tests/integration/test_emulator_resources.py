# SPDX-License-Identifier: GPL-3.0-or-later
"""Idle instances must not burn CPU: each daemon blocks in select() until a connection or a timer."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict

import pytest

from tests.support.emulator import EmulatorEnv

pytestmark = pytest.mark.slow


def cpu_ticks(pid: int) -> int:
    fields = Path("/proc/%d/stat" % pid).read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of stat)


def test_idle_instances_use_no_cpu(emulator: EmulatorEnv) -> None:
    for number in range(5):
        emulator.create("IDLE%d" % number)
        emulator.start("IDLE%d" % number)
    pids = emulator.pids()
    assert len(pids) == 5
    before: Dict[int, int] = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(2.0)
    used = {pid: cpu_ticks(pid) - ticks for pid, ticks in before.items()}
    # 2 s of polling every few ms would cost tens of ticks; a blocked select() costs none.
    assert all(ticks <= 1 for ticks in used.values()), used
    # Resident memory stays small (a few MB of interpreter each).
    for pid in pids:
        status = Path("/proc/%d/status" % pid).read_text()
        rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        assert rss_kb < 64 * 1024, (pid, rss_kb)
    assert os.sysconf("SC_CLK_TCK") > 0
