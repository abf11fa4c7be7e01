# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel_param module's plan and apply (stdlib only; private to the module, not a public API).

``make_plan`` reads the host and decides every change, writing nothing (check mode stops there). ``apply`` makes
them: the runtime value first, read back; then the sysctl.d file, putting the runtime value back if the file
step fails, so runtime and file never disagree because of the module. The Plan then reports the result, the diff
and the ToolResult changes. Runtime and file mechanics are ``sysctl.py``'s, the instance's need ``iris_memory.py``'s.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_sysctl, sysctl
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl, IrisControlError
from ansible_collections.irisops.iris.plugins.module_utils.iris_memory import (
    MemoryNeed, MemoryNeedError, auto_value, danger, memory_need)
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder

AUTO = "auto"
# Why the kernel may keep fewer huge pages than were written.
HUGEPAGES_READ_BACK_HINT = " (the kernel could not reserve them all: memory is fragmented or short; free memory or reboot)"


class ModuleFailure(Exception):
    """Stop with this message; whatever the run had changed has been put back (or the message says why not)."""


@dataclass
class Plan:
    name: str
    proc_path: str
    target: str
    runtime_before: Optional[str]
    runtime_changes: bool
    file_path: Optional[str]
    file_before: Optional[bytes]
    file_after: Optional[bytes]
    persisted_before: Optional[str]
    duplicates: int = 0
    overridden_by: List[str] = field(default_factory=list)
    recommendations: List[str] = field(default_factory=list)
    dangerous: Optional[str] = None
    need: Optional[MemoryNeed] = None

    @property
    def file_changes(self) -> bool:
        return self.file_path is not None and self.file_after != self.file_before

    @property
    def changed(self) -> bool:
        return self.runtime_changes or self.file_changes

    def warnings(self) -> List[str]:
        """Recommendations only when the run changes the value (not on every run), and a confirmed danger."""
        notes = list(self.recommendations) if self.changed else []
        return notes + (["allow_dangerous: " + self.dangerous] if self.dangerous else [])

    def record_changes(self, builder: ToolResultBuilder) -> None:
        if self.runtime_changes:
            builder.add_change(self.proc_path, self.runtime_before, self.target)
        if self.file_path and self.file_changes:
            builder.add_change("%s:%s" % (self.file_path, self.name), self.persisted_before, self.target)

    def result(self, backup_file: Optional[str], attributes_changed: bool) -> Dict[str, Any]:
        """The module's result keys (RETURN) after apply, or what they would be in check mode."""
        result: Dict[str, Any] = {
            "changed": self.changed or attributes_changed, "name": self.name, "value": self.target,
            "proc_path": self.proc_path, "runtime_value_before": self.runtime_before,
            "runtime_value": self.target if self.runtime_changes else self.runtime_before,
            "sysctl_file": self.file_path, "persisted_value_before": self.persisted_before,
            "persisted_value": self.target if self.file_path else self.persisted_before,
            "duplicates": self.duplicates, "overridden_by": self.overridden_by, "recommendations": self.recommendations,
        }
        if backup_file:
            result["backup_file"] = backup_file
        if self.need is not None:
            result["shared_memory"] = self.need.as_dict(self.name)
        return result

    def diff(self) -> List[Dict[str, str]]:
        """Two diffs: the runtime value and the file's content."""
        diffs = []
        if self.runtime_changes:
            header = "%s (runtime)" % self.proc_path
            diffs.append({"before_header": header, "after_header": header,
                          "before": "%s\n" % (self.runtime_before or ""), "after": "%s\n" % self.target})
        if self.file_path and self.file_changes:
            header = "%s (content)" % self.file_path
            diffs.append({"before_header": header, "after_header": header,
                          "before": (self.file_before or b"").decode("utf-8", "replace"),
                          "after": (self.file_after or b"").decode("utf-8", "replace")})
        return diffs


def make_plan(params: Mapping[str, Any], control: Callable[[], IrisControl]) -> Plan:
    """Read everything and decide every change; nothing is written here.

    ``params`` are the module's options; ``control`` gives the ``iris`` control command, only asked for with ``instance``.
    """
    name, value, guard = validated_request(params)
    proc_path = sysctl.proc_path(params["proc_root"], name)
    runtime_before = read_runtime_for(proc_path, params["apply"])
    file_path = file_path_of(params["sysctl_dir"], params["sysctl_file"]) if params["persist"] else None
    if file_path:
        check_file_owner(params)
    file_before = sysctl.read_file(os.path.realpath(file_path)) if file_path else None
    document = sysctl.SysctlFile(file_before or b"")
    persisted_before = document.get(name)

    need = instance_need(params, control)
    required = need.value_for(name) if need is not None else None
    # validated_request accepted auto only for a memory parameter with an instance, so required is known here.
    target = auto_value(required, runtime_before) if value == AUTO and required is not None else value
    check_guard(name, guard, target, runtime_before, persisted_before)
    check_range(target, params["min_value"], params["max_value"])
    dangerous = danger(name, target, runtime_before, need)
    if dangerous and not params["allow_dangerous"]:
        raise ModuleFailure("%s; set allow_dangerous=true to do it anyway. Nothing changed." % dangerous)

    file_after = None
    if file_path:
        document.set(name, target)
        file_after = document.render()
    return Plan(
        name=name, proc_path=proc_path, target=target, runtime_before=runtime_before,
        runtime_changes=bool(params["apply"]) and not sysctl.values_equal(runtime_before, target),
        file_path=file_path, file_before=file_before, file_after=file_after, persisted_before=persisted_before,
        duplicates=document.duplicates(name),
        overridden_by=sysctl.later_definitions(params["sysctl_dir"], params["sysctl_file"], name) if file_path else [],
        recommendations=iris_sysctl.recommendations(name, target, sysctl.transparent_hugepages(params["proc_root"])),
        dangerous=dangerous, need=need)


def apply(plan: Plan, move: Callable[[str, str], None], backup: Optional[Callable[[str], str]]) -> Optional[str]:
    """Make the planned changes; returns the backup of the file, if one was made.

    ``move`` and ``backup`` replace the file and copy the old one (AnsibleModule's atomic_move and backup_local).
    """
    if plan.runtime_changes:
        hint = HUGEPAGES_READ_BACK_HINT if plan.name == "vm.nr_hugepages" else ""
        sysctl.write_runtime_verified(plan.proc_path, plan.target, plan.runtime_before, hint)
    if plan.file_path is None or plan.file_after is None or not plan.file_changes:
        return None
    try:
        return sysctl.replace_file(plan.file_path, plan.file_after, move, backup if plan.file_before is not None else None)
    except sysctl.SysctlError as exc:
        restored = sysctl.restore_runtime(plan.proc_path, plan.runtime_before) if plan.runtime_changes else "runtime value untouched"
        raise ModuleFailure("%s; file left as it was, %s" % (exc, restored))


def validated_request(params: Mapping[str, Any]) -> Tuple[str, str, Optional[str]]:
    """(name, value, current_value guard) after every check that needs no reading of the host."""
    name = params["name"]
    sysctl.validate_name(name)
    value = _text_value("value", params["value"])
    guard = None if params["current_value"] is None else _text_value("current_value", params["current_value"])
    if not params["apply"] and not params["persist"]:
        raise ModuleFailure("apply, persist: at least one must be true, otherwise there is nothing to do")
    if params["auto_margin_percent"] < 0:
        raise ModuleFailure("auto_margin_percent: must be >= 0, got %d" % params["auto_margin_percent"])
    if value == AUTO and name not in iris_sysctl.MEMORY_PARAMETERS:
        raise ModuleFailure("value: 'auto' is only defined for %s, not %s" % (", ".join(iris_sysctl.MEMORY_PARAMETERS), name))
    if value == AUTO and not params["instance"]:
        raise ModuleFailure("value: 'auto' needs instance to size shared memory")
    return name, value, guard


def _text_value(field_name: str, raw: Any) -> str:
    """YAML gives ints or strings; anything else is a mistake worth naming."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError("%s: must be an integer or a string, got %s %r" % (field_name, type(raw).__name__, raw))
    text = str(raw).strip()
    sysctl.validate_value(field_name, text)
    return text


def read_runtime_for(proc_path: str, apply_runtime: bool) -> Optional[str]:
    """The live value; without apply a parameter this kernel lacks may still be persisted (None)."""
    try:
        return sysctl.read_runtime(proc_path)
    except sysctl.SysctlError:
        if apply_runtime:
            raise
        return None


def file_path_of(sysctl_dir: str, file_name: str) -> str:
    if "/" in file_name or file_name.startswith(".") or not file_name.endswith(".conf"):
        raise ModuleFailure("sysctl_file: %r must be a plain file name ending in .conf (systemd-sysctl reads only *.conf)"
                            % file_name)
    if not os.path.isdir(sysctl_dir):
        # Checked before anything is applied: the runtime change would otherwise be undone at the persist step.
        raise ModuleFailure("sysctl_dir: %s %s; create it or set sysctl_dir to the directory systemd-sysctl reads. "
                            "Nothing changed." % (sysctl_dir, "is not a directory" if os.path.exists(sysctl_dir)
                                                  else "does not exist"))
    return os.path.join(sysctl_dir, file_name)


def check_file_owner(params: Mapping[str, Any]) -> None:
    """Unknown owner/group would fail inside Ansible after the runtime change, past our rollback: refuse them up front."""
    for option, lookup in (("owner", pwd.getpwnam), ("group", grp.getgrnam)):
        wanted = params.get(option)
        if wanted and not str(wanted).isdigit():
            try:
                lookup(wanted)
            except KeyError:
                raise ModuleFailure("%s: %r does not exist on this host; nothing changed" % (option, wanted))


def instance_need(params: Mapping[str, Any], control: Callable[[], IrisControl]) -> Optional[MemoryNeed]:
    """What ``instance`` needs in shared memory, None without ``instance``."""
    if not params["instance"]:
        return None
    page_kb = params["hugepage_size_kb"] or sysctl.hugepage_size_kb(params["proc_root"])
    if page_kb <= 0:
        raise ModuleFailure("hugepage_size_kb: must be > 0, got %d" % page_kb)
    try:
        return memory_need(control().instance(params["instance"]), page_kb, params["auto_margin_percent"])
    except (IrisControlError, MemoryNeedError) as exc:
        raise ModuleFailure("instance: %s" % exc)


def check_guard(name: str, guard: Optional[str], target: str, runtime_before: Optional[str],
                persisted_before: Optional[str]) -> None:
    """The current_value guard passes when the value is the expected one, or already ``target`` (applied before)."""
    if guard is None:
        return
    current, where = (runtime_before, "runtime") if runtime_before is not None else (persisted_before, "persisted")
    if not sysctl.values_equal(current, guard) and not sysctl.values_equal(current, target):
        raise ModuleFailure("current_value: expected %s (or the new value %s) but the %s value of %s is %s; nothing changed"
                            % (guard, target, where, name, current))


def check_range(target: str, min_value: Optional[int], max_value: Optional[int]) -> None:
    if min_value is None and max_value is None:
        return
    number = sysctl.as_integer("value", target)
    if min_value is not None and number < min_value:
        raise ModuleFailure("value: %d is below min_value %d; nothing changed" % (number, min_value))
    if max_value is not None and number > max_value:
        raise ModuleFailure("value: %d is above max_value %d; nothing changed" % (number, max_value))
