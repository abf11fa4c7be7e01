# SPDX-License-Identifier: GPL-3.0-or-later
"""The integration subset that matters, on every ansible-core release in the Makefile's MATRIX_CORES.

Each release runs from its own venv (.venv/matrix/<minor>, made by ``make matrix-venvs``): emulate.yml
deploys one emulated instance per example command (one emulator host holds them all), remediate.yml
previews every example in check mode (nothing may change) and applies it (the files must then hold the
new values), and consume.yml takes a command from a drop directory and applies it. A failure names the
release, the example and the error, so an unsupported release is found here rather than by a user.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from tests.support.emulator import PortPool, emulator_pids

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples" / "commands").glob("*.json"))
GROUP = "iris_matrix"
EMULATOR_GROUP = "iris_matrix_emulator"


def matrix_cores() -> List[str]:
    """MATRIX_CORES from the environment (the gate passes it), else from the Makefile (its one home)."""
    listed = os.environ.get("MATRIX_CORES")
    if not listed:
        match = re.search(r"^MATRIX_CORES := (.+)$", (REPO / "Makefile").read_text(), re.M)
        assert match, "MATRIX_CORES is not set in the Makefile"
        listed = match.group(1)
    return listed.split()


class MatrixFleet(object):
    """One local inventory host per example command, each with its own instance, /proc/sys and sysctl.d; the
    instances are deployed by one emulator host (one emulate.yml host with eight instances is far quicker
    than eight hosts, and the remediations still run on eight hosts at once)."""

    def __init__(self, core: str, base: Path) -> None:
        self.core = core
        self.venv = REPO / ".venv" / "matrix" / core.rsplit(".", 1)[0]
        self.base = base
        self.inventory = base / "inventory.json"
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("ANSIBLE_") and key != "IRISEMU_REGISTRY"}
        self.env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCAL_TEMP=str(base / "ansible-local"), ANSIBLE_REMOTE_TMP=str(base / "ansible-remote"),
                        ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
        ports = PortPool()
        prefix = base / "irisemu"
        self.emulator: Dict[str, Any] = {"ansible_connection": "local", "iris_emulator_prefix": str(prefix),
                                         "ansible_python_interpreter": str(self.venv / "bin" / "python"),
                                         "iris_emulator_link": "", "iris_emulator_instances": []}
        self.hosts: Dict[str, Dict[str, Any]] = {}
        for index, path in enumerate(EXAMPLES, 1):
            name = path.stem
            root = base / name
            (root / "proc" / "vm").mkdir(parents=True)
            (root / "sysctl.d").mkdir()
            for parameter, value in {"swappiness": 60, "nr_hugepages": 0, "dirty_ratio": 20}.items():
                (root / "proc" / "vm" / parameter).write_text("%d\n" % value)
            command = json.loads(path.read_text())
            command["instance"] = "EX%d" % index  # one instance per host: the role refuses two hosts on one instance
            self.emulator["iris_emulator_instances"].append(
                {"name": command["instance"], "install_dir": str(root / "instance"), "superserver_port": ports.free_port(),
                 "web_port": ports.free_port(), "proc_root": str(root / "proc")})
            self.hosts[name] = {
                "ansible_connection": "local", "ansible_python_interpreter": str(self.venv / "bin" / "python"),
                "iris_instances": [command["instance"]],
                "remediate_iris_bin": str(prefix / "bin" / "iris"), "remediate_proc_root": str(root / "proc"),
                "remediate_sysctl_dir": str(root / "sysctl.d"), "remediate_restart_stable_seconds": 0.5,
                # JSON text: the planner reads it as the command, untemplated.
                "remediation_command": json.dumps(command),
            }
        self.write_inventory("started")

    def write_inventory(self, state: str) -> None:
        for instance in self.emulator["iris_emulator_instances"]:
            instance["state"] = state
        self.inventory.write_text(json.dumps({"all": {"children": {GROUP: {"hosts": self.hosts},
                                                                   EMULATOR_GROUP: {"hosts": {"emulator": self.emulator}}}}}))

    def play(self, playbook: str, *extra: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([str(self.venv / "bin" / "ansible-playbook"), "-i", str(self.inventory),
                               "--forks", str(len(self.hosts)), str(REPO / "playbooks" / playbook), *extra],
                              env=self.env, capture_output=True, text=True, timeout=900, check=False)

    def stop_all(self) -> None:
        """Kill every instance at once (``iris force``; a graceful stop of eight instances takes a minute)."""
        iris_bin = str(self.base / "irisemu" / "bin" / "iris")
        if os.path.exists(iris_bin):
            stops = [subprocess.Popen([iris_bin, "force", instance["name"]], env=self.env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for instance in self.emulator["iris_emulator_instances"]]
            for stop in stops:
                stop.wait(timeout=120)

    def command(self, name: str) -> Dict[str, Any]:
        return json.loads(self.hosts[name]["remediation_command"])  # type: ignore[no-any-return]

    def cpf(self, name: str) -> CpfDocument:
        return CpfDocument.parse((self.base / name / "instance" / "iris.cpf").read_bytes())

    def hashes(self) -> Dict[str, str]:
        """Every file a remediation could change, minus the logs and run files live instances keep writing."""
        return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(self.base.rglob("*"))
                if path.is_file() and path.name != "messages.log" and "run" not in path.parts
                and "ansible-local" not in path.parts and "ansible-remote" not in path.parts and path != self.inventory}


def failures(run: "subprocess.CompletedProcess[str]") -> Dict[str, str]:
    """host -> the first error ansible-playbook reported for it (the whole output when none is attributable)."""
    found: Dict[str, str] = {}
    for match in re.finditer(r'^fatal: \[([^\]]+)\]: FAILED! => (.*)$', run.stdout, re.M):
        message = match.group(2)
        try:
            message = json.loads(message).get("msg", message)
        except ValueError:
            pass
        found.setdefault(match.group(1), str(message)[:400])
    if run.returncode != 0 and not found:
        found["(play)"] = (run.stdout + run.stderr)[-2000:]
    return found


@pytest.fixture(scope="module", params=matrix_cores())
def fleet(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MatrixFleet]:
    core = str(request.param)
    fleet = MatrixFleet(core, tmp_path_factory.mktemp("matrix-%s" % core))
    if not (fleet.venv / ".installed").exists():
        pytest.fail("no venv for ansible-core %s: run `make matrix-venvs`" % core)
    version = subprocess.run([str(fleet.venv / "bin" / "ansible-playbook"), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert "[core %s]" % core in version, version
    try:
        yield fleet
    finally:
        fleet.stop_all()
    leaked = emulator_pids(str(fleet.base))
    assert not leaked, "emulator daemons still running: %s" % leaked


def test_emulate_deploys_every_instance(fleet: MatrixFleet) -> None:
    run = fleet.play("emulate.yml", "-e", "iris_emulator_hosts=%s" % EMULATOR_GROUP)
    assert not failures(run), "ansible-core %s: %s" % (fleet.core, failures(run))
    for name in fleet.hosts:
        assert (fleet.base / name / "instance" / "iris.cpf").is_file()
    assert len(list((fleet.base / "irisemu" / "registry").iterdir())) == len(fleet.hosts)


def test_remediate_examples_in_check_mode_change_nothing(fleet: MatrixFleet) -> None:
    before = fleet.hashes()
    run = fleet.play("remediate.yml", "-e", "target=%s" % GROUP, "--check", "--diff")
    assert not failures(run), "ansible-core %s: %s" % (fleet.core, failures(run))
    assert fleet.hashes() == before


def test_remediate_examples_apply_their_changes(fleet: MatrixFleet) -> None:
    run = fleet.play("remediate.yml", "-e", "target=%s" % GROUP, "-e", "approve_restart=true")
    assert not failures(run), "ansible-core %s: %s" % (fleet.core, failures(run))
    wrong = {}
    for name in fleet.hosts:
        for parameter in fleet.command(name)["parameters"]:
            for change in parameter.get("changes", []):
                if parameter["action"] == "cpf":
                    have = fleet.cpf(name).get(change["section"], change["parameter"])
                    expected = str(change["new_value"])
                else:
                    have = (fleet.base / name / "proc" / change["name"].replace(".", "/")).read_text().strip()
                    expected = str(change["new_value"]) if change["new_value"] != "auto" else "(sized from the instance)"
                    if change["new_value"] == "auto" and int(have) > 0:
                        continue
                if have != expected:
                    wrong[name] = "%s is %s, expected %s" % (change.get("parameter", change.get("name")), have, expected)
    assert not wrong, "ansible-core %s: %s" % (fleet.core, wrong)


def test_consume_applies_a_dropped_command(fleet: MatrixFleet) -> None:
    name = "config-sql-lock-threshold"
    command = fleet.command(name)
    command.update(command_id="matrix-consume-%s" % fleet.core)
    command["parameters"][0]["changes"][0].update(current_value="5000", new_value="7000")  # after the applied example
    inbox = fleet.base / "inbox"
    inbox.mkdir()
    (inbox / "command.json").write_text(json.dumps(command))
    run = fleet.play("consume.yml", "-e", "target=%s" % GROUP, "-e", "source=%s" % inbox,
                     "-e", "commands_state_dir=%s" % (fleet.base / "commands-state"))
    assert not failures(run), "ansible-core %s: %s" % (fleet.core, failures(run))
    assert fleet.cpf(name).get("SQL", "LockThreshold") == "7000"
