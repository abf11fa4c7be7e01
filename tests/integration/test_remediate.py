# SPDX-License-Identifier: GPL-3.0-or-later
"""remediate.yml end to end on emulated instances: ansible-playbook in a subprocess, the workflow_trace
callback enabled, files hashed before and after."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import LogEntry, parse_text
from ansible_collections.irisops.iris.plugins.plugin_utils.models import WorkflowTrace
from tests.support.emulator import EmulatorEnv
from tests.support.hostile_commands import hostile_commands
from tests.support.paths import VENV_BIN

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(VENV_BIN / "ansible-playbook")
EXAMPLES = REPO / "examples" / "commands"
FAST_FAULTS = {"fault_interval_seconds": 0.1}
PLANTED_MARKER = Path("/tmp/irisops-pwned")
# What a running (emulated) instance keeps writing: its log, its runtime state and the emulator's merge hand-over.
RUNTIME_FILES = frozenset({"messages.log", "emulator-state.json", "emulator-merge-request.json", "emulator-merge.lock"})


class Remediation(object):
    """Runs playbooks/remediate.yml against one EmulatorEnv with its own trace and sysctl directories."""

    def __init__(self, emulator: EmulatorEnv, ansible_env: Dict[str, str], tmp_path: Path) -> None:
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.trace_dir = tmp_path / "traces"
        self.sysctl_dir = tmp_path / "sysctl.d"
        self.sysctl_dir.mkdir()
        self.env = dict(ansible_env, IRISEMU_REGISTRY=emulator.registry, PATH=emulator.env["PATH"],
                        ANSIBLE_CALLBACKS_ENABLED="irisops.iris.workflow_trace", IRISOPS_TRACE_DIR=str(self.trace_dir),
                        ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")

    def write_command(self, command: Dict[str, Any]) -> Path:
        path = self.tmp_path / ("%s.json" % command["command_id"])
        path.write_text(json.dumps(command))
        return path

    def run(self, command: Optional[Dict[str, Any]], *extra: str, instance: str = "IRIS",
            playbook: Optional[Path] = None) -> "subprocess.CompletedProcess[str]":
        args = [ANSIBLE_PLAYBOOK, str(playbook or REPO / "playbooks" / "remediate.yml"),
                *(["-e", "@%s" % self.write_command(command)] if command is not None else []),
                "-e", "remediate_proc_root=%s" % self.emulator.proc_root(instance),
                "-e", "remediate_sysctl_dir=%s" % self.sysctl_dir,
                "-e", "remediate_restart_stable_seconds=0.5", *extra]
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=False, timeout=600)

    def traces(self) -> List[WorkflowTrace]:
        files = sorted(self.trace_dir.glob("*.json")) if self.trace_dir.exists() else []
        return [WorkflowTrace.model_validate(json.loads(path.read_text())) for path in files]

    def only_trace(self) -> WorkflowTrace:
        [trace] = self.traces()
        return trace

    def hashes(self) -> Dict[str, str]:
        """Every file that a remediation could touch (instances, emulated /proc/sys, sysctl.d, registry) except
        the logs and the runtime state a running instance keeps writing (active_config() reads the latter)."""
        roots = [self.emulator.base_dir / "instances", self.emulator.base_dir / "proc", self.emulator.base_dir / "registry",
                 self.sysctl_dir]
        return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
                for root in roots for path in sorted(root.rglob("*"))
                if path.is_file() and path.name not in RUNTIME_FILES
                and "run" not in path.relative_to(root).parts}

    def active_config(self, instance: str = "IRIS") -> Dict[str, Any]:
        """The configuration the running emulated instance has in effect (what iris merge activated)."""
        state = json.loads((self.emulator.instances[instance] / "mgr" / "emulator-state.json").read_text())
        return state["active"]  # type: ignore[no-any-return]


@pytest.fixture
def remediation(emulator: EmulatorEnv, ansible_env: Dict[str, str], tmp_path: Path) -> Remediation:
    return Remediation(emulator, ansible_env, tmp_path)


def example(name: str) -> Dict[str, Any]:
    return json.loads((EXAMPLES / ("%s.json" % name)).read_text())  # type: ignore[no-any-return]


def set_cpf(install_dir: Path, section: str, parameter: str, value: str) -> None:
    cpf = install_dir / "iris.cpf"
    document = CpfDocument.parse(cpf.read_bytes())
    document.set(section, parameter, value)
    cpf.write_bytes(document.render())


def cpf_value(install_dir: Path, section: str, parameter: str) -> Optional[str]:
    return CpfDocument.parse((install_dir / "iris.cpf").read_bytes()).get(section, parameter)


def alerts_since_last_start(emulator: EmulatorEnv, name: str) -> List[LogEntry]:
    entries, unused_malformed = parse_text(emulator.messages_log(name))
    starts = [index for index, entry in enumerate(entries) if entry.text == "Shutdown of InterSystems IRIS complete"]
    return [entry for entry in entries[starts[-1] + 1 if starts else 0:] if entry.severity >= 2]


def wait_for_alerts(emulator: EmulatorEnv, name: str, count: int, timeout: float = 10.0) -> List[LogEntry]:
    deadline = time.monotonic() + timeout
    while len(alerts_since_last_start(emulator, name)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return alerts_since_last_start(emulator, name)


def test_config_change_and_approved_restart_stop_the_fault(emulator: EmulatorEnv, remediation: Remediation) -> None:
    install_dir = emulator.create("IRIS", switches=FAST_FAULTS)
    set_cpf(install_dir, "config", "gmheap", "16384")
    emulator.start("IRIS")
    assert wait_for_alerts(emulator, "IRIS", 2), "the gmheap fault never showed"
    since = emulator.instance("IRIS").since

    run = remediation.run(example("fault-gmheap-too-small"), "-e", "approve_restart=true")
    assert run.returncode == 0, run.stdout + run.stderr
    assert cpf_value(install_dir, "config", "gmheap") == "307200"
    assert emulator.instance("IRIS").since != since and emulator.instance("IRIS").state == "ok"
    time.sleep(0.5)  # five fault intervals: a recurring fault would have fired by now
    assert alerts_since_last_start(emulator, "IRIS") == []
    trace = remediation.only_trace()
    assert [(step.tool, step.status.value) for step in trace.steps_executed] == [("cpf", "success"),
                                                                                 ("instance_restart", "success")]
    assert trace.overall_status.value == "success" and trace.command_id == "fault-gmheap-too-small-001"
    assert {step.trace_id for step in trace.steps_executed} == {trace.trace_id}
    assert "IRIS fault-gmheap-too-small-001: SUCCESS" in run.stdout


def log_since_last_start(emulator: EmulatorEnv, name: str) -> str:
    text = emulator.messages_log(name)
    return text.rsplit("Shutdown of InterSystems IRIS complete", 1)[-1]


def connect_ecp_clients(emulator: EmulatorEnv, name: str, count: int) -> None:
    """Connect and disconnect ``count`` ECP application servers at once (those past MaxServerConn are refused)."""
    clients = [emulator.connect_ecp(name) for unused in range(count)]
    time.sleep(0.3)  # the daemon classifies connections asynchronously
    for client in clients:
        client.close()
    emulator.wait_for(name, "iris_ecps_conn", 0)


# example -> (how to bring the fault about, what shows it in messages.log)
FAULT_EXAMPLES = {
    "fault-locksiz-too-small": ({"cpf": ("config", "locksiz", "1048576")}, "LOCK TABLE FULL"),
    "fault-hugepages-too-low": ({"nr_hugepages": 1}, "Switching to small pages"),
    "fault-maxserverconn-exhausted": ({"cpf": ("config", "MaxServerConn", "1"), "ecp_clients": 3},
                                      "ECP connection from application server refused"),
}


LIVE_FIXES = {"fault-locksiz-too-small"}


@pytest.mark.parametrize("name", sorted(FAULT_EXAMPLES))
def test_each_fault_example_fixes_its_emulator_fault(name: str, emulator: EmulatorEnv, remediation: Remediation) -> None:
    fault, signal = FAULT_EXAMPLES[name]
    install_dir = emulator.create("IRIS", nr_hugepages=int(fault.get("nr_hugepages", 0)), switches=FAST_FAULTS)
    if "cpf" in fault:
        set_cpf(install_dir, *fault["cpf"])
    emulator.start("IRIS")
    connect_ecp_clients(emulator, "IRIS", int(fault.get("ecp_clients", 0)))
    time.sleep(0.3)
    assert signal in log_since_last_start(emulator, "IRIS"), "the fault never showed"

    since = emulator.instance("IRIS").since
    run = remediation.run(example(name), "-e", "approve_restart=true")
    assert run.returncode == 0, run.stdout + run.stderr
    trace = remediation.only_trace()
    assert trace.overall_status.value == "success"
    live = name in LIVE_FIXES  # iris merge activates it in the running instance
    cpf_changes = [change.target for step in trace.steps_executed if step.tool == "cpf" for change in step.changes]
    assert all(target.endswith(" (active now)" if live else " (waits for the restart)") for target in cpf_changes)
    log_before_check = emulator.messages_log("IRIS")
    connect_ecp_clients(emulator, "IRIS", int(fault.get("ecp_clients", 0)))
    time.sleep(0.5)  # five fault intervals
    assert (emulator.instance("IRIS").since == since) is live
    if live:  # the alerts IRIS raised before the fix stay in its state until cleared; no new one comes
        assert emulator.messages_log("IRIS")[len(log_before_check):].count(signal) == 0
    else:
        assert signal not in log_since_last_start(emulator, "IRIS")
        assert emulator.instance("IRIS").state == "ok"


def test_second_run_changes_nothing_and_does_not_restart_again(emulator: EmulatorEnv, remediation: Remediation) -> None:
    emulator.create("IRIS")
    emulator.start("IRIS")
    command = example("resource-journal-buffers")  # the restart is implied by the jrnbufs change
    first = remediation.run(command, "-e", "approve_restart=true")
    assert first.returncode == 0, first.stdout + first.stderr
    since = emulator.instance("IRIS").since
    before = remediation.hashes()
    second = remediation.run(command, "-e", "approve_restart=true")
    assert second.returncode == 0 and "changed=0" in second.stdout
    assert remediation.hashes() == before and emulator.instance("IRIS").since == since
    steps = {trace.trace_id: [step.tool for step in trace.steps_executed] for trace in remediation.traces()}
    assert sorted(steps.values()) == [["cpf"], ["cpf", "instance_restart"]]


def test_failure_in_step_two_rolls_back_step_one_and_never_runs_step_three(
        emulator: EmulatorEnv, remediation: Remediation) -> None:
    install_dir = emulator.create("IRIS")
    emulator.start("IRIS")
    (emulator.proc_root("IRIS") / "vm" / "swappiness").write_text("60\n")
    since = emulator.instance("IRIS").since
    before = remediation.hashes()
    active_before = remediation.active_config()
    command = {"command_id": "rollback-1", "instance": "IRIS", "error_type": "resource", "severity": 2, "requires_restart": True,
               "parameters": [{"action": "cpf", "changes": [{"section": "config", "parameter": "locksiz", "new_value": "33554432"}]},
                              {"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5, "current_value": 99}]},
                              {"action": "restart"}],
               "execution_order": ["cpf", "kernel", "restart"]}

    run = remediation.run(command, "-e", "approve_restart=true")
    assert run.returncode == 2, run.stdout + run.stderr
    # locksiz was activated live by iris merge: the active value is merged back, then the file restored.
    assert "Rolled back: locksiz (active value), %s" % (install_dir / "iris.cpf") in run.stdout
    assert "Later steps were not run" in run.stdout
    after = remediation.hashes()
    assert {path for path in after if path not in before} == {path for path in after if ".cpf." in path}  # the backup
    assert {path: after[path] for path in before} == before
    assert emulator.instance("IRIS").since == since and remediation.active_config() == active_before
    trace = remediation.only_trace()
    assert [(step.tool, step.status.value) for step in trace.steps_executed] == [
        ("cpf", "success"), ("kernel_param", "failure"), ("cpf", "success"), ("file_restore", "success")]
    assert trace.steps_executed[3].changes[0].target == str(install_dir / "iris.cpf")
    assert trace.overall_status.value == "rolled_back"
    assert "expected 99" in (trace.steps_executed[1].error_message or "")


def test_failed_restart_restores_the_cpf_and_starts_the_instance_again(emulator: EmulatorEnv, remediation: Remediation) -> None:
    install_dir = emulator.create("IRIS", nr_hugepages=0)
    emulator.start("IRIS")
    cpf_before = (install_dir / "iris.cpf").read_bytes()
    # memlock bit 64 makes large pages mandatory: with no huge pages the start aborts after the stop.
    command = {"command_id": "bad-restart", "instance": "IRIS", "error_type": "resource", "severity": 2, "requires_restart": True,
               "parameters": [{"action": "cpf", "changes": [{"section": "config", "parameter": "memlock", "new_value": "64"}]},
                              {"action": "restart", "start_timeout": 20}]}

    run = remediation.run(command, "-e", "approve_restart=true", "-e", "remediate_allow_dangerous=true")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "failed at 'Restart the instance'" in run.stdout
    assert "Instance restarted on the restored configuration." in run.stdout
    assert (install_dir / "iris.cpf").read_bytes() == cpf_before
    assert emulator.instance("IRIS").state == "ok" and "memlock requires them" in emulator.messages_log("IRIS")
    trace = remediation.only_trace()
    assert [(step.tool, step.status.value) for step in trace.steps_executed] == [
        ("cpf", "success"), ("instance_restart", "partial"),  # stopped, not started
        ("file_restore", "success"), ("instance_restart", "success")]
    assert trace.overall_status.value == "rolled_back"


def test_kernel_changes_are_rolled_back_at_runtime_and_on_disk(emulator: EmulatorEnv, remediation: Remediation) -> None:
    emulator.create("IRIS")
    vm = emulator.proc_root("IRIS") / "vm"
    (vm / "swappiness").write_text("60\n")
    (vm / "dirty_ratio").write_text("20\n")
    persisted = remediation.sysctl_dir / "99-irisops-iris.conf"
    persisted.write_text("# kept\nvm.swappiness = 30\n")
    before = remediation.hashes()
    command = {"command_id": "rollback-2", "instance": "IRIS", "error_type": "os", "severity": 2,
               "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5},
                                                               {"name": "vm.dirty_ratio", "new_value": 10}]},
                              {"action": "cpf", "changes": [{"section": "SQL", "parameter": "LockThreshold", "new_value": "5000",
                                                             "current_value": "7"}]}]}

    run = remediation.run(command)
    assert run.returncode == 2, run.stdout + run.stderr
    after = remediation.hashes()
    assert {path: after[path] for path in before} == before
    assert (vm / "swappiness").read_text() == "60\n" and persisted.read_text() == "# kept\nvm.swappiness = 30\n"
    trace = remediation.only_trace()
    assert [step.tool for step in trace.steps_executed] == ["kernel_param", "kernel_param", "cpf", "kernel_param",
                                                            "kernel_param", "file_restore"]
    assert trace.overall_status.value == "rolled_back"

    persisted.unlink()  # a file the failed run created is removed again
    assert remediation.run(command).returncode == 2
    assert not persisted.exists() and (vm / "dirty_ratio").read_text() == "20\n"


def test_first_step_failing_is_a_failure_not_partial(emulator: EmulatorEnv, remediation: Remediation) -> None:
    emulator.create("IRIS")
    command = example("config-sql-lock-threshold")
    command["parameters"][0]["changes"][0]["current_value"] = "7"
    run = remediation.run(command)
    assert run.returncode == 2 and "Rolled back: nothing had changed" in run.stdout
    trace = remediation.only_trace()
    assert [(step.tool, step.status.value) for step in trace.steps_executed] == [("cpf", "failure")]
    assert trace.overall_status.value == "failure"


def test_check_mode_previews_every_change_and_changes_nothing(emulator: EmulatorEnv, remediation: Remediation) -> None:
    emulator.create("IRIS", switches=FAST_FAULTS)
    emulator.start("IRIS")
    since = emulator.instance("IRIS").since
    (emulator.proc_root("IRIS") / "vm" / "swappiness").write_text("60\n")
    command = example("fault-gmheap-too-small")
    command["parameters"].insert(1, {"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]})
    command["execution_order"] = ["cpf", "kernel", "restart"]
    before = remediation.hashes()

    run = remediation.run(command, "--check", "--diff")
    assert run.returncode == 0, run.stdout + run.stderr
    assert remediation.hashes() == before and emulator.instance("IRIS").since == since
    # What an approver reads at default verbosity: the reason, each change, why the restart, and no "(approved)".
    assert "reason: %s" % command["reason"] in run.stdout and "1. cpf [config] gmheap -> 307200" in run.stdout
    assert "3. restart IRIS: the command includes a restart action" in run.stdout and "(approved)" not in run.stdout
    assert "-gmheap=73728\n+gmheap=307200" in run.stdout
    assert "vm.swappiness" in run.stdout and "IRIS: running, since" in run.stdout
    trace = remediation.only_trace()
    assert trace.check_mode and all(step.dry_run for step in trace.steps_executed)
    assert [step.tool for step in trace.steps_executed] == ["cpf", "kernel_param", "instance_restart"]
    assert "[preview] IRIS fault-gmheap-too-small-001: SUCCESS" in run.stdout


def test_unapproved_restart_stops_before_any_change(emulator: EmulatorEnv, remediation: Remediation) -> None:
    emulator.create("IRIS")
    emulator.start("IRIS")
    since = emulator.instance("IRIS").since
    before = remediation.hashes()
    run = remediation.run(example("fault-gmheap-too-small"))
    assert run.returncode == 2
    assert "the restart is not approved; nothing was changed" in run.stdout and "approve_restart=true" in run.stdout
    assert remediation.hashes() == before and emulator.instance("IRIS").since == since
    trace = remediation.only_trace()
    assert (trace.instance, trace.command_id, trace.overall_status.value) == ("IRIS", "fault-gmheap-too-small-001", "failure")
    [step] = trace.steps_executed
    assert step.tool == "remediation_plan" and step.requires_user_action and step.status.value == "failure"


def test_two_hosts_on_one_instance_are_refused_before_any_change(
        emulator: EmulatorEnv, remediation: Remediation, tmp_path: Path) -> None:
    emulator.create("IRIS")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[iris]\nfirst ansible_connection=local\nsecond ansible_connection=local\n")
    before = remediation.hashes()
    run = remediation.run(example("config-sql-lock-threshold"), "-i", str(inventory), "-e", "target=iris")
    assert run.returncode == 2
    assert "localhost IRIS (machine, instance) is remediated by more than one host" in run.stdout
    assert re.search(r"first +: ok=\d+ +changed=0 .*failed=1", run.stdout) and re.search(
        r"second +: ok=\d+ +changed=0 .*failed=1", run.stdout), run.stdout
    assert remediation.hashes() == before


HOSTILE_PLAYBOOK = """
- name: Hostile commands through the planner, then through the role whatever the planner accepted
  hosts: localhost
  gather_facts: false
  vars:
    hostile: "{{ lookup('ansible.builtin.file', hostile_file) | from_json }}"
  tasks:
    - name: Plan every hostile command
      irisops.iris.remediation_plan:
        approve_restart: true
      vars:
        remediation_command: "{{ item }}"
      loop: "{{ hostile }}"
      loop_control:
        index_var: hostile_index
        label: "{{ hostile_index }}"
      register: planned
      ignore_errors: true

    - name: Keep the outcome for the test
      ansible.builtin.copy:
        dest: "{{ outcome_file }}"
        content: "{{ planned.results | map(attribute='errors', default=[]) | list | to_json }}"
        mode: "0600"

    - name: Apply whatever was accepted (must be nothing)
      ansible.builtin.include_role:
        name: irisops.iris.remediate
      vars:
        remediation_command: "{{ item.item }}"
        approve_restart: true
      loop: "{{ planned.results | rejectattr('failed') | list }}"
"""


def test_hostile_commands_are_all_refused_and_change_nothing(
        emulator: EmulatorEnv, remediation: Remediation, tmp_path: Path) -> None:
    install_dir = emulator.create("IRIS")
    (emulator.proc_root("IRIS") / "vm" / "swappiness").write_text("60\n")
    hostile = hostile_commands()
    assert len(hostile) >= 200
    hostile_file = tmp_path / "hostile.json"
    hostile_file.write_text(json.dumps([command for unused_label, command in hostile]))
    playbook = tmp_path / "hostile.yml"
    playbook.write_text(HOSTILE_PLAYBOOK)
    outcome_file = tmp_path / "outcome.json"
    before = remediation.hashes()
    cpf_before = (install_dir / "iris.cpf").read_bytes()

    run = remediation.run(None, "-e", "hostile_file=%s" % hostile_file,
                          "-e", "outcome_file=%s" % outcome_file, playbook=playbook)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    errors = json.loads(outcome_file.read_text())
    refused = [label for (label, unused_command), found in zip(hostile, errors) if found]
    assert len(errors) == len(hostile) and len(refused) == len(hostile), [
        label for (label, unused_command), found in zip(hostile, errors) if not found]
    assert all(error["path"] and error["reason"] for found in errors for error in found)
    assert remediation.hashes() == before and (install_dir / "iris.cpf").read_bytes() == cpf_before
    assert not list(install_dir.glob("iris.cpf.*")) and not list(remediation.sysctl_dir.iterdir())
    assert not PLANTED_MARKER.exists()
    assert "Apply whatever was accepted" in run.stdout and "included: " not in run.stdout


@pytest.mark.parametrize("name", sorted(path.stem for path in EXAMPLES.glob("*.json")))
def test_every_example_applied_twice_is_green_and_the_second_run_changes_nothing(
        name: str, emulator: EmulatorEnv, remediation: Remediation) -> None:
    emulator.create("IRIS")
    (emulator.proc_root("IRIS") / "vm" / "swappiness").write_text("60\n")
    emulator.start("IRIS")
    command = example(name)
    first = remediation.run(command, "-e", "approve_restart=true")
    assert first.returncode == 0, first.stdout + first.stderr
    since = emulator.instance("IRIS").since
    before = remediation.hashes()
    # An AWX relaunch, without the summary callback: the role still writes the run's trace.
    remediation.env.pop("ANSIBLE_CALLBACKS_ENABLED")
    second = remediation.run(command, "-e", "approve_restart=true")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout and "WORKFLOW TRACE" not in second.stdout, second.stdout
    assert remediation.hashes() == before and emulator.instance("IRIS").since == since
    first_trace, second_trace = sorted(remediation.traces(), key=lambda trace: trace.finished_at)
    assert first_trace.overall_status.value == second_trace.overall_status.value == "success"
    assert [step.changes for step in second_trace.steps_executed if step.tool != "instance_restart"] == [
        [] for step in second_trace.steps_executed if step.tool != "instance_restart"]
    assert "instance_restart" not in [step.tool for step in second_trace.steps_executed]


def test_a_restart_that_comes_up_unhealthy_is_rolled_back_to_a_running_instance_on_the_previous_cpf(
        emulator: EmulatorEnv, remediation: Remediation) -> None:
    install_dir = emulator.create("IRIS", nr_hugepages=0)
    emulator.start("IRIS")
    for name in ("fault-gmheap-too-small", "fault-hugepages-too-low"):
        run = remediation.run(example(name), "-e", "approve_restart=true")
        assert run.returncode == 0, run.stdout + run.stderr
    cpf_before = (install_dir / "iris.cpf").read_bytes()
    since = emulator.instance("IRIS").since
    # More journal buffers than the huge pages hold: IRIS falls back to small pages and comes up in state warn.
    command = example("resource-journal-buffers")
    command["parameters"].append({"action": "restart", "start_timeout": 8})
    command["execution_order"] = ["cpf", "restart"]

    run = remediation.run(command, "-e", "approve_restart=true")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Switching to small pages" in emulator.messages_log("IRIS")
    assert "failed at 'Restart the instance'" in run.stdout
    assert "Instance restarted on the restored configuration." in run.stdout
    assert (install_dir / "iris.cpf").read_bytes() == cpf_before
    instance = emulator.instance("IRIS")
    assert instance.running and instance.state == "ok" and instance.since != since
    assert "Switching to small pages" not in log_since_last_start(emulator, "IRIS")
    trace = [trace for trace in remediation.traces() if trace.command_id == command["command_id"]][0]
    assert [(step.tool, step.status.value) for step in trace.steps_executed] == [
        ("cpf", "success"), ("instance_restart", "partial"), ("file_restore", "success"), ("instance_restart", "success")]
    assert trace.overall_status.value == "rolled_back"
