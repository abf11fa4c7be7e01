#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_restart
short_description: Gracefully restart, stop or start an IRIS instance, protecting users and proving health
version_added: 0.1.0
description:
  - Restarts (or stops, or starts) one IRIS instance through the C(iris) control command, on a real IRIS installation
    or on the emulator of the C(irisops.iris.iris_emulator) role.
  - Before a stop it counts active user sessions (TCP connections to the superserver port) and open transactions
    (C(iris_trans_open_count) of the metrics endpoint, see O(protect_transactions)) and waits up to
    O(user_wait_timeout) for both to end. If sessions or transactions remain and O(force_users=false) it fails with
    RV(requires_user_action=true) and both counts, and nothing is stopped.
  - Stops with C(iris stop <instance> quietly) (the graceful stop operators' systemd units use). A stop that does not
    bring the instance C(down) (as shown by C(iris qlist)) within O(stop_timeout) fails, and the instance is never started.
  - Starts with C(iris start <instance> quietly) and succeeds only when, within O(start_timeout), C(iris qlist) shows the
    instance running with a new C(since) time and every check of O(health_checks) passes, and when they pass again after
    O(stable_seconds). A restart is proven by this observed state, never by a return code.
  - Reports how long each phase took, the C(messages.log) entries written meanwhile and a ToolResult.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.iris.CONTROL
  - irisops.iris.iris.TOOL_RESULT
attributes:
  check_mode:
    support: full
    details:
      - Reads the instance state and the current counts of sessions and open transactions and reports what would happen;
        stops and starts nothing.
  diff_mode:
    support: full
    details:
      - The instance's status line (C(iris qlist) field 4) before and after.
  idempotent:
    support: partial
    details:
      - V(stopped) and V(started) change nothing when the instance is already in that state.
      - V(restarted) restarts every time, by design.
  platform:
    support: full
    platforms: posix
    details:
      - Linux and UNIX hosts with IRIS (or the emulator). psutil on the target is optional.
requirements:
  - psutil (optional) to count sessions from the host's TCP connections; without it they are read from the metrics endpoint.
options:
  instance:
    description: Instance name as C(iris qlist) shows it (case-insensitive).
    type: str
    required: true
  state:
    description:
      - V(restarted) stops a running instance and starts it again (a stopped instance is just started).
      - V(stopped) and V(started) act only when the instance is not already in that state.
    type: str
    choices: [restarted, stopped, started]
    default: restarted
  user_wait_timeout:
    description: Seconds to wait for active user sessions to end before stopping. V(0) checks once.
    type: float
    default: 60
  force_users:
    description:
      - Stop even when user sessions or open transactions remain after O(user_wait_timeout); C(iris stop quietly) ends
        the sessions and the shutdown rolls the open transactions back.
    type: bool
    default: false
  protect_transactions:
    description:
      - Count open transactions before a stop (the C(iris_trans_open_count) metric of O(metrics_url)) and wait for them
        like for user sessions.
      - When they cannot be counted (no web server port and no O(metrics_url), metric missing, endpoint down) the module
        fails before stopping anything, unless O(force_users=true) (then RV(transactions_source) says why they were not
        counted). V(false) skips the count.
    type: bool
    default: true
  stop_timeout:
    description: Seconds the stop may take until C(iris qlist) shows the instance C(down). Past it the module fails and does not start.
    type: float
    default: 120
  start_timeout:
    description: Seconds the start may take until the instance is running and every health check passes.
    type: float
    default: 60
  stable_seconds:
    description:
      - After the health checks first pass, wait this long and require them (and the same C(since) time) again,
        so an instance that dies right after start is caught. V(0) skips the second round.
    type: float
    default: 3
  health_checks:
    description:
      - Checks that must pass after a start.
      - V(qlist) C(iris qlist) shows the instance running with state C(ok).
      - V(superserver) the superserver port accepts a TCP connection.
      - V(metrics) an HTTP GET of O(metrics_url) answers 200 with C(iris_*) metrics.
      - V(messages_log) C(messages.log) has no severity 3 entry written since the start.
      - V(health_endpoint) an HTTP GET of O(health_url) answers 200 (the emulator serves C(/api/monitor/health)).
    type: list
    elements: str
    choices: [qlist, superserver, metrics, messages_log, health_endpoint]
    default: [qlist, superserver, metrics, messages_log]
  sessions_source:
    description:
      - How active user sessions are counted.
      - V(psutil) ESTABLISHED TCP connections whose local port is the instance's superserver port.
      - V(metrics) the C(iris_sessions_active) metric of O(metrics_url), else C(iris_license_consumed).
      - V(auto) psutil when it can be imported, else the metrics.
    type: str
    choices: [auto, psutil, metrics]
    default: auto
  address:
    description: Address at which this host reaches the instance's superserver and web ports.
    type: str
    default: 127.0.0.1
  metrics_url:
    description:
      - Metrics endpoint. Default C(http://<address>:<web port>/api/monitor/metrics) with the web port from C(iris qlist).
      - Needed for the V(metrics) check and for counting sessions without psutil when the instance has no private web server.
    type: str
  health_url:
    description: Health endpoint for the V(health_endpoint) check. Default C(http://<address>:<web port>/api/monitor/health).
    type: str
  check_timeout:
    description: Seconds one probe (TCP connect, HTTP GET) may take.
    type: float
    default: 5
"""

EXAMPLES = r"""
- name: Restart IRIS once users have left (up to 5 minutes), then prove it healthy
  irisops.iris.instance_restart:
    instance: IRIS
    user_wait_timeout: 300

- name: Restart now even with users logged in, with the emulator's health URL as an extra check
  irisops.iris.instance_restart:
    instance: IRIS1
    force_users: true
    health_checks: [qlist, superserver, metrics, messages_log, health_endpoint]

- name: Stop for maintenance (nothing happens when already down)
  irisops.iris.instance_restart:
    instance: IRIS
    state: stopped
    stop_timeout: 600

- name: What would a restart do, and are users on it now?
  irisops.iris.instance_restart:
    instance: IRIS
  check_mode: true
  register: preview
"""

RETURN = r"""
instance:
  description: Instance name as C(iris qlist) prints it.
  returned: always
  type: str
  sample: IRIS
actions:
  description: Control actions taken (or, in check mode, that would be taken), in order.
  returned: always
  type: list
  elements: str
  sample: [stop, start]
qlist_before:
  description: The instance's C(iris qlist) line before the run, as a dict (name, status, activity, state, ports, paths, ...).
  returned: when the instance was found
  type: dict
  sample: {"name": "IRIS", "status": "running", "activity": "since Wed Nov 25 12:00:18 2026", "state": "ok",
           "superserver_port": 1972, "web_port": 52773}
qlist_after:
  description: The instance's C(iris qlist) line after the run; null in check mode.
  returned: when the instance was found
  type: dict
  sample: {"name": "IRIS", "status": "running", "activity": "since Wed Nov 25 12:03:41 2026", "state": "ok"}
active_sessions:
  description: User sessions counted before the stop; null when no stop was needed.
  returned: always
  type: int
  sample: 0
sessions_at_stop:
  description: User sessions still open when the stop was issued (more than 0 only with O(force_users=true)); null without a stop.
  returned: always
  type: int
  sample: 0
sessions_source:
  description: How sessions were counted; null when no stop was needed.
  returned: always
  type: str
  sample: "psutil: ESTABLISHED connections to port 1972"
open_transactions:
  description: Open transactions counted before the stop; null when no stop was needed or they were not counted.
  returned: always
  type: int
  sample: 0
transactions_at_stop:
  description:
    - Open transactions left when the stop was issued (more than 0 only with O(force_users=true), and the shutdown rolled
      them back); null without a stop or a count.
  returned: always
  type: int
  sample: 0
transactions_source:
  description: How open transactions were counted, or why they were not; null when no stop was needed.
  returned: always
  type: str
  sample: "metrics: http://127.0.0.1:52773/api/monitor/metrics (iris_trans_open_count)"
requires_user_action:
  description:
    - True when user sessions or open transactions remained past O(user_wait_timeout) and O(force_users=false); nothing
      was stopped.
  returned: always
  type: bool
  sample: false
since_changed:
  description: True when C(iris qlist) shows a different C(since) time after the start than before the run (the proof of a restart).
  returned: always
  type: bool
  sample: true
health:
  description: Results of the last round of O(health_checks) (empty when nothing was started).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check.
      type: str
    ok:
      description: Whether it passed.
      type: bool
    detail:
      description: What was observed.
      type: str
  sample: [{"name": "qlist", "ok": true, "detail": "status running, state ok"}]
timings:
  description: Seconds spent in each phase that ran (users_wait, stop, start, health, stable) and in total.
  returned: always
  type: dict
  sample: {"users_wait": 0.003, "stop": 0.412, "start": 0.655, "health": 0.021, "stable": 3.02, "total": 4.13}
messages:
  description: C(messages.log) entries written while the module ran (timestamp, pid, severity, category, text, line number).
  returned: always
  type: list
  elements: dict
  sample: [{"timestamp": "2026-11-25T12:03:40.101+00:00", "pid": 4242, "severity": 0, "severity_name": "info",
            "category": "Generic.Event", "text": "Shutdown of InterSystems IRIS complete", "line_number": 120}]
diff:
  description: Status line before and after (with O(ignore:--diff)).
  returned: when diff mode is on
  type: dict
  sample: {"before": "IRIS: running, since Wed Nov 25 12:00:18 2026\n", "after": "IRIS: running, since Wed Nov 25 12:03:41 2026\n"}
tool_result:
  description:
    - ToolResult of this run. Status V(partial) when the instance was stopped or started but did not reach the wanted state;
      V(failure) when nothing was done, or when a stop did not finish within O(stop_timeout) (the instance's state then
      needs an operator).
  returned: always
  type: dict
  sample: {"tool": "instance_restart", "status": "success", "changes": [{"target": "IRIS", "old_value": "running, since Wed Nov 25 12:00:18 2026",
           "new_value": "running, since Wed Nov 25 12:03:41 2026"}], "error_message": null, "requires_user_action": false,
           "dry_run": false, "duration_ms": 4130, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
"""

import math
import os
import signal
import subprocess
import tempfile
import time
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils import instance_health as health
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import (
    CONTROL_ARGUMENT_SPEC, Instance, IrisControl, IrisControlError, RunCommand)
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC, ToolResultBuilder

# After SIGTERM a timed-out control command gets this long before SIGKILL.
KILL_GRACE_SECONDS = 2.0


class RestartError(Exception):
    def __init__(self, message: str, requires_user_action: bool = False, stop_hung: bool = False) -> None:
        super(RestartError, self).__init__(message)
        self.requires_user_action = requires_user_action
        # A stop that never finished leaves the instance in a state only an operator can judge: a failure, not partial.
        self.stop_hung = stop_hung


class CommandTimeout(Exception):
    """A control command did not finish within its bound (it has been killed)."""


def bounded_run_command(timeout: float) -> RunCommand:
    """A ``run_command`` for IrisControl that kills the command (its process group) after ``timeout`` seconds.

    Output goes to temp files, not pipes: a started instance's daemons may inherit the descriptors
    and keep a pipe open long after the control command has exited.
    """

    def run(args: Sequence[str], environ_update: Optional[Dict[str, str]] = None, **_ignored: Any) -> Tuple[int, str, str]:
        env = dict(os.environ)
        env.update(environ_update or {})
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            # run_command has no timeout and reads pipes to EOF, so a hung 'iris stop' or a daemon holding
            # an inherited pipe would block it forever.
            process = subprocess.Popen(  # pylint: disable=ansible-bad-function
                list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True)
            try:
                rc = process.wait(timeout=max(timeout, 0.001))
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise CommandTimeout("'%s' did not finish within %gs and was killed" % (" ".join(args), timeout)) from None
            out.seek(0)
            err.seek(0)
            return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")

    return run


def _kill_group(process: "subprocess.Popen[bytes]") -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=KILL_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def since_epoch(instance: Instance) -> Optional[float]:
    """The qlist ``since`` time of a running instance as epoch seconds (None when down or unreadable)."""
    if not instance.running or instance.since is None:
        return None
    # qlist prints the host's local time, so the naive datetime converts as local time.
    return datetime.fromisoformat(instance.since).timestamp()


def url_host(address: str) -> str:
    return "[%s]" % address if ":" in address and not address.startswith("[") else address


def status_text(instance: Instance) -> str:
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


def is_down(instance: Instance) -> bool:
    return instance.status.startswith("down")


def plan_actions(state: str, instance: Instance) -> List[str]:
    down = is_down(instance)
    if state == "stopped":
        return [] if down else ["stop"]
    if state == "started":
        return ["start"] if down else []
    return ["start"] if down else ["stop", "start"]


class Restart(object):
    """One run of the module: plan from the observed state, then act, proving each step by observation."""

    def __init__(self, module: AnsibleModule, builder: ToolResultBuilder) -> None:
        self.module = module
        self.params: Dict[str, Any] = module.params
        self.builder = builder
        self.acted = False
        self.started_at = time.monotonic()
        self.timings: Dict[str, float] = {}
        self.result: Dict[str, Any] = {
            "instance": self.params["instance"], "actions": [], "qlist_before": None, "qlist_after": None,
            "active_sessions": None, "sessions_at_stop": None, "sessions_source": None, "open_transactions": None,
            "transactions_at_stop": None, "transactions_source": None, "requires_user_action": False,
            "since_changed": False, "health": [], "timings": self.timings, "messages": [],
        }
        self.tz = iris_log.resolve_timezone(None)
        self.log_offset: Optional[int] = None
        self.log_path = ""
        self.control = IrisControl.from_module(module)

    # -- helpers ---------------------------------------------------------------------------------------
    def timed(self, phase: str, since: float) -> None:
        self.timings[phase] = round(time.monotonic() - since, 3)

    def web_url(self, instance: Instance, option: str, path: str) -> Optional[str]:
        explicit: Optional[str] = self.params[option]
        if explicit:
            return explicit
        if not instance.web_port:
            return None
        return "http://%s:%d%s" % (url_host(self.params["address"]), instance.web_port, path)

    def controlled(self, timeout: float) -> IrisControl:
        return IrisControl(self.control.iris_bin, bounded_run_command(timeout))

    def observe(self) -> Instance:
        return self.control.instance(self.params["instance"])

    def validate(self) -> None:
        for option in ("user_wait_timeout", "stable_seconds", "stop_timeout", "start_timeout", "check_timeout"):
            # nan compares false with everything and would slip past the bounds below; inf would wait forever.
            if not math.isfinite(self.params[option]):
                raise RestartError("%s: must be a finite number of seconds, got %s" % (option, self.params[option]))
        for option in ("user_wait_timeout", "stable_seconds"):
            if self.params[option] < 0:
                raise RestartError("%s: must be 0 or more seconds, got %g" % (option, self.params[option]))
        for option in ("stop_timeout", "start_timeout", "check_timeout"):
            if self.params[option] <= 0:
                raise RestartError("%s: must be more than 0 seconds, got %g" % (option, self.params[option]))

    def require_urls(self, instance: Instance) -> None:
        """Checks that need a URL must have one before anything is touched."""
        checks = self.params["health_checks"]
        if health.METRICS in checks and not self.web_url(instance, "metrics_url", health.METRICS_PATH):
            raise RestartError("health_checks: 'metrics' needs metrics_url, since instance %s reports no web server port" % instance.name)
        if health.HEALTH_ENDPOINT in checks and not self.web_url(instance, "health_url", health.HEALTH_PATH):
            raise RestartError("health_checks: 'health_endpoint' needs health_url, since instance %s reports no web server port" % instance.name)

    def run_checks(self, instance: Instance, start_offset: int) -> List[health.CheckResult]:
        timeout = float(self.params["check_timeout"])
        results = []
        for name in self.params["health_checks"]:
            if name == health.QLIST:
                results.append(health.check_qlist(instance))
            elif name == health.SUPERSERVER:
                results.append(health.check_tcp(self.params["address"], instance.superserver_port, timeout))
            elif name == health.METRICS:
                results.append(health.check_metrics(self.web_url(instance, "metrics_url", health.METRICS_PATH) or "", timeout))
            elif name == health.MESSAGES_LOG:
                results.append(health.check_messages_log(health.read_log_since(self.log_path, start_offset, self.tz)))
            else:
                results.append(health.check_health_endpoint(self.web_url(instance, "health_url", health.HEALTH_PATH) or "", timeout))
        self.result["health"] = [result.as_dict() for result in results]
        return results

    def collect_messages(self) -> None:
        if self.log_offset is not None:
            entries = health.read_log_since(self.log_path, self.log_offset, self.tz)
            self.result["messages"] = [entry.as_dict() for entry in entries]

    # -- phases ----------------------------------------------------------------------------------------
    def session_counter(self, instance: Instance) -> health.SessionCounter:
        source = self.params["sessions_source"]
        if source == "psutil" and not health.psutil_importable():
            raise RestartError("sessions_source: %s" % missing_required_lib("psutil"))
        try:
            return health.SessionCounter(source, instance.superserver_port,
                                         self.web_url(instance, "metrics_url", health.METRICS_PATH),
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
        url = self.web_url(instance, "metrics_url", health.METRICS_PATH)
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
        begin = time.monotonic()
        timeout = float(self.params["stop_timeout"])
        # isclib adds 'bypass' for instances that are sign-on inhibited; a plain quiet stop would refuse.
        flags = ["quietly"] + (["bypass"] if instance.status.startswith("sign-on inhibited") else [])
        self.acted = True
        try:
            rc, out, err = self.controlled(timeout).stop(instance.name, flags)
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
        self.wait_for_new_second(before)
        start_offset = health.log_size(self.log_path)
        self.acted = True
        timed_out = None
        try:
            rc, out, err = self.controlled(timeout).start(before.name)
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

    def failed_checks(self) -> str:
        failed = ["%s (%s)" % (check["name"], check["detail"]) for check in self.result["health"] if not check["ok"]]
        return "; ".join(failed) or "none"

    @staticmethod
    def wait_for_new_second(before: Instance) -> None:
        """qlist's ``since`` has 1 s resolution: start in a later second than the last start so the proof can work."""
        if not before.running:
            return
        last_start = since_epoch(before)
        # Unreadable time (another locale?): one second is always enough.
        delay = 1.0 if last_start is None else last_start + 1.0 - time.time()
        if delay > 0:
            time.sleep(delay)

    # -- the run ---------------------------------------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        self.validate()
        try:
            before = self.observe()
        except IrisControlError as exc:
            raise RestartError("instance: %s" % exc) from None
        self.result["instance"] = before.name
        self.result["qlist_before"] = before.as_dict()
        self.log_path = before.messages_log_path
        actions = plan_actions(self.params["state"], before)
        self.result["actions"] = actions
        if "start" in actions:
            self.require_urls(before)
        counter = None
        if "stop" in actions:
            counter = self.session_counter(before)
            self.result["active_sessions"] = self.count_sessions(counter)
            self.result["sessions_source"] = counter.detail
            self.result["open_transactions"] = self.count_transactions(before)
        if self.module.check_mode or not actions:
            self.result["qlist_after"] = None if actions else before.as_dict()
            return self.finish(before, None)

        self.log_offset = health.log_size(self.log_path)
        current = before
        if counter is not None:
            self.wait_for_users(before, counter)
            current = self.stop(before)
        if "start" in actions:
            current = self.start(before)
        return self.finish(before, current)

    def finish(self, before: Instance, after: Optional[Instance]) -> Dict[str, Any]:
        self.timed("total", self.started_at)
        self.collect_messages()
        expected = {"stopped": "down", "started": "running", "restarted": "running (restarted)"}[self.params["state"]]
        after_text = status_text(after) if after is not None else (expected if self.result["actions"] else status_text(before))
        if self.result["actions"]:
            self.builder.add_change(before.name, status_text(before), after_text)
        result = dict(self.result, changed=bool(self.result["actions"]))
        if self.module._diff:
            result["diff"] = {"before": "%s: %s\n" % (before.name, status_text(before)),
                              "after": "%s: %s\n" % (before.name, after_text),
                              "before_header": "%s (instance)" % before.name, "after_header": "%s (instance)" % before.name}
        return result


def argument_spec() -> Dict[str, Any]:
    return dict(
        instance=dict(type="str", required=True),
        state=dict(type="str", choices=["restarted", "stopped", "started"], default="restarted"),
        user_wait_timeout=dict(type="float", default=60.0),
        force_users=dict(type="bool", default=False),
        protect_transactions=dict(type="bool", default=True),
        stop_timeout=dict(type="float", default=120.0),
        start_timeout=dict(type="float", default=60.0),
        stable_seconds=dict(type="float", default=3.0),
        health_checks=dict(type="list", elements="str", choices=list(health.CHECK_NAMES),
                           default=[health.QLIST, health.SUPERSERVER, health.METRICS, health.MESSAGES_LOG]),
        sessions_source=dict(type="str", choices=["auto", "psutil", "metrics"], default="auto"),
        address=dict(type="str", default="127.0.0.1"),
        metrics_url=dict(type="str"),
        health_url=dict(type="str"),
        check_timeout=dict(type="float", default=5.0),
        **CONTROL_ARGUMENT_SPEC,
        **TOOL_RESULT_ARGUMENT_SPEC,
    )


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    builder = ToolResultBuilder("instance_restart", module.params["trace_id"])
    restart: Optional[Restart] = None
    try:
        restart = Restart(module, builder)
        result = restart.run()
    except (RestartError, IrisControlError) as exc:
        message = str(exc)
        context: Dict[str, Any] = {"instance": module.params["instance"]}
        acted = False
        if restart is not None:
            restart.timed("total", restart.started_at)
            restart.collect_messages()
            context = restart.result
            acted = restart.acted
            if acted:
                builder.add_change(context["instance"], status_line(context["qlist_before"]), status_line(context["qlist_after"]))
        user_action = isinstance(exc, RestartError) and exc.requires_user_action
        stop_hung = isinstance(exc, RestartError) and exc.stop_hung
        context["requires_user_action"] = user_action
        module.fail_json(msg=message, changed=acted, **dict(context, tool_result=builder.build(
            "partial" if acted and not stop_hung else "failure", error_message=message, requires_user_action=user_action,
            dry_run=module.check_mode)))
    module.exit_json(tool_result=builder.build("success", dry_run=module.check_mode), **result)


if __name__ == "__main__":
    main()
