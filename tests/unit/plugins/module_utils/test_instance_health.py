# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""instance_health against real sockets and HTTP servers on 127.0.0.1 and real messages.log files."""

from __future__ import annotations

import http.server
import socket
import threading
from datetime import timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import instance_health as health
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import parse_qlist_line

RUNNING = "IRIS^/usr/irissys/^2023.1.0.235.1com^running, since Tue Jun 27 01:55:25 2023^iris.cpf^1972^52773^0^%s^IRIS^^^"
DOWN = "IRIS^/usr/irissys/^2023.1.0.235.1com^down, last used Tue Jun 27 01:50:36 2023^iris.cpf^1972^52773^0^^IRIS^^^"
METRICS_BODY = (
    "# HELP iris_sessions_active Open superserver connections\n"
    "# TYPE iris_sessions_active gauge\n"
    "iris_sessions_active 3\n"
    'iris_db_free_space{id="USER",dir="/data/my dir/"} 12.5 1700000000000\n'
    "iris_license_consumed 2\n"
    "not a sample\n"
)
# Real lines in the messages.log format (from log_samples), one of them severity 3.
LOG_BEFORE = "06/27/23-01:55:25:101 (1234) 0 [Generic.Event] Allocated 306MB shared memory using Huge Pages\n"
LOG_AFTER = ("06/27/23-01:56:00:000 (1300) 0 [Utility.Event] Enabling logons\n"
             "06/27/23-01:56:01:000 (1301) 3 [Generic.Event] Process terminated abnormally\n"
             "  continuation of the fatal entry\n")

Routes = Dict[str, Tuple[int, str]]


@pytest.fixture
def http_server() -> Iterator[Callable[[Routes], str]]:
    """Serve fixed routes from a real HTTP server on 127.0.0.1; yields a function returning the base URL."""
    servers: List[http.server.ThreadingHTTPServer] = []

    def serve(routes: Routes) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
                status, body = routes.get(self.path, (404, "not found"))
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- qlist ---------------------------------------------------------------------------------------------
def test_check_qlist_requires_running_and_state_ok() -> None:
    assert health.check_qlist(parse_qlist_line(RUNNING % "ok")).ok
    warn = health.check_qlist(parse_qlist_line(RUNNING % "warn"))
    assert not warn.ok and warn.detail == "status running, state warn"
    down = health.check_qlist(parse_qlist_line(DOWN))
    assert not down.ok and down.detail == "status down, state (none)"


# -- TCP ---------------------------------------------------------------------------------------------------
def test_check_tcp_accepting_and_closed_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert health.check_tcp("127.0.0.1", port, 2.0).ok
    refused = health.check_tcp("127.0.0.1", closed_port(), 2.0)
    assert not refused.ok and "refused or unreachable" in refused.detail
    assert not health.check_tcp("127.0.0.1", None, 2.0).ok


# -- HTTP --------------------------------------------------------------------------------------------------
def test_parse_metrics_handles_labels_with_spaces_timestamps_and_junk() -> None:
    values = health.parse_metrics(METRICS_BODY)
    assert values == {"iris_sessions_active": 3.0, 'iris_db_free_space{id="USER",dir="/data/my dir/"}': 12.5,
                      "iris_license_consumed": 2.0}


def test_check_metrics_ok_error_status_no_iris_metrics_and_unreachable(http_server: Callable[[Routes], str]) -> None:
    base = http_server({"/m": (200, METRICS_BODY), "/empty": (200, "up 1\n"), "/down": (503, "starting")})
    ok = health.check_metrics(base + "/m", 2.0)
    assert ok.ok and "3 iris_* metrics" in ok.detail
    assert health.check_metrics(base + "/down", 2.0).detail.endswith("answered 503")
    assert "without any iris_* metric" in health.check_metrics(base + "/empty", 2.0).detail
    unreachable = health.check_metrics("http://127.0.0.1:%d/m" % closed_port(), 2.0)
    assert not unreachable.ok and unreachable.detail.startswith("GET http://127.0.0.1:")


def test_http_get_ignores_proxy_settings(http_server: Callable[[Routes], str], monkeypatch: pytest.MonkeyPatch) -> None:
    base = http_server({"/h": (200, '{"status":"ok"}')})
    # A proxy that does not exist: going through it would fail.
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % closed_port())
    monkeypatch.setenv("no_proxy", "")
    assert health.http_get(base + "/h", 2.0) == (200, '{"status":"ok"}')


def test_http_get_rejects_a_malformed_url() -> None:
    with pytest.raises(health.HealthError, match="GET nonsense failed"):
        health.http_get("nonsense", 1.0)


def test_check_health_endpoint(http_server: Callable[[Routes], str]) -> None:
    base = http_server({"/ok": (200, '{"status":"ok"}'), "/bad": (503, '{"status":"stopping"}')})
    assert health.check_health_endpoint(base + "/ok", 2.0).ok
    bad = health.check_health_endpoint(base + "/bad", 2.0)
    assert not bad.ok and "503" in bad.detail and "stopping" in bad.detail
    assert not health.check_health_endpoint("http://127.0.0.1:%d/" % closed_port(), 2.0).ok


# -- messages.log ------------------------------------------------------------------------------------------
def test_read_log_since_offset_reads_only_new_entries_with_real_line_numbers(tmp_path: Path) -> None:
    log = tmp_path / "messages.log"
    assert health.log_size(str(log)) == 0
    assert health.read_log_since(str(log), 0, timezone.utc) == []
    log.write_text(LOG_BEFORE)
    offset = health.log_size(str(log))
    with log.open("a") as handle:
        handle.write(LOG_AFTER)
    entries = health.read_log_since(str(log), offset, timezone.utc)
    assert [(entry.line_number, entry.severity, entry.text) for entry in entries] == [
        (2, 0, "Enabling logons"), (3, 3, "Process terminated abnormally")]
    assert entries[1].continuation == ("  continuation of the fatal entry",)
    result = health.check_messages_log(entries)
    assert not result.ok and "1 severity-3 entry since start, first at line 3" in result.detail


def test_read_log_since_rotated_file_starts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "messages.log"
    log.write_text(LOG_BEFORE)
    entries = health.read_log_since(str(log), 10 ** 6, timezone.utc)
    assert [entry.line_number for entry in entries] == [1]
    assert health.check_messages_log(entries).detail == "no severity-3 entry among 1 since start"


# -- sessions --------------------------------------------------------------------------------------------------
def test_sessions_from_psutil_counts_established_server_side_connections() -> None:
    pytest.importorskip("psutil")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        assert health.sessions_from_psutil(port) == 0
        clients = [socket.create_connection(("127.0.0.1", port)) for unused in range(2)]
        accepted = [listener.accept()[0] for unused in clients]
        try:
            # The client ends have the port as remote port and must not count twice.
            assert health.sessions_from_psutil(port) == 2
        finally:
            for sock in clients + accepted:
                sock.close()


def test_sessions_from_metrics_prefers_sessions_then_license(http_server: Callable[[Routes], str]) -> None:
    base = http_server({"/both": (200, METRICS_BODY), "/license": (200, "iris_license_consumed 4\n"),
                        "/none": (200, "iris_process_count 30\n"), "/err": (500, "boom")})
    assert health.sessions_from_metrics(base + "/both", 2.0) == (3, "iris_sessions_active")
    assert health.sessions_from_metrics(base + "/license", 2.0) == (4, "iris_license_consumed")
    with pytest.raises(health.HealthError, match="has none of iris_sessions_active, iris_license_consumed"):
        health.sessions_from_metrics(base + "/none", 2.0)
    with pytest.raises(health.HealthError, match="answered 500"):
        health.sessions_from_metrics(base + "/err", 2.0)


def test_transactions_from_metrics_reads_the_real_metric_name(http_server: Callable[[Routes], str]) -> None:
    base = http_server({"/open": (200, "# TYPE iris_trans_open_count gauge\niris_trans_open_count 2\niris_trans_open_secs 1.5\n"),
                        "/none": (200, "iris_sessions_active 1\n"), "/err": (503, "starting")})
    assert health.transactions_from_metrics(base + "/open", 2.0) == 2
    with pytest.raises(health.HealthError, match="has none of iris_trans_open_count; cannot count open transactions"):
        health.transactions_from_metrics(base + "/none", 2.0)
    with pytest.raises(health.HealthError, match="answered 503; cannot count open transactions"):
        health.transactions_from_metrics(base + "/err", 2.0)


def test_session_counter_sources(http_server: Callable[[Routes], str]) -> None:
    base = http_server({"/m": (200, METRICS_BODY)})
    by_metrics = health.SessionCounter("metrics", 1972, base + "/m", 2.0)
    assert by_metrics.count() == 3 and by_metrics.detail == "metrics: %s/m (iris_sessions_active)" % base
    auto = health.SessionCounter("auto", None, base + "/m", 2.0)
    assert auto.source == "metrics"
    with pytest.raises(health.HealthError, match="no metrics URL"):
        health.SessionCounter("metrics", 1972, None, 2.0)
    with pytest.raises(health.HealthError, match="no superserver port"):
        health.SessionCounter("psutil", None, base + "/m", 2.0)
    if health.psutil_importable():
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            counter = health.SessionCounter("auto", listener.getsockname()[1], None, 2.0)
            assert counter.source == "psutil" and counter.count() == 0


# -- waits ------------------------------------------------------------------------------------------------------
def test_wait_until_backs_off_and_stops_at_the_deadline() -> None:
    delays: List[float] = []
    now = [100.0]

    def sleep(seconds: float) -> None:
        """Time passes only through the sleeps the wait asks for."""
        delays.append(seconds)
        now[0] += seconds

    assert not health.wait_until(lambda: False, 5.0, initial_delay=0.5, factor=2.0, max_delay=1.5,
                                 sleep=sleep, clock=lambda: now[0])
    # Growing delays (with +-20 % jitter), capped at max_delay, and never past the deadline.
    assert 0.4 <= delays[0] <= 0.6 and 0.8 <= delays[1] <= 1.2
    assert all(delay <= 1.5 * 1.2 for delay in delays)
    assert 4.9 <= sum(delays) <= 5.0 + 1e-6


def test_wait_until_returns_as_soon_as_the_probe_passes() -> None:
    answers = iter([False, False, True])
    calls: List[float] = []
    assert health.wait_until(lambda: next(answers), 60.0, initial_delay=0.001, sleep=calls.append)
    assert len(calls) == 2


def test_wait_until_zero_timeout_probes_once() -> None:
    calls: List[int] = []
    assert not health.wait_until(lambda: calls.append(1) is not None, 0.0)
    assert calls == [1]
