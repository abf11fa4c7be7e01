# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/consume.yml end to end: real ansible-playbook, a real drop directory and a real HTTP server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils.planner import plan_document
from tests.support.http_sink import HttpSink
from tests.support.paths import VENV_BIN

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "consume.yml"
EXAMPLES = sorted((REPO / "examples" / "commands").glob("*.json"))


def command(command_id: str, instance: str = "IRIS", **extra: Any) -> Dict[str, Any]:
    return dict({"command_id": command_id, "instance": instance, "error_type": "os", "severity": 1,
                 "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}]}, **extra)


def run_consume(env: Dict[str, str], *extra: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), str(PLAYBOOK), *extra],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def queued_lines(output: str) -> List[str]:
    return re.findall(r'"msg": "queued (\d+: \S+ on instance \S+)', output)


@pytest.mark.slow
def test_dry_run_queues_every_example_in_arrival_order_and_holds_restarts(tmp_path: Path,
                                                                          ansible_env: Dict[str, str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for age, path in enumerate(EXAMPLES):
        target = inbox / path.name
        target.write_bytes(path.read_bytes())
        stamp = 1_700_000_000_000_000_000 + age * 1_000_000
        os.utime(target, ns=(stamp, stamp))
    state = tmp_path / "state"
    result = run_consume(ansible_env, "-e", "source=%s" % inbox, "-e", "commands_state_dir=%s" % state,
                         "-e", "dry_run=true")
    assert result.returncode == 0, result.stdout + result.stderr
    documents = [json.loads(path.read_text()) for path in EXAMPLES]
    # What waits for approval is what the plan restarts for (a live change needs none, whatever the command says).
    plain = [doc["command_id"] for doc in documents if not plan_document(doc).requires_restart]
    held = sorted(doc["command_id"] for doc in documents if plan_document(doc).requires_restart)
    assert queued_lines(result.stdout) == ["%d: %s on instance IRIS" % (n, cid) for n, cid in enumerate(plain, 1)]
    assert "pending: %s" % ", ".join(held) in result.stdout.replace("\\n", "")
    approved = run_consume(ansible_env, "-e", "source=%s" % inbox, "-e", "commands_state_dir=%s" % state,
                           "-e", "dry_run=true", "-e", "approve_restart=true")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    # A dry run uses nothing up: the approved run queues every command again, in arrival order.
    assert queued_lines(approved.stdout) == ["%d: %s on instance IRIS" % (n, doc["command_id"])
                                             for n, doc in enumerate(documents, 1)]
    assert sorted(path.name for path in inbox.iterdir()) == sorted(path.name for path in EXAMPLES)
    assert not (state / "accepted.json").exists() and not (state / "pending").exists()


def test_dry_run_never_polls_an_http_source_and_says_so(tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    with HttpSink() as sink:
        sink.serve_documents(command("poll-a"), [command("poll-b"), command("poll-c")])
        result = run_consume(ansible_env, "-e", "source=%s" % sink.commands_url, "-e", "interval=0.05",
                             "-e", "polls=4", "-e", "dry_run=true", "-e", "commands_state_dir=%s" % (tmp_path / "state"))
        # A GET may take the commands off the source: a dry run must leave them there.
        assert sink.polls == 0
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not polled" in result.stdout + result.stderr and queued_lines(result.stdout) == []


@pytest.mark.slow
def test_iris_instances_host_var_limits_commands_to_their_host(tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      iris_instances: [IRISB]\n")
    inbox = _inbox_with(tmp_path, [command("for-a", instance="IRISA"), command("for-b", instance="IRISB")])
    result = run_consume(ansible_env, "-i", str(inventory), "-e", "dry_run=true", "-e", "source=%s" % inbox,
                         "-e", "commands_state_dir=%s" % (tmp_path / "state"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert queued_lines(result.stdout) == ["2: for-b on instance IRISB"]


def _inbox_with(tmp_path: Path, documents: List[Dict[str, Any]]) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    for number, document in enumerate(documents):
        path = inbox / ("%02d.json" % number)
        path.write_text(json.dumps(document))
        stamp = 1_700_000_000_000_000_000 + number * 1_000_000
        os.utime(path, ns=(stamp, stamp))
    return inbox


@pytest.mark.slow
def test_consume_remediates_in_order_and_releases_the_restart_after_approval(
        tmp_path: Path, ansible_env: Dict[str, str], emulator: Any) -> None:
    """The closed loop through consume.yml and the real remediate role on an emulated instance."""
    from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument

    install_dir = emulator.create("IRIS")
    emulator.start("IRIS")
    vm = emulator.proc_root("IRIS") / "vm"
    (vm / "swappiness").write_text("60\n")
    since = emulator.instance("IRIS").since
    sysctl_dir = tmp_path / "sysctl.d"
    sysctl_dir.mkdir()
    journal = json.loads((REPO / "examples" / "commands" / "resource-journal-buffers.json").read_text())
    swappiness = json.loads((REPO / "examples" / "commands" / "os-swappiness.json").read_text())
    locksiz = json.loads((REPO / "examples" / "commands" / "fault-locksiz-too-small.json").read_text())
    inbox = _inbox_with(tmp_path, [journal, swappiness, locksiz])
    cpf_before = (install_dir / "iris.cpf").read_bytes()
    state = tmp_path / "state"
    env = dict(ansible_env, IRISEMU_REGISTRY=emulator.registry, PATH=emulator.env["PATH"])
    args = ["-e", "source=%s" % inbox, "-e", "commands_state_dir=%s" % state,
            "-e", "remediate_proc_root=%s" % emulator.proc_root("IRIS"), "-e", "remediate_sysctl_dir=%s" % sysctl_dir,
            "-e", "remediate_restart_stable_seconds=0.5"]

    dry = run_consume(env, *args, "-e", "dry_run=true")  # uses nothing up: the real run below applies everything
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert (vm / "swappiness").read_text() == "60\n" and (install_dir / "iris.cpf").read_bytes() == cpf_before
    assert not (state / "accepted.json").exists() and not (inbox / "done").exists()

    first = run_consume(env, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (vm / "swappiness").read_text().strip() == "5"
    # locksiz is live: merged into the running instance without a restart and without approval.
    document = CpfDocument.parse((install_dir / "iris.cpf").read_bytes())
    assert document.get("config", "locksiz") == "0" and document.get("config", "jrnbufs") == "64"
    assert "pending: resource-journal-buffers-001" in first.stdout
    assert emulator.instance("IRIS").since == since, "nothing restarted while the restart waits for approval"

    (state / "approvals" / "resource-journal-buffers-001").write_text("ops\n")
    second = run_consume(env, *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert CpfDocument.parse((install_dir / "iris.cpf").read_bytes()).get("config", "jrnbufs") == "128"
    assert emulator.instance("IRIS").since != since
    assert sorted(path.name for path in (inbox / "done").iterdir()) == ["00.json", "01.json", "02.json"]

    third = run_consume(env, *args, "-e", "source=%s" % _inbox_with(tmp_path, [swappiness]))
    assert third.returncode == 0 and "0 accepted" in third.stdout and "1 duplicate" in third.stdout


@pytest.mark.slow
def test_failed_command_stops_the_queue_and_names_the_commands_not_run(
        tmp_path: Path, ansible_env: Dict[str, str], emulator: Any) -> None:
    emulator.create("IRIS")
    emulator.start("IRIS")
    vm = emulator.proc_root("IRIS") / "vm"
    (vm / "swappiness").write_text("60\n")
    sysctl_dir = tmp_path / "sysctl.d"
    sysctl_dir.mkdir()
    guard = {"section": "config", "parameter": "locksiz", "new_value": "0", "current_value": "12345"}
    guarded = {"command_id": "guard-fails", "instance": "IRIS", "error_type": "config", "severity": 2,
               "parameters": [{"action": "cpf", "changes": [guard]}]}
    later = command("runs-never", parameters=[{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 7}]}])
    inbox = _inbox_with(tmp_path, [guarded, later])
    env = dict(ansible_env, IRISEMU_REGISTRY=emulator.registry, PATH=emulator.env["PATH"])
    result = run_consume(env, "-e", "source=%s" % inbox, "-e", "commands_state_dir=%s" % (tmp_path / "state"),
                         "-e", "remediate_proc_root=%s" % emulator.proc_root("IRIS"),
                         "-e", "remediate_sysctl_dir=%s" % sysctl_dir)
    assert result.returncode != 0
    assert "command guard-fails (queue position 1) failed:" in result.stdout
    assert "Not run: runs-never." in result.stdout
    assert (vm / "swappiness").read_text().strip() == "60"
