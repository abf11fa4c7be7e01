# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One emulated IRIS instance: a single-threaded asyncio process that sleeps between events.

Started by ``iris start`` (cli.py) in its own session; it reports READY or FAILED on a pipe, then
serves the superserver port (each open connection is a user session, unless it introduces itself as an
ECP client, which [config] MaxServerConn limits) and the web port (metrics.py: /api/monitor/metrics,
/api/monitor/health). Recurring faults (faults.py) are asyncio tasks. SIGTERM stops at once, SIGUSR1 stops
after the user sessions have ended (bounded by [Startup] ShutdownTimeout), SIGHUP activates what
``iris merge`` wrote to mgr/emulator-merge-request.json (activation.py).

What the instance is lives in ``Daemon.state`` (state.py); the modules that decide return events and lines,
and this one writes them (messages.log), publishes the state (mgr/emulator-state.json) and serves the ports.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import sys
import time
from typing import Any, Coroutine, Optional, Set, Tuple, cast

from ansible_collections.irisops.iris.plugins.module_utils import iris_events as events

from . import activation, faults, messages, metrics, transactions
from .config import HUGE_PAGE_MB, InstanceConfig, Switches, load_instance_config, read_nr_hugepages
from .merge import load_security
from .messages import FATAL, INFO, WARNING, MessagesLog
from .registry import EmulatorError, InstanceRecord, RuntimeState, read_json, write_json_atomic
from .state import InstanceState, masked

MAX_REQUEST_BYTES = 8192  # a request head longer than this is answered as it is
SEND_TIMEOUT_SECONDS = 5.0
# The first bytes an emulated ECP application server sends on a superserver connection (real ECP uses the
# superserver port too); anything else is a user session.
ECP_HELLO = b"ECP"
LISTEN_BACKLOG = 64
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


class Daemon(object):
    """The instance process: owns the state, writes messages.log, publishes the state, serves the ports."""

    def __init__(self, record: InstanceRecord, ready_fd: int) -> None:
        self.record = record
        self.ready_fd = ready_fd
        self.state = InstanceState(pid=os.getpid(), started=time.time())
        self.log = MessagesLog(record.messages_log, self.state.pid)
        self.loop = asyncio.get_running_loop()
        self.finished = asyncio.Event()
        self.stop_when_idle = False
        self.superserver: Optional[socket.socket] = None
        self.web: Optional[socket.socket] = None
        self.tasks: Set["asyncio.Task[None]"] = set()  # the loop keeps only weak references to tasks
        self.unclean_marker = os.path.join(record.mgr_dir, "emulator.unclean")

    async def run(self) -> int:
        # A merge (SIGHUP) is recorded from the first moment, so an ``iris merge`` racing the end of the start is
        # handled once serving begins instead of killing the process; a stop before READY kills it.
        self.loop.add_signal_handler(signal.SIGHUP, self.activate_merge)
        try:
            superserver, web = self.boot()
        except EmulatorError as exc:
            report(self.ready_fd, "FAILED %s" % exc)
            self.cleanup_runtime_files()
            return 1
        except Exception as exc:  # an emulator bug must still end the start, not hang it
            report(self.ready_fd, "FAILED internal error: %r" % (exc,))
            self.cleanup_runtime_files()
            raise
        report(self.ready_fd, "READY")
        for signum in STOP_SIGNALS:
            self.loop.add_signal_handler(signum, self.request_stop, signum == signal.SIGUSR1)
        await self.loop.create_server(lambda: SuperserverConnection(self), sock=superserver, backlog=LISTEN_BACKLOG)
        await self.loop.create_server(lambda: WebConnection(self), sock=web, backlog=LISTEN_BACKLOG)
        await self.finished.wait()
        self.cleanup_runtime_files()
        return 0

    # -- start -----------------------------------------------------------------------------------
    def boot(self) -> Tuple[socket.socket, socket.socket]:
        """Everything ``iris start`` waits for; EmulatorError aborts the start with a messages.log line.

        Returns the superserver and web sockets: listening already (a port in use fails the start), served after READY.
        """
        record, state = self.record, self.state
        with open(record.pid_file, "w") as handle:
            handle.write("%d\n" % state.pid)
        self.publish()
        state.switches = Switches.load(record.switches_file)
        if os.path.exists(self.unclean_marker):
            self.log.write_raw(messages.recovery_banner(record.mgr_dir, os.path.join(record.mgr_dir, "IRIS.WIJ")))
        try:
            config = load_instance_config(record.cpf_path)
        except EmulatorError as exc:
            self.log.write(FATAL, "Generic.Event", "Startup aborted: %s" % exc)
            raise
        state.load(config)
        wij_dir = config.wij_dir or record.mgr_dir
        if state.switches.fail_start:
            raise self.abort("Startup aborted: emulator switch fail_start is set in %s" % record.switches_file)
        self.allocate_shared_memory(config)
        messages.startup_banner(self.log, record.install_dir, record.version, wij_dir)
        self.start_write_daemon(wij_dir)
        self.start_journal(config)
        for sfn, directory in enumerate(config.databases.values()):
            self.log.write(INFO, "Database.MountedRW", events.MOUNTED_READ_WRITE.format(db_dir=directory, sfn=sfn))
        if state.switches.start_delay_seconds:
            time.sleep(state.switches.start_delay_seconds)
        self.superserver = superserver = self.listen(record.superserver_port, "superserver")
        self.web = web = self.listen(record.web_port, "web server")
        if config.web_server:
            self.log.write(INFO, "Utility.Event", events.WEBSERVER_STARTED.format(web_port=web.getsockname()[1]))
        self.log.write(INFO, "Utility.Event", events.ENABLING_LOGONS)
        open(self.unclean_marker, "w").close()
        state.phase = "running"
        self.refresh_faults()
        opened = transactions.open_at_start(state, time.time())
        self.log.write_line(opened)
        if opened is not None and state.switches.open_transaction_seconds:
            self.loop.call_later(state.switches.open_transaction_seconds, self.commit_transactions)
        if state.switches.crash_after_seconds:
            self.loop.call_later(state.switches.crash_after_seconds, self.crash)
        self.publish()
        return superserver, web

    def abort(self, text: str) -> EmulatorError:
        self.log.write(FATAL, "Generic.Event", text)
        return EmulatorError(text)

    def allocate_shared_memory(self, config: InstanceConfig) -> None:
        memory = config.memory
        if config.huge_pages_wanted:
            nr_hugepages = read_nr_hugepages(self.record.proc_root)
            self.state.huge_pages = nr_hugepages * HUGE_PAGE_MB >= memory.total_mb
            # With no huge pages configured at all IRIS allocates small pages without complaint.
            self.state.huge_pages_fell_back = nr_hugepages > 0 and not self.state.huge_pages
            if config.huge_pages_required and not self.state.huge_pages:
                raise self.abort(events.LARGE_PAGES_REQUIRED.format(shared_memory_mb=memory.total_mb,
                                                                    nr_hugepages=nr_hugepages))
        messages.shared_memory_lines(self.log, memory, self.state.huge_pages, self.state.huge_pages_fell_back)

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
        return sock

    def crash(self) -> None:
        """Test switch crash_after_seconds: die like a killed control process, no shutdown lines."""
        os._exit(70)

    # -- what the instance shows -----------------------------------------------------------------
    def publish(self) -> None:
        """mgr/emulator-state.json, read by qlist/list/stop, and by tests and cpf_info (the emulator-only part)."""
        state = self.state
        runtime = RuntimeState(
            pid=state.pid, phase=state.phase, since=state.started,
            superserver_port=self.superserver.getsockname()[1] if self.superserver else self.record.superserver_port,
            web_port=self.web.getsockname()[1] if self.web else self.record.web_port,
            alerts=self.log.alerts, shutdown_timeout=state.shutdown_timeout,
        )
        published = dict(runtime.__dict__)
        # What is active now, what waits for a restart, what merges created.
        published.update(active=masked(state.active), pending=masked(state.pending), databases=state.databases,
                         namespaces=state.namespaces, security=load_security(self.record.security_file),
                         merge_id=state.merge_id, last_merge=state.last_merge, faults=state.active_faults)
        write_json_atomic(self.record.state_file, published)

    # -- faults ----------------------------------------------------------------------------------
    def refresh_faults(self) -> None:
        """At start and after each merge: the faults in effect, and the recurring ones that begin now (the first
        occurrence at once, the next ones from a task)."""
        self.state.active_faults = faults.active_faults(self.state)
        for name in faults.beginning(self.state):
            self.state.recurring.add(name)
            self.spawn(self.recur(name, self.occur(name)))

    def occur(self, name: str) -> Optional[float]:
        """One occurrence of a recurring fault; when the next one is due, or None once the fault has ended."""
        occurrence = faults.occurrence(self.state, name, self.loop.time())
        if occurrence is None:
            self.state.recurring.discard(name)
            return None
        self.record_fault(occurrence.event)
        return occurrence.next_at

    async def recur(self, name: str, next_at: Optional[float]) -> None:
        while next_at is not None:
            await asyncio.sleep(next_at - self.loop.time())
            next_at = self.occur(name)

    def record_fault(self, event: faults.FaultEvent) -> None:
        self.state.counters[event.counter] += 1
        if event.fault not in self.state.active_faults:
            self.state.active_faults.append(event.fault)
        self.log.write_line(event.line)
        self.publish()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def commit_transactions(self) -> None:
        self.log.write_line(transactions.commit_all(self.state))

    # -- iris merge (SIGHUP) ---------------------------------------------------------------------
    def activate_merge(self) -> None:
        try:
            request = read_json(self.record.merge_request_file)
        except EmulatorError as exc:
            self.log.write(WARNING, "Generic.Event", "Configuration merge ignored: %s" % exc)
            return
        lines = activation.activate(self.state, request)
        if lines is None:
            return
        for line in lines:
            self.log.write_line(line)
        self.refresh_faults()
        self.publish()

    # -- stop (SIGTERM, SIGUSR1, SIGINT) ---------------------------------------------------------
    def request_stop(self, wait_for_users: bool) -> None:
        state = self.state
        if state.phase in ("stopping", "hung"):
            return
        try:
            state.switches = Switches.load(self.record.switches_file)
        except EmulatorError as exc:
            self.log.write(WARNING, "Generic.Event", "Ignoring emulator switches at shutdown: %s" % exc)
        state.phase = "stopping"
        self.log.write(INFO, "Generic.Event", events.SHUTDOWN_REQUESTED.format(sessions=len(state.sessions)))
        self.log.write(INFO, "Utility.Event", events.DISABLING_LOGONS)
        timeout = state.shutdown_timeout
        self.stop_when_idle = wait_for_users and bool(state.sessions)
        if self.stop_when_idle:
            self.log.write(INFO, "Generic.Event", "Waiting up to %d seconds for %d user session(s) to end" % (
                timeout, len(state.sessions)))
            self.loop.call_later(timeout, self.users_timed_out)
        else:
            self.begin_shutdown()
        self.publish()

    def users_timed_out(self) -> None:
        if self.stop_when_idle:
            self.log.write(WARNING, "Generic.Event", events.SHUTDOWN_FORCED.format(sessions=len(self.state.sessions)))
            self.stop_when_idle = False
            self.begin_shutdown()

    def begin_shutdown(self) -> None:
        for transport in list(self.state.sessions) + list(self.state.ecp_clients):
            self.close_session(transport)
        self.log.write_line(transactions.roll_back_at_shutdown(self.state))
        if self.state.switches.stop_hang_seconds:
            self.state.phase = "hung"
            self.publish()
            self.loop.call_later(self.state.switches.stop_hang_seconds, self.finish_shutdown)
        else:
            self.finish_shutdown()

    def finish_shutdown(self) -> None:
        config = self.state.config
        if config is not None:
            for directory in config.databases.values():
                self.log.write(INFO, "Database.Dismounted", events.DISMOUNTED.format(db_dir=directory))
        self.log.write(INFO, "Generic.Event", events.JOURNALING_STOPPED)
        self.log.write(INFO, "Generic.Event", events.SHUTDOWN_COMPLETE)
        try:
            os.unlink(self.unclean_marker)
        except FileNotFoundError:
            pass
        self.finished.set()

    def cleanup_runtime_files(self) -> None:
        for path in (self.record.pid_file, self.record.state_file):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- superserver: one open connection = one user session, or an ECP client that says so --------------
    def open_session(self, transport: asyncio.BaseTransport) -> None:
        if self.state.phase != "running":
            transport.close()
            return
        self.state.sessions.add(transport)

    def on_session_data(self, transport: asyncio.BaseTransport, data: bytes) -> None:
        if data.startswith(ECP_HELLO) and transport in self.state.sessions:
            self.accept_ecp_client(transport)

    def accept_ecp_client(self, transport: asyncio.BaseTransport) -> None:
        """An application server introduces itself: served while fewer than [config] MaxServerConn are, else refused."""
        self.state.sessions.discard(transport)
        refused = faults.ecp_client_refused(self.state)
        if refused is not None:
            transport.close()
            self.record_fault(refused)
        else:
            self.state.ecp_clients.add(transport)
            self.state.ecp_clients_peak = max(self.state.ecp_clients_peak, len(self.state.ecp_clients))
        self.stop_if_idle()

    def close_session(self, transport: asyncio.BaseTransport) -> None:
        """The connection ended (either side closed it); closing it again does nothing."""
        self.state.sessions.discard(transport)
        self.state.ecp_clients.discard(transport)
        transport.close()
        self.stop_if_idle()

    def stop_if_idle(self) -> None:
        """A stop that waits for the user sessions goes on once the last one has ended."""
        if self.stop_when_idle and not self.state.sessions:
            self.stop_when_idle = False
            self.begin_shutdown()

    # -- web port ----------------------------------------------------------------------------------
    def answer(self, request: bytes) -> bytes:
        self.state.counters["http_requests"] += 1
        return metrics.http_response(self.state, self.log.alerts, request, time.time())


# Connections are asyncio protocols (callbacks on the loop): per request they cost about half the CPU of streams,
# which need a task, a reader and a writer per connection.
class SuperserverConnection(asyncio.Protocol):
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.transport: Optional[asyncio.BaseTransport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.daemon.open_session(transport)

    def data_received(self, data: bytes) -> None:
        if self.transport is not None:
            self.daemon.on_session_data(self.transport, data)

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self.transport is not None:
            self.daemon.close_session(self.transport)


class WebConnection(asyncio.Protocol):
    """One HTTP request per connection: answered once its head is in (or MAX_REQUEST_BYTES are), then closed."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.transport: Optional[asyncio.WriteTransport] = None
        self.request = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():  # answered already
            return
        self.request.extend(data)
        if b"\r\n\r\n" in self.request or len(self.request) >= MAX_REQUEST_BYTES:
            transport.write(self.daemon.answer(bytes(self.request)))
            if transport.get_write_buffer_size():  # a client that does not read is cut off
                self.daemon.loop.call_later(SEND_TIMEOUT_SECONDS, transport.abort)
            transport.close()


async def _serve(record: InstanceRecord, ready_fd: int) -> int:
    return await Daemon(record, ready_fd).run()


def run_daemon(record: InstanceRecord, ready_fd: int) -> int:
    """Entry point of the daemon process (``iris _daemon NAME FD``)."""
    return asyncio.run(_serve(record, ready_fd))


def report(fd: int, message: str) -> None:
    try:
        os.write(fd, (message + "\n").encode("utf-8", "replace"))
        os.close(fd)
    except OSError as exc:
        if exc.errno != errno.EBADF:
            sys.stderr.write("cannot report to iris start: %s\n" % exc)
