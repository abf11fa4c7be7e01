# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the web port answers: /api/monitor/metrics (Prometheus text, the iris_* names of the real endpoint) and
/api/monitor/health. Pure functions of the instance state, its alert count (messages.log) and the time."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from .registry import system_state
from .state import InstanceState
from .transactions import average_age_seconds

SYSTEM_STATE_VALUES = {"ok": 0, "warn": 1, "alert": 2, "hung": 3}


def metrics_text(state: InstanceState, alerts: int, now: float) -> str:
    """Prometheus text exposition of the instance's iris_* metrics (``now``: epoch seconds)."""
    config = state.config
    switches = state.switches
    sessions = len(state.sessions)
    memory = config.memory if config else None
    lock_size = config.locksiz if config and config.locksiz else (memory.heap_mb * 1024 * 1024 if memory else 0)
    lock_used = min(switches.lock_table_demand_bytes, lock_size) if lock_size else 0
    heap_total_kb = (config.gmheap_kb or (memory.heap_mb * 1024 if memory else 0)) if config else 0
    heap_used_kb = min(switches.heap_demand_kb, heap_total_kb)
    licenses_used = min(sessions, switches.license_units)
    counters = state.counters
    series: List[Tuple[str, str, str, float]] = [
        ("iris_process_count", "gauge", "Processes of the instance (system daemons plus user sessions)",
         switches.system_processes + sessions),
        ("iris_sessions_active", "gauge", "Open superserver connections (user sessions)", sessions),
        ("iris_ecps_conn", "gauge", "Active ECP client connections to this data server", len(state.ecp_clients)),
        ("iris_ecps_conn_max", "gauge", "Peak ECP client connections to this data server since start",
         state.ecp_clients_peak),
        ("iris_ecps_conn_limit", "gauge", "ECP client limit ([config] MaxServerConn; emulator only)",
         config.max_server_conn if config else 0),
        ("iris_ecps_conn_refused_total", "counter", "ECP clients refused at MaxServerConn (emulator only)",
         counters["ecp_clients_refused"]),
        ("iris_license_consumed", "gauge", "License units in use", licenses_used),
        ("iris_license_available", "gauge", "License units available", switches.license_units - licenses_used),
        ("iris_license_percent_used", "gauge", "License units in use, percent",
         round(100.0 * licenses_used / switches.license_units, 1) if switches.license_units else 0),
        ("iris_lock_table_size_bytes", "gauge", "Lock table size ([config] locksiz, else bounded by the heap)", lock_size),
        ("iris_lock_table_used_bytes", "gauge", "Lock table bytes in use", lock_used),
        ("iris_lock_table_full_total", "counter", "LOCK TABLE FULL errors since start", counters["lock_table_full"]),
        ("iris_sql_lock_threshold", "gauge", "Active [SQL] LockThreshold (row locks per table before escalation)",
         config.lock_threshold if config else 0),
        ("iris_sql_lock_escalations_total", "counter", "SQL lock escalations to table locks since start",
         counters["lock_escalations"]),
        ("iris_smh_total", "gauge", "Shared memory heap size, KB", heap_total_kb),
        ("iris_smh_used", "gauge", "Shared memory heap in use, KB", heap_used_kb),
        ("iris_smh_percent_full", "gauge", "Shared memory heap in use, percent",
         round(100.0 * heap_used_kb / heap_total_kb, 1) if heap_total_kb else 0),
        ("iris_smh_allocation_errors_total", "counter", "Heap allocation failures since start", counters["heap_errors"]),
        ("iris_shared_memory_mb", "gauge", "Shared memory allocated at start, MB", memory.total_mb if memory else 0),
        ("iris_huge_pages_used", "gauge", "1 when shared memory is in huge pages", 1 if state.huge_pages else 0),
        ("iris_trans_open_count", "gauge", "Open transactions", len(state.open_transactions)),
        ("iris_trans_open_secs", "gauge", "Average age of the open transactions, seconds",
         average_age_seconds(state.open_transactions, now)),
        ("iris_system_alerts", "gauge", "Severity 2+ messages.log entries since start", alerts),
        ("iris_system_state", "gauge", "System Monitor state: 0 ok, 1 warn, 2 alert, 3 hung",
         SYSTEM_STATE_VALUES[system_state(state.phase, alerts)]),
        ("iris_system_uptime_seconds", "gauge", "Seconds since the instance started", round(now - state.started, 3)),
    ]
    lines = []
    for name, kind, help_text, value in series:
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s %s" % (name, kind))
        lines.append("%s %s" % (name, _number(value)))
    lines.extend(_configuration_series(state))
    return "\n".join(lines) + "\n"


def _configuration_series(state: InstanceState) -> List[str]:
    """The active value of every integer parameter, and how many merged values wait for a restart."""
    lines = ["# HELP iris_cpf_active_value Active value of an integer CPF parameter (what the instance uses now)",
             "# TYPE iris_cpf_active_value gauge"]
    for section, values in sorted(state.active.items()):
        for parameter, value in sorted(values.items()):
            if value.lstrip("-").isdigit():
                lines.append('iris_cpf_active_value{section="%s",parameter="%s"} %s' % (
                    _label(section), _label(parameter), value))
    lines += ["# HELP iris_cpf_pending_values Merged values that wait for a restart",
              "# TYPE iris_cpf_pending_values gauge",
              "iris_cpf_pending_values %d" % sum(len(values) for values in state.pending.values())]
    return lines


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def health(state: InstanceState, alerts: int) -> Tuple[bool, str]:
    """Whether the instance is healthy (running) and the JSON body of /api/monitor/health."""
    healthy = state.phase == "running"
    body: Dict[str, Any] = {"status": "ok" if healthy else state.phase, "state": system_state(state.phase, alerts),
                            "sessions": len(state.sessions), "open_transactions": len(state.open_transactions),
                            "faults": state.active_faults}
    return healthy, json.dumps(body)


def http_response(state: InstanceState, alerts: int, request: bytes, now: float) -> bytes:
    """The whole HTTP/1.1 answer to a request (its head is enough); the connection is closed after it."""
    status, content_type, body = _route(state, alerts, request, now)
    head = "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
        status, content_type, len(body))
    return head.encode("ascii") + body


def _route(state: InstanceState, alerts: int, request: bytes, now: float) -> Tuple[str, str, bytes]:
    request_line = request.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(request_line) != 3 or request_line[0] not in ("GET", "HEAD"):
        return "405 Method Not Allowed", "text/plain", b"only GET is supported\n"
    path = request_line[1].split("?", 1)[0]
    if path == "/api/monitor/metrics":
        return "200 OK", "text/plain; version=0.0.4", metrics_text(state, alerts, now).encode("utf-8")
    if path == "/api/monitor/health":
        healthy, body = health(state, alerts)
        return ("200 OK" if healthy else "503 Service Unavailable"), "application/json", body.encode("utf-8")
    return "404 Not Found", "text/plain", b"not found\n"
