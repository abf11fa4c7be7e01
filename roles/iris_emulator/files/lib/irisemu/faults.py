# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Configuration-driven faults: pure functions of the instance state (state.py) and the time.

A fault compares the instance's active configuration with the emulated workload (emulator.json).
The active configuration is what the instance read at start, plus what ``iris merge`` activated
live since (parameters the catalog says IRIS changes without a restart, e.g. locksiz and [SQL]
LockThreshold): fixing the CPF and restarting makes a fault stop, and so does a live merge of a
parameter IRIS activates at once. A recurring fault occurs when it begins (at start or at a merge),
then every ``fault_interval_seconds`` while it lasts; nothing polls in between.

Nothing here writes or changes anything: the functions return the event (the messages.log line and the
counter it adds to) and the daemon records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_events

from .messages import SEVERE, WARNING, LogLine
from .state import InstanceState

LOCK_TABLE = "lock_table_full"
HEAP = "heap_exhausted"
HUGE_PAGES = "huge_pages_fallback"
ECP_CLIENTS = "ecp_clients_refused"
LOCK_ESCALATION = "sql_lock_escalation"
ESCALATED_TABLE = "SQLUser.Orders"


@dataclass(frozen=True)
class FaultEvent:
    """One occurrence of a fault: its messages.log line and the InstanceState counter it adds one to."""

    fault: str
    line: LogLine
    counter: str


@dataclass(frozen=True)
class Occurrence:
    """A recurring fault's event now and the (monotonic) time of its next occurrence while it lasts."""

    event: FaultEvent
    next_at: float


def lock_table_too_small(state: InstanceState) -> bool:
    """locksiz 0 means 'bounded by gmheap only'; a fixed size below the workload's lock demand overflows."""
    config = state.config
    return config is not None and 0 < config.locksiz < state.switches.lock_table_demand_bytes


def heap_too_small(state: InstanceState) -> bool:
    """gmheap 0 lets IRIS size the heap itself (at least 300 MB); a fixed one below the demand runs out."""
    config = state.config
    return config is not None and 0 < config.gmheap_kb < state.switches.heap_demand_kb


def lock_escalation(state: InstanceState) -> bool:
    """SQL transactions of the workload take more row locks than [SQL] LockThreshold: IRIS escalates to table locks."""
    config = state.config
    return config is not None and state.switches.sql_row_locks_per_transaction > config.lock_threshold


def _lock_table_full(state: InstanceState) -> FaultEvent:
    text = iris_events.LOCK_TABLE_FULL_DETAIL.format(
        locksiz=state.config.locksiz if state.config else 0, demand=state.switches.lock_table_demand_bytes)
    return FaultEvent(LOCK_TABLE, LogLine(SEVERE, "Generic.Event", text), "lock_table_full")


def _heap_exhausted(state: InstanceState) -> FaultEvent:
    text = iris_events.HEAP_EXHAUSTED.format(
        gmheap_kb=state.config.gmheap_kb if state.config else 0, request_kb=state.switches.heap_demand_kb)
    return FaultEvent(HEAP, LogLine(SEVERE, "Generic.Event", text), "heap_errors")


def _lock_escalated(state: InstanceState) -> FaultEvent:
    text = iris_events.LOCK_ESCALATION.format(
        pid=state.pid, table=ESCALATED_TABLE, lock_threshold=state.config.lock_threshold if state.config else 0)
    return FaultEvent(LOCK_ESCALATION, LogLine(WARNING, "Generic.Event", text), "lock_escalations")


# Recurring faults: name, the condition that causes it, its event.
RECURRING: Tuple[Tuple[str, Callable[[InstanceState], bool], Callable[[InstanceState], FaultEvent]], ...] = (
    (LOCK_TABLE, lock_table_too_small, _lock_table_full),
    (HEAP, heap_too_small, _heap_exhausted),
    (LOCK_ESCALATION, lock_escalation, _lock_escalated),
)


def active_faults(state: InstanceState) -> List[str]:
    """The names of the faults in effect (published as ``faults``)."""
    active = [name for name, condition, _event in RECURRING if condition(state)]
    if state.huge_pages_fell_back:
        active.append(HUGE_PAGES)
    if state.counters[ECP_CLIENTS]:
        active.append(ECP_CLIENTS)
    return active


def beginning(state: InstanceState) -> List[str]:
    """Recurring faults the active configuration causes that are not recurring yet (checked at start and each merge)."""
    return [name for name, condition, _event in RECURRING if condition(state) and name not in state.recurring]


def occurrence(state: InstanceState, fault: str, now: float) -> Optional[Occurrence]:
    """The recurring fault's occurrence at ``now``, or None once it has ended (fixed live, or the instance stopping)."""
    for name, condition, event in RECURRING:
        if name == fault:
            if state.phase != "running" or not condition(state):
                return None
            return Occurrence(event(state), now + state.switches.fault_interval_seconds)
    raise KeyError("unknown recurring fault %r" % fault)


def ecp_client_refused(state: InstanceState) -> Optional[FaultEvent]:
    """An ECP application server connects: None while fewer than [config] MaxServerConn (the ECP client limit) are
    served, else the refusal (the connection is closed and logged)."""
    limit = state.config.max_server_conn if state.config else 0
    if len(state.ecp_clients) < limit:
        return None
    text = iris_events.ECP_CLIENT_REFUSED.format(max_server_conn=limit, connected=len(state.ecp_clients))
    return FaultEvent(ECP_CLIENTS, LogLine(SEVERE, "Generic.Event", text), "ecp_clients_refused")
