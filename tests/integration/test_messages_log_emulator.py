# SPDX-License-Identifier: GPL-3.0-or-later
"""messages_log against real emulated instances: name resolution through `iris qlist`, live faults, playbooks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import parse_text, resolve_timezone
from ansible_collections.irisops.iris.plugins.modules import messages_log
from tests.support.emulator import EmulatorEnv
from tests.support.paths import REPO
from tests.support.in_process import run_module

pytestmark = pytest.mark.slow
FAST_FAULTS = {"fault_interval_seconds": 0.1}


def run_on(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch, args: Dict[str, Any]) -> Dict[str, Any]:
    # The module's run_command inherits this process's environment; the emulator finds its registry there.
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    return run_module(messages_log, dict({"iris_bin": emulator.iris_bin}, **args))


def start_with_small_locksiz(emulator: EmulatorEnv, name: str) -> Path:
    install_dir = emulator.create(name, switches=FAST_FAULTS)
    cpf = install_dir / "iris.cpf"
    doc = CpfDocument.parse(cpf.read_bytes())
    doc.set("config", "locksiz", "1048576")
    cpf.write_bytes(doc.render())
    emulator.start(name)
    return install_dir


def wait_for_severe(emulator: EmulatorEnv, name: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for entry in parse_text(emulator.messages_log(name))[0] if entry.severity >= 2) < count:
        if time.monotonic() > deadline:
            raise AssertionError("%s logged fewer than %d severe entries in %ss" % (name, count, timeout))
        time.sleep(0.05)


def test_instance_log_of_a_running_emulator(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    install_dir = start_with_small_locksiz(emulator, "IRISLOG")
    wait_for_severe(emulator, "IRISLOG", 3)
    emulator.stop("IRISLOG")  # the log stops growing, so a direct parse is the oracle
    expected, malformed = parse_text(emulator.messages_log("IRISLOG"), resolve_timezone())
    assert malformed == []

    everything = run_on(emulator, monkeypatch, {"instance": "irislog"})
    assert not everything.get("failed"), everything
    assert everything["path"] == str(install_dir / "mgr" / "messages.log")
    assert [entry["line_number"] for entry in everything["entries"]] == [entry.line_number for entry in expected]
    assert everything["malformed_count"] == 0

    severe = run_on(emulator, monkeypatch, {"instance": "IRISLOG", "min_severity": "severe", "since": "last 10 minutes",
                                            "max_entries": 2})
    assert len(severe["entries"]) == 2 and severe["truncated"] is True
    assert all(entry["text"].startswith("LOCK TABLE FULL") for entry in severe["entries"])
    assert severe["entries"] == [entry.as_dict() for entry in expected if entry.severity >= 2][-2:]
    assert severe["severity_counts"]["severe"] == 2 and severe["category_counts"] == {"Generic.Event": 2}

    assert run_on(emulator, monkeypatch, {"instance": "IRISLOG", "since": "2099-01-01T00:00:00"})["entries"] == []


def test_unknown_instance_names_the_field(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.create("KNOWN")
    result = run_on(emulator, monkeypatch, {"instance": "UNKNOWN"})
    assert result["failed"] and result["msg"].startswith("instance: instance 'UNKNOWN' is not known to")


def test_playbook_reads_an_instance_log_in_check_mode_and_the_samples(
        emulator: EmulatorEnv, ansible_env: Dict[str, str], tmp_path: Path) -> None:
    emulator.create("PLAY")
    emulator.start("PLAY")
    emulator.stop("PLAY")  # qlist still lists it; its log no longer grows
    expected = parse_text(emulator.messages_log("PLAY"), resolve_timezone())[0]
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({
        "iris_bin": emulator.iris_bin,
        "sample": str(REPO / "log_samples" / "messages" / "backup-freeze-thaw-journal-switch.log"),
        "expected_live": [entry.as_dict() for entry in expected][-3:],
    }))
    playbook = tmp_path / "read.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the emulated instance's log
      irisops.iris.messages_log:
        instance: PLAY
        iris_bin: "{{ iris_bin }}"
        max_entries: 3
      register: live
    - name: Read a real sample excerpt
      irisops.iris.messages_log:
        path: "{{ sample }}"
        min_severity: warning
        timezone: UTC
      register: sample_log
    - name: Check what came back
      ansible.builtin.assert:
        that:
          - live is not changed
          - live.truncated
          - live.entries == expected_live
          - sample_log.entries | map(attribute='severity_name') | list == ['warning', 'warning']
          - "sample_log.severity_counts == {'info': 0, 'warning': 2, 'severe': 0, 'fatal': 0}"
          - sample_log.entries[0].timestamp == '2021-08-11T05:49:43.233+00:00'
""")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "--check", "-i", "localhost,", "-c", "local",
         "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@%s" % variables, str(playbook)],
        env=dict(ansible_env, IRISEMU_REGISTRY=emulator.registry), capture_output=True, text=True, timeout=120,
        check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok=3" in result.stdout and "failed=0" in result.stdout
