# SPDX-License-Identifier: GPL-3.0-or-later
"""Test switches (emulator.json) for the restart module: failing, slow and crashing starts, hung and waiting stops."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.support.emulator import EmulatorEnv

pytestmark = pytest.mark.slow


def wait_until(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_fail_start_switch(emulator: EmulatorEnv) -> None:
    emulator.create("NOGO", switches={"fail_start": True})
    result = emulator.iris("start", "NOGO", "quietly", check=False)
    assert result.returncode == 1
    assert "fail_start" in emulator.messages_log("NOGO")
    assert emulator.instance("NOGO").status == "down"
    emulator.set_switches("NOGO")
    emulator.start("NOGO")
    assert emulator.instance("NOGO").status == "running"


def test_bad_switches_file_fails_the_start_naming_the_switch(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("TYPO")
    (install_dir / "emulator.json").write_text(json.dumps({"stop_hang": 5}))
    result = emulator.iris("start", "TYPO", check=False)
    assert result.returncode == 1 and "unknown switch 'stop_hang'" in result.stdout
    (install_dir / "emulator.json").write_text(json.dumps({"stop_hang_seconds": "5"}))
    result = emulator.iris("start", "TYPO", check=False)
    assert result.returncode == 1 and "'stop_hang_seconds' must be a non-negative number" in result.stdout


def test_slow_start_blocks_iris_start_until_up(emulator: EmulatorEnv) -> None:
    emulator.create("SLOW", switches={"start_delay_seconds": 1.0})
    began = time.monotonic()
    emulator.start("SLOW")
    assert time.monotonic() - began >= 1.0
    assert emulator.http_get("SLOW", "/api/monitor/health")[0] == 200


def test_crash_after_start_leaves_the_instance_down_and_recovers_next_start(emulator: EmulatorEnv) -> None:
    emulator.create("BOOM", switches={"crash_after_seconds": 0.3})
    emulator.start("BOOM")
    assert wait_until(lambda: emulator.instance("BOOM").status == "down")
    assert "Shutdown of InterSystems IRIS" not in emulator.messages_log("BOOM")
    emulator.set_switches("BOOM")
    emulator.start("BOOM")
    assert "*** Recovery started at " in emulator.messages_log("BOOM")


def test_hung_stop_shows_hung_and_unhealthy_then_completes(emulator: EmulatorEnv) -> None:
    emulator.create("HANG")
    emulator.start("HANG")
    emulator.set_switches("HANG", stop_hang_seconds=1.5)  # read at stop time
    stopping = subprocess.Popen([emulator.iris_bin, "stop", "HANG", "quietly"], env=emulator.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: emulator.instance("HANG").state == "hung")
        assert emulator.instance("HANG").status == "running"
        assert emulator.http_get("HANG", "/api/monitor/health")[0] == 503
        assert stopping.wait(timeout=30) == 0
    finally:
        if stopping.poll() is None:
            stopping.kill()
        stopping.communicate()
    assert emulator.instance("HANG").status == "down"


def test_hung_stop_can_be_forced(emulator: EmulatorEnv) -> None:
    emulator.create("STUCK")
    emulator.start("STUCK")
    emulator.set_switches("STUCK", stop_hang_seconds=600)
    stopping = subprocess.Popen([emulator.iris_bin, "stop", "STUCK", "quietly"], env=emulator.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: emulator.instance("STUCK").state == "hung")
        emulator.iris("force", "STUCK")
        assert stopping.wait(timeout=30) == 0  # the waiting stop sees the process gone
    finally:
        if stopping.poll() is None:
            stopping.kill()
            stopping.wait()
    assert emulator.instance("STUCK").status == "down"


def test_plain_stop_waits_for_user_sessions(emulator: EmulatorEnv) -> None:
    emulator.create("USERS")
    emulator.start("USERS")
    session = emulator.connect("USERS")
    emulator.wait_for("USERS", "iris_sessions_active", 1)
    stopping = subprocess.Popen([emulator.iris_bin, "stop", "USERS"], env=emulator.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: "Waiting up to 300 seconds for 1 user session(s) to end" in emulator.messages_log("USERS"))
        assert stopping.poll() is None and emulator.instance("USERS").status == "running"
        session.close()
        assert stopping.wait(timeout=30) == 0
    finally:
        session.close()
        if stopping.poll() is None:
            stopping.kill()
        stopping.communicate()
    assert emulator.instance("USERS").status == "down"


def test_nouser_stop_disconnects_sessions(emulator: EmulatorEnv) -> None:
    emulator.create("KICK")
    emulator.start("KICK")
    with emulator.connect("KICK") as session:
        emulator.wait_for("KICK", "iris_sessions_active", 1)
        emulator.stop("KICK", "nouser")
        session.settimeout(10)
        assert session.recv(1) == b""
    assert "(1 user session(s) active)" in emulator.messages_log("KICK")


def test_stop_restart_brings_a_new_process_up(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("AGAIN")
    emulator.start("AGAIN")
    first_pid = (install_dir / "mgr" / "iris.pid").read_text()
    result = emulator.iris("stop", "AGAIN", "quietly", "restart")
    assert "Shutdown of AGAIN complete" in result.stdout and "Starting AGAIN" in result.stdout
    assert emulator.instance("AGAIN").status == "running"
    assert (install_dir / "mgr" / "iris.pid").read_text() != first_pid


def test_open_transactions_switch_holds_them_until_shutdown_and_rolls_them_back(emulator: EmulatorEnv) -> None:
    emulator.create("TXN", switches={"open_transactions": 2})
    emulator.start("TXN")
    metrics = emulator.metrics("TXN")
    assert metrics["iris_trans_open_count"] == 2 and metrics["iris_trans_open_secs"] >= 0
    assert metrics["iris_sessions_active"] == 0  # held by background jobs, not by user sessions
    status, body = emulator.http_get("TXN", "/api/monitor/health")
    assert status == 200 and json.loads(body)["open_transactions"] == 2
    assert "2 background job(s) opened a transaction held until shutdown" in emulator.messages_log("TXN")
    emulator.stop("TXN", "quietly")
    assert "Rolling back 2 open transaction(s) at shutdown" in emulator.messages_log("TXN")


def test_open_transaction_seconds_commits_them_after_that_time(emulator: EmulatorEnv) -> None:
    emulator.create("TXC", switches={"open_transactions": 1, "open_transaction_seconds": 0.5})
    emulator.start("TXC")
    assert emulator.wait_for("TXC", "iris_trans_open_count", 0)["iris_trans_open_count"] == 0
    assert emulator.metrics("TXC")["iris_trans_open_secs"] == 0
    assert "1 background transaction(s) committed" in emulator.messages_log("TXC")
    emulator.stop("TXC", "quietly")
    assert "Rolling back" not in emulator.messages_log("TXC")


def test_without_the_switch_no_transaction_is_open(emulator: EmulatorEnv) -> None:
    emulator.create("NOTX")
    emulator.start("NOTX")
    assert emulator.metrics("NOTX")["iris_trans_open_count"] == 0
