# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instance registry (one JSON file per instance) and each instance's runtime files."""

from __future__ import annotations

import errno
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

REGISTRY_ENV = "IRISEMU_REGISTRY"
# Without IRISEMU_REGISTRY an installation keeps its registry next to bin/ and lib/ (<prefix>/registry),
# like the real registry is fixed per host, so modules that run plain `iris qlist` see the instances.
DEFAULT_REGISTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "registry")
# IRIS instance names: letters, digits, '_' and '-', case-insensitive (stored upper case like the real registry).
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
DEFAULT_VERSION = "2023.1.0.235.1com"
DEFAULT_PRODUCT = "IRIS"


class EmulatorError(Exception):
    """A user-facing error: printed by the control command, which then exits non-zero."""


@dataclass
class InstanceRecord:
    """What ``iris create`` registered; the emulator's equivalent of the real instance registry entry."""

    name: str
    install_dir: str
    version: str = DEFAULT_VERSION
    product: str = DEFAULT_PRODUCT
    cpf_name: str = "iris.cpf"
    superserver_port: int = 1972
    web_port: int = 52773
    jdbc_port: int = 0
    proc_root: str = "/proc/sys"
    last_used: float = 0.0

    @property
    def mgr_dir(self) -> str:
        return os.path.join(self.install_dir, "mgr")

    @property
    def cpf_path(self) -> str:
        return os.path.join(self.install_dir, self.cpf_name)

    @property
    def messages_log(self) -> str:
        return os.path.join(self.mgr_dir, "messages.log")

    @property
    def pid_file(self) -> str:
        return os.path.join(self.mgr_dir, "iris.pid")

    @property
    def state_file(self) -> str:
        return os.path.join(self.mgr_dir, "emulator-state.json")

    @property
    def switches_file(self) -> str:
        return os.path.join(self.install_dir, "emulator.json")

    @property
    def merge_request_file(self) -> str:
        """What ``iris merge`` hands the running daemon to activate (then SIGHUP)."""
        return os.path.join(self.mgr_dir, "emulator-merge-request.json")

    @property
    def merge_lock_file(self) -> str:
        return os.path.join(self.mgr_dir, "emulator-merge.lock")

    @property
    def security_file(self) -> str:
        """Users, roles, resources and services made by merge actions (IRIS keeps them in IRISSYS, not the CPF)."""
        return os.path.join(self.mgr_dir, "emulator-security.json")


def normalise_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise EmulatorError("invalid instance name %r: use a letter followed by letters, digits, '_' or '-' (max 64)" % name)
    return name.upper()


def write_file(path: str, data: bytes, mode: Optional[int] = None) -> None:
    """Replace ``path`` crash-safely (module_utils/durable.py): readers (qlist, the daemon) and a crash see the old
    file or the new one, never half of one. The file gets ``mode``, else what ``open()`` gives a new file."""
    # Imported here: qlist, run several times per restart, writes nothing.
    from ansible_collections.irisops.iris.plugins.module_utils.durable import replace_file

    final_mode = _new_file_mode() if mode is None else mode

    def move(source: str, destination: str) -> None:
        os.chmod(source, final_mode)  # the temp file is private (0600) until it is in place
        os.replace(source, destination)

    replace_file(path, data, move)


def _new_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_json_atomic(path: str, data: Dict[str, Any]) -> None:
    write_file(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path) as handle:
            data = json.load(handle)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    except ValueError as exc:
        raise EmulatorError("%s is not valid JSON: %s" % (path, exc)) from None
    if not isinstance(data, dict):
        raise EmulatorError("%s must hold a JSON object" % path)
    return data


class Registry(object):
    def __init__(self, directory: Optional[str] = None) -> None:
        self.directory = directory or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, normalise_name(name) + ".json")

    def get(self, name: str) -> InstanceRecord:
        data = read_json(self._path(name))
        if data is None:
            raise EmulatorError("Instance '%s' is not installed." % name.upper())
        known = set(InstanceRecord.__dataclass_fields__)
        return InstanceRecord(**{key: value for key, value in data.items() if key in known})

    def exists(self, name: str) -> bool:
        return os.path.exists(self._path(name))

    def save(self, record: InstanceRecord) -> None:
        os.makedirs(self.directory, exist_ok=True)
        write_json_atomic(self._path(record.name), asdict(record))

    def delete(self, name: str) -> None:
        os.unlink(self._path(name))

    def all(self) -> List[InstanceRecord]:
        if not os.path.isdir(self.directory):
            return []
        names = sorted(entry[:-5] for entry in os.listdir(self.directory) if entry.endswith(".json"))
        return [self.get(name) for name in names]


@dataclass
class RuntimeState:
    """What a running daemon publishes for qlist/list/stop (mgr/emulator-state.json)."""

    pid: int
    phase: str  # starting | running | stopping | hung (a stop that does not finish: test switch)
    since: float
    superserver_port: int
    web_port: int
    alerts: int = 0
    shutdown_timeout: int = 300

    @property
    def system_state(self) -> str:
        return system_state(self.phase, self.alerts)


def system_state(phase: str, alerts: int) -> str:
    """qlist field 9, after the System Monitor rule: no alerts ok, up to four warn, more alert."""
    if phase == "hung":
        return "hung"
    if alerts == 0:
        return "ok"
    return "warn" if alerts <= 4 else "alert"


def pid_alive(pid: int, name: str) -> bool:
    """True when ``pid`` is this instance's daemon (a recycled pid of another process does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    if b"_daemon" not in argv or name.encode() not in argv:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            # Field 3 after the ")" of the command name is the process state; Z = exited, not yet reaped.
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def running_state(record: InstanceRecord) -> Optional[RuntimeState]:
    """The daemon's published state when it is alive, else None."""
    data = read_json(record.state_file)
    if data is None:
        return None
    known = set(RuntimeState.__dataclass_fields__)
    state = RuntimeState(**{key: value for key, value in data.items() if key in known})
    return state if pid_alive(state.pid, record.name) else None


def ctime(epoch: float) -> str:
    """The date format of qlist's status field: ``Fri May 13 22:07:02 2016``."""
    return time.ctime(epoch)
