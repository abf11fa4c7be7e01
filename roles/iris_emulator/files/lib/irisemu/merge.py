# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``iris merge <instance> [merge-file] [target-CPF]``: apply a merge file (a partial CPF) to a running instance.

Like IRIS (shared/reference/cpf-parameters.md, "Configuration merge"): the parameters go into the CPF,
the ``[Actions]`` run in IRIS's documented processing order, and the running instance activates at once
what IRIS can change live; the rest waits for a restart. The documented quirks are kept: the paths must
be absolute, a merge file that does not exist "completes successfully" doing nothing, and only
``[Actions]`` spelled exactly so is read (``[actions]`` is silently ignored).

This process writes the files (the CPF, new database directories, the security store) and then hands the
daemon what to activate (mgr/emulator-merge-request.json + SIGHUP, acknowledged through emulator-state.json).
"""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Sequence, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.cpf import (
    ACTIONS_SECTION, CpfDocument, CpfError, MergeAction, parse_action)
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import (
    canonical_section, lookup, validate_value, values_equal)
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import masked

from .config import Switches, canonical_name
from .registry import EmulatorError, InstanceRecord, read_json, running_state, write_file, write_json_atomic

SUCCESS = "IRIS Merge completed successfully"
ACK_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.02
# The actions the emulator implements, in IRIS's processing order (a subset of the documented order):
# a merge file's actions run in this order whatever their order in the file.
ACTION_ORDER = (
    "DeleteNamespace", "DeleteDatabase", "DeleteResource", "CreateResource", "CreateDatabase", "CreateNamespace",
    "ModifyService", "DeleteUser", "DeleteRole", "CreateRole", "CreateUser", "ModifyResource", "ModifyRole", "ModifyUser",
)
# Objects IRIS keeps in its security database (IRISSYS), not in the CPF: verb suffix -> store key.
SECURITY_KINDS = {"User": "users", "Role": "roles", "Resource": "resources", "Service": "services"}
Security = Dict[str, Dict[str, Dict[str, str]]]


def load_security(path: str) -> Security:
    data = read_json(path) or {}
    return {kind: dict(data.get(kind, {})) for kind in SECURITY_KINDS.values()}


@contextmanager
def merge_lock(path: str) -> Iterator[None]:
    """One merge of an instance at a time (a second ``iris merge`` waits)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_cpf(path: str) -> CpfDocument:
    try:
        with open(path, "rb") as handle:
            return CpfDocument.parse(handle.read())
    except OSError as exc:
        raise EmulatorError("iris merge: cannot read %s: %s" % (path, exc.strerror)) from None


def write_keeping_mode(path: str, data: bytes) -> None:
    write_file(path, data, stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else 0o644)


class MergePlan(object):
    """Everything one merge changes, computed on in-memory copies so that an error leaves every file untouched."""

    def __init__(self, cpf: CpfDocument, security: Security, mgr_dir: str) -> None:
        self.cpf = cpf
        self.security = security
        self.mgr_dir = mgr_dir
        self.parameters: List[Tuple[str, str, str]] = []
        self.actions: List[Dict[str, Any]] = []
        self.directories: List[str] = []
        self.security_changed = False

    # -- parameters ------------------------------------------------------------------------------
    def add_parameters(self, merge: CpfDocument, drop_last: bool) -> None:
        found: List[Tuple[str, str, str]] = []
        for section, pairs in merge.items():
            if section.lower() == ACTIONS_SECTION.lower():
                continue  # [Actions] holds verbs; a wrongly spelled [actions] is ignored like IRIS does
            if canonical_section(section) is None:
                raise EmulatorError("iris merge: section [%s] is not a CPF section" % section)
            for key, value in pairs:
                canonical, parameter = canonical_name(section, key)
                spec = lookup(canonical, parameter)
                if spec is not None and spec.read_only:
                    raise EmulatorError("iris merge: [%s] %s is written by IRIS itself" % (canonical, parameter))
                if spec is not None and value.strip():
                    try:
                        value = validate_value(spec, value)
                    except ValueError as exc:
                        raise EmulatorError("iris merge: %s" % exc) from None
                found.append((canonical, parameter, value.strip()))
        # Test switch: IRIS skipping a value it did not take, yet reporting success.
        self.parameters = found[:-1] if drop_last and found else found
        for section, parameter, value in self.parameters:
            before = self.cpf.get(section, parameter)
            if values_equal(lookup(section, parameter), before, value):
                continue
            try:
                self.cpf.set(self.cpf.section_name(section) or section,
                             self.cpf.parameter_name(section, parameter) or parameter, value)
            except CpfError as exc:
                raise EmulatorError("iris merge: %s" % exc) from None

    # -- actions ---------------------------------------------------------------------------------
    def add_actions(self, lines: Sequence[str]) -> None:
        parsed: List[MergeAction] = []
        for line in lines:
            try:
                action = parse_action(line)
            except CpfError as exc:
                raise EmulatorError("iris merge: [Actions] %s" % exc) from None
            if action.verb not in ACTION_ORDER:
                raise EmulatorError("iris merge: [Actions] %s: the emulator does not implement %s (it implements %s)" % (
                    line, action.verb, ", ".join(sorted(ACTION_ORDER))))
            if not action.name:
                raise EmulatorError("iris merge: [Actions] %s: Name is required" % line)
            parsed.append(action)
        for action in sorted(parsed, key=lambda candidate: ACTION_ORDER.index(candidate.verb)):
            self.actions.append(self.run_action(action))

    def run_action(self, action: MergeAction) -> Dict[str, Any]:
        name = action.name or ""
        result: Dict[str, Any] = dict(verb=action.verb, name=name, line=action.render(masked=True), changed=False)
        kind = action.verb[6:]  # after Create/Modify/Delete
        if kind == "Database":
            self.database(action, result)
        elif kind == "Namespace":
            self.namespace(action, result)
        else:
            self.security_object(action, SECURITY_KINDS[kind], result)
        return result

    def database(self, action: MergeAction, result: Dict[str, Any]) -> None:
        name = result["name"] = result["name"].upper()  # IRIS database names are upper case
        exists = self.cpf.get("Databases", name) is not None
        if action.verb == "DeleteDatabase":
            result["changed"] = exists and self.cpf.remove(self.cpf.section_name("Databases") or "Databases", name)
            return
        directory = action.get("Directory")
        if not directory:
            raise EmulatorError("iris merge: [Actions] %s: Directory is required" % result["line"])
        # A relative directory is taken relative to the instance's mgr directory.
        directory = os.path.join(self.mgr_dir, directory).rstrip("/") + "/"
        result["directory"] = directory
        if not exists:
            self.cpf.set(self.cpf.section_name("Databases") or "Databases", name, directory)
            self.directories.append(directory)
            result["changed"] = True

    def namespace(self, action: MergeAction, result: Dict[str, Any]) -> None:
        name = result["name"] = result["name"].upper()
        exists = self.cpf.get("Namespaces", name) is not None
        if action.verb == "DeleteNamespace":
            result["changed"] = exists and self.cpf.remove(self.cpf.section_name("Namespaces") or "Namespaces", name)
            return
        globals_db = (action.get("Globals") or "").upper()
        routines_db = (action.get("Routines") or globals_db).upper()
        for database in sorted({globals_db, routines_db}):
            if not database or self.cpf.get("Databases", database) is None:
                raise EmulatorError("iris merge: [Actions] %s: database %r does not exist" % (result["line"], database))
        value = globals_db if routines_db == globals_db else "%s,%s" % (globals_db, routines_db)
        result["value"] = value
        if not exists:
            self.cpf.set(self.cpf.section_name("Namespaces") or "Namespaces", name, value)
            result["changed"] = True

    def security_object(self, action: MergeAction, store: str, result: Dict[str, Any]) -> None:
        objects = self.security[store]
        name = result["name"]
        properties = {key: masked(key, value) or ""
                      for key, value in action.properties if key.lower() != "name"}
        if action.verb.startswith("Delete"):
            result["changed"] = objects.pop(name, None) is not None
        elif action.verb.startswith("Create"):
            result["changed"] = name not in objects
            objects.setdefault(name, properties)
        else:
            if name not in objects and store != "services":
                raise EmulatorError("iris merge: [Actions] %s: %s does not exist" % (result["line"], name))
            merged = dict(objects.get(name, {}), **properties)
            result["changed"] = merged != objects.get(name)
            objects[name] = merged
        self.security_changed = self.security_changed or result["changed"]


def merge(record: InstanceRecord, paths: Sequence[str]) -> int:
    if len(paths) > 2:
        raise EmulatorError("usage: iris merge <instance> [merge-file] [target-CPF]")
    merge_file = paths[0] if paths else os.environ.get("ISC_CPF_MERGE_FILE", "")
    if not merge_file:
        raise EmulatorError("iris merge: no merge file given and ISC_CPF_MERGE_FILE is not set")
    for path in [merge_file] + list(paths[1:]):
        if not os.path.isabs(path):
            raise EmulatorError("iris merge: %s: the path must be absolute" % path)
    state = running_state(record)
    if state is None:
        raise EmulatorError("iris merge: instance %s is not running" % record.name)
    if state.phase != "running":
        raise EmulatorError("iris merge: instance %s is %s; try again when it is running" % (record.name, state.phase))
    if not os.path.isfile(merge_file):
        print(SUCCESS)  # documented quirk: a merge file that does not exist is a success that does nothing
        return 0
    target = paths[1] if len(paths) > 1 else record.cpf_path
    with merge_lock(record.merge_lock_file):
        plan = MergePlan(read_cpf(target), load_security(record.security_file), record.mgr_dir)
        merge_doc = read_cpf(merge_file)
        plan.add_parameters(merge_doc, Switches.load(record.switches_file).merge_drops_last_parameter)
        plan.add_actions(merge_doc.action_lines())
        write_plan(record, target, plan)
        # Only the instance's own CPF is active configuration; a merge into another file is just an edit.
        activate = os.path.realpath(target) == os.path.realpath(record.cpf_path)
        request_activation(record, state.pid, plan, activate)
    print(SUCCESS)
    return 0


def write_plan(record: InstanceRecord, target: str, plan: MergePlan) -> None:
    for directory in plan.directories:
        os.makedirs(directory, exist_ok=True)
        open(os.path.join(directory, "IRIS.DAT"), "ab").close()
    rendered = plan.cpf.render()
    with open(target, "rb") as handle:
        if handle.read() != rendered:
            write_keeping_mode(target, rendered)
    if plan.security_changed:
        write_json_atomic(record.security_file, dict(plan.security))


def request_activation(record: InstanceRecord, pid: int, plan: MergePlan, activate: bool) -> None:
    """Hand the daemon the merged values and actions, wake it, and wait until it has published the result."""
    request_id = "%d.%d" % (os.getpid(), time.time_ns())
    write_json_atomic(record.merge_request_file, dict(
        id=request_id, activate=activate, parameters=[list(item) for item in plan.parameters], actions=plan.actions))
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + ACK_TIMEOUT_SECONDS
    while True:
        state = read_json(record.state_file) or {}
        if state.get("merge_id") == request_id:
            return
        if running_state(record) is None or time.monotonic() > deadline:
            raise EmulatorError("iris merge: instance %s did not activate the merge (the CPF was written)" % record.name)
        time.sleep(POLL_SECONDS)
