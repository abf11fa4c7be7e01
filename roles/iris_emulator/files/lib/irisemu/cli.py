# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's ``iris`` control command: qlist, list, start, stop, force, merge (+ create, delete).

Messages and exit codes follow the real command where they are known (see
shared/reference/iris-control-command.md): a failed start exits 1 (iris-main reports "status 256"),
starting a running instance prints "... is already up!".
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from typing import TYPE_CHECKING, List, Optional, Sequence

from .registry import (
    DEFAULT_VERSION, EmulatorError, InstanceRecord, Registry, RuntimeState, ctime, normalise_name, pid_alive,
    running_state, write_file)

# A restart runs `iris qlist` several times per instance: each command imports only what it uses
# (argparse, subprocess, the CPF and messages.log parsers are imported by the commands that need them).
if TYPE_CHECKING:
    import argparse

START_GRACE_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.05
DEFAULT_CPF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "default.cpf")
USAGE = """usage: iris <command> [arguments]
  qlist [instance]                     one caret-separated line per instance
  list [instance]                      configuration blocks
  start <instance> [cpf] [quietly]     start an instance and wait until it is up
  stop <instance> [quietly] [restart] [nouser] [bypass]
                                       shut an instance down (without quietly/nouser: wait for user sessions)
  force <instance>                     kill an instance at once (next start runs WIJ recovery)
  merge <instance> [merge-file] [target-cpf]
                                       apply a merge file (absolute paths) to a running instance
  create <instance> <install_dir> [--superserver-port N] [--web-port N] [--cpf FILE] [--version V] [--proc-root DIR]
  delete <instance>                    unregister a stopped instance (files stay)
"""


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- qlist / list ----------------------------------------------------------------------------------
def status_field(record: InstanceRecord, state: Optional[RuntimeState]) -> str:
    if state is not None:
        return "running, since %s" % ctime(state.since)
    last_used = record.last_used
    if os.path.exists(record.messages_log):
        last_used = max(last_used, os.path.getmtime(record.messages_log))
    return "down, last used %s" % ctime(last_used or time.time())


def qlist_line(record: InstanceRecord) -> str:
    state = running_state(record)
    fields = [
        record.name,
        record.install_dir.rstrip("/") + "/",
        record.version,
        status_field(record, state),
        record.cpf_name,
        str(state.superserver_port if state else record.superserver_port),
        str(state.web_port if state else record.web_port),
        str(record.jdbc_port) if record.jdbc_port else "",
        state.system_state if state else "",
        record.product,
        "",  # mirror member type: the emulator has no mirroring
        "",  # mirror status
        "",  # data dir: same as the install dir
    ]
    return "^".join(fields)


def list_block(record: InstanceRecord) -> List[str]:
    state = running_state(record)
    lines = [
        "Configuration '%s'" % record.name,
        "\tdirectory:    %s" % record.install_dir.rstrip("/"),
        "\tversionid:    %s" % record.version,
        "\tdatadir:      %s" % record.install_dir.rstrip("/"),
        "\tconf file:    %s  (SuperServer port = %d, WebServer = %d)" % (
            record.cpf_name, state.superserver_port if state else record.superserver_port,
            state.web_port if state else record.web_port),
        "\tstatus:       %s" % status_field(record, state),
    ]
    if state is not None:
        lines.append("\tstate:        %s" % state.system_state)
    lines.append("\tproduct:      InterSystems %s" % record.product)
    return lines


def selected(registry: Registry, name: Optional[str]) -> List[InstanceRecord]:
    return [registry.get(name)] if name else registry.all()


# -- start -----------------------------------------------------------------------------------------
def start(registry: Registry, name: str, cpf: Optional[str]) -> int:
    import subprocess

    record = registry.get(name)
    if running_state(record) is not None:
        out("%s is already up!" % record.name)
        return 1
    if cpf:
        record.cpf_name = cpf
    if not os.path.isfile(record.cpf_path):
        raise EmulatorError("Configuration file %s not found" % record.cpf_path)
    os.makedirs(record.mgr_dir, exist_ok=True)
    log_offset = os.path.getsize(record.messages_log) if os.path.exists(record.messages_log) else 0
    record.last_used = time.time()
    registry.save(record)
    out("Starting %s" % record.name)
    out("Using '%s' configuration file" % record.cpf_name)
    out("Starting Control Process")
    ready_r, ready_w = os.pipe()
    launcher = os.path.realpath(sys.argv[0])
    with open(os.path.join(record.mgr_dir, "emulator-daemon.err"), "ab") as errors:
        daemon = subprocess.Popen(
            [sys.executable, launcher, "_daemon", record.name, str(ready_w), registry.directory],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, cwd=record.mgr_dir,
            pass_fds=(ready_w,), start_new_session=True)
    os.close(ready_w)
    report = wait_for_report(ready_r, START_GRACE_SECONDS + switch_seconds(record, "start_delay_seconds"))
    os.close(ready_r)
    print_startup_summary(record, log_offset)
    if report == "READY":
        return 0
    if not report:
        daemon.kill()
        report = "FAILED no answer from the instance within the start timeout"
    daemon.wait()
    out("An error was encountered while initializing the system.")
    out("Please see the messages.log file in %s/ (%s)" % (record.mgr_dir, report.partition(" ")[2]))
    return 1


def switch_seconds(record: InstanceRecord, name: str) -> float:
    """A delay switch for the command's own timeout; the daemon reports a malformed switches file."""
    from .config import Switches

    try:
        return float(getattr(Switches.load(record.switches_file), name))
    except EmulatorError:
        return 0.0


def wait_for_report(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()


def print_startup_summary(record: InstanceRecord, log_offset: int) -> None:
    """Console lines of a real start: the allocation lines and the alert count."""
    from ansible_collections.irisops.iris.plugins.module_utils.iris_log import parse_text

    try:
        with open(record.messages_log) as handle:
            handle.seek(log_offset)
            entries, _malformed = parse_text(handle.read())
    except OSError:
        return
    for entry in entries:
        if entry.category == "Generic.Event" and ("shared memory" in entry.text or "global buffers" in entry.text):
            out(entry.text)
    alerts = sum(1 for entry in entries if entry.severity >= 2)
    if alerts:
        out("%d alert(s) during startup. See messages.log for details." % alerts)


# -- stop / force ----------------------------------------------------------------------------------
def stop(registry: Registry, name: str, flags: Sequence[str]) -> int:
    record = registry.get(name)
    state = running_state(record)
    if state is None:
        out("%s is already down." % record.name)
        return 1
    wait_for_users = not ({"quietly", "nouser"} & set(flags))
    if wait_for_users:
        out("Waiting for user sessions to end (up to ShutdownTimeout=%d seconds)" % state.shutdown_timeout)
    out("Shutting down %s" % record.name)
    os.kill(state.pid, signal.SIGUSR1 if wait_for_users else signal.SIGTERM)
    timeout = state.shutdown_timeout + switch_seconds(record, "stop_hang_seconds") + STOP_GRACE_SECONDS
    if not wait_for_exit(state.pid, record.name, timeout):
        out("Shutdown of %s did not complete within %d seconds; use 'iris force %s'" % (record.name, timeout, record.name))
        return 1
    record.last_used = time.time()
    registry.save(record)
    out("Shutdown of %s complete" % record.name)
    if "restart" in flags:
        return start(registry, record.name, None)
    return 0


def wait_for_exit(pid: int, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid, name):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def force(registry: Registry, name: str) -> int:
    record = registry.get(name)
    state = running_state(record)
    if state is None:
        out("%s is already down." % record.name)
        return 1
    out("Forcing down %s" % record.name)
    os.kill(state.pid, signal.SIGKILL)
    wait_for_exit(state.pid, record.name, STOP_GRACE_SECONDS)
    for path in (record.pid_file, record.state_file):
        if os.path.exists(path):
            os.unlink(path)
    record.last_used = time.time()
    registry.save(record)
    return 0


# -- create / delete -------------------------------------------------------------------------------
def create(registry: Registry, args: argparse.Namespace) -> int:
    from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument

    name = normalise_name(args.instance)
    if registry.exists(name):
        raise EmulatorError("Instance '%s' already exists." % name)
    install_dir = os.path.abspath(args.install_dir)
    for option in ("superserver_port", "web_port"):
        value = getattr(args, option)
        if value is not None and not 0 <= value <= 65535:
            raise EmulatorError("--%s: must be 0-65535, got %d" % (option.replace("_", "-"), value))
    cpf_path = os.path.join(install_dir, "iris.cpf")
    os.makedirs(os.path.join(install_dir, "mgr"), exist_ok=True)
    if args.cpf:
        write_file(cpf_path, copied_cpf(args.cpf, args.superserver_port, args.web_port))
    elif not os.path.exists(cpf_path):
        with open(DEFAULT_CPF) as template:
            text = template.read()
        write_file(cpf_path, text.replace("{install_dir}", install_dir.rstrip("/")).replace(
            "{superserver_port}", str(args.superserver_port or 1972)).replace(
            "{web_port}", str(args.web_port or 52773)).encode("utf-8"))
    with open(cpf_path, "rb") as handle:
        doc = CpfDocument.parse(handle.read())
    record = InstanceRecord(
        name=name, install_dir=install_dir, version=args.version,
        superserver_port=port_option(args.superserver_port, doc.get("Startup", "DefaultPort"), 1972),
        web_port=port_option(args.web_port, doc.get("Startup", "WebServerPort"), 52773),
        proc_root=os.path.abspath(args.proc_root), last_used=time.time())
    registry.save(record)
    out("Instance '%s' created in %s" % (name, install_dir))
    return 0


def copied_cpf(source_path: str, superserver_port: Optional[int], web_port: Optional[int]) -> bytes:
    """The --cpf file with the instance's explicit ports in [Startup], like a real instance's CPF names its own ports.

    Everything else stays byte for byte (the CPF model keeps line endings, comments and order).
    """
    from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument

    with open(source_path, "rb") as source:
        data = source.read()
    try:
        doc = CpfDocument.parse(data)
        if superserver_port is not None:
            doc.set("Startup", "DefaultPort", str(superserver_port))
        if web_port is not None:
            doc.set("Startup", "WebServerPort", str(web_port))
    except ValueError as exc:
        raise EmulatorError("--cpf %s: not a CPF: %s" % (source_path, exc)) from None
    return doc.render()


def port_option(explicit: Optional[int], from_cpf: Optional[str], default: int) -> int:
    if explicit is not None:
        return explicit
    if from_cpf and from_cpf.strip().isdigit():
        return int(from_cpf.strip())
    return default


def delete(registry: Registry, name: str) -> int:
    record = registry.get(name)
    if running_state(record) is not None:
        raise EmulatorError("Instance '%s' is running; stop it first." % record.name)
    registry.delete(record.name)
    out("Instance '%s' deleted (files in %s kept)" % (record.name, record.install_dir))
    return 0


# -- entry point -----------------------------------------------------------------------------------
def parse_create(argv: Sequence[str]) -> argparse.Namespace:
    import argparse

    parser = argparse.ArgumentParser(prog="iris create", add_help=False)
    parser.add_argument("instance")
    parser.add_argument("install_dir")
    parser.add_argument("--superserver-port", type=int)
    parser.add_argument("--web-port", type=int)
    parser.add_argument("--cpf")
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--proc-root", default="/proc/sys")
    try:
        return parser.parse_args(list(argv))
    except SystemExit:
        raise EmulatorError("usage: iris create <instance> <install_dir> [--superserver-port N] [--web-port N] "
                            "[--cpf FILE] [--version V] [--proc-root DIR]") from None


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("help", "-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 1
    command, rest = argv[0], list(argv[1:])
    try:
        if command == "_daemon":
            # The daemon serves plain TCP: without ssl (which asyncio supports, for Pythons built without it) asyncio
            # loads neither the ssl module nor OpenSSL, which saves each instance about 6 ms of start CPU and 4 MB.
            sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
            from .daemon import run_daemon
            return run_daemon(Registry(rest[2]).get(rest[0]), int(rest[1]))
        registry = Registry()
        if command in ("qlist", "list"):
            records = selected(registry, rest[0] if rest else None)
            for record in records:
                if command == "qlist":
                    out(qlist_line(record))
                else:
                    out("\n".join(list_block(record)) + "\n")
            return 0
        if command == "create":
            return create(registry, parse_create(rest))
        if not rest:
            raise EmulatorError("usage: iris %s <instance> ..." % command)
        name, options = rest[0], rest[1:]
        if command == "start":
            cpf = [option for option in options if option not in ("quietly", "nostu")]
            return start(registry, name, cpf[0] if cpf else None)
        if command == "stop":
            unknown = set(options) - {"quietly", "restart", "nouser", "bypass", "nofailover"}
            if unknown:
                raise EmulatorError("iris stop: unknown option(s) %s" % ", ".join(sorted(unknown)))
            return stop(registry, name, options)
        if command == "force":
            return force(registry, name)
        if command == "merge":
            from .merge import merge

            return merge(registry.get(name), options)
        if command == "delete":
            return delete(registry, name)
        raise EmulatorError("iris: unknown command %r\n%s" % (command, USAGE))
    except EmulatorError as exc:
        sys.stderr.write("%s\n" % exc)
        return 1
    except OSError as exc:
        sys.stderr.write("iris %s: %s\n" % (command, exc))
        return 1
