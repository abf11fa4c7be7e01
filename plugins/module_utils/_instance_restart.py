# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Restart, stop or start one IRIS instance, proving each step by observation (stdlib only; psutil optional).

PRIVATE to irisops.iris (the backend of the ``instance_restart`` module): it may change at any time;
do not import it from other collections.

Reads top-down: the plan (which actions the wanted state needs on the observed instance, and whether
they can be carried out and proven), then the phases in order (wait for users, stop, start, confirm
stable), then the result. The control command, the checks and messages.log come from their homes:
iris_control, instance_health, iris_log and tool_result.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

from ansible.module_utils.basic import missing_required_lib  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils import instance_health as health
from ansible_collections.irisops.iris.plugins.module_utils._bounded_command import CommandTimeout, bounded_run_command
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, IrisControl, IrisControlError
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder

STOP = "stop"
START = "start"
# What a check run (or the ToolResult of a run that failed before observing it) says the instance will be.
EXPECTED_STATUS = {"stopped": "down", "started": "running", "restarted": "running (restarted)"}
# nan compares false with everything and would slip past the bounds below; inf would wait forever.
FINITE_OPTIONS = ("user_wait_timeout", "stable_seconds", "stop_timeout", "start_timeout", "check_timeout")
NON_NEGATIVE_OPTIONS = ("user_wait_timeout", "stable_seconds")
POSITIVE_OPTIONS = ("stop_timeout", "start_timeout", "check_timeout")


class RestartError(Exception):
    def __init__(self, message: str, requires_user_action: bool = False, stop_hung: bool = False) -> None:
        super(RestartError, self).__init__(message)
        self.requires_user_action = requires_user_action
        # A stop that never finished leaves the instance in a state only an operator can judge: a failure, not partial.
        self.stop_hung = stop_hung


# -- the plan ---------------------------------------------------------------------------------------------
def validate_params(params: Dict[str, Any]) -> None:
    """Bounds the argument spec cannot express; the error names the option."""
    for option in FINITE_OPTIONS:
        if not math.isfinite(params[option]):
            raise RestartError("%s: must be a finite number of seconds, got %s" % (option, params[option]))
    for option in NON_NEGATIVE_OPTIONS:
        if params[option] < 0:
            raise RestartError("%s: must be 0 or more seconds, got %g" % (option, params[option]))
    for option in POSITIVE_OPTIONS:
        if params[option] <= 0:
            raise RestartError("%s: must be more than 0 seconds, got %g" % (option, params[option]))


def plan_actions(state: str, instance: Instance) -> List[str]:
    """The control actions, in order, that bring ``instance`` to ``state``; ``restarted`` just starts a down one."""
    down = is_down(instance)
    if state == "stopped":
        return [] if down else [STOP]
    if state == "started":
        return [START] if down else []
    return [START] if down else [STOP, START]


def require_urls(params: Dict[str, Any], instance: Instance) -> None:
    """Checks that need a URL must have one before anything is touched."""
    checks = params["health_checks"]
    if health.METRICS in checks and not web_url(params, instance, "metrics_url", health.METRICS_PATH):
        raise RestartError("health_checks: 'metrics' needs metrics_url, since instance %s reports no web server port" % instance.name)
    if health.HEALTH_ENDPOINT in checks and not web_url(params, instance, "health_url", health.HEALTH_PATH):
        raise RestartError("health_checks: 'health_endpoint' needs health_url, since instance %s reports no web server port" % instance.name)


def web_url(params: Dict[str, Any], instance: Instance, option: str, path: str) -> Optional[str]:
    """The URL option ``option`` when set, else ``path`` on the instance's web port at ``address``; None without either."""
    explicit: Optional[str] = params[option]
    if explicit:
        return explicit
    if not instance.web_port:
        return None
    return "http://%s:%d%s" % (url_host(params["address"]), instance.web_port, path)


@dataclass(frozen=True)
class Plan:
    """What a run does, decided from the instance as observed before anything is touched."""

    before: Instance
    actions: List[str]
    # How user sessions are counted; set when a stop is planned.
    sessions: Optional[health.SessionCounter]


# -- one run ----------------------------------------------------------------------------------------------
class Restart(object):
    """One run: plan from the observed state, then act (not in check mode), proving each step by observation.

    ``result`` holds every result key from the start, so a failure at any phase reports what was seen so far.
    """

    def __init__(self, params: Dict[str, Any], control: IrisControl, builder: ToolResultBuilder,
                 check_mode: bool = False, diff: bool = False) -> None:
        self.params = params
        self.control = control
        self.builder = builder
        self.check_mode = check_mode
        self.diff = diff
        self.acted = False
        self.started_at = time.monotonic()
        self.timings: Dict[str, float] = {}
        self.result: Dict[str, Any] = {
            "instance": params["instance"], "actions": [], "qlist_before": None, "qlist_after": None,
            "active_sessions": None, "sessions_at_stop": None, "sessions_source": None, "open_transactions": None,
            "transactions_at_stop": None, "transactions_source": None, "requires_user_action": False,
            "since_changed": False, "health": [], "timings": self.timings, "messages": [],
        }
        self.tz = iris_log.resolve_timezone(None)
        self.log_offset: Optional[int] = None
        self.log_path = ""

    def run(self) -> Dict[str, Any]:
        """The module result of a successful run; RestartError or IrisControlError when a phase fails."""
        validate_params(self.params)
        plan = self.plan()
        if self.check_mode or not plan.actions:
            # Nothing runs. Unchanged, the instance is as observed; in check mode its new state is not known yet.
            self.result["qlist_after"] = None if plan.actions else plan.before.as_dict()
            return self.success(plan.before, None)
        return self.success(plan.before, self.apply(plan))

    def plan(self) -> Plan:
        """Observe the instance and decide the actions; refuse what could not be carried out or proven."""
        try:
            before = self.observe()
        except IrisControlError as exc:
            raise RestartError("instance: %s" % exc) from None
        self.result["instance"] = before.name
        self.result["qlist_before"] = before.as_dict()
        self.log_path = before.messages_log_path
        actions = plan_actions(self.params["state"], before)
        self.result["actions"] = actions
        if START in actions:
            require_urls(self.params, before)
        counter = None
        if STOP in actions:
            counter = self.session_counter(before)
            self.result["active_sessions"] = self.count_sessions(counter)
            self.result["sessions_source"] = counter.detail
            self.result["open_transactions"] = self.count_transactions(before)
        return Plan(before, actions, counter)

    def apply(self, plan: Plan) -> Instance:
        """Carry out the planned actions in order; the instance as last observed."""
        self.log_offset = health.log_size(self.log_path)
        current = plan.before
        if plan.sessions is not None:
            self.wait_for_users(plan.before, plan.sessions)
            current = self.stop(plan.before)
        if START in plan.actions:
            current = self.start(plan.before)
        return current

    # -- phases, in the order they run ---------------------------------------------------------------------
    def wait_for_users(self, instance: Instance, counter: health.SessionCounter) -> None:
        """Wait for user sessions and open transactions to end, up to user_wait_timeout."""
        begin = time.monotonic()
        sessions: List[int] = [int(self.result["active_sessions"])]
        transactions: List[Optional[int]] = [self.result["open_transactions"]]

        def quiet() -> bool:
            sessions[0] = self.count_sessions(counter)
            if transactions[0] is not None:
                transactions[0] = self.count_transactions(instance)
            return sessions[0] == 0 and not transactions[0]

        health.wait_until(quiet, float(self.params["user_wait_timeout"]), initial_delay=0.2, max_delay=5.0)
        self.timed("users_wait", begin)
        self.result["sessions_at_stop"] = sessions[0]
        self.result["sessions_source"] = counter.detail
        self.result["transactions_at_stop"] = transactions[0]
        if (sessions[0] or transactions[0]) and not self.params["force_users"]:
            raise RestartError("%s still active on %s after waiting %gs; nothing was stopped. %s, or set force_users=true" % (
                busy_text(sessions[0], transactions[0] or 0), instance.name, self.params["user_wait_timeout"],
                "Ask the users to log off" if sessions[0] else "Let the transactions commit or roll back"),
                requires_user_action=True)

    def stop(self, instance: Instance) -> Instance:
        """``iris stop`` bounded by stop_timeout, proven by qlist showing the instance down."""
        begin = time.monotonic()
        timeout = float(self.params["stop_timeout"])
        # isclib adds 'bypass' for instances that are sign-on inhibited; a plain quiet stop would refuse.
        flags = ["quietly"] + (["bypass"] if instance.status.startswith("sign-on inhibited") else [])
        self.acted = True
        try:
            rc, out, err = self.bounded(timeout).stop(instance.name, flags)
        except CommandTimeout as exc:
            rc, out, err = -1, "", str(exc)
        observed = [instance]

        def down() -> bool:
            observed[0] = self.observe()
            return is_down(observed[0])

        stopped = health.wait_until(down, timeout - (time.monotonic() - begin), initial_delay=0.1)
        self.timed("stop", begin)
        self.result["qlist_after"] = observed[0].as_dict()
        if not stopped:
            raise RestartError("instance %s is not down %gs after 'iris stop %s %s' (rc=%d: %s); qlist shows %r, state %r. "
                               "It was not started again" % (instance.name, timeout, instance.name, " ".join(flags), rc,
                                                             (err or out).strip()[-500:], status_text(observed[0]),
                                                             observed[0].state), stop_hung=True)
        return observed[0]

    def start(self, before: Instance) -> Instance:
        """Start the (now down) instance; ``before`` is its state at the beginning of the run, which the new ``since`` must differ from."""
        begin = time.monotonic()
        timeout = float(self.params["start_timeout"])
        wait_for_new_second(before)
        start_offset = health.log_size(self.log_path)
        self.acted = True
        timed_out = None
        try:
            rc, out, err = self.bounded(timeout).start(before.name)
        except CommandTimeout as exc:
            rc, out, err, timed_out = -1, "", str(exc), str(exc)
        self.timed("start", begin)
        observed = [self.observe()]
        command = "'iris start %s quietly' (rc=%d: %s)" % (before.name, rc, (err or out).strip()[-500:])
        if is_down(observed[0]) and not timed_out:
            self.result["qlist_after"] = observed[0].as_dict()
            self.run_checks(observed[0], start_offset)
            raise RestartError("instance %s did not start: %s; qlist shows %r" % (before.name, command, status_text(observed[0])))

        health_begin = time.monotonic()
        # The first probe judges the state just observed: one `iris qlist` less per restart.
        fresh = [True]

        def healthy() -> bool:
            if not fresh[0]:
                observed[0] = self.observe()
            fresh[0] = False
            results = self.run_checks(observed[0], start_offset)
            return observed[0].running and observed[0].activity != before.activity and all(result.ok for result in results)

        ok = health.wait_until(healthy, timeout - (time.monotonic() - begin))
        self.timed("health", health_begin)
        self.result["qlist_after"] = observed[0].as_dict()
        self.result["since_changed"] = observed[0].running and observed[0].activity != before.activity
        if not ok:
            raise RestartError("instance %s not healthy within start_timeout=%gs after %s: qlist shows %r; failed checks: %s" % (
                before.name, timeout, command, status_text(observed[0]), self.failed_checks()))
        if self.params["stable_seconds"]:
            self.confirm_stable(observed[0], start_offset)
        return observed[0]

    def confirm_stable(self, up: Instance, start_offset: int) -> None:
        """After stable_seconds the same ``since`` and every check again: catches an instance that dies right after start."""
        begin = time.monotonic()
        time.sleep(float(self.params["stable_seconds"]))
        again = self.observe()
        results = self.run_checks(again, start_offset)
        self.timed("stable", begin)
        self.result["qlist_after"] = again.as_dict()
        if again.activity != up.activity or not again.running:
            self.result["since_changed"] = again.running and again.activity != self.result["qlist_before"]["activity"]
            raise RestartError("instance %s went from %r to %r within stable_seconds=%gs after a healthy start (crashed?)" % (
                up.name, status_text(up), status_text(again), self.params["stable_seconds"]))
        if not all(result.ok for result in results):
            raise RestartError("instance %s failed health checks %gs after a healthy start: %s" % (
                up.name, self.params["stable_seconds"], self.failed_checks()))

    # -- the result ------------------------------------------------------------------------------------------
    def success(self, before: Instance, after: Optional[Instance]) -> Dict[str, Any]:
        """Module result of a run that reached the wanted state (or, in check mode, would try to)."""
        self.finish()
        acted = bool(self.result["actions"])
        after_text = status_text(after) if after is not None else (
            EXPECTED_STATUS[self.params["state"]] if acted else status_text(before))
        if acted:
            self.builder.add_change(before.name, status_text(before), after_text)
        result = dict(self.result, changed=acted, tool_result=self.builder.build("success", dry_run=self.check_mode))
        if self.diff:
            result["diff"] = {"before": "%s: %s\n" % (before.name, status_text(before)),
                              "after": "%s: %s\n" % (before.name, after_text),
                              "before_header": "%s (instance)" % before.name, "after_header": "%s (instance)" % before.name}
        return result

    def failure(self, error: Exception) -> Dict[str, Any]:
        """fail_json arguments: everything seen so far; a ``partial`` ToolResult once the instance was stopped or started."""
        self.finish()
        if self.acted:
            self.builder.add_change(self.result["instance"], status_line(self.result["qlist_before"]),
                                    status_line(self.result["qlist_after"]))
        return failure_result(error, self.result, self.builder, self.check_mode, self.acted)

    def finish(self) -> None:
        self.timed("total", self.started_at)
        if self.log_offset is not None:
            entries = health.read_log_since(self.log_path, self.log_offset, self.tz)
            self.result["messages"] = [entry.as_dict() for entry in entries]

    # -- observing the instance ------------------------------------------------------------------------------
    def observe(self) -> Instance:
        return self.control.instance(self.params["instance"])

    def bounded(self, timeout: float) -> IrisControl:
        """The control command, killed after ``timeout`` seconds (for stop and start, which may hang)."""
        return IrisControl(self.control.iris_bin, bounded_run_command(timeout))

    def session_counter(self, instance: Instance) -> health.SessionCounter:
        source = self.params["sessions_source"]
        if source == "psutil" and not health.psutil_importable():
            raise RestartError("sessions_source: %s" % missing_required_lib("psutil"))
        try:
            return health.SessionCounter(source, instance.superserver_port,
                                         web_url(self.params, instance, "metrics_url", health.METRICS_PATH),
                                         float(self.params["check_timeout"]))
        except health.HealthError as exc:
            raise RestartError("sessions_source: %s" % exc) from None

    def count_sessions(self, counter: health.SessionCounter) -> int:
        try:
            return counter.count()
        except health.HealthError as exc:
            raise RestartError("cannot count the active sessions of %s: %s" % (self.params["instance"], exc)) from None

    def count_transactions(self, instance: Instance) -> Optional[int]:
        """Open transactions from the metrics endpoint; None when not protected or (force_users) not countable."""
        if not self.params["protect_transactions"]:
            self.result["transactions_source"] = "not counted: protect_transactions=false"
            return None
        url = web_url(self.params, instance, "metrics_url", health.METRICS_PATH)
        try:
            if not url:
                raise health.HealthError("instance %s reports no web server port and metrics_url is not set" % instance.name)
            count = health.transactions_from_metrics(url, float(self.params["check_timeout"]))
        except health.HealthError as exc:
            if self.params["force_users"]:
                self.result["transactions_source"] = "not counted: %s" % exc
                return None
            raise RestartError("cannot count the open transactions of %s: %s; set metrics_url, or protect_transactions=false "
                               "to stop without waiting for them" % (instance.name, exc)) from None
        self.result["transactions_source"] = "metrics: %s (%s)" % (url, health.TRANSACTION_METRIC)
        return count

    def run_checks(self, instance: Instance, start_offset: int) -> List[health.CheckResult]:
        """One round of health_checks (recorded as the ``health`` result); messages.log is read from ``start_offset``."""
        timeout = float(self.params["check_timeout"])
        results = []
        for name in self.params["health_checks"]:
            if name == health.QLIST:
                results.append(health.check_qlist(instance))
            elif name == health.SUPERSERVER:
                results.append(health.check_tcp(self.params["address"], instance.superserver_port, timeout))
            elif name == health.METRICS:
                results.append(health.check_metrics(web_url(self.params, instance, "metrics_url", health.METRICS_PATH) or "", timeout))
            elif name == health.MESSAGES_LOG:
                results.append(health.check_messages_log(health.read_log_since(self.log_path, start_offset, self.tz)))
            else:
                results.append(health.check_health_endpoint(web_url(self.params, instance, "health_url", health.HEALTH_PATH) or "", timeout))
        self.result["health"] = [result.as_dict() for result in results]
        return results

    def failed_checks(self) -> str:
        failed = ["%s (%s)" % (check["name"], check["detail"]) for check in self.result["health"] if not check["ok"]]
        return "; ".join(failed) or "none"

    def timed(self, phase: str, since: float) -> None:
        self.timings[phase] = round(time.monotonic() - since, 3)


def failure_result(error: Exception, context: Dict[str, Any], builder: ToolResultBuilder, check_mode: bool,
                   acted: bool) -> Dict[str, Any]:
    """fail_json arguments for ``error``: ``partial`` when the instance was stopped or started (unless the stop hung,
    which needs an operator), else ``failure``. ``context`` is the result so far (only ``instance`` before a run)."""
    message = str(error)
    user_action = isinstance(error, RestartError) and error.requires_user_action
    stop_hung = isinstance(error, RestartError) and error.stop_hung
    status = "partial" if acted and not stop_hung else "failure"
    return dict(context, msg=message, changed=acted, requires_user_action=user_action, tool_result=builder.build(
        status, error_message=message, requires_user_action=user_action, dry_run=check_mode))


# -- small facts about an instance -------------------------------------------------------------------------
def is_down(instance: Instance) -> bool:
    return instance.status.startswith("down")


def status_text(instance: Instance) -> str:
    """The status line of qlist field 4 ('running, since ...'): what the diff and the ToolResult change show."""
    return "%s, %s" % (instance.status, instance.activity) if instance.activity else instance.status


def status_line(facts: Optional[Dict[str, Any]]) -> Optional[str]:
    """status_text() of an Instance.as_dict() (what the failure path still has)."""
    if facts is None:
        return None
    return "%s, %s" % (facts["status"], facts["activity"]) if facts["activity"] else str(facts["status"])


def busy_text(sessions: int, transactions: int) -> str:
    """'2 user session(s) and 1 open transaction(s)': what keeps an instance from stopping."""
    parts = ["%d user session(s)" % sessions] if sessions else []
    parts += ["%d open transaction(s)" % transactions] if transactions else []
    return " and ".join(parts)


def since_epoch(instance: Instance) -> Optional[float]:
    """The qlist ``since`` time of a running instance as epoch seconds (None when down or unreadable)."""
    if not instance.running or instance.since is None:
        return None
    # qlist prints the host's local time, so the naive datetime converts as local time.
    return datetime.fromisoformat(instance.since).timestamp()


def wait_for_new_second(before: Instance) -> None:
    """qlist's ``since`` has 1 s resolution: start in a later second than the last start so the proof can work."""
    if not before.running:
        return
    last_start = since_epoch(before)
    # Unreadable time (another locale?): one second is always enough.
    delay = 1.0 if last_start is None else last_start + 1.0 - time.time()
    if delay > 0:
        time.sleep(delay)


def url_host(address: str) -> str:
    """An address as a URL host: IPv6 in brackets."""
    return "[%s]" % address if ":" in address and not address.startswith("[") else address
