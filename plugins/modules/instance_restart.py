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

from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import instance_health as health
from ansible_collections.irisops.iris.plugins.module_utils._instance_restart import Restart, RestartError, failure_result
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import CONTROL_ARGUMENT_SPEC, IrisControl, IrisControlError
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC, ToolResultBuilder


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
        restart = Restart(module.params, IrisControl.from_module(module), builder, check_mode=module.check_mode, diff=module._diff)
        result = restart.run()
    except (RestartError, IrisControlError) as exc:
        if restart is None:  # no control command: nothing was observed
            module.fail_json(**failure_result(exc, {"instance": module.params["instance"]}, builder, module.check_mode, acted=False))
        else:
            module.fail_json(**restart.failure(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
