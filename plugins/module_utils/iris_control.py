# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``iris`` control command: qlist parsing and start/stop/force/merge calls (stdlib only).

Works the same against a real IRIS installation and the bundled emulator, which speak the same
command line. Field order of ``iris qlist`` follows the real tool (see docs/iris-control-command.md).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

# qlist's status dates look like ctime(): "Fri May 13 22:07:02 2016" (local time of the instance host).
QLIST_DATE_FORMAT = "%a %b %d %H:%M:%S %Y"
# Older releases print 8 fields; current ones 13 (see the qlist fixtures in the tests).
QLIST_MIN_FIELDS = 8
QLIST_FIELDS = 13
C_LOCALE = {"LANG": "C", "LC_ALL": "C"}
# Where `iris` lives when it is not on PATH: the usual install dirs' bin and the system link.
IRIS_BIN_DIRS = ["/usr/irissys/bin", "/usr/bin", "/usr/local/bin", "/opt/iris/bin"]

RunCommand = Callable[..., Tuple[int, str, str]]

# The options of every module that runs the control command (documented by the irisops.iris.iris.CONTROL fragment).
CONTROL_ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {"iris_bin": {"type": "path"}}


class IrisControlError(Exception):
    """The control command failed or printed something we cannot read."""


@dataclass(frozen=True)
class Instance:
    """One line of ``iris qlist``."""

    name: str
    install_dir: str
    version: str
    status: str
    activity: str
    cpf_name: str
    superserver_port: Optional[int]
    web_port: Optional[int]
    jdbc_port: Optional[int]
    state: str
    product: str
    mirror_member_type: str
    mirror_status: str
    data_dir: str

    def is_named(self, name: str) -> bool:
        """IRIS instance names are case-insensitive."""
        return self.name.upper() == name.upper()

    @property
    def running(self) -> bool:
        return self.status.startswith("running")

    @property
    def since(self) -> Optional[str]:
        """When the instance started (running) or was last used (down), ISO 8601 without zone; None if unreadable."""
        for prefix in ("since ", "last used "):
            if self.activity.startswith(prefix):
                try:
                    return datetime.strptime(" ".join(self.activity[len(prefix):].split()), QLIST_DATE_FORMAT).isoformat()
                except ValueError:
                    return None
        return None

    @property
    def config_dir(self) -> str:
        """Where the CPF and mgr/ live: the data dir for durable %SYS, else the install dir."""
        return self.data_dir or self.install_dir

    @property
    def cpf_path(self) -> str:
        return os.path.join(self.config_dir, self.cpf_name or "iris.cpf")

    @property
    def messages_log_path(self) -> str:
        return os.path.join(self.config_dir, "mgr", "messages.log")

    def as_dict(self) -> Dict[str, Any]:
        facts = asdict(self)
        facts.update(running=self.running, since=self.since, cpf_path=self.cpf_path, messages_log_path=self.messages_log_path)
        return facts


def _port(value: str) -> Optional[int]:
    return int(value) if value.strip().isdigit() else None


def parse_qlist_line(line: str) -> Instance:
    fields = line.rstrip("\r\n").split("^")
    if len(fields) < QLIST_MIN_FIELDS:
        raise IrisControlError("qlist line has %d fields, expected at least %d: %r" % (len(fields), QLIST_MIN_FIELDS, line))
    fields += [""] * (QLIST_FIELDS - len(fields))
    status, _sep, activity = fields[3].partition(",")
    data_dir = fields[12].strip()
    if data_dir and not data_dir.endswith("/"):
        data_dir += "/"
    return Instance(
        name=fields[0],
        install_dir=fields[1],
        version=fields[2],
        status=status.strip(),
        activity=activity.strip(),
        cpf_name=fields[4],
        superserver_port=_port(fields[5]),
        web_port=_port(fields[6]),
        jdbc_port=_port(fields[7]),
        state=fields[8],
        product=fields[9],
        mirror_member_type=fields[10],
        mirror_status=fields[11],
        # A bare "/mgr/config"-style value is relative to nothing we can resolve; keep it as printed.
        data_dir=data_dir,
    )


def parse_qlist(output: str) -> List[Instance]:
    return [parse_qlist_line(line) for line in output.splitlines() if line.strip()]


class IrisControl(object):
    """Runs the control command through an AnsibleModule-compatible ``run_command``."""

    def __init__(self, iris_bin: str, run_command: RunCommand) -> None:
        self.iris_bin = iris_bin
        self._run_command = run_command

    @classmethod
    def from_module(cls, module: "AnsibleModule", run_command: Optional[RunCommand] = None) -> "IrisControl":
        """The control command a module's ``iris_bin`` option names (or the one found), run by ``module.run_command``."""
        return cls(find_iris_bin(module.get_bin_path, module.params["iris_bin"]), run_command or module.run_command)

    def run(self, args: Sequence[str]) -> Tuple[int, str, str]:
        return self._run_command([self.iris_bin] + list(args), environ_update=C_LOCALE)

    def qlist(self, name: Optional[str] = None) -> List[Instance]:
        rc, out, err = self.run(["qlist"] + ([name] if name else []))
        if rc != 0:
            raise IrisControlError("'%s qlist%s' failed (rc=%d): %s" % (
                self.iris_bin, " " + name if name else "", rc, (err or out).strip()))
        return parse_qlist(out)

    def instance(self, name: str) -> Instance:
        """The named instance (see Instance.is_named)."""
        for candidate in self.qlist():
            if candidate.is_named(name):
                return candidate
        raise IrisControlError("instance %r is not known to %s qlist" % (name, self.iris_bin))

    def start(self, name: str, quietly: bool = True) -> Tuple[int, str, str]:
        return self.run(["start", name] + (["quietly"] if quietly else []))

    def stop(self, name: str, flags: Sequence[str] = ("quietly",)) -> Tuple[int, str, str]:
        return self.run(["stop", name] + list(flags))

    def force(self, name: str) -> Tuple[int, str, str]:
        return self.run(["force", name])

    def merge(self, name: str, merge_file: str, target_cpf: Optional[str] = None) -> Tuple[int, str, str]:
        """``iris merge INSTANCE FILE [CPF]``; IRIS wants absolute paths (see module_utils/cpf_merge.py)."""
        return self.run(["merge", name, merge_file] + ([target_cpf] if target_cpf else []))


def find_iris_bin(get_bin_path: Callable[..., Optional[str]], iris_bin: Optional[str] = None) -> str:
    """Resolve the control command like ``get_bin_path('iris', required=True)`` would, honouring an explicit path."""
    if iris_bin:
        if not (os.path.isfile(iris_bin) and os.access(iris_bin, os.X_OK)):
            raise IrisControlError("iris_bin %r is not an executable file" % iris_bin)
        return iris_bin
    found = get_bin_path("iris", opt_dirs=IRIS_BIN_DIRS)
    if not found:
        raise IrisControlError("the 'iris' control command was not found on PATH or in %s; set iris_bin" % ", ".join(IRIS_BIN_DIRS))
    return found
