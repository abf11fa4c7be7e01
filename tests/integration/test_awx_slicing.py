# SPDX-License-Identifier: GPL-3.0-or-later
"""remediate.yml under AWX job slicing: the same job run as several ansible-runner jobs whose limits partition the
inventory (what a sliced job template does), each with its own private data dir, all at once.

Every instance must be remediated exactly once over all slices, each slice writing one trace per instance of its
own hosts and none for the others'; the guard still refuses a bad command when the limit leaves its play no host."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import ansible_runner
import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.plugin_utils.models import WorkflowTrace
from tests.support.emulator import EmulatorEnv
from test_awx_runner import JOB_TEMPLATE, job_envvars

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
COMMAND = json.loads((REPO / "examples" / "commands" / "fault-gmheap-too-small.json").read_text())
INSTANCES = ["SLICE1", "SLICE2", "SLICE3", "SLICE4"]
# AWX assigns hosts to slices round robin: with 2 slices, hosts 1 and 3 go to the first, 2 and 4 to the second.
SLICES = [["slice1", "slice3"], ["slice2", "slice4"]]


def inventory(emulator: EmulatorEnv, tmp_path: Path) -> Dict[str, Any]:
    hosts = {}
    for name in INSTANCES:
        hosts[name.lower()] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                               "remediate_instance": name,
                               "remediation_command": dict(COMMAND, command_id="slice-%s" % name.lower(), instance=name),
                               "remediate_proc_root": str(emulator.proc_root(name)),
                               "remediate_sysctl_dir": str(tmp_path / "sysctl.d"), "remediate_restart_stable_seconds": 0.5}
    return {"all": {"children": {"iris_hosts": {"hosts": hosts}}}}


def private_dir(tmp_path: Path, emulator: EmulatorEnv, label: str, extravars: Dict[str, Any]) -> Path:
    """A job's private data dir as AWX lays it out; every slice gets the whole inventory and its own limit."""
    private = tmp_path / label
    (private / "env").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts.json").write_text(json.dumps(inventory(emulator, tmp_path)))
    (private / "env" / "extravars").write_text(json.dumps(extravars))
    (private / "env" / "envvars").write_text(json.dumps(job_envvars(private, emulator, tmp_path)))
    return private


def run_slices(tmp_path: Path, emulator: EmulatorEnv, extravars: Dict[str, Any], prefix: str) -> List[Any]:
    """The slices of one job, launched together like AWX launches a sliced workflow."""
    results: List[Any] = [None] * len(SLICES)

    def job(number: int) -> None:
        private = private_dir(tmp_path, emulator, "%s-%d" % (prefix, number), extravars)
        results[number] = ansible_runner.run(private_data_dir=str(private), project_dir=str(REPO),
                                             playbook=JOB_TEMPLATE["playbook"], ident="job",
                                             limit=",".join(SLICES[number]), quiet=True)

    threads = [threading.Thread(target=job, args=(number,)) for number in range(len(SLICES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def traces(result: Any) -> List[WorkflowTrace]:
    folder = Path(result.config.artifact_dir).parent / "irisops-traces"
    return [WorkflowTrace.model_validate(json.loads(path.read_text())) for path in sorted(folder.glob("*.json"))]


@pytest.fixture
def faulty_fleet(emulator: EmulatorEnv, tmp_path: Path) -> EmulatorEnv:
    for name in INSTANCES:
        install_dir = emulator.create(name, switches={"fault_interval_seconds": 0.5})
        document = CpfDocument.parse((install_dir / "iris.cpf").read_bytes())
        document.set("config", "gmheap", "16384")
        (install_dir / "iris.cpf").write_bytes(document.render())
        emulator.start(name)
    (tmp_path / "sysctl.d").mkdir()
    return emulator


def gmheap(emulator: EmulatorEnv, name: str) -> Optional[str]:
    return CpfDocument.parse((emulator.instances[name] / "iris.cpf").read_bytes()).get("config", "gmheap")


def test_sliced_job_remediates_every_instance_once_with_one_trace_per_instance_per_slice(
        faulty_fleet: EmulatorEnv, tmp_path: Path) -> None:
    emulator = faulty_fleet
    since = {name: emulator.instance(name).since for name in INSTANCES}
    extravars = {"target": "all", "approve_restart": "true"}

    results = run_slices(tmp_path, emulator, extravars, "job")

    for number, result in enumerate(results):
        assert (result.status, result.rc) == ("successful", 0), Path(result.config.artifact_dir, "stdout").read_text()
        # Only the slice's hosts ran the role: the limit also leaves the guard's localhost play without a host.
        assert sorted(result.stats["changed"]) == SLICES[number] and not result.stats["failures"]
        slice_traces = traces(result)
        assert sorted(str(trace.instance) for trace in slice_traces) == [host.upper() for host in SLICES[number]]
        assert all(trace.overall_status.value == "success" for trace in slice_traces)
        assert all([step.tool for step in trace.steps_executed] == ["cpf", "instance_restart"] for trace in slice_traces)
    remediated = [str(trace.instance) for result in results for trace in traces(result)]
    assert sorted(remediated) == INSTANCES  # every instance once, none twice
    for name in INSTANCES:
        assert gmheap(emulator, name) == "307200" and emulator.instance(name).since != since[name]


def test_guard_refuses_a_bad_command_in_every_slice_even_when_its_play_has_no_host(
        faulty_fleet: EmulatorEnv, tmp_path: Path) -> None:
    emulator = faulty_fleet
    cpf_before = {name: (emulator.instances[name] / "iris.cpf").read_bytes() for name in INSTANCES}
    # A command document that also sets a role variable: refused by the guard before anything is templated.
    hostile = json.dumps(dict(COMMAND, remediate_become=False))
    extravars = {"target": "all", "approve_restart": "true", "remediation_command": hostile}

    results = run_slices(tmp_path, emulator, extravars, "hostile")

    for result in results:
        assert result.status == "failed" and result.rc != 0
        assert "Nothing was changed" in Path(result.config.artifact_dir, "stdout").read_text()
        assert not [event for event in result.events if event.get("event") == "runner_on_ok"]
    for name in INSTANCES:
        assert (emulator.instances[name] / "iris.cpf").read_bytes() == cpf_before[name]
