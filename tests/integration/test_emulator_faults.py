# SPDX-License-Identifier: GPL-3.0-or-later
"""Each configuration-driven fault appears with a bad CPF (or kernel setting) and disappears with the fix."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import LogEntry, parse_text
from tests.support.emulator import EmulatorEnv

pytestmark = pytest.mark.slow
FAST_FAULTS = {"fault_interval_seconds": 0.1}


def set_cpf(install_dir: Path, section: str, parameter: str, value: str) -> None:
    cpf = install_dir / "iris.cpf"
    doc = CpfDocument.parse(cpf.read_bytes())
    doc.set(section, parameter, value)
    cpf.write_bytes(doc.render())


def alerts_since_last_start(emulator: EmulatorEnv, name: str) -> List[LogEntry]:
    entries, malformed = parse_text(emulator.messages_log(name))
    assert not [line for line in malformed if line.text[:1].isdigit()]
    shutdowns = [index for index, entry in enumerate(entries) if entry.text == "Shutdown of InterSystems IRIS complete"]
    return [entry for entry in entries[shutdowns[-1] + 1 if shutdowns else 0:] if entry.severity >= 2]


def wait_for_alerts(emulator: EmulatorEnv, name: str, count: int, timeout: float = 10.0) -> List[LogEntry]:
    deadline = time.monotonic() + timeout
    while True:
        alerts = alerts_since_last_start(emulator, name)
        if len(alerts) >= count or time.monotonic() > deadline:
            return alerts
        time.sleep(0.05)


def restart(emulator: EmulatorEnv, name: str) -> None:
    emulator.stop(name)
    emulator.start(name)


def test_small_locksiz_gives_recurring_lock_table_full_until_fixed(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("LOCKS", switches=FAST_FAULTS)
    set_cpf(install_dir, "config", "locksiz", "1048576")
    emulator.start("LOCKS")
    alerts = wait_for_alerts(emulator, "LOCKS", 3)
    assert len(alerts) >= 3
    assert all(entry.severity == 2 and entry.text.startswith("LOCK TABLE FULL") for entry in alerts)
    assert emulator.metrics("LOCKS")["iris_lock_table_full_total"] >= 3
    assert emulator.instance("LOCKS").state in ("warn", "alert")

    set_cpf(install_dir, "config", "locksiz", "16777216")
    restart(emulator, "LOCKS")
    time.sleep(0.5)  # five fault intervals: a recurring fault would have fired by now
    assert alerts_since_last_start(emulator, "LOCKS") == []
    assert emulator.metrics("LOCKS")["iris_lock_table_full_total"] == 0
    assert emulator.instance("LOCKS").state == "ok"


def test_small_gmheap_gives_heap_errors_until_fixed(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("HEAP", switches=FAST_FAULTS)
    set_cpf(install_dir, "config", "gmheap", "16384")
    emulator.start("HEAP")
    alerts = wait_for_alerts(emulator, "HEAP", 2)
    assert alerts and all("Shared memory heap exhausted: gmheap=16384KB" in entry.text for entry in alerts)
    metrics = emulator.metrics("HEAP")
    assert metrics["iris_smh_allocation_errors_total"] >= 2 and metrics["iris_smh_percent_full"] == 100

    set_cpf(install_dir, "config", "gmheap", "65536")
    restart(emulator, "HEAP")
    time.sleep(0.5)
    assert alerts_since_last_start(emulator, "HEAP") == []
    assert emulator.metrics("HEAP")["iris_smh_allocation_errors_total"] == 0


def test_ecp_clients_beyond_maxserverconn_are_refused_until_raised(emulator: EmulatorEnv) -> None:
    """[config] MaxServerConn is the ECP client limit (IRIS's meaning): user sessions are not counted against it."""
    install_dir = emulator.create("CONN")
    set_cpf(install_dir, "config", "MaxServerConn", "1")
    emulator.start("CONN")
    with emulator.connect("CONN"), emulator.connect("CONN"), emulator.connect("CONN"):
        assert emulator.wait_for("CONN", "iris_sessions_active", 3)["iris_sessions_active"] == 3  # users: no limit
        with emulator.connect_ecp("CONN"), emulator.connect_ecp("CONN") as refused:
            refused.settimeout(10)
            assert refused.recv(1) == b""  # the instance closed the connection it could not take
            metrics = emulator.wait_for("CONN", "iris_ecps_conn_refused_total", 1)
            assert (metrics["iris_ecps_conn"], metrics["iris_ecps_conn_limit"], metrics["iris_sessions_active"]) == (1, 1, 3)
    alerts = alerts_since_last_start(emulator, "CONN")
    assert [entry.text for entry in alerts] == [
        "ECP connection from application server refused: this data server already serves MaxServerConn=1 ECP clients "
        "(1 connected)"]

    set_cpf(install_dir, "config", "MaxServerConn", "2")
    restart(emulator, "CONN")
    with emulator.connect_ecp("CONN"), emulator.connect_ecp("CONN"):
        metrics = emulator.wait_for("CONN", "iris_ecps_conn", 2)
        assert (metrics["iris_ecps_conn"], metrics["iris_ecps_conn_max"], metrics["iris_ecps_conn_refused_total"]) == (2, 2, 0)
        assert metrics["iris_sessions_active"] == 0


def test_too_few_huge_pages_switch_to_small_pages_until_raised(emulator: EmulatorEnv) -> None:
    emulator.create("HUGE", nr_hugepages=10)
    started = emulator.start("HUGE")
    assert "1 alert(s) during startup. See messages.log for details." in started.stdout
    alerts = alerts_since_last_start(emulator, "HUGE")
    assert [(entry.severity, entry.category, entry.text) for entry in alerts] == [
        (2, "Generic.Event", "Failed to allocate 304MB shared memory using large pages.  Switching to small pages.")]
    assert emulator.metrics("HUGE")["iris_huge_pages_used"] == 0

    # 304 MB in 2 MB pages: 152 pages are enough.
    (emulator.proc_root("HUGE") / "vm" / "nr_hugepages").write_text("152\n")
    restart(emulator, "HUGE")
    assert alerts_since_last_start(emulator, "HUGE") == []
    assert "Allocated 304MB shared memory using Huge Pages" in emulator.messages_log("HUGE")
    assert emulator.metrics("HUGE")["iris_huge_pages_used"] == 1


def test_large_pages_required_aborts_the_start(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("STRICT", nr_hugepages=10)
    set_cpf(install_dir, "config", "memlock", "64")
    result = emulator.iris("start", "STRICT", check=False)
    assert result.returncode == 1
    entries, unused_malformed = parse_text(emulator.messages_log("STRICT"))
    assert entries[-1].severity == 3 and "memlock requires them (vm.nr_hugepages=10)" in entries[-1].text
    assert emulator.pids() == []


def test_huge_pages_disabled_by_memlock_needs_none(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("SMALL", nr_hugepages=10)
    set_cpf(install_dir, "config", "memlock", "32")
    emulator.start("SMALL")
    assert alerts_since_last_start(emulator, "SMALL") == []
    assert "Allocated 304MB shared memory\n" in emulator.messages_log("SMALL")


def test_metrics_are_prometheus_text(emulator: EmulatorEnv) -> None:
    emulator.create("PROM")
    emulator.start("PROM")
    status, body = emulator.http_get("PROM", "/api/monitor/metrics")
    assert status == 200
    names = set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split(" ")
            assert kind in ("gauge", "counter")
            names.add(name)
        elif not line.startswith("# HELP "):
            series, value = line.rsplit(" ", 1)
            name, _brace, labels = series.partition("{")
            assert name in names and (not labels or labels.endswith("}"))
            # Only a configured value may be negative (e.g. [config] bbsiz=-1, "unlimited").
            assert float(value) >= 0 or name == "iris_cpf_active_value"
    assert {"iris_process_count", "iris_sessions_active", "iris_license_consumed", "iris_license_available",
            "iris_lock_table_used_bytes", "iris_smh_used", "iris_system_uptime_seconds"} <= names
    with socket.create_connection(("127.0.0.1", emulator.instance("PROM").web_port or 0), timeout=10) as raw:
        raw.sendall(b"POST /api/monitor/metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 405 ")
