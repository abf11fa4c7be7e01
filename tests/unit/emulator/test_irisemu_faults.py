# SPDX-License-Identifier: GPL-3.0-or-later
"""faults.py: which faults a state causes and the events they return, without changing the state."""

from __future__ import annotations

import copy
from typing import Callable

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_events
from irisemu import faults
from irisemu.config import Switches
from irisemu.messages import SEVERE, WARNING, LogLine
from irisemu.state import InstanceState

StateFactory = Callable[..., InstanceState]  # the make_state fixture (conftest.py)

SMALL_LOCKSIZ = "[config]\nlocksiz=1048576\n"


def test_a_lock_table_below_the_demand_recurs_every_interval(make_state: StateFactory) -> None:
    state = make_state(SMALL_LOCKSIZ, Switches(fault_interval_seconds=7.5))
    assert faults.beginning(state) == [faults.LOCK_TABLE]
    occurrence = faults.occurrence(state, faults.LOCK_TABLE, now=100.0)
    assert occurrence is not None
    assert occurrence.next_at == 107.5
    assert occurrence.event == faults.FaultEvent(faults.LOCK_TABLE, LogLine(
        SEVERE, "Generic.Event", iris_events.LOCK_TABLE_FULL_DETAIL.format(locksiz=1048576, demand=4194304)),
        "lock_table_full")
    assert occurrence.event.line.text.startswith(iris_events.LOCK_TABLE_FULL.rstrip("!"))


def test_a_recurring_fault_ends_when_fixed_live_or_when_the_instance_stops(make_state: StateFactory) -> None:
    state = make_state(SMALL_LOCKSIZ)
    assert state.config is not None
    state.config = state.config.activated("config", "locksiz", "16777216")  # what a live merge does
    assert faults.occurrence(state, faults.LOCK_TABLE, now=5.0) is None
    assert faults.active_faults(state) == []

    stopping = make_state(SMALL_LOCKSIZ)
    stopping.phase = "stopping"
    assert faults.occurrence(stopping, faults.LOCK_TABLE, now=5.0) is None


def test_a_fault_already_recurring_does_not_begin_again(make_state: StateFactory) -> None:
    state = make_state(SMALL_LOCKSIZ + "gmheap=16384\n")
    assert faults.beginning(state) == [faults.LOCK_TABLE, faults.HEAP]
    state.recurring.add(faults.LOCK_TABLE)
    assert faults.beginning(state) == [faults.HEAP]


@pytest.mark.parametrize("gmheap, faulty", [("16384", True), ("32768", False), ("0", False)])
def test_a_fixed_heap_below_the_demand_runs_out(make_state: StateFactory, gmheap: str, faulty: bool) -> None:
    state = make_state("gmheap=%s\n" % gmheap)
    occurrence = faults.occurrence(state, faults.HEAP, now=0.0)
    assert (occurrence is not None) is faulty
    if occurrence is not None:
        assert occurrence.event.line == LogLine(SEVERE, "Generic.Event", iris_events.HEAP_EXHAUSTED.format(
            gmheap_kb=16384, request_kb=32768))
        assert occurrence.event.counter == "heap_errors"


def test_more_row_locks_than_the_threshold_escalate(make_state: StateFactory) -> None:
    state = make_state("[SQL]\nLockThreshold=500\n", Switches(sql_row_locks_per_transaction=501), pid=77)
    occurrence = faults.occurrence(state, faults.LOCK_ESCALATION, now=0.0)
    assert occurrence is not None
    assert occurrence.event.line == LogLine(WARNING, "Generic.Event", iris_events.LOCK_ESCALATION.format(
        pid=77, table=faults.ESCALATED_TABLE, lock_threshold=500))
    assert faults.occurrence(make_state("[SQL]\nLockThreshold=501\n", Switches(sql_row_locks_per_transaction=501)),
                             faults.LOCK_ESCALATION, now=0.0) is None


def test_ecp_clients_beyond_maxserverconn_are_refused(make_state: StateFactory) -> None:
    state = make_state("MaxServerConn=1\n")
    assert faults.ecp_client_refused(state) is None  # the first one is served
    state.ecp_clients.add(object())  # type: ignore[arg-type]  # stands for a connection: only the count matters
    refused = faults.ecp_client_refused(state)
    assert refused is not None
    assert refused.line.text == ("ECP connection from application server refused: this data server already serves "
                                 "MaxServerConn=1 ECP clients (1 connected)")
    assert (refused.fault, refused.counter, refused.line.severity) == (faults.ECP_CLIENTS, "ecp_clients_refused", SEVERE)


def test_active_faults_list_configuration_faults_then_the_huge_pages_fallback_then_refusals(make_state: StateFactory) -> None:
    state = make_state("gmheap=16384\n")
    state.huge_pages_fell_back = True
    state.counters["ecp_clients_refused"] = 2
    assert faults.active_faults(state) == [faults.HEAP, faults.HUGE_PAGES, faults.ECP_CLIENTS]


def test_faults_never_change_the_state(make_state: StateFactory) -> None:
    state = make_state(SMALL_LOCKSIZ + "gmheap=16384\nMaxServerConn=0\n", Switches(sql_row_locks_per_transaction=5000))
    before = copy.deepcopy(state)
    faults.active_faults(state)
    faults.beginning(state)
    for name, _condition, _event in faults.RECURRING:
        assert faults.occurrence(state, name, now=1.0) is not None
    assert faults.ecp_client_refused(state) is not None
    assert state == before


def test_an_unknown_recurring_fault_is_an_error(make_state: StateFactory) -> None:
    with pytest.raises(KeyError, match="no_such_fault"):
        faults.occurrence(make_state(), "no_such_fault", now=0.0)
