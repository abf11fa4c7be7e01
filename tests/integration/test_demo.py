# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo` is the README's promise: the closed loop runs green and its trace says so."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "build" / "demo"


def test_demo_closes_the_loop() -> None:
    done = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    # The live fix: IRIS kept running (same start time) and its LOCK TABLE FULL counter stopped growing.
    [since] = re.findall(r"^IRIS running since: (.+) -> (.+)$", done.stdout, re.MULTILINE)
    assert since[0] == since[1] and since[0].startswith("running, since")
    [(at_fix, later)] = re.findall(r"errors since IRIS started: (\d+) at the fix, (\d+) three fault", done.stdout)
    assert int(at_fix) >= 2 and later == at_fix
    # Beside it, the restart: IRIS2 came back with a new start time.
    [restarted] = re.findall(r"^IRIS2 running since: (.+) -> (.+)$", done.stdout, re.MULTILINE)
    assert restarted[0] != restarted[1]
    received = [json.loads(line) for line in (DEMO / "received.ndjson").read_text(encoding="utf-8").splitlines()]
    assert any(message["instance"] == "IRIS" and message["text"].startswith("LOCK TABLE FULL") for message in received)
    assert any(message["instance"] is None for message in received)  # the generated test data arrived too
    trace = json.loads(max((DEMO / "traces").glob("*.json"), key=lambda path: path.stat().st_mtime).read_text())
    assert trace["overall_status"] == "success" and not trace["check_mode"]
    assert [step["tool"] for step in trace["steps_executed"]] == ["cpf", "instance_restart"]
    qlist = subprocess.run([str(DEMO / "emulator" / "bin" / "iris"), "qlist"], capture_output=True, text=True,
                           env={"IRISEMU_REGISTRY": str(DEMO / "emulator" / "registry"), "PATH": "/usr/bin:/bin"},
                           check=True)
    assert "running" not in qlist.stdout  # the demo stops its instances when it ends
