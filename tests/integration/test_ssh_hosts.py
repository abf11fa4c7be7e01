# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks over real SSH connections with become, on several hosts at once.

The hosts are network namespaces made by scripts/test-hosts.sh (``make test-hosts``): each has its own
sshd, a non-root user with passwordless sudo, Python 3.9 as the target interpreter and an emulated IRIS
instance deployed by emulate.yml. This is where AnsiballZ packaging of module_utils, become, a Python 3.9
target and file ownership under sudo are exercised; the tests read the hosts' files afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import parse_qlist
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import parse_text
from tests.support.ssh_hosts import GROUP, SUPERSERVER_PORT, REPO, SshFleet, SshHost

pytestmark = pytest.mark.slow
EXAMPLES = REPO / "examples" / "commands"


def example(name: str) -> Dict[str, Any]:
    return json.loads((EXAMPLES / ("%s.json" % name)).read_text())  # type: ignore[no-any-return]


def cpf_value(host: SshHost, section: str, parameter: str) -> str:
    return str(CpfDocument.parse((host.install_dir / "iris.cpf").read_bytes()).get(section, parameter))


def state_hashes(host: SshHost) -> Dict[str, str]:
    """What a remediation may change on a host, minus the logs and run files a live instance keeps writing."""
    roots = [host.install_dir, host.proc_root, host.sysctl_dir, host.prefix / "registry"]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for root in roots for path in sorted(root.rglob("*"))
            if path.is_file() and path.name != "messages.log" and "run" not in path.relative_to(root).parts}


def recap(output: str, host: SshHost) -> str:
    return next(line for line in output.splitlines() if line.startswith(host.name + " ") and "ok=" in line)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshFleet]:
    fleet = SshFleet.load(tmp_path_factory.mktemp("ssh-fleet"))
    try:
        deployed = fleet.play("emulate.yml", "-e", "iris_emulator_hosts=%s" % GROUP)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        yield fleet
    finally:
        leaked = fleet.cleanup()
    assert not leaked, "emulator daemons still running after emulate.yml removed the instances: %s" % leaked


def test_emulate_deploys_on_every_host_as_root_through_sudo_with_python39(fleet: SshFleet) -> None:
    for host in fleet.hosts:
        qlist = host.run(str(host.iris_bin), "qlist")
        assert qlist.returncode == 0, qlist.stderr
        [instance] = parse_qlist(qlist.stdout)
        assert (instance.name, instance.running, instance.superserver_port) == ("IRIS", True, SUPERSERVER_PORT)
        # become: the files belong to root, not to the SSH user.
        assert (host.install_dir / "iris.cpf").stat().st_uid == 0 and host.iris_bin.stat().st_uid == 0
        assert host.iris_bin.read_text().splitlines()[0] == "#!" + fleet.python
        listening = host.run("python3", "-c", "import socket; socket.create_connection(('127.0.0.1', %d), 5)"
                             % SUPERSERVER_PORT)
        assert listening.returncode == 0, "%s: superserver not reachable in its namespace: %s" % (host.name, listening.stderr)

    again = fleet.play("emulate.yml", "-e", "iris_emulator_hosts=%s" % GROUP)
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(" changed=0 " in recap(again.stdout, host) for host in fleet.hosts), again.stdout


def test_generate_appends_to_the_instance_log_on_every_host(fleet: SshFleet) -> None:
    before = {host.name: len(parse_text((host.install_dir / "mgr" / "messages.log").read_text())[0]) for host in fleet.hosts}
    run = fleet.play("generate.yml", "-e", "target=%s" % GROUP, "-e", "category=lock", "-e", "count=5",
                     "-e", "instance=IRIS", "-e", "append_to_instance_log=true", "-e", "output=log",
                     "-e", "quiet=true", "-e", "seed=15")
    assert run.returncode == 0, run.stdout + run.stderr
    for host in fleet.hosts:
        entries, malformed = parse_text((host.install_dir / "mgr" / "messages.log").read_text())
        assert not malformed
        assert len(entries) >= before[host.name] + 5
        # The instance logs no lock messages of its own (no lock fault is set).
        appended = [entry.text for entry in entries[before[host.name]:] if "lock" in entry.text.lower()]
        assert len(appended) == 5, (host.name, appended)


def test_remediate_previews_then_applies_on_every_host_in_parallel(fleet: SshFleet, tmp_path: Path) -> None:
    command = tmp_path / "gmheap.json"
    command.write_text(json.dumps(example("fault-gmheap-too-small")))
    before = {host.name: state_hashes(host) for host in fleet.hosts}

    preview = fleet.play("remediate.yml", "-e", "target=%s" % GROUP, "-e", "@%s" % command, "--check", "--diff")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert preview.stdout.count("+gmheap=307200") == len(fleet.hosts)
    assert {host.name: state_hashes(host) for host in fleet.hosts} == before

    applied = fleet.play("remediate.yml", "-e", "target=%s" % GROUP, "-e", "@%s" % command, "-e", "approve_restart=true")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for host in fleet.hosts:
        cpf = host.install_dir / "iris.cpf"
        assert cpf_value(host, "config", "gmheap") == "307200"
        [backup] = host.install_dir.glob("iris.cpf.*~")
        assert CpfDocument.parse(backup.read_bytes()).get("config", "gmheap") != "307200"
        assert (backup.stat().st_uid, backup.stat().st_mode) == (cpf.stat().st_uid, cpf.stat().st_mode) == \
            (0, cpf.stat().st_mode)
        log = (host.install_dir / "mgr" / "messages.log").read_text()
        assert "Shutdown of InterSystems IRIS complete" in log, "%s was not restarted" % host.name
        [instance] = parse_qlist(host.run(str(host.iris_bin), "qlist").stdout)
        assert instance.running


def test_kernel_example_writes_the_hosts_emulated_proc_and_sysctl_file(fleet: SshFleet, tmp_path: Path) -> None:
    command = tmp_path / "swappiness.json"
    command.write_text(json.dumps(example("os-swappiness")))
    run = fleet.play("remediate.yml", "-e", "target=%s" % GROUP, "-e", "@%s" % command)
    assert run.returncode == 0, run.stdout + run.stderr
    for host in fleet.hosts:
        assert (host.proc_root / "vm" / "swappiness").read_text().strip() == "5"
        persisted = host.sysctl_dir / "99-irisops-iris.conf"
        assert "vm.swappiness = 5" in persisted.read_text() and persisted.stat().st_uid == 0


def test_consume_runs_the_queued_command_on_every_host(fleet: SshFleet, tmp_path: Path) -> None:
    command = example("config-sql-lock-threshold")
    [change] = command["parameters"][0]["changes"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "command.json").write_text(json.dumps(command))
    run = fleet.play("consume.yml", "-e", "target=%s" % GROUP, "-e", "source=%s" % inbox,
                     "-e", "commands_state_dir=%s" % (tmp_path / "state"))
    assert run.returncode == 0, run.stdout + run.stderr
    for host in fleet.hosts:
        assert cpf_value(host, change["section"], change["parameter"]) == str(change["new_value"]), host.name
    assert os.listdir(inbox / "done") == ["command.json"]
