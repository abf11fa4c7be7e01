# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's control command and instance lifecycle, with real daemons on real ports."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import parse_text
from tests.support.emulator import REPO, EmulatorEnv

pytestmark = pytest.mark.slow


def assert_log_parses(text: str) -> None:
    entries, malformed = parse_text(text)
    assert entries
    # The only untimestamped lines the emulator writes are the WIJ recovery block after a crash.
    assert all(line.text == "" or not line.text[:1].isdigit() for line in malformed), malformed


def test_lifecycle_create_start_session_stop(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("IRIS1")
    assert emulator.instance("IRIS1").status == "down"

    started = emulator.start("IRIS1")
    assert "Allocated 304MB shared memory" in started.stdout

    instance = emulator.instance("IRIS1")
    assert (instance.status, instance.state, instance.product) == ("running", "ok", "IRIS")
    assert instance.install_dir == str(install_dir) + "/"
    assert instance.cpf_path == str(install_dir / "iris.cpf")
    assert instance.activity.startswith("since ")
    assert (install_dir / "mgr" / "iris.pid").read_text().strip().isdigit()

    with emulator.connect("IRIS1"):
        metrics = emulator.wait_for("IRIS1", "iris_sessions_active", 1)
        assert metrics["iris_sessions_active"] == 1
        assert metrics["iris_license_consumed"] == 1
    assert emulator.wait_for("IRIS1", "iris_sessions_active", 0)["iris_sessions_active"] == 0

    status, body = emulator.http_get("IRIS1", "/api/monitor/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert emulator.http_get("IRIS1", "/nowhere")[0] == 404

    emulator.stop("IRIS1")
    down = emulator.instance("IRIS1")
    assert down.status == "down" and down.state == "" and down.activity.startswith("last used ")
    assert not (install_dir / "mgr" / "iris.pid").exists()
    log = emulator.messages_log("IRIS1")
    assert_log_parses(log)
    assert "Shutdown of InterSystems IRIS complete" in log
    assert emulator.pids() == []


def test_startup_sequence_follows_the_cpf(emulator: EmulatorEnv) -> None:
    emulator.create("IRIS1")
    emulator.start("IRIS1")
    entries, malformed = parse_text(emulator.messages_log("IRIS1"))
    assert malformed == []
    texts = [entry.full_text for entry in entries]
    assert texts[0] == "Allocated 304MB shared memory"
    assert texts[1] == ("100MB global buffers, 44MB routine buffers, 64MB journal buffers, 9MB buffer descriptors, "
                        "72MB heap, 5MB ECP, 10MB miscellaneous")
    banner = entries[2]
    assert banner.text == "" and banner.continuation[0].startswith("Startup of InterSystems IRIS [IRIS for UNIX")
    assert banner.continuation[-1].strip() == "System Initialized."
    assert any(entry.category == "Database.MountedRW" and "/mgr/user/" in entry.text for entry in entries)
    assert any(text.startswith("INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE\nJournaling switched to: ") for text in texts)
    # The remote (ECP) database of the template CPF is not mounted locally.
    assert not any("/usr/cachesys/" in text for text in texts)
    assert texts[-1] == "Enabling logons"
    assert {entry.pid for entry in entries} == {int((emulator.instances["IRIS1"] / "mgr" / "iris.pid").read_text())}


def test_list_block_and_already_up(emulator: EmulatorEnv) -> None:
    emulator.create("iris2")
    listed = emulator.iris("list", "IRIS2").stdout
    assert "Configuration 'IRIS2'" in listed and "state:" not in listed
    emulator.start("IRIS2")
    again = emulator.iris("start", "IRIS2", check=False)
    assert again.returncode != 0 and "is already up!" in again.stdout
    listed = emulator.iris("list", "IRIS2").stdout
    assert "\tstate:        ok" in listed and "status:       running, since " in listed
    emulator.stop("IRIS2")
    stopped_again = emulator.iris("stop", "IRIS2", "quietly", check=False)
    assert stopped_again.returncode != 0 and "already down" in stopped_again.stdout


def test_unknown_instance_and_bad_arguments_fail_clearly(emulator: EmulatorEnv) -> None:
    missing = emulator.iris("start", "NOPE", check=False)
    assert missing.returncode == 1 and "Instance 'NOPE' is not installed." in missing.stderr
    bad_name = emulator.iris("create", "9bad", str(emulator.base_dir / "x"), check=False)
    assert bad_name.returncode == 1 and "invalid instance name '9bad'" in bad_name.stderr
    bad_port = emulator.iris("create", "P", str(emulator.base_dir / "p"), "--web-port", "70000", check=False)
    assert bad_port.returncode == 1 and "--web-port: must be 0-65535" in bad_port.stderr
    assert not (emulator.base_dir / "registry" / "P.json").exists()
    emulator.create("DUP")
    duplicate = emulator.iris("create", "dup", str(emulator.base_dir / "y"), check=False)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    bad_stop = emulator.iris("stop", "DUP", "gently", check=False)
    assert bad_stop.returncode == 1 and "unknown option(s) gently" in bad_stop.stderr


def test_invalid_cpf_refuses_to_start_with_a_log_line(emulator: EmulatorEnv, tmp_path: Path) -> None:
    install_dir = emulator.create("BAD")
    cpf = install_dir / "iris.cpf"
    cpf.write_bytes(cpf.read_bytes().replace(b"\njrnbufs=64\n", b"\njrnbufs=lots\n"))
    result = emulator.iris("start", "BAD", check=False)
    assert result.returncode == 1
    assert "An error was encountered while initializing the system." in result.stdout
    entries, unused_malformed = parse_text(emulator.messages_log("BAD"))
    assert entries[-1].severity == 3 and "jrnbufs" in entries[-1].text and "not an integer" in entries[-1].text
    assert emulator.instance("BAD").status == "down"
    assert emulator.pids() == []


def test_sample_cpf_from_a_real_instance_starts_on_the_instance_ports(emulator: EmulatorEnv) -> None:
    sample = REPO / "tests" / "fixtures" / "cpf" / "rcemper-CrossECP-IRIS__iris.cpf"
    install_dir = emulator.create("REAL", cpf=sample)
    emulator.start("REAL")
    instance = emulator.instance("REAL")
    assert instance.state == "ok"
    copied = (install_dir / "iris.cpf").read_bytes()
    # The copy names the instance's own ports (the sample says 1972/52773); every other byte is the sample's.
    doc = CpfDocument.parse(copied)
    assert doc.get("Startup", "DefaultPort") == str(instance.superserver_port) != "1972"
    assert doc.get("Startup", "WebServerPort") == str(instance.web_port) != "52773"
    expected = CpfDocument.parse(sample.read_bytes())
    expected.set("Startup", "DefaultPort", str(instance.superserver_port))
    expected.set("Startup", "WebServerPort", str(instance.web_port))
    assert copied == expected.render()


def test_create_refuses_a_cpf_that_does_not_parse(emulator: EmulatorEnv, tmp_path: Path) -> None:
    broken = tmp_path / "broken.cpf"
    broken.write_bytes(b"[config]\nglobals=0,0,64,0,0,0\n[Startup]\nDefaultPort=1\nDefaultPort=2\n")
    result = emulator.iris("create", "BROKEN", str(tmp_path / "broken-install"), "--superserver-port", "1", "--cpf", str(broken),
                           check=False)
    assert result.returncode == 1 and "--cpf %s: not a CPF" % broken in result.stderr
    assert emulator.iris("qlist").stdout == ""


def test_delete_keeps_files_and_refuses_running_instances(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("GONE")
    emulator.start("GONE")
    refused = emulator.iris("delete", "GONE", check=False)
    assert refused.returncode == 1 and "is running" in refused.stderr
    emulator.stop("GONE")
    emulator.iris("delete", "GONE")
    assert emulator.iris("qlist").stdout == ""
    assert (install_dir / "iris.cpf").exists()


def test_force_then_start_runs_wij_recovery(emulator: EmulatorEnv) -> None:
    emulator.create("CRASHY")
    emulator.start("CRASHY")
    emulator.iris("force", "CRASHY")
    assert emulator.instance("CRASHY").status == "down"
    emulator.start("CRASHY")
    log = emulator.messages_log("CRASHY")
    assert "*** Recovery started at " in log and "Exiting with status 3 (Success)" in log
    assert_log_parses(log)
    emulator.stop("CRASHY")
    emulator.start("CRASHY")
    assert emulator.messages_log("CRASHY").count("*** Recovery started") == 1


def test_twenty_instances_start_and_stop_without_port_clashes(emulator: EmulatorEnv) -> None:
    names = ["FLEET%02d" % number for number in range(20)]
    for name in names:
        emulator.create(name)
    for name in names:
        emulator.start(name)
    lines = emulator.instances_from_qlist()
    assert sorted(instance.name for instance in lines) == names
    assert all(instance.status == "running" and instance.state == "ok" for instance in lines)
    ports = [port for instance in lines for port in (instance.superserver_port, instance.web_port)]
    assert len(set(ports)) == 40
    assert len(emulator.pids()) == 20
    for name in names:
        emulator.stop(name)
    assert all(instance.status == "down" for instance in emulator.instances_from_qlist())
    assert emulator.pids() == []


def test_port_in_use_fails_the_start(emulator: EmulatorEnv) -> None:
    with socket.socket() as holder:
        holder.bind(("", 0))
        holder.listen(1)
        emulator.create("BUSY", superserver_port=holder.getsockname()[1])
        result = emulator.iris("start", "BUSY", check=False)
    assert result.returncode == 1
    assert "Cannot open the superserver port" in emulator.messages_log("BUSY")
    assert emulator.pids() == []


def test_cleanup_kills_and_reports_a_leaked_daemon(tmp_path: Path) -> None:
    env = EmulatorEnv(tmp_path / "leaky")
    env.create("LEAK")
    env.start("LEAK")
    # Unregister behind the env's back so its orderly stop cannot find the instance.
    os.unlink(os.path.join(env.registry, "LEAK.json"))
    with pytest.raises(AssertionError, match="emulator processes still running"):
        env.cleanup()
    assert env.pids() == []
