# SPDX-License-Identifier: GPL-3.0-or-later
"""SshFleet: the test hosts of scripts/test-hosts.sh (network namespaces with sshd, a sudo user, Python 3.9).

``SshFleet.load()`` reads the hosts the script recorded, or skips the test with the reason the script
wrote (not root, no namespaces, no Python 3.9). Each fleet gets its own data directory on every host
(the namespaces share this machine's filesystem), an inventory that reaches the hosts over SSH with
``become``, and ``play()`` runs a playbook of the collection against all hosts in parallel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.support.paths import REPO

STATE = Path(os.environ.get("IRISOPS_TEST_HOSTS_DIR", "/var/lib/irisops-testhosts"))
GROUP = "iris_test_hosts"
# The emulated instance's ports inside each namespace (every host has its own network stack).
SUPERSERVER_PORT = 51773
WEB_PORT = 52773


@dataclass(frozen=True)
class SshHost(object):
    name: str
    address: str
    user: str
    data: Path  # this fleet's directory for the host (instances, emulated /proc/sys, sysctl.d)

    @property
    def prefix(self) -> Path:
        return self.data / "irisemu"

    @property
    def iris_bin(self) -> Path:
        return self.prefix / "bin" / "iris"

    @property
    def install_dir(self) -> Path:
        return self.prefix / "instances" / "iris"

    @property
    def proc_root(self) -> Path:
        return self.data / "proc"

    @property
    def sysctl_dir(self) -> Path:
        return self.data / "sysctl.d"

    def run(self, *argv: str) -> "subprocess.CompletedProcess[str]":
        """A command inside the host's network namespace (as root, like the tests' own inspection)."""
        return subprocess.run(["ip", "netns", "exec", self.name, *argv], capture_output=True, text=True,
                              timeout=120, check=False)


class SshFleet(object):
    def __init__(self, recorded: Dict[str, Any], tmp_path: Path) -> None:
        run_id = uuid.uuid4().hex[:8]
        self.python = str(recorded["python"])
        self.private_key = str(recorded["private_key"])
        self.known_hosts = str(recorded["known_hosts"])
        self.hosts = [SshHost(host["name"], host["address"], host["user"], Path(host["dir"]) / "data" / run_id)
                      for host in recorded["hosts"]]
        self.tmp_path = tmp_path
        self.inventory = tmp_path / "inventory.json"
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("ANSIBLE_") and key != "IRISEMU_REGISTRY"}
        self.env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"), ANSIBLE_RETRY_FILES_ENABLED="0",
                        ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_SSH_CONTROL_PATH_DIR=str(tmp_path / "cp"))
        for host in self.hosts:
            make_kernel_files(host.proc_root)
            host.sysctl_dir.mkdir(parents=True)
        self.write_inventory()

    @classmethod
    def load(cls, tmp_path: Path) -> "SshFleet":
        if (STATE / "SKIP").exists():
            pytest.skip("no SSH test hosts: %s" % (STATE / "SKIP").read_text().strip())
        if not (STATE / "hosts.json").exists():
            pytest.skip("no SSH test hosts: run `make test-hosts` (bash scripts/test-hosts.sh up) as root first")
        return cls(json.loads((STATE / "hosts.json").read_text()), tmp_path)

    def host_vars(self, host: SshHost, state: str) -> Dict[str, Any]:
        return {
            "ansible_host": host.address, "ansible_user": host.user, "ansible_become": True,
            "ansible_python_interpreter": self.python, "ansible_ssh_private_key_file": self.private_key,
            "ansible_ssh_common_args": "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes" % self.known_hosts,
            "iris_emulator_prefix": str(host.prefix), "iris_emulator_link": "",
            "iris_emulator_instances": [{"name": "IRIS", "install_dir": str(host.install_dir),
                                         "superserver_port": SUPERSERVER_PORT, "web_port": WEB_PORT,
                                         "proc_root": str(host.proc_root), "state": state}],
            "iris_bin": str(host.iris_bin), "iris_instances": ["IRIS"],
            "remediate_iris_bin": str(host.iris_bin), "remediate_proc_root": str(host.proc_root),
            "remediate_sysctl_dir": str(host.sysctl_dir), "remediate_restart_stable_seconds": 0.5,
        }

    def write_inventory(self, state: str = "started") -> None:
        hosts = {host.name: self.host_vars(host, state) for host in self.hosts}
        self.inventory.write_text(json.dumps({"all": {"children": {GROUP: {"hosts": hosts}}}}))

    def play(self, playbook: str, *extra: str) -> "subprocess.CompletedProcess[str]":
        """ansible-playbook playbooks/<playbook> on every host at once (one fork per host)."""
        return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(self.inventory),
                               "--forks", str(len(self.hosts)), str(REPO / "playbooks" / playbook), *extra],
                              env=self.env, capture_output=True, text=True, timeout=900, check=False)

    def cleanup(self) -> List[int]:
        """Remove every instance this fleet made (emulate.yml, state absent); returns daemons still alive."""
        self.write_inventory(state="absent")
        self.play("emulate.yml", "-e", "iris_emulator_hosts=%s" % GROUP)
        leaked = []
        for host in self.hosts:
            leaked.extend(daemon_pids(host))
            shutil.rmtree(host.data, ignore_errors=True)
        return leaked


def make_kernel_files(proc_root: Path) -> None:
    """The emulated /proc/sys an instance and kernel_param use on a test host."""
    (proc_root / "vm").mkdir(parents=True)
    for name, value in {"swappiness": 60, "nr_hugepages": 0, "dirty_ratio": 20, "dirty_background_ratio": 10}.items():
        (proc_root / "vm" / name).write_text("%d\n" % value)


def daemon_pids(host: SshHost) -> List[int]:
    """Emulator daemons of this fleet running in the host's namespace."""
    listed = subprocess.run(["ip", "netns", "pids", host.name], capture_output=True, text=True, check=False)
    pids = []
    for pid in listed.stdout.split():
        try:
            argv = Path("/proc", pid, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"_daemon" in argv and any(str(host.data).encode() in arg for arg in argv):
            pids.append(int(pid))
    return pids
