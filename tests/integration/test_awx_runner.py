# SPDX-License-Identifier: GPL-3.0-or-later
"""remediate.yml through ansible-runner laid out as AWX does it (private data dir with env/extravars holding the
survey answers, env/envvars, inventory/hosts, the project checkout), asserting on the job's artifacts; and the
execution environment definition accepted by ansible-builder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import ansible_runner
import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import MAX_COMMAND_BYTES
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.plugin_utils.models import WorkflowTrace
from tests.support.emulator import EmulatorEnv
from tests.support.paths import VENV_BIN

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
AWX = REPO / "docs" / "awx"
JOB_TEMPLATE = json.loads((AWX / "job_template.json").read_text())
SURVEY = json.loads((AWX / "survey_spec.json").read_text())
COMMAND = (REPO / "examples" / "commands" / "fault-gmheap-too-small.json").read_text()


def survey_answers(**answers: str) -> Dict[str, Any]:
    """Extra vars as AWX builds them from the survey: every question's variable, the default when unanswered."""
    values = {question["variable"]: answers.get(question["variable"], question["default"]) for question in SURVEY["spec"]}
    for question in SURVEY["spec"]:
        if question["type"] == "multiplechoice":
            assert values[question["variable"]] in question["choices"]
    return values


def job_envvars(private: Path, emulator: EmulatorEnv, tmp_path: Path) -> Dict[str, str]:
    """env/envvars of a job: what the execution environment sets, plus the emulator and the job's trace folder."""
    return {"ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
            "ANSIBLE_CALLBACKS_ENABLED": "irisops.iris.workflow_trace",
            "IRISOPS_TRACE_DIR": str(private / "artifacts" / "irisops-traces"),
            "IRISEMU_REGISTRY": emulator.registry,
            "PATH": "%s:%s:%s" % (os.path.dirname(emulator.iris_bin), VENV_BIN, os.environ.get("PATH", "")),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"), "ANSIBLE_REMOTE_TMP": str(tmp_path / "ansible-remote"),
            "ANSIBLE_FORKS": str(JOB_TEMPLATE["forks"]), "ANSIBLE_NOCOLOR": "1"}


def launch(tmp_path: Path, emulator: EmulatorEnv, answers: Dict[str, Any], job_type: str = "run") -> Any:
    """One job: a fresh private data dir, as AWX lays it out for each job run."""
    private = tmp_path / ("job-%d" % len(list(tmp_path.glob("job-*"))))
    (private / "env").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text(
        "[iris_hosts]\niris1 ansible_connection=local ansible_python_interpreter=%s remediate_proc_root=%s "
        "remediate_sysctl_dir=%s remediate_restart_stable_seconds=0.5\n" % (
            sys.executable, emulator.proc_root("IRIS"), tmp_path / "sysctl.d"))
    extravars = dict(answers)
    extravars.update({line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
                      for line in JOB_TEMPLATE["extra_vars"].splitlines() if ":" in line})
    (private / "env" / "extravars").write_text(json.dumps(extravars))
    (private / "env" / "envvars").write_text(json.dumps(job_envvars(private, emulator, tmp_path)))
    cmdline = " ".join((["--check"] if job_type == "check" else []) + (["--diff"] if JOB_TEMPLATE["diff_mode"] else []))
    return ansible_runner.run(private_data_dir=str(private), project_dir=str(REPO), playbook=JOB_TEMPLATE["playbook"],
                              ident="job", cmdline=cmdline, quiet=True)


def events(result: Any, name: str) -> List[Dict[str, Any]]:
    return [event for event in result.events if event.get("event") == name]


def task_names(result: Any, name: str) -> List[str]:
    return [event["event_data"].get("task", "") for event in events(result, name)]


def traces(artifacts: Path) -> List[WorkflowTrace]:
    return [WorkflowTrace.model_validate(json.loads(path.read_text())) for path in sorted(artifacts.glob("irisops-traces/*.json"))]


@pytest.fixture
def faulty_instance(emulator: EmulatorEnv, tmp_path: Path) -> EmulatorEnv:
    install_dir = emulator.create("IRIS", switches={"fault_interval_seconds": 0.1})
    document = CpfDocument.parse((install_dir / "iris.cpf").read_bytes())
    document.set("config", "gmheap", "16384")
    (install_dir / "iris.cpf").write_bytes(document.render())
    emulator.start("IRIS")
    (tmp_path / "sysctl.d").mkdir()
    return emulator


def test_survey_matches_what_the_role_reads() -> None:
    variables = {question["variable"]: question for question in SURVEY["spec"]}
    assert set(variables) == {"remediation_command", "approve_restart"}
    assert variables["remediation_command"]["max"] == MAX_COMMAND_BYTES
    assert variables["approve_restart"]["default"] == "false"
    assert (REPO / JOB_TEMPLATE["playbook"]).is_file() and JOB_TEMPLATE["survey_enabled"]
    assert JOB_TEMPLATE["allow_simultaneous"] is False  # two jobs must not remediate one instance at once


def test_unapproved_job_fails_before_any_change_then_the_approved_job_fixes_it(
        faulty_instance: EmulatorEnv, tmp_path: Path) -> None:
    emulator = faulty_instance
    cpf_before = (emulator.instances["IRIS"] / "iris.cpf").read_bytes()
    since = emulator.instance("IRIS").since

    refused = launch(tmp_path, emulator, survey_answers(remediation_command=COMMAND))
    assert (refused.status, refused.rc) == ("failed", 2)
    artifacts = Path(refused.config.artifact_dir)
    assert (artifacts / "status").read_text() == "failed" and (artifacts / "rc").read_text() == "2"
    [failure] = events(refused, "runner_on_failed")
    assert failure["event_data"]["task"] == "Plan the remediation command"
    assert "approve_restart=true" in failure["event_data"]["res"]["msg"]
    assert (emulator.instances["IRIS"] / "iris.cpf").read_bytes() == cpf_before and emulator.instance("IRIS").since == since
    [trace] = traces(artifacts.parent)
    assert trace.overall_status.value == "failure" and trace.steps_executed[0].requires_user_action

    preview = launch(tmp_path, emulator, survey_answers(remediation_command=COMMAND), job_type="check")
    assert preview.status == "successful"
    assert (emulator.instances["IRIS"] / "iris.cpf").read_bytes() == cpf_before and emulator.instance("IRIS").since == since
    assert "+gmheap=307200" in Path(preview.config.artifact_dir, "stdout").read_text()

    approved = launch(tmp_path, emulator, survey_answers(remediation_command=COMMAND, approve_restart="true"))
    assert (approved.status, approved.rc) == ("successful", 0)
    artifacts = Path(approved.config.artifact_dir)
    assert task_names(approved, "runner_on_ok")[-3:] == ["Change the CPF", "Restart the instance",
                                                         "Write the WorkflowTrace of this run"]
    assert approved.stats["changed"] == {"iris1": 2} and not approved.stats["failures"]
    stdout = (artifacts / "stdout").read_text()
    assert "WORKFLOW TRACE" in stdout and "IRIS fault-gmheap-too-small-001: SUCCESS" in stdout
    [trace] = traces(artifacts.parent)
    assert [step.tool for step in trace.steps_executed] == ["cpf", "instance_restart"] and trace.overall_status.value == "success"
    assert emulator.instance("IRIS").since != since


def test_ansible_builder_accepts_the_execution_environment(tmp_path: Path) -> None:
    output = tmp_path / "ee"
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                    str(REPO / "build" / "ee")], cwd=REPO, check=True, capture_output=True, timeout=300)
    subprocess.run([str(VENV_BIN / "ansible-builder"), "create", "-f", str(REPO / "execution-environment.yml"),
                    "-c", str(output), "--output-filename", "Containerfile"], cwd=REPO, check=True, capture_output=True,
                   timeout=300)
    containerfile = (output / "Containerfile").read_text()
    assert 'ARG PYCMD="/usr/bin/python3.12"' in containerfile
    assert "ENV ANSIBLE_CALLBACKS_ENABLED=irisops.iris.workflow_trace" in containerfile
    assert (output / "_build" / "requirements.txt").read_text() == (REPO / "requirements" / "runtime.txt").read_text()
    assert "openssh-clients" in (output / "_build" / "bindep.txt").read_text()
    [tarball] = list((output / "_build" / "collections").glob("irisops-iris-*.tar.gz"))
    listing = subprocess.run(["tar", "-tzf", str(tarball)], check=True, capture_output=True, text=True).stdout.split()
    assert "roles/remediate/tasks/main.yml" in listing and "plugins/callback/workflow_trace.py" in listing
    assert not [name for name in listing if name.startswith((".venv", "build/"))]
