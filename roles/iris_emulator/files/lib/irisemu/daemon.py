# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One emulated IRIS instance: a single-threaded process that blocks in select() between events.

Started by ``iris start`` (cli.py) in its own session; it reports READY or FAILED on a pipe, then
serves the superserver port (each open connection is a user session, unless it introduces itself as an
ECP client, which [config] MaxServerConn limits) and the web port
(/api/monitor/metrics, /api/monitor/health). Faults are periodic timers. SIGTERM stops at once,
SIGUSR1 stops after the user sessions have ended (bounded by [Startup] ShutdownTimeout), SIGHUP
activates what ``iris merge`` wrote to mgr/emulator-merge-request.json (see merge.py).
"""

from __future__ import annotations

import errno
import heapq
import json
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import masked as masked_value
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import lookup
from ansible_collections.irisops.iris.plugins.module_utils import iris_events as events

from . import faults, messages, transactions
from .config import HUGE_PAGE_MB, InstanceConfig, Parameters, Switches, load_instance_config, read_nr_hugepages
from .merge import load_security
from .messages import FATAL, INFO, WARNING, MessagesLog
from .registry import EmulatorError, InstanceRecord, RuntimeState, read_json, write_json_atomic

MAX_REQUEST_BYTES = 8192
# The first bytes an emulated ECP application server sends on a superserver connection (real ECP uses the
# superserver port too); anything else is a user session.
ECP_HELLO = b"ECP"
LISTEN_BACKLOG = 64
Timer = Tuple[float, int, Callable[[], None]]


class Instance(object):
    def __init__(self, record: InstanceRecord, ready_fd: int) -> None:
        self.record = record
        self.ready_fd = ready_fd
        self.pid = os.getpid()
        self.log = MessagesLog(record.messages_log, self.pid)
        self.selector = selectors.DefaultSelector()
        self.timers: List[Timer] = []
        self._timer_seq = 0
        self.sessions: Dict[socket.socket, float] = {}
        self.ecp_clients: Dict[socket.socket, float] = {}  # application servers served as ECP data server
        self.ecp_clients_peak = 0
        self.http_clients: Dict[socket.socket, bytearray] = {}
        self.counters = {"ecp_clients_refused": 0, "lock_table_full": 0, "heap_errors": 0, "lock_escalations": 0,
                         "http_requests": 0}
        self.started = time.time()
        self.phase = "starting"
        self.stop_when_idle = False
        self.stop_deadline = 0.0
        self.running = True
        self.config: Optional[InstanceConfig] = None
        self.switches = Switches()
        self.huge_pages = False
        self.huge_pages_fell_back = False
        self.superserver: Optional[socket.socket] = None
        self.web: Optional[socket.socket] = None
        self.active_faults: List[str] = []
        self.recurring: Set[str] = set()
        # Signals not yet handled; SIGHUP (a merge) is recorded from the daemon's first moment, so an
        # ``iris merge`` racing the end of the start is handled once serving begins instead of killing the process.
        self.pending_signals: List[int] = []
        # The active configuration (what the instance uses now) and merged values that wait for a restart.
        self.active: Parameters = {}
        self.pending: Parameters = {}
        self.databases: Dict[str, str] = {}
        self.namespaces: Dict[str, str] = {}
        self.merge_id = ""
        self.last_merge: Dict[str, Any] = {}
        self.open_transactions: List[float] = []  # start times (transactions.py)

    # -- lifecycle -------------------------------------------------------------------------------
    def boot(self) -> None:
        """Everything ``iris start`` waits for; EmulatorError aborts the start with a messages.log line."""
        record = self.record
        with open(record.pid_file, "w") as handle:
            handle.write("%d\n" % self.pid)
        self.publish()
        self.switches = Switches.load(record.switches_file)
        unclean = os.path.exists(os.path.join(record.mgr_dir, "emulator.unclean"))
        wij_dir = record.mgr_dir
        if unclean:
            self.log.write_raw(messages.recovery_banner(record.mgr_dir, os.path.join(wij_dir, "IRIS.WIJ")))
        try:
            config = load_instance_config(record.cpf_path)
        except EmulatorError as exc:
            self.log.write(FATAL, "Generic.Event", "Startup aborted: %s" % exc)
            raise
        self.config = config
        self.active = {section: dict(values) for section, values in config.parameters.items()}
        self.databases = dict(config.databases)
        self.namespaces = dict(config.namespaces)
        wij_dir = config.wij_dir or record.mgr_dir
        if self.switches.fail_start:
            raise self.abort("Startup aborted: emulator switch fail_start is set in %s" % record.switches_file)
        self.allocate_shared_memory(config)
        messages.startup_banner(self.log, record.install_dir, record.version, wij_dir)
        self.start_write_daemon(wij_dir)
        self.start_journal(config)
        for sfn, directory in enumerate(config.databases.values()):
            self.log.write(INFO, "Database.MountedRW", events.MOUNTED_READ_WRITE.format(db_dir=directory, sfn=sfn))
        if self.switches.start_delay_seconds:
            time.sleep(self.switches.start_delay_seconds)
        self.superserver = self.listen(record.superserver_port, "superserver")
        self.web = self.listen(record.web_port, "web server")
        if config.web_server:
            self.log.write(INFO, "Utility.Event", events.WEBSERVER_STARTED.format(web_port=self.web.getsockname()[1]))
        self.log.write(INFO, "Utility.Event", events.ENABLING_LOGONS)
        open(os.path.join(record.mgr_dir, "emulator.unclean"), "w").close()
        self.phase = "running"
        self.active_faults = faults.refresh_faults(self)
        transactions.open_at_start(self)
        if self.switches.crash_after_seconds:
            self.add_timer(self.switches.crash_after_seconds, self.crash)
        self.publish()

    def abort(self, text: str) -> EmulatorError:
        self.log.write(FATAL, "Generic.Event", text)
        return EmulatorError(text)

    def allocate_shared_memory(self, config: InstanceConfig) -> None:
        memory = config.memory
        fell_back = False
        if config.huge_pages_wanted:
            nr_hugepages = read_nr_hugepages(self.record.proc_root)
            self.huge_pages = nr_hugepages * HUGE_PAGE_MB >= memory.total_mb
            # With no huge pages configured at all IRIS allocates small pages without complaint.
            fell_back = nr_hugepages > 0 and not self.huge_pages
            self.huge_pages_fell_back = fell_back
            if config.huge_pages_required and not self.huge_pages:
                raise self.abort(events.LARGE_PAGES_REQUIRED.format(shared_memory_mb=memory.total_mb,
                                                                    nr_hugepages=nr_hugepages))
        messages.shared_memory_lines(self.log, memory, self.huge_pages, fell_back)

    def start_write_daemon(self, wij_dir: str) -> None:
        wij_file = os.path.join(wij_dir, "IRIS.WIJ")
        if not os.path.exists(wij_file):
            self.log.write(INFO, "WriteDaemon.CreatingNewWIJ", "Creating a new WIJ file")
            os.makedirs(wij_dir, exist_ok=True)
            open(wij_file, "w").close()
            self.log.write(INFO, "WriteDaemon.CreatedNewWIJ", "New WIJ file created: %s" % wij_file)
        self.log.write(INFO, "WriteDaemon.UsingWIJFile", "Using WIJ file: %s" % wij_file)
        self.log.write(INFO, "WriteDaemon.Started", "Write daemon started.")

    def start_journal(self, config: InstanceConfig) -> None:
        journal_dir = config.journal_dir or os.path.join(self.record.mgr_dir, "journal")
        journal_file = os.path.join(journal_dir, "%s.%03d" % (time.strftime("%Y%m%d"), 1))
        messages.journal_switch(self.log, journal_file)

    def listen(self, port: int, what: str) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1" if os.environ.get("IRISEMU_LOOPBACK_ONLY") else "", port))
        except OSError as exc:
            sock.close()
            raise self.abort("Cannot open the %s port %d: %s" % (what, port, exc.strerror)) from None
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, self.on_superserver if what == "superserver" else self.on_web)
        return sock

    def publish(self) -> None:
        """mgr/emulator-state.json, read by qlist/list/stop."""
        state = RuntimeState(
            pid=self.pid, phase=self.phase, since=self.started,
            superserver_port=self.superserver.getsockname()[1] if self.superserver else self.record.superserver_port,
            web_port=self.web.getsockname()[1] if self.web else self.record.web_port,
            alerts=self.log.alerts,
            shutdown_timeout=self.config.shutdown_timeout if self.config else 300,
        )
        published = dict(state.__dict__)
        # Emulator-only view for tests and cpf_info: what is active now, what waits for a restart, what merges created.
        published.update(active=masked(self.active), pending=masked(self.pending), databases=self.databases,
                         namespaces=self.namespaces,
                         security=load_security(self.record.security_file), merge_id=self.merge_id,
                         last_merge=self.last_merge, faults=self.active_faults)
        write_json_atomic(self.record.state_file, published)

    def request_stop(self, wait_for_users: bool) -> None:
        if self.phase in ("stopping", "hung"):
            return
        try:
            self.switches = Switches.load(self.record.switches_file)
        except EmulatorError as exc:
            self.log.write(WARNING, "Generic.Event", "Ignoring emulator switches at shutdown: %s" % exc)
        self.phase = "stopping"
        self.log.write(INFO, "Generic.Event", events.SHUTDOWN_REQUESTED.format(sessions=len(self.sessions)))
        self.log.write(INFO, "Utility.Event", events.DISABLING_LOGONS)
        timeout = self.config.shutdown_timeout if self.config else 300
        self.stop_deadline = time.monotonic() + timeout
        self.stop_when_idle = wait_for_users and bool(self.sessions)
        if self.stop_when_idle:
            self.log.write(INFO, "Generic.Event", "Waiting up to %d seconds for %d user session(s) to end" % (timeout, len(self.sessions)))
            self.add_timer(timeout, self.users_timed_out)
        else:
            self.begin_shutdown()
        self.publish()

    def users_timed_out(self) -> None:
        if self.stop_when_idle:
            self.log.write(WARNING, "Generic.Event", events.SHUTDOWN_FORCED.format(sessions=len(self.sessions)))
            self.stop_when_idle = False
            self.begin_shutdown()

    def begin_shutdown(self) -> None:
        for sock in list(self.sessions) + list(self.ecp_clients):
            self.close_session(sock)
        transactions.roll_back_at_shutdown(self)
        if self.switches.stop_hang_seconds:
            self.phase = "hung"
            self.publish()
            self.add_timer(self.switches.stop_hang_seconds, self.finish_shutdown)
        else:
            self.finish_shutdown()

    def finish_shutdown(self) -> None:
        config = self.config
        if config is not None:
            for directory in config.databases.values():
                self.log.write(INFO, "Database.Dismounted", events.DISMOUNTED.format(db_dir=directory))
        self.log.write(INFO, "Generic.Event", events.JOURNALING_STOPPED)
        self.log.write(INFO, "Generic.Event", events.SHUTDOWN_COMPLETE)
        try:
            os.unlink(os.path.join(self.record.mgr_dir, "emulator.unclean"))
        except FileNotFoundError:
            pass
        self.running = False

    def crash(self) -> None:
        """Test switch crash_after_seconds: die like a killed control process, no shutdown lines."""
        os._exit(70)

    # -- event loop ------------------------------------------------------------------------------
    def add_timer(self, delay: float, callback: Callable[[], None]) -> None:
        self._timer_seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self._timer_seq, callback))

    def serve(self) -> None:
        wakeup_r, wakeup_w = socket.socketpair()
        wakeup_r.setblocking(False)
        wakeup_w.setblocking(False)
        signal.set_wakeup_fd(wakeup_w.fileno())
        pending_signals = self.pending_signals
        for signum in (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda number, _frame: pending_signals.append(number))
        self.selector.register(wakeup_r, selectors.EVENT_READ, lambda _sock: wakeup_r.recv(64))
        while self.running:
            timeout: Optional[float] = 0.0 if pending_signals else None  # a merge that came in during boot
            if self.timers and timeout is None:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            for key, _mask in self.selector.select(timeout):
                key.data(key.fileobj)
            while pending_signals:
                received = pending_signals.pop(0)
                if received == signal.SIGHUP:
                    self.activate_merge()
                else:
                    self.request_stop(wait_for_users=received == signal.SIGUSR1)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            if self.stop_when_idle and not self.sessions:
                self.stop_when_idle = False
                self.begin_shutdown()
        self.cleanup_runtime_files()

    def cleanup_runtime_files(self) -> None:
        for path in (self.record.pid_file, self.record.state_file):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- iris merge: activate what IRIS changes live, keep the rest pending ------------------------
    def activate_merge(self) -> None:
        """Apply mgr/emulator-merge-request.json: live parameters become active, the others wait for a restart.

        Whether IRIS activates a parameter live is the catalog's ``requires_restart`` (unknown parameters wait).
        """
        try:
            request = read_json(self.record.merge_request_file)
        except EmulatorError as exc:
            self.log.write(WARNING, "Generic.Event", "Configuration merge ignored: %s" % exc)
            return
        if not request or request.get("id") == self.merge_id or self.config is None or self.phase != "running":
            return
        outcome: Dict[str, List[str]] = {"activated": [], "pending": [], "unchanged": []}
        for section, parameter, value in request.get("parameters", []) if request.get("activate") else []:
            outcome[self.activate_parameter(section, parameter, value)].append("[%s] %s" % (section, parameter))
        for action in request.get("actions", []):
            self.apply_action(action)
        self.pending = {section: values for section, values in self.pending.items() if values}
        self.merge_id = str(request["id"])
        self.last_merge = dict(outcome, id=self.merge_id, actions=[action["line"] for action in request.get("actions", [])])
        self.active_faults = faults.refresh_faults(self)
        self.publish()

    def activate_parameter(self, section: str, parameter: str, value: str) -> str:
        spec = lookup(section, parameter)
        current = self.active.get(section, {}).get(parameter)
        waiting = self.pending.setdefault(section, {})
        if spec is not None and not spec.requires_restart:
            waiting.pop(parameter, None)
            if current == value:
                return "unchanged"
            self.active.setdefault(section, {})[parameter] = value
            if self.config is not None:
                self.config = self.config.activated(section, parameter, value)
            self.log.write(INFO, "Utility.Event", "Configuration merge: [%s] %s=%s activated (was %s)" % (
                section, parameter, masked_value(parameter, value), masked_value(parameter, current)))
            return "activated"
        if current == value:
            waiting.pop(parameter, None)
            return "unchanged"
        waiting[parameter] = value
        self.log.write(INFO, "Utility.Event", "Configuration merge: [%s] %s=%s takes effect at the next restart" % (
            section, parameter, masked_value(parameter, value)))
        return "pending"

    def apply_action(self, action: Dict[str, Any]) -> None:
        """The running instance's side of a merge action (the CPF and the security store are already written)."""
        if not action.get("changed"):
            return
        verb, name = action["verb"], action["name"]
        if verb == "CreateDatabase":
            self.databases[name] = action["directory"]
            self.log.write(INFO, "Database.MountedRW", events.MOUNTED_READ_WRITE.format(
                db_dir=action["directory"], sfn=len(self.databases) - 1))
        elif verb == "DeleteDatabase" and name in self.databases:
            self.log.write(INFO, "Database.Dismounted", events.DISMOUNTED.format(db_dir=self.databases.pop(name)))
        elif verb == "CreateNamespace":
            self.namespaces[name] = action["value"]
        elif verb == "DeleteNamespace":
            self.namespaces.pop(name, None)
        self.log.write(INFO, "Utility.Event", "Configuration merge action %s" % action["line"])

    # -- superserver: one open connection = one user session, or an ECP client that says so --------------
    def on_superserver(self, listener: socket.socket) -> None:
        try:
            conn, _addr = listener.accept()
        except OSError:
            return
        if self.phase != "running":
            conn.close()
            return
        conn.setblocking(False)
        self.sessions[conn] = time.time()
        self.selector.register(conn, selectors.EVENT_READ, self.on_session_data)

    def on_session_data(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close_session(conn)
        elif data.startswith(ECP_HELLO) and conn in self.sessions:
            self.accept_ecp_client(conn)

    def accept_ecp_client(self, conn: socket.socket) -> None:
        """An application server connects: served while fewer than [config] MaxServerConn are, else refused."""
        del self.sessions[conn]
        limit = self.config.max_server_conn if self.config else 0
        if len(self.ecp_clients) >= limit:
            self.selector.unregister(conn)
            conn.close()
            faults.refuse_ecp_client(self, limit)
            return
        self.ecp_clients[conn] = time.time()
        self.ecp_clients_peak = max(self.ecp_clients_peak, len(self.ecp_clients))

    def close_session(self, conn: socket.socket) -> None:
        self.selector.unregister(conn)
        self.sessions.pop(conn, None)
        self.ecp_clients.pop(conn, None)
        conn.close()

    # -- web port: /api/monitor/metrics and /api/monitor/health -----------------------------------
    def on_web(self, listener: socket.socket) -> None:
        try:
            conn, _addr = listener.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.http_clients[conn] = bytearray()
        self.selector.register(conn, selectors.EVENT_READ, self.on_http_data)

    def on_http_data(self, conn: socket.socket) -> None:
        buffer = self.http_clients[conn]
        try:
            chunk = conn.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        buffer.extend(chunk)
        if chunk and b"\r\n\r\n" not in buffer and len(buffer) < MAX_REQUEST_BYTES:
            return
        self.selector.unregister(conn)
        del self.http_clients[conn]
        if chunk:
            status, content_type, body = self.http_response(bytes(buffer))
            head = "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
                status, content_type, len(body))
            try:
                conn.setblocking(True)
                conn.settimeout(5)
                conn.sendall(head.encode("ascii") + body)
            except OSError:
                pass
        conn.close()

    def http_response(self, request: bytes) -> Tuple[str, str, bytes]:
        self.counters["http_requests"] += 1
        request_line = request.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(request_line) != 3 or request_line[0] not in ("GET", "HEAD"):
            return "405 Method Not Allowed", "text/plain", b"only GET is supported\n"
        path = request_line[1].split("?", 1)[0]
        if path == "/api/monitor/metrics":
            return "200 OK", "text/plain; version=0.0.4", faults.metrics_text(self).encode("utf-8")
        if path == "/api/monitor/health":
            healthy = self.phase == "running"
            body = json.dumps({"status": "ok" if healthy else self.phase, "state": self.system_state(),
                               "sessions": len(self.sessions), "open_transactions": len(self.open_transactions),
                               "faults": self.active_faults})
            return ("200 OK" if healthy else "503 Service Unavailable"), "application/json", body.encode("utf-8")
        return "404 Not Found", "text/plain", b"not found\n"

    def system_state(self) -> str:
        return RuntimeState(self.pid, self.phase, self.started, 0, 0, self.log.alerts).system_state


def masked(parameters: Parameters) -> Parameters:
    """Parameters as published: secret values ([Startup] PasswordHash) never leave the CPF."""
    return {section: {name: masked_value(name, value) or "" for name, value in values.items()}
            for section, values in parameters.items()}


def run_daemon(record: InstanceRecord, ready_fd: int) -> int:
    """Entry point of the daemon process (``iris _daemon NAME FD``)."""
    instance = Instance(record, ready_fd)
    signal.signal(signal.SIGHUP, lambda number, _frame: instance.pending_signals.append(number))
    try:
        instance.boot()
    except EmulatorError as exc:
        report(ready_fd, "FAILED %s" % exc)
        instance.cleanup_runtime_files()
        return 1
    except Exception as exc:  # an emulator bug must still end the start, not hang it
        report(ready_fd, "FAILED internal error: %r" % (exc,))
        instance.cleanup_runtime_files()
        raise
    report(ready_fd, "READY")
    instance.serve()
    return 0


def report(fd: int, message: str) -> None:
    try:
        os.write(fd, (message + "\n").encode("utf-8", "replace"))
        os.close(fd)
    except OSError as exc:
        if exc.errno != errno.EBADF:
            sys.stderr.write("cannot report to iris start: %s\n" % exc)
