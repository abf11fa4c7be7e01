# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Health and activity of a running IRIS instance, judged from outside (stdlib only; psutil optional).

Checks: the ``iris qlist`` state, a TCP connect to the superserver port, an HTTP GET of the metrics
(or health) endpoint, and messages.log entries written since a byte offset (parsed by iris_log).
Active user sessions are counted with psutil (ESTABLISHED connections to the superserver port) when
it is importable, else from the instance's metrics. ``wait_until`` bounds every wait, with backoff.
"""

from __future__ import annotations

import random
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance

QLIST = "qlist"
SUPERSERVER = "superserver"
METRICS = "metrics"
MESSAGES_LOG = "messages_log"
HEALTH_ENDPOINT = "health_endpoint"
CHECK_NAMES = (QLIST, SUPERSERVER, METRICS, MESSAGES_LOG, HEALTH_ENDPOINT)
METRICS_PATH = "/api/monitor/metrics"
HEALTH_PATH = "/api/monitor/health"
# The first metric present wins: the emulator's session gauge, then the license units real IRIS publishes.
SESSION_METRICS = ("iris_sessions_active", "iris_license_consumed")
# Open transactions, as real IRIS (and the emulator) publish them on /api/monitor/metrics.
TRANSACTION_METRIC = "iris_trans_open_count"
FATAL = iris_log.SEVERITY_BY_NAME["fatal"]
# HTTP bodies we read are small Prometheus/JSON documents; cap what a broken endpoint can make us hold.
MAX_BODY_BYTES = 4 * 1024 * 1024


class HealthError(Exception):
    """A probe could not be made at all (as opposed to a probe that answered 'unhealthy')."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


# -- bounded waits -----------------------------------------------------------------------------------
def wait_until(probe: Callable[[], bool], timeout: float, initial_delay: float = 0.1, factor: float = 1.6,
               max_delay: float = 2.0, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> bool:
    """Call ``probe`` until it returns True or ``timeout`` seconds pass; True when it did.

    Delays grow by ``factor`` up to ``max_delay`` with +-20 % jitter (many hosts polling in step
    would otherwise hit shared services together); the last attempt is made at the deadline.
    """
    deadline = clock() + max(0.0, timeout)
    delay = initial_delay
    while True:
        if probe():
            return True
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        sleep(min(remaining, delay * random.uniform(0.8, 1.2)))
        delay = min(max_delay, delay * factor)


# -- individual checks ---------------------------------------------------------------------------------
def check_qlist(instance: Instance) -> CheckResult:
    """Running and System Monitor state ``ok`` (qlist fields 4 and 9)."""
    ok = instance.running and instance.state == "ok"
    return CheckResult(QLIST, ok, "status %s, state %s" % (instance.status or "?", instance.state or "(none)"))


def check_tcp(address: str, port: Optional[int], timeout: float) -> CheckResult:
    """The superserver port accepts a TCP connection (closed at once)."""
    if not port:
        return CheckResult(SUPERSERVER, False, "the instance reports no superserver port")
    try:
        with socket.create_connection((address, port), timeout=timeout):
            pass
    except OSError as exc:
        return CheckResult(SUPERSERVER, False, "%s:%d refused or unreachable: %s" % (address, port, exc))
    return CheckResult(SUPERSERVER, True, "%s:%d accepts connections" % (address, port))


def http_get(url: str, timeout: float) -> Tuple[int, str]:
    """GET ``url`` without any proxy (the endpoint is on this host); (status, body) also for 4xx/5xx."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status), response.read(MAX_BODY_BYTES).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), error.read(MAX_BODY_BYTES).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HealthError("GET %s failed: %s" % (url, reason)) from None


def parse_metrics(text: str) -> Dict[str, float]:
    """Prometheus text exposition -> {series: value}; comments and unreadable samples are skipped.

    A sample is ``name{labels} value [timestamp]``; label values may hold spaces, so the series ends
    at the last ``}`` when there is one.
    """
    values: Dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "}" in line:
            head, _sep, tail = line.rpartition("}")
            series, fields = head + "}", tail.split()
        else:
            parts = line.split()
            series, fields = parts[0], parts[1:]
        try:
            values[series] = float(fields[0])
        except (IndexError, ValueError):
            continue
    return values


def check_metrics(url: str, timeout: float) -> CheckResult:
    """The metrics endpoint answers 200 with at least one ``iris_*`` sample."""
    try:
        status, body = http_get(url, timeout)
    except HealthError as exc:
        return CheckResult(METRICS, False, str(exc))
    if status != 200:
        return CheckResult(METRICS, False, "GET %s answered %d" % (url, status))
    count = sum(1 for name in parse_metrics(body) if name.startswith("iris_"))
    if not count:
        return CheckResult(METRICS, False, "GET %s answered 200 without any iris_* metric" % url)
    return CheckResult(METRICS, True, "GET %s answered 200 with %d iris_* metrics" % (url, count))


def check_health_endpoint(url: str, timeout: float) -> CheckResult:
    """The health endpoint answers 200."""
    try:
        status, body = http_get(url, timeout)
    except HealthError as exc:
        return CheckResult(HEALTH_ENDPOINT, False, str(exc))
    return CheckResult(HEALTH_ENDPOINT, status == 200, "GET %s answered %d %s" % (url, status, body.strip()[:200]))


# -- messages.log -----------------------------------------------------------------------------------------
def log_size(path: str) -> int:
    """Current size of messages.log (0 when it does not exist yet): the offset later reads start from."""
    try:
        with open(path, "rb") as handle:
            return handle.seek(0, 2)
    except FileNotFoundError:
        return 0


def read_log_since(path: str, offset: int, tz: tzinfo) -> List[iris_log.LogEntry]:
    """Entries written at or after byte ``offset``; from the start when the file shrank (rotated)."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            start = offset if 0 <= offset <= size else 0
            first_line = iris_log.count_lines_before(handle, start) + 1
            handle.seek(start)
            text = iris_log.decode_line(handle.read())
    except FileNotFoundError:
        return []
    lines = iris_log.split_lines(text)
    return [item for item in iris_log.iter_parse(lines, tz, first_line) if isinstance(item, iris_log.LogEntry)]


def check_messages_log(entries: List[iris_log.LogEntry]) -> CheckResult:
    """No severity-3 (fatal) entry among ``entries``."""
    fatal = [entry for entry in entries if entry.severity >= FATAL]
    if fatal:
        first = fatal[0]
        return CheckResult(MESSAGES_LOG, False, "%d severity-3 entr%s since start, first at line %d: %s" % (
            len(fatal), "y" if len(fatal) == 1 else "ies", first.line_number, first.full_text[:300]))
    return CheckResult(MESSAGES_LOG, True, "no severity-3 entry among %d since start" % len(entries))


# -- active sessions --------------------------------------------------------------------------------------
def psutil_importable() -> bool:
    try:
        import psutil  # noqa: F401  # pylint: disable=unused-import
    except ImportError:
        return False
    return True


def sessions_from_psutil(port: int) -> int:
    """ESTABLISHED TCP connections whose local port is the superserver port (the server side of each session)."""
    import psutil

    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        raise HealthError("psutil may not list this host's TCP connections (access denied)") from None
    return sum(1 for conn in connections
               if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == port)


def count_from_metrics(url: str, timeout: float, names: Tuple[str, ...], what: str) -> Tuple[int, str]:
    """(value of the first of ``names`` present, its name) from the metrics endpoint; ``what`` names the count in errors."""
    status, body = http_get(url, timeout)
    if status != 200:
        raise HealthError("GET %s answered %d; cannot count %s" % (url, status, what))
    values = parse_metrics(body)
    for name in names:
        if name in values:
            return int(values[name]), name
    raise HealthError("GET %s has none of %s; cannot count %s" % (url, ", ".join(names), what))


def sessions_from_metrics(url: str, timeout: float) -> Tuple[int, str]:
    """(session count, metric used) from the metrics endpoint."""
    return count_from_metrics(url, timeout, SESSION_METRICS, "sessions")


def transactions_from_metrics(url: str, timeout: float) -> int:
    """Open transactions of the instance (``iris_trans_open_count``)."""
    return count_from_metrics(url, timeout, (TRANSACTION_METRIC,), "open transactions")[0]


class SessionCounter(object):
    """Counts user sessions of one instance by the chosen source (``auto``, ``psutil`` or ``metrics``)."""

    def __init__(self, source: str, port: Optional[int], metrics_url: Optional[str], timeout: float) -> None:
        self.port = port
        self.metrics_url = metrics_url
        self.timeout = timeout
        if source == "auto":
            source = "psutil" if psutil_importable() and port else "metrics"
        if source == "metrics" and not metrics_url:
            raise HealthError("cannot count sessions: psutil is not usable and the instance has no metrics URL (set metrics_url)")
        if source == "psutil" and not port:
            raise HealthError("cannot count sessions with psutil: the instance reports no superserver port")
        self.source = source
        self.detail = "psutil: ESTABLISHED connections to port %s" % port if source == "psutil" else "metrics: %s" % metrics_url

    def count(self) -> int:
        if self.source == "psutil" and self.port:
            return sessions_from_psutil(self.port)
        count, metric = sessions_from_metrics(self.metrics_url or "", self.timeout)
        self.detail = "metrics: %s (%s)" % (self.metrics_url, metric)
        return count
