# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""instance_restart against emulated IRIS instances: real daemons, real ports, real messages.log.

The module runs in-process (tests/support/in_process.py:run_module) so coverage sees it; faults come only from
the emulator's documented switches (emulator.json).
"""

from __future__ import annotations

import threading
from typing import Any, Dict

import pytest

from ansible_collections.irisops.iris.plugins.modules import instance_restart
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import parse_text
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import is_trace_id
from tests.support.in_process import run_module
from tests.support.emulator import EmulatorEnv

pytestmark = pytest.mark.slow
ALL_CHECKS = ["qlist", "superserver", "metrics", "messages_log", "health_endpoint"]


def restart(emulator_in_process: EmulatorEnv, check_mode: bool = False, diff: bool = False, **args: Any) -> Dict[str, Any]:
    params: Dict[str, Any] = {"instance": "IRIS1", "iris_bin": emulator_in_process.iris_bin, "stable_seconds": 0.5}
    params.update(args)
    return run_module(instance_restart, params, check_mode=check_mode, diff=diff)


def running(emulator_in_process: EmulatorEnv, name: str = "IRIS1", switches: Any = None) -> str:
    """Create and start an instance; returns its qlist activity ('since ...')."""
    emulator_in_process.create(name)
    emulator_in_process.start(name)
    if switches:
        # Read at the next start/stop, so the first start above is unaffected.
        emulator_in_process.set_switches(name, **switches)
    return emulator_in_process.instance(name).activity


def check(result: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(item for item in result["health"] if item["name"] == name)


def test_clean_restart_is_proven_by_a_new_since_and_health(emulator_in_process: EmulatorEnv) -> None:
    since_before = running(emulator_in_process)
    result = restart(emulator_in_process, diff=True, health_checks=ALL_CHECKS, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")

    assert not result.get("failed"), result["msg"]
    assert result["changed"] and result["actions"] == ["stop", "start"]
    after = emulator_in_process.instance("IRIS1")
    assert after.running and after.state == "ok" and after.activity != since_before
    assert result["since_changed"] and result["qlist_after"]["activity"] == after.activity
    assert result["active_sessions"] == 0 and result["sessions_at_stop"] == 0
    assert [item["name"] for item in result["health"]] == ALL_CHECKS and all(item["ok"] for item in result["health"])
    assert set(result["timings"]) == {"users_wait", "stop", "start", "health", "stable", "total"}
    texts = [message["text"] for message in result["messages"]]
    assert "Shutdown of InterSystems IRIS complete" in texts and texts[-1] == "Enabling logons"
    # The reported entries are exactly the tail of the real log.
    entries, _malformed = parse_text(emulator_in_process.messages_log("IRIS1"))
    assert [entry.full_text for entry in entries[-len(texts):]] == texts
    tool = result["tool_result"]
    assert tool["status"] == "success" and tool["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert tool["changes"] == [{"target": "IRIS1", "old_value": "running, " + since_before,
                                "new_value": "running, " + after.activity}]
    assert result["diff"]["before"] == "IRIS1: running, %s\n" % since_before
    assert result["diff"]["after"] == "IRIS1: running, %s\n" % after.activity


def test_users_that_leave_within_the_wait(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process)
    session = emulator_in_process.connect("IRIS1")
    emulator_in_process.wait_for("IRIS1", "iris_sessions_active", 1)
    leaving = threading.Timer(1.0, session.close)
    leaving.start()
    try:
        result = restart(emulator_in_process, user_wait_timeout=30)
    finally:
        leaving.cancel()
        session.close()
    assert not result.get("failed"), result["msg"]
    assert result["active_sessions"] == 1 and result["sessions_at_stop"] == 0
    assert result["since_changed"] and emulator_in_process.instance("IRIS1").state == "ok"


def test_users_that_stay_require_user_action_and_nothing_is_stopped(emulator_in_process: EmulatorEnv) -> None:
    since_before = running(emulator_in_process)
    with emulator_in_process.connect("IRIS1"), emulator_in_process.connect("IRIS1"):
        emulator_in_process.wait_for("IRIS1", "iris_sessions_active", 2)
        result = restart(emulator_in_process, user_wait_timeout=1)
        assert result["failed"] and result["requires_user_action"]
        assert result["active_sessions"] == 2 and result["sessions_at_stop"] == 2
        assert "2 user session(s) still active on IRIS1" in result["msg"] and "nothing was stopped" in result["msg"]
        assert result["changed"] is False and "stop" not in result["timings"]
        tool = result["tool_result"]
        assert tool["status"] == "failure" and tool["requires_user_action"] and tool["changes"] == []
        # No trace_id was given: a fresh valid one is generated.
        assert is_trace_id(tool["trace_id"]) and tool["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736"
        # Nothing stopped: same start time, and the users' sessions are still there.
        assert emulator_in_process.instance("IRIS1").activity == since_before
        assert emulator_in_process.metrics("IRIS1")["iris_sessions_active"] == 2


def test_force_users_stops_despite_sessions(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process)
    with emulator_in_process.connect("IRIS1") as session:
        emulator_in_process.wait_for("IRIS1", "iris_sessions_active", 1)
        result = restart(emulator_in_process, user_wait_timeout=0, force_users=True)
        assert not result.get("failed"), result["msg"]
        assert result["sessions_at_stop"] == 1 and result["since_changed"]
        # The stop ended the session: the server closed it.
        session.settimeout(5)
        assert session.recv(1) == b""


def test_sessions_counted_from_metrics_without_psutil(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process)
    with emulator_in_process.connect("IRIS1"):
        emulator_in_process.wait_for("IRIS1", "iris_sessions_active", 1)
        result = restart(emulator_in_process, user_wait_timeout=0, sessions_source="metrics")
    assert result["failed"] and result["requires_user_action"] and result["active_sessions"] == 1
    assert result["sessions_source"].startswith("metrics: http://127.0.0.1:") and "(iris_sessions_active)" in result["sessions_source"]


def test_hung_stop_fails_and_never_starts(emulator_in_process: EmulatorEnv) -> None:
    since_before = running(emulator_in_process, switches={"stop_hang_seconds": 60})
    try:
        result = restart(emulator_in_process, stop_timeout=2)
        assert result["failed"] and result["changed"]
        assert "is not down 2s after 'iris stop IRIS1 quietly'" in result["msg"] and "not started again" in result["msg"]
        assert result["tool_result"]["status"] == "failure"  # a hung stop needs an operator: not a partial success
        assert "start" not in result["timings"] and result["health"] == []
        # The emulator's own view: still the old daemon, stuck in its shutdown, and no start was attempted.
        stuck = emulator_in_process.instance("IRIS1")
        assert stuck.running and stuck.state == "hung" and stuck.activity == since_before
        log = emulator_in_process.messages_log("IRIS1")
        assert log.count("Enabling logons") == 1 and "Shutdown of InterSystems IRIS requested" in log
        assert result["qlist_after"]["state"] == "hung"
    finally:
        emulator_in_process.iris("force", "IRIS1")


def test_failed_start_is_reported_with_the_fatal_log_entry(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process, switches={"fail_start": True})
    result = restart(emulator_in_process)
    assert result["failed"] and result["changed"] and result["tool_result"]["status"] == "partial"
    assert result["msg"].startswith("instance IRIS1 did not start: 'iris start IRIS1 quietly' (rc=1")
    assert emulator_in_process.instance("IRIS1").status == "down"
    assert not check(result, "messages_log")["ok"] and "fail_start" in check(result, "messages_log")["detail"]
    assert any(message["severity"] == 3 and "fail_start" in message["text"] for message in result["messages"])
    assert result["tool_result"]["changes"][0]["new_value"].startswith("down, last used ")


def test_crash_shortly_after_start_is_caught_by_the_second_health_round(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process, switches={"crash_after_seconds": 1.5})
    result = restart(emulator_in_process, stable_seconds=4)
    assert result["failed"] and result["tool_result"]["status"] == "partial"
    assert "within stable_seconds=4s after a healthy start (crashed?)" in result["msg"]
    assert emulator_in_process.instance("IRIS1").status == "down"
    assert not check(result, "qlist")["ok"] and not check(result, "superserver")["ok"]


def test_start_delay_within_start_timeout_succeeds(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process, switches={"start_delay_seconds": 1})
    result = restart(emulator_in_process, start_timeout=30)
    assert not result.get("failed"), result["msg"]
    assert result["since_changed"]


def test_stopped_and_started_are_idempotent(emulator_in_process: EmulatorEnv) -> None:
    running(emulator_in_process)
    stopped = restart(emulator_in_process, state="stopped")
    assert stopped["changed"] and stopped["actions"] == ["stop"] and emulator_in_process.instance("IRIS1").status == "down"
    again = restart(emulator_in_process, state="stopped")
    assert not again["changed"] and again["actions"] == [] and again["tool_result"]["changes"] == []
    assert again["messages"] == [] and again["active_sessions"] is None

    started = restart(emulator_in_process, state="started")
    assert started["changed"] and started["actions"] == ["start"] and started["since_changed"]
    assert emulator_in_process.instance("IRIS1").running
    again = restart(emulator_in_process, state="started")
    assert not again["changed"] and again["qlist_after"] == again["qlist_before"]


def test_restarted_on_a_stopped_instance_starts_it(emulator_in_process: EmulatorEnv) -> None:
    emulator_in_process.create("IRIS1")
    result = restart(emulator_in_process)
    assert result["changed"] and result["actions"] == ["start"] and emulator_in_process.instance("IRIS1").running


def test_check_mode_reports_users_and_touches_nothing(emulator_in_process: EmulatorEnv) -> None:
    since_before = running(emulator_in_process)
    log_before = emulator_in_process.messages_log("IRIS1")
    with emulator_in_process.connect("IRIS1"):
        emulator_in_process.wait_for("IRIS1", "iris_sessions_active", 1)
        result = restart(emulator_in_process, check_mode=True, diff=True, user_wait_timeout=30)
    assert not result.get("failed") and result["changed"] and result["actions"] == ["stop", "start"]
    assert result["active_sessions"] == 1 and result["qlist_after"] is None
    assert result["diff"]["after"] == "IRIS1: running (restarted)\n"
    assert result["tool_result"]["dry_run"] and result["tool_result"]["changes"][0]["new_value"] == "running (restarted)"
    assert "users_wait" not in result["timings"]
    assert emulator_in_process.instance("IRIS1").activity == since_before and emulator_in_process.messages_log("IRIS1") == log_before


def test_unknown_instance_and_bad_input_fail_before_touching_anything(emulator_in_process: EmulatorEnv) -> None:
    since_before = running(emulator_in_process)
    unknown = restart(emulator_in_process, instance="NOPE")
    assert unknown["failed"] and "instance: instance 'NOPE' is not known to" in unknown["msg"]
    assert unknown["tool_result"]["status"] == "failure" and not unknown["changed"]
    for option, value, reason in (("stop_timeout", 0, "must be more than 0"), ("user_wait_timeout", -1, "must be 0 or more"),
                                  ("start_timeout", "nan", "must be a finite number"), ("stable_seconds", "inf", "must be a finite number")):
        bad = restart(emulator_in_process, **{option: value})
        assert bad["failed"] and bad["msg"].startswith("%s: %s" % (option, reason))
    no_web = restart(emulator_in_process, metrics_url=None, address="127.0.0.1", health_checks=["qlist"], sessions_source="psutil",
                     iris_bin="/nonexistent/iris")
    assert no_web["failed"] and "iris_bin '/nonexistent/iris' is not an executable file" in no_web["msg"]
    assert emulator_in_process.instance("IRIS1").activity == since_before


def test_instance_without_web_port_needs_a_metrics_url(emulator_in_process: EmulatorEnv) -> None:
    emulator_in_process.create("IRIS1", web_port=0)
    result = restart(emulator_in_process)
    assert result["failed"] and result["msg"].startswith("health_checks: 'metrics' needs metrics_url")
    assert emulator_in_process.instance("IRIS1").status == "down"


# -- open transactions (emulator switches open_transactions / open_transaction_seconds) ---------------------------
def with_transactions(emulator_in_process: EmulatorEnv, count: int, seconds: float = 0) -> str:
    """A running instance whose background jobs hold ``count`` transactions open (for ``seconds``, 0 = until stop)."""
    emulator_in_process.create("IRIS1", switches={"open_transactions": count, "open_transaction_seconds": seconds})
    emulator_in_process.start("IRIS1")
    assert emulator_in_process.metrics("IRIS1")["iris_trans_open_count"] == count
    return emulator_in_process.instance("IRIS1").activity


def test_transactions_that_end_within_the_wait(emulator_in_process: EmulatorEnv) -> None:
    # Held long enough that the module surely sees it open even on a loaded machine.
    with_transactions(emulator_in_process, 1, seconds=6)
    result = restart(emulator_in_process, user_wait_timeout=60)
    assert not result.get("failed"), result["msg"]
    assert result["active_sessions"] == 0 and result["open_transactions"] == 1 and result["transactions_at_stop"] == 0
    assert result["transactions_source"].startswith("metrics: http://127.0.0.1:")
    assert result["transactions_source"].endswith("/api/monitor/metrics (iris_trans_open_count)")
    assert result["since_changed"] and result["timings"]["users_wait"] > 0
    # The stop came only after the commit.
    log = emulator_in_process.messages_log("IRIS1")
    assert log.index("1 background transaction(s) committed") < log.index("Shutdown of InterSystems IRIS requested")
    assert "Rolling back" not in log


def test_transactions_that_stay_require_user_action_and_nothing_is_stopped(emulator_in_process: EmulatorEnv) -> None:
    since_before = with_transactions(emulator_in_process, 2)
    result = restart(emulator_in_process, user_wait_timeout=1)
    assert result["failed"] and result["requires_user_action"] and result["changed"] is False
    assert result["msg"] == ("2 open transaction(s) still active on IRIS1 after waiting 1s; nothing was stopped. "
                             "Let the transactions commit or roll back, or set force_users=true")
    assert result["open_transactions"] == 2 and result["transactions_at_stop"] == 2 and result["sessions_at_stop"] == 0
    assert result["tool_result"]["status"] == "failure" and result["tool_result"]["requires_user_action"]
    assert emulator_in_process.instance("IRIS1").activity == since_before and emulator_in_process.metrics("IRIS1")["iris_trans_open_count"] == 2


def test_sessions_and_transactions_are_both_reported(emulator_in_process: EmulatorEnv) -> None:
    with_transactions(emulator_in_process, 1)
    with emulator_in_process.connect("IRIS1"):
        emulator_in_process.wait_for("IRIS1", "iris_sessions_active", 1)
        result = restart(emulator_in_process, user_wait_timeout=0)
    assert result["failed"] and result["msg"].startswith(
        "1 user session(s) and 1 open transaction(s) still active on IRIS1 after waiting 0s; nothing was stopped. "
        "Ask the users to log off")


def test_force_users_stops_despite_open_transactions_and_they_are_rolled_back(emulator_in_process: EmulatorEnv) -> None:
    with_transactions(emulator_in_process, 1)
    result = restart(emulator_in_process, user_wait_timeout=0, force_users=True)
    assert not result.get("failed"), result["msg"]
    assert result["open_transactions"] == 1 and result["transactions_at_stop"] == 1 and result["since_changed"]
    assert "Rolling back 1 open transaction(s) at shutdown" in emulator_in_process.messages_log("IRIS1")


def test_check_mode_reports_open_transactions_and_touches_nothing(emulator_in_process: EmulatorEnv) -> None:
    since_before = with_transactions(emulator_in_process, 3)
    result = restart(emulator_in_process, check_mode=True, user_wait_timeout=30)
    assert not result.get("failed") and result["changed"] and result["open_transactions"] == 3
    assert result["transactions_at_stop"] is None and emulator_in_process.instance("IRIS1").activity == since_before


def test_transactions_that_cannot_be_counted_stop_nothing_unless_forced(emulator_in_process: EmulatorEnv) -> None:
    since_before = with_transactions(emulator_in_process, 1)
    closed = "http://127.0.0.1:%d/api/monitor/metrics" % emulator_in_process.free_port()
    result = restart(emulator_in_process, metrics_url=closed, sessions_source="psutil", health_checks=["qlist"])
    assert result["failed"] and not result["changed"] and not result["requires_user_action"]
    assert result["msg"].startswith("cannot count the open transactions of IRIS1: GET %s failed: " % closed)
    assert result["msg"].endswith("; set metrics_url, or protect_transactions=false to stop without waiting for them")
    assert emulator_in_process.instance("IRIS1").activity == since_before
    forced = restart(emulator_in_process, metrics_url=closed, sessions_source="psutil", health_checks=["qlist"], force_users=True)
    assert not forced.get("failed"), forced["msg"]
    assert forced["open_transactions"] is None and forced["transactions_source"].startswith("not counted: GET %s" % closed)


def test_protect_transactions_false_skips_the_count(emulator_in_process: EmulatorEnv) -> None:
    with_transactions(emulator_in_process, 1)
    result = restart(emulator_in_process, user_wait_timeout=0, protect_transactions=False)
    assert not result.get("failed"), result["msg"]
    assert result["open_transactions"] is None and result["transactions_source"] == "not counted: protect_transactions=false"
