# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/emulate.yml with the iris_emulator role on localhost: deploys, is idempotent, previews, stops, removes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, parse_qlist
from tests.support.emulator import PortPool, emulator_pids
from tests.support.paths import REPO

pytestmark = pytest.mark.slow
PLAYBOOK = REPO / "playbooks" / "emulate.yml"
REAL_CPF = REPO / "tests" / "fixtures" / "cpf" / "rcemper-CrossECP-IRIS__iris.cpf"


class Fleet(object):
    """One prefix deployed by ansible-playbook; the installation finds its own registry (no IRISEMU_REGISTRY)."""

    def __init__(self, tmp_path: Path, env: Dict[str, str]) -> None:
        self.prefix = tmp_path / "irisemu"
        self.env = {key: value for key, value in env.items() if key != "IRISEMU_REGISTRY"}
        self.inventory = tmp_path / "inventory.json"

    def play(self, instances: List[Dict[str, Any]], *extra: str, succeed: bool = True) -> str:
        """Run emulate.yml with the instances as inventory host variables, as an operator would."""
        host_vars = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "iris_emulator_prefix": str(self.prefix), "iris_emulator_link": "", "iris_emulator_instances": instances}
        self.inventory.write_text(json.dumps({"all": {"children": {"iris_emulators": {"hosts": {"localhost": host_vars}}}}}))
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(self.inventory), str(PLAYBOOK)] + list(extra),
            env=self.env, capture_output=True, text=True, timeout=300, check=False)
        assert (result.returncode == 0) == succeed, result.stdout + result.stderr
        return result.stdout

    @property
    def iris_bin(self) -> str:
        return str(self.prefix / "bin" / "iris")

    def qlist(self) -> Dict[str, Instance]:
        out = subprocess.run([self.iris_bin, "qlist"], env=self.env, capture_output=True, text=True, check=True)
        return {instance.name: instance for instance in parse_qlist(out.stdout)}

    def cleanup(self) -> None:
        if os.path.exists(self.iris_bin):
            for instance in self.qlist().values():
                if instance.running:
                    subprocess.run([self.iris_bin, "stop", instance.name, "quietly"], env=self.env, timeout=60,
                                   capture_output=True, check=False)
        leaked = emulator_pids(str(self.prefix))
        for pid in leaked:
            os.kill(pid, signal.SIGKILL)
        assert not leaked, "role-deployed emulator processes leaked: %s" % leaked


@pytest.fixture
def fleet(tmp_path: Path, ansible_env: Dict[str, str]) -> Iterator[Fleet]:
    deployed = Fleet(tmp_path, ansible_env)
    try:
        yield deployed
    finally:
        deployed.cleanup()


def recap_changed(output: str) -> int:
    found = re.search(r"localhost\s+:.*changed=(\d+)", output)
    assert found, output
    return int(found.group(1))


def test_emulate_playbook_deploys_idempotently_and_removes(fleet: Fleet, tmp_path: Path) -> None:
    ports = PortPool()
    sample = tmp_path / "sample.cpf"
    # A real instance's CPF with a lock table too small for the emulated workload.
    sample.write_bytes(REAL_CPF.read_bytes().replace(b"locksiz=16777216", b"locksiz=1048576"))
    instances: List[Dict[str, Any]] = [
        {"name": "east", "superserver_port": ports.free_port(), "web_port": ports.free_port()},
        {"name": "WEST", "superserver_port": ports.free_port(), "web_port": ports.free_port(), "cpf_src": str(sample),
         "switches": {"fault_interval_seconds": 3600}, "version": "2024.1.0.267.2"},
        {"name": "spare", "superserver_port": ports.free_port(), "web_port": ports.free_port(), "state": "stopped"},
    ]
    assert recap_changed(fleet.play(instances)) > 0
    by_name = fleet.qlist()
    assert sorted(by_name) == ["EAST", "SPARE", "WEST"]
    assert by_name["EAST"].running and by_name["EAST"].state == "ok"
    assert (by_name["EAST"].superserver_port, by_name["EAST"].web_port) == (instances[0]["superserver_port"], instances[0]["web_port"])
    assert by_name["WEST"].running and by_name["WEST"].state == "warn" and by_name["WEST"].version == "2024.1.0.267.2"
    assert not by_name["SPARE"].running
    west_dir = fleet.prefix / "instances" / "west"
    # The real CPF was created with the instance's ports; nothing else in it changed.
    expected = CpfDocument.parse(sample.read_bytes())
    expected.set("Startup", "DefaultPort", str(instances[1]["superserver_port"]))
    expected.set("Startup", "WebServerPort", str(instances[1]["web_port"]))
    assert (west_dir / "iris.cpf").read_bytes() == expected.render()
    assert json.loads((west_dir / "emulator.json").read_text()) == {"fault_interval_seconds": 3600}
    assert "LOCK TABLE FULL" in (west_dir / "mgr" / "messages.log").read_text()

    assert recap_changed(fleet.play(instances)) == 0

    instances[0]["state"] = "stopped"
    assert recap_changed(fleet.play(instances, "--check")) == 1
    assert fleet.qlist()["EAST"].running

    # Other ports for an existing instance: refused before anything is touched (EAST is not stopped either).
    moved = [dict(instance) for instance in instances]
    moved[1]["superserver_port"] = ports.free_port()
    refused = fleet.play(moved, succeed=False)
    assert "WEST: superserver_port %d differs from %d" % (moved[1]["superserver_port"], instances[1]["superserver_port"]) in refused
    assert fleet.qlist()["EAST"].running

    instances[2]["state"] = "absent"
    # Stop EAST, unregister SPARE, delete SPARE's files: three changed tasks.
    assert recap_changed(fleet.play(instances)) == 3
    by_name = fleet.qlist()
    assert sorted(by_name) == ["EAST", "WEST"] and not by_name["EAST"].running and by_name["WEST"].running
    assert not (fleet.prefix / "instances" / "spare").exists()


def test_check_mode_and_bad_instance_lists_change_nothing(fleet: Fleet) -> None:
    ports = PortPool()
    one = {"name": "solo", "superserver_port": ports.free_port(), "web_port": ports.free_port()}
    assert recap_changed(fleet.play([one], "--check")) > 0
    assert not fleet.prefix.exists()

    clashing = [one, {"name": "SOLO"}, {"name": "other", "superserver_port": one["web_port"]}]
    out = fleet.play(clashing, succeed=False)
    assert "name SOLO is given 2 times" in out and "port %d is used 2 times" % one["web_port"] in out
    assert not fleet.prefix.exists()
