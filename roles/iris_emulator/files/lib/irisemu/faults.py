# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Configuration-driven faults and the Prometheus metrics that show them.

A fault compares the instance's active configuration with the emulated workload (emulator.json).
The active configuration is what the instance read at start, plus what ``iris merge`` activated
live since (parameters the catalog says IRIS changes without a restart, e.g. locksiz and [SQL]
LockThreshold): fixing the CPF and restarting makes a fault stop, and so does a live merge of a
parameter IRIS activates at once. Recurring faults are timers: first occurrence when the fault
begins (at start or at a merge), then every ``fault_interval_seconds`` while it lasts; nothing
polls in between.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, List, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_events

from .messages import SEVERE, WARNING
from .transactions import average_age_seconds

if TYPE_CHECKING:  # pragma: no cover - import cycle only for type checkers
    from .daemon import Instance

LOCK_TABLE = "lock_table_full"
HEAP = "heap_exhausted"
HUGE_PAGES = "huge_pages_fallback"
ECP_CLIENTS = "ecp_clients_refused"
LOCK_ESCALATION = "sql_lock_escalation"
ESCALATED_TABLE = "SQLUser.Orders"


def lock_table_too_small(instance: "Instance") -> bool:
    """locksiz 0 means 'bounded by gmheap only'; a fixed size below the workload's lock demand overflows."""
    config = instance.config
    return config is not None and 0 < config.locksiz < instance.switches.lock_table_demand_bytes


def heap_too_small(instance: "Instance") -> bool:
    """gmheap 0 lets IRIS size the heap itself (at least 300 MB); a fixed one below the demand runs out."""
    config = instance.config
    return config is not None and 0 < config.gmheap_kb < instance.switches.heap_demand_kb


def lock_escalation(instance: "Instance") -> bool:
    """SQL transactions of the workload take more row locks than [SQL] LockThreshold: IRIS escalates to table locks."""
    config = instance.config
    return config is not None and instance.switches.sql_row_locks_per_transaction > config.lock_threshold


def refresh_faults(instance: "Instance") -> List[str]:
    """Start the recurring faults the active configuration causes now (at start and after each merge); the names
    of the faults in effect."""
    for name, condition, fire in _RECURRING:
        if condition(instance) and name not in instance.recurring:
            instance.recurring.add(name)
            _recurring(instance, name, condition, fire)
    active = [name for name, condition, _fire in _RECURRING if condition(instance)]
    if instance.huge_pages_fell_back:
        active.append(HUGE_PAGES)
    if instance.counters["ecp_clients_refused"]:
        active.append(ECP_CLIENTS)
    return active


def _recurring(instance: "Instance", name: str, condition: "Callable[[Instance], bool]",
               fire: "Callable[[Instance], None]") -> None:
    def tick() -> None:
        if instance.phase == "running" and condition(instance):
            fire(instance)
            instance.publish()
            instance.add_timer(instance.switches.fault_interval_seconds, tick)
        else:
            instance.recurring.discard(name)
    tick()


def _lock_table_full(instance: "Instance") -> None:
    locksiz = instance.config.locksiz if instance.config else 0
    instance.counters["lock_table_full"] += 1
    instance.log.write(SEVERE, "Generic.Event", iris_events.LOCK_TABLE_FULL_DETAIL.format(
        locksiz=locksiz, demand=instance.switches.lock_table_demand_bytes))


def _heap_exhausted(instance: "Instance") -> None:
    gmheap_kb = instance.config.gmheap_kb if instance.config else 0
    instance.counters["heap_errors"] += 1
    instance.log.write(SEVERE, "Generic.Event", iris_events.HEAP_EXHAUSTED.format(
        gmheap_kb=gmheap_kb, request_kb=instance.switches.heap_demand_kb))


def _lock_escalated(instance: "Instance") -> None:
    threshold = instance.config.lock_threshold if instance.config else 0
    instance.counters["lock_escalations"] += 1
    instance.log.write(WARNING, "Generic.Event", iris_events.LOCK_ESCALATION.format(
        pid=instance.pid, table=ESCALATED_TABLE, lock_threshold=threshold))


_RECURRING: "Tuple[Tuple[str, Callable[[Instance], bool], Callable[[Instance], None]], ...]" = (
    (LOCK_TABLE, lock_table_too_small, _lock_table_full),
    (HEAP, heap_too_small, _heap_exhausted),
    (LOCK_ESCALATION, lock_escalation, _lock_escalated),
)


def refuse_ecp_client(instance: "Instance", limit: int) -> None:
    """One more ECP application server than [config] MaxServerConn (the ECP client limit): closed and logged."""
    instance.counters["ecp_clients_refused"] += 1
    if ECP_CLIENTS not in instance.active_faults:
        instance.active_faults.append(ECP_CLIENTS)
    instance.log.write(SEVERE, "Generic.Event", iris_events.ECP_CLIENT_REFUSED.format(
        max_server_conn=limit, connected=len(instance.ecp_clients)))
    instance.publish()


def metrics_text(instance: "Instance") -> str:
    """Prometheus text exposition of the instance's iris_* metrics."""
    config = instance.config
    switches = instance.switches
    sessions = len(instance.sessions)
    memory = config.memory if config else None
    lock_size = config.locksiz if config and config.locksiz else (memory.heap_mb * 1024 * 1024 if memory else 0)
    lock_used = min(switches.lock_table_demand_bytes, lock_size) if lock_size else 0
    heap_total_kb = (config.gmheap_kb or (memory.heap_mb * 1024 if memory else 0)) if config else 0
    heap_used_kb = min(switches.heap_demand_kb, heap_total_kb)
    licenses_used = min(sessions, switches.license_units)
    series: List[Tuple[str, str, str, float]] = [
        ("iris_process_count", "gauge", "Processes of the instance (system daemons plus user sessions)",
         switches.system_processes + sessions),
        ("iris_sessions_active", "gauge", "Open superserver connections (user sessions)", sessions),
        ("iris_ecps_conn", "gauge", "Active ECP client connections to this data server", len(instance.ecp_clients)),
        ("iris_ecps_conn_max", "gauge", "Peak ECP client connections to this data server since start",
         instance.ecp_clients_peak),
        ("iris_ecps_conn_limit", "gauge", "ECP client limit ([config] MaxServerConn; emulator only)",
         config.max_server_conn if config else 0),
        ("iris_ecps_conn_refused_total", "counter", "ECP clients refused at MaxServerConn (emulator only)",
         instance.counters["ecp_clients_refused"]),
        ("iris_license_consumed", "gauge", "License units in use", licenses_used),
        ("iris_license_available", "gauge", "License units available", switches.license_units - licenses_used),
        ("iris_license_percent_used", "gauge", "License units in use, percent",
         round(100.0 * licenses_used / switches.license_units, 1) if switches.license_units else 0),
        ("iris_lock_table_size_bytes", "gauge", "Lock table size ([config] locksiz, else bounded by the heap)", lock_size),
        ("iris_lock_table_used_bytes", "gauge", "Lock table bytes in use", lock_used),
        ("iris_lock_table_full_total", "counter", "LOCK TABLE FULL errors since start", instance.counters["lock_table_full"]),
        ("iris_sql_lock_threshold", "gauge", "Active [SQL] LockThreshold (row locks per table before escalation)",
         config.lock_threshold if config else 0),
        ("iris_sql_lock_escalations_total", "counter", "SQL lock escalations to table locks since start",
         instance.counters["lock_escalations"]),
        ("iris_smh_total", "gauge", "Shared memory heap size, KB", heap_total_kb),
        ("iris_smh_used", "gauge", "Shared memory heap in use, KB", heap_used_kb),
        ("iris_smh_percent_full", "gauge", "Shared memory heap in use, percent",
         round(100.0 * heap_used_kb / heap_total_kb, 1) if heap_total_kb else 0),
        ("iris_smh_allocation_errors_total", "counter", "Heap allocation failures since start", instance.counters["heap_errors"]),
        ("iris_shared_memory_mb", "gauge", "Shared memory allocated at start, MB", memory.total_mb if memory else 0),
        ("iris_huge_pages_used", "gauge", "1 when shared memory is in huge pages", 1 if instance.huge_pages else 0),
        ("iris_trans_open_count", "gauge", "Open transactions", len(instance.open_transactions)),
        ("iris_trans_open_secs", "gauge", "Average age of the open transactions, seconds",
         average_age_seconds(instance.open_transactions)),
        ("iris_system_alerts", "gauge", "Severity 2+ messages.log entries since start", instance.log.alerts),
        ("iris_system_state", "gauge", "System Monitor state: 0 ok, 1 warn, 2 alert, 3 hung",
         {"ok": 0, "warn": 1, "alert": 2, "hung": 3}[instance.system_state()]),
        ("iris_system_uptime_seconds", "gauge", "Seconds since the instance started", round(time.time() - instance.started, 3)),
    ]
    lines = []
    for name, kind, help_text, value in series:
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s %s" % (name, kind))
        lines.append("%s %s" % (name, _number(value)))
    lines.extend(_configuration_series(instance))
    return "\n".join(lines) + "\n"


def _configuration_series(instance: "Instance") -> List[str]:
    """The active value of every integer parameter, and how many merged values wait for a restart."""
    lines = ["# HELP iris_cpf_active_value Active value of an integer CPF parameter (what the instance uses now)",
             "# TYPE iris_cpf_active_value gauge"]
    for section, values in sorted(instance.active.items()):
        for parameter, value in sorted(values.items()):
            if value.lstrip("-").isdigit():
                lines.append('iris_cpf_active_value{section="%s",parameter="%s"} %s' % (
                    _label(section), _label(parameter), value))
    lines += ["# HELP iris_cpf_pending_values Merged values that wait for a restart",
              "# TYPE iris_cpf_pending_values gauge",
              "iris_cpf_pending_values %d" % sum(len(values) for values in instance.pending.values())]
    return lines


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
