# SPDX-License-Identifier: GPL-3.0-or-later
"""metrics.py: the Prometheus text and the health answer are functions of the state, the alert count and the time."""

from __future__ import annotations

import json
from typing import Callable, Dict, List, Tuple

from irisemu import metrics
from irisemu.config import Switches
from irisemu.state import InstanceState

StateFactory = Callable[..., InstanceState]  # the make_state fixture (conftest.py)


def parse(text: str) -> Tuple[Dict[str, str], List[Tuple[str, str, str]]]:
    """Series -> value as printed, and (name, kind, help) of every metric, in order; fails on a malformed line."""
    values: Dict[str, str] = {}
    described: List[Tuple[str, str, str]] = []
    lines = text.split("\n")
    assert lines[-1] == ""  # ends with a newline
    for line in lines[:-1]:
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            described.append((name, "", help_text))
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert described[-1][0] == name
            described[-1] = (name, kind, described[-1][2])
        else:
            series, value = line.rsplit(" ", 1)
            assert series.partition("{")[0] == described[-1][0], line
            values[series] = value
    return values, described


def test_metrics_follow_the_state_and_the_time(make_state: StateFactory) -> None:
    state = make_state("[config]\nlocksiz=1048576\ngmheap=16384\n", Switches(license_units=4, system_processes=20),
                       started=1000.0)
    for _session in range(5):
        state.sessions.add(object())  # type: ignore[arg-type]  # stands for a connection: only the count matters
    state.counters.update(lock_table_full=3, heap_errors=2)
    state.open_transactions = [1000.0, 1002.0]
    values, described = parse(metrics.metrics_text(state, alerts=5, now=1010.25))
    assert values["iris_process_count"] == "25"
    assert values["iris_sessions_active"] == "5"
    assert (values["iris_license_consumed"], values["iris_license_available"], values["iris_license_percent_used"]) == (
        "4", "0", "100")
    assert (values["iris_lock_table_size_bytes"], values["iris_lock_table_used_bytes"]) == ("1048576", "1048576")
    assert values["iris_lock_table_full_total"] == "3"
    assert (values["iris_smh_total"], values["iris_smh_used"], values["iris_smh_percent_full"]) == ("16384", "16384", "100")
    assert values["iris_smh_allocation_errors_total"] == "2"
    assert values["iris_trans_open_count"] == "2"
    assert values["iris_trans_open_secs"] == "9.25"  # (10.25 + 8.25) / 2
    assert (values["iris_system_alerts"], values["iris_system_state"]) == ("5", "2")  # more than four alerts: alert
    assert values["iris_system_uptime_seconds"] == "10.25"
    assert values['iris_cpf_active_value{section="config",parameter="locksiz"}'] == "1048576"
    assert values["iris_cpf_pending_values"] == "0"
    kinds = {name: kind for name, kind, _help in described}
    assert kinds["iris_lock_table_full_total"] == "counter" and kinds["iris_sessions_active"] == "gauge"


def test_without_fixed_sizes_the_heap_bounds_lock_table_and_heap(make_state: StateFactory) -> None:
    state = make_state()
    assert state.config is not None
    heap_mb = state.config.memory.heap_mb
    values, _described = parse(metrics.metrics_text(state, alerts=0, now=1000.0))
    assert values["iris_lock_table_size_bytes"] == str(heap_mb * 1024 * 1024)
    assert values["iris_smh_total"] == str(heap_mb * 1024)
    assert (values["iris_system_state"], values["iris_system_uptime_seconds"], values["iris_trans_open_secs"]) == (
        "0", "0", "0")


def test_active_values_are_labelled_and_pending_ones_counted(make_state: StateFactory) -> None:
    state = make_state()
    state.active = {"SQL": {"LockThreshold": "5000", "Comment": "not a number"}, 'Odd"Section': {"x\\y": "-1"}}
    state.pending = {"config": {"gmheap": "307200", "locksiz": "16777216"}}
    values, _described = parse(metrics.metrics_text(state, alerts=0, now=1000.0))
    active = {series: value for series, value in values.items() if series.startswith("iris_cpf_active_value")}
    assert active == {'iris_cpf_active_value{section="Odd\\"Section",parameter="x\\\\y"}': "-1",
                      'iris_cpf_active_value{section="SQL",parameter="LockThreshold"}': "5000"}
    assert values["iris_cpf_pending_values"] == "2"


def test_health_is_ok_only_while_running(make_state: StateFactory) -> None:
    state = make_state("[config]\ngmheap=16384\n")
    state.active_faults = ["heap_exhausted"]
    healthy, body = metrics.health(state, alerts=1)
    assert healthy
    assert json.loads(body) == {"status": "ok", "state": "warn", "sessions": 0, "open_transactions": 0,
                                "faults": ["heap_exhausted"]}
    state.phase = "hung"
    healthy, body = metrics.health(state, alerts=1)
    assert not healthy
    assert json.loads(body)["status"] == "hung" and json.loads(body)["state"] == "hung"


def test_http_answers_get_on_the_two_urls_and_refuses_the_rest(make_state: StateFactory) -> None:
    state = make_state()

    def answer(request: bytes) -> Tuple[str, Dict[str, str], bytes]:
        head, _blank, body = metrics.http_response(state, 0, request, now=1000.0).partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("ascii").split("\r\n")
        headers = dict(line.split(": ", 1) for line in header_lines)
        assert int(headers["Content-Length"]) == len(body) and headers["Connection"] == "close"
        return status_line, headers, body

    status, headers, body = answer(b"GET /api/monitor/metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, headers["Content-Type"]) == ("HTTP/1.1 200 OK", "text/plain; version=0.0.4")
    assert body.decode("utf-8") == metrics.metrics_text(state, 0, now=1000.0)
    assert answer(b"GET /api/monitor/health HTTP/1.1\r\n\r\n")[0] == "HTTP/1.1 200 OK"
    state.phase = "stopping"
    status, headers, body = answer(b"GET /api/monitor/health HTTP/1.1\r\n\r\n")
    assert (status, headers["Content-Type"]) == ("HTTP/1.1 503 Service Unavailable", "application/json")
    assert json.loads(body)["status"] == "stopping"
    assert answer(b"GET /nowhere HTTP/1.1\r\n\r\n")[::2] == ("HTTP/1.1 404 Not Found", b"not found\n")
    assert answer(b"POST /api/monitor/metrics HTTP/1.1\r\n\r\n")[::2] == (
        "HTTP/1.1 405 Method Not Allowed", b"only GET is supported\n")
    assert answer(b"garbage\r\n\r\n")[0] == "HTTP/1.1 405 Method Not Allowed"
