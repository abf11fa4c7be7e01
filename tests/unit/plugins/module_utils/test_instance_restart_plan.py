# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_instance_restart.py without AnsibleModule and without processes: the plan, the option bounds,
the status texts and the result of runs that stop before touching the instance.

A Restart here gets an IrisControl whose ``run_command`` answers ``iris qlist`` with a real qlist line and records
every call, so a test can prove that nothing but qlist ran. Runs that stop or start are in
tests/integration/test_instance_restart.py (the emulator).
"""

from __future__ import annotations

import socket
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import _instance_restart as restart
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl, IrisControlError, parse_qlist_line
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder

RUNNING = "IRIS^/usr/irissys/^2023.1.0.235.1com^running, since Tue Jun 27 01:55:25 2023^iris.cpf^1972^52773^0^ok^IRIS^^^"
DOWN = "IRIS^/usr/irissys/^2023.1.0.235.1com^down, last used Tue Jun 27 01:50:36 2023^iris.cpf^1972^52773^0^^IRIS^^^"
INHIBITED = "IRIS^/usr/irissys/^2023.1.0.235.1com^sign-on inhibited^iris.cpf^1972^52773^0^warn^IRIS^^^"
NO_WEB = "IRIS^/usr/irissys/^2023.1.0.235.1com^down, last used Tue Jun 27 01:50:36 2023^iris.cpf^1972^^0^^IRIS^^^"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
DEFAULTS: Dict[str, Any] = {
    "instance": "iris", "state": "restarted", "user_wait_timeout": 60.0, "force_users": False, "protect_transactions": True,
    "stop_timeout": 120.0, "start_timeout": 60.0, "stable_seconds": 3.0,
    "health_checks": ["qlist", "superserver", "metrics", "messages_log"], "sessions_source": "auto",
    "address": "127.0.0.1", "metrics_url": None, "health_url": None, "check_timeout": 5.0,
}


class Qlist(object):
    """The control command's ``run_command``: ``iris qlist`` prints ``line``; every call is recorded."""

    def __init__(self, line: str) -> None:
        self.line = line
        self.calls: List[List[str]] = []

    def __call__(self, args: Sequence[str], environ_update: Optional[Dict[str, str]] = None, **_ignored: Any) -> Tuple[int, str, str]:
        self.calls.append(list(args)[1:])
        return (0, self.line + "\n", "") if args[1] == "qlist" else (1, "", "only qlist is answered")


def params(**changes: Any) -> Dict[str, Any]:
    return dict(DEFAULTS, **changes)


def new_restart(line: str, check_mode: bool = False, diff: bool = False, **changes: Any) -> Tuple[restart.Restart, Qlist]:
    qlist = Qlist(line)
    return restart.Restart(params(**changes), IrisControl("/usr/irissys/bin/iris", qlist), ToolResultBuilder("instance_restart", TRACE_ID),
                           check_mode=check_mode, diff=diff), qlist


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the plan --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("state, line, actions", [
    ("restarted", RUNNING, ["stop", "start"]),
    ("restarted", DOWN, ["start"]),
    ("restarted", INHIBITED, ["stop", "start"]),
    ("stopped", RUNNING, ["stop"]),
    ("stopped", DOWN, []),
    ("stopped", INHIBITED, ["stop"]),
    ("started", RUNNING, []),
    ("started", DOWN, ["start"]),
])
def test_plan_actions_for_each_state_and_status(state: str, line: str, actions: List[str]) -> None:
    assert restart.plan_actions(state, parse_qlist_line(line)) == actions


@pytest.mark.parametrize("option, value, message", [
    ("start_timeout", float("nan"), "start_timeout: must be a finite number of seconds, got nan"),
    ("user_wait_timeout", float("inf"), "user_wait_timeout: must be a finite number of seconds, got inf"),
    ("user_wait_timeout", -1.0, "user_wait_timeout: must be 0 or more seconds, got -1"),
    ("stable_seconds", -0.5, "stable_seconds: must be 0 or more seconds, got -0.5"),
    ("stop_timeout", 0.0, "stop_timeout: must be more than 0 seconds, got 0"),
    ("check_timeout", -2.0, "check_timeout: must be more than 0 seconds, got -2"),
])
def test_validate_params_names_the_option_and_the_bound(option: str, value: float, message: str) -> None:
    with pytest.raises(restart.RestartError) as caught:
        restart.validate_params(params(**{option: value}))
    assert str(caught.value) == message and not caught.value.requires_user_action


def test_validate_params_accepts_zero_waits() -> None:
    restart.validate_params(params(user_wait_timeout=0.0, stable_seconds=0.0))


def test_web_url_prefers_the_option_and_brackets_ipv6() -> None:
    instance = parse_qlist_line(RUNNING)
    assert restart.web_url(params(), instance, "metrics_url", "/m") == "http://127.0.0.1:52773/m"
    assert restart.web_url(params(address="::1"), instance, "health_url", "/h") == "http://[::1]:52773/h"
    assert restart.web_url(params(address="[::1]"), instance, "health_url", "/h") == "http://[::1]:52773/h"
    assert restart.web_url(params(metrics_url="http://monitor/x"), instance, "metrics_url", "/m") == "http://monitor/x"
    assert restart.web_url(params(), parse_qlist_line(NO_WEB), "metrics_url", "/m") is None


def test_require_urls_refuses_url_checks_without_a_web_port() -> None:
    no_web = parse_qlist_line(NO_WEB)
    with pytest.raises(restart.RestartError, match=r"^health_checks: 'metrics' needs metrics_url, since instance IRIS reports no web"):
        restart.require_urls(params(), no_web)
    with pytest.raises(restart.RestartError, match=r"^health_checks: 'health_endpoint' needs health_url"):
        restart.require_urls(params(health_checks=["qlist", "health_endpoint"]), no_web)
    restart.require_urls(params(metrics_url="http://127.0.0.1:1/m"), no_web)
    restart.require_urls(params(health_checks=["qlist", "superserver", "messages_log"]), no_web)


# -- status texts ----------------------------------------------------------------------------------------------
def test_status_text_and_status_line_agree() -> None:
    for line, text in ((RUNNING, "running, since Tue Jun 27 01:55:25 2023"), (DOWN, "down, last used Tue Jun 27 01:50:36 2023"),
                       (INHIBITED, "sign-on inhibited")):
        instance = parse_qlist_line(line)
        assert restart.status_text(instance) == text == restart.status_line(instance.as_dict())
    assert restart.status_line(None) is None


@pytest.mark.parametrize("sessions, transactions, text", [
    (2, 0, "2 user session(s)"),
    (0, 1, "1 open transaction(s)"),
    (1, 3, "1 user session(s) and 3 open transaction(s)"),
    (0, 0, ""),
])
def test_busy_text(sessions: int, transactions: int, text: str) -> None:
    assert restart.busy_text(sessions, transactions) == text


def test_since_epoch_is_local_time_of_a_running_instance_only() -> None:
    expected = time.mktime((2023, 6, 27, 1, 55, 25, 0, 0, -1))
    assert restart.since_epoch(parse_qlist_line(RUNNING)) == expected
    assert restart.since_epoch(parse_qlist_line(DOWN)) is None
    assert restart.since_epoch(parse_qlist_line(RUNNING.replace("Tue Jun 27 01:55:25 2023", "yesterday"))) is None


# -- runs that end before anything is touched --------------------------------------------------------------------
def test_already_in_the_wanted_state_changes_nothing_and_runs_only_qlist() -> None:
    run, qlist = new_restart(DOWN, diff=True, state="stopped")
    result = run.run()
    assert result["changed"] is False and result["actions"] == [] and result["instance"] == "IRIS"
    assert result["qlist_after"] == result["qlist_before"] == parse_qlist_line(DOWN).as_dict()
    assert result["active_sessions"] is None and result["messages"] == [] and set(result["timings"]) == {"total"}
    assert result["diff"]["before"] == result["diff"]["after"] == "IRIS: down, last used Tue Jun 27 01:50:36 2023\n"
    assert result["tool_result"]["status"] == "success" and result["tool_result"]["changes"] == []
    assert result["tool_result"]["trace_id"] == TRACE_ID and not result["tool_result"]["dry_run"]
    assert qlist.calls == [["qlist"]]


@pytest.mark.parametrize("state, expected", [("started", "running"), ("restarted", "running (restarted)")])
def test_check_mode_start_reports_the_expected_state_and_runs_only_qlist(state: str, expected: str) -> None:
    run, qlist = new_restart(DOWN, check_mode=True, diff=True, state=state)
    result = run.run()
    assert result["changed"] is True and result["actions"] == ["start"] and result["qlist_after"] is None
    assert result["diff"]["after"] == "IRIS: %s\n" % expected and result["diff"]["after_header"] == "IRIS (instance)"
    assert result["tool_result"]["dry_run"] and result["tool_result"]["changes"] == [
        {"target": "IRIS", "old_value": "down, last used Tue Jun 27 01:50:36 2023", "new_value": expected}]
    assert not run.acted and qlist.calls == [["qlist"]]


def test_uncountable_sessions_fail_the_plan_as_a_failure() -> None:
    closed = "http://127.0.0.1:%d/api/monitor/metrics" % closed_port()
    run, qlist = new_restart(RUNNING, sessions_source="metrics", metrics_url=closed)
    with pytest.raises(restart.RestartError) as caught:
        run.run()
    assert str(caught.value).startswith("cannot count the active sessions of iris: GET %s failed: " % closed)
    failure = run.failure(caught.value)
    assert failure["msg"] == str(caught.value) and failure["changed"] is False and failure["requires_user_action"] is False
    assert failure["actions"] == ["stop", "start"] and failure["qlist_after"] is None and "total" in failure["timings"]
    assert failure["tool_result"]["status"] == "failure" and failure["tool_result"]["changes"] == []
    assert qlist.calls == [["qlist"]]


def test_unknown_instance_is_named() -> None:
    run, _qlist = new_restart(RUNNING, instance="NOPE")
    with pytest.raises(restart.RestartError, match=r"^instance: instance 'NOPE' is not known to /usr/irissys/bin/iris qlist$"):
        run.run()


def test_bad_option_fails_before_qlist() -> None:
    run, qlist = new_restart(RUNNING, stop_timeout=0.0)
    with pytest.raises(restart.RestartError, match=r"^stop_timeout: must be more than 0"):
        run.run()
    assert qlist.calls == []


# -- the ToolResult status of a failure (the remediate role's rescue acts on 'partial') --------------------------------
@pytest.mark.parametrize("error, acted, status", [
    (restart.RestartError("did not start"), True, "partial"),
    (restart.RestartError("not down", stop_hung=True), True, "failure"),
    (restart.RestartError("users", requires_user_action=True), False, "failure"),
    (IrisControlError("qlist failed"), True, "partial"),
    (IrisControlError("no iris"), False, "failure"),
])
def test_failure_result_status(error: Exception, acted: bool, status: str) -> None:
    builder = ToolResultBuilder("instance_restart", TRACE_ID)
    failure = restart.failure_result(error, {"instance": "IRIS"}, builder, True, acted)
    user_action = isinstance(error, restart.RestartError) and error.requires_user_action
    assert failure["msg"] == str(error) and failure["changed"] is acted and failure["instance"] == "IRIS"
    assert failure["requires_user_action"] is user_action
    tool = failure["tool_result"]
    assert (tool["status"], tool["error_message"], tool["requires_user_action"], tool["dry_run"]) == (status, str(error), user_action, True)
