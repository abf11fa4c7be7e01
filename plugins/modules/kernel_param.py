#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kernel_param
short_description: Set a Linux kernel parameter for IRIS, verify it at runtime and persist it in sysctl.d
version_added: 0.1.0
description:
  - Sets one kernel parameter (sysctl) at runtime through C(/proc/sys), reads it back to prove the kernel took it,
    and only then persists it in a file under C(/etc/sysctl.d/).
  - The persisted file is edited line by line; only the line of O(name) changes. Comments, other keys, duplicate keys,
    the C(k=v) or C(k = v) spacing style, CRLF line endings and a missing final newline are kept byte for byte.
  - If any step fails, the runtime value and the file are restored, so they never disagree because of this module.
  - IRIS aware. With O(instance), O(value=auto) computes what the instance's shared memory needs for C(vm.nr_hugepages),
    C(kernel.shmmax) and C(kernel.shmall), and setting those below the need (lowering them, or raising them too little)
    is refused unless O(allow_dangerous=true).
  - The instance's need is the larger of the estimate from its CPF (C([config] globals), C(routines), C(jrnbufs), C(gmheap))
    and the latest C(Allocated NNNMB shared memory) (or C(Failed to allocate NNNMB shared memory)) line of its C(messages.log).
  - Reports how C(vm.swappiness), C(vm.dirty_background_ratio), C(vm.dirty_ratio) and transparent huge pages compare with the
    values recommended for IRIS hosts (5, 5, 10 and C(never)).
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.iris.CONTROL
  - irisops.iris.iris.TOOL_RESULT
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details:
      - Reads the runtime value, the file and the instance, computes every change and writes nothing.
  diff_mode:
    support: full
    details:
      - Two diffs, the runtime value (C(<proc_root>/<path> (runtime))) and the persisted file (C(<file> (content))).
  idempotent:
    support: full
  platform:
    support: full
    platforms: posix
    details:
      - Linux (C(/proc/sys)). O(proc_root) and O(sysctl_dir) point elsewhere for tests and emulated instances.
options:
  name:
    description:
      - Dotted kernel parameter name, for example C(kernel.shmmax) or C(vm.nr_hugepages).
      - Must match C(^[a-z0-9_]+(\.[a-z0-9_-]+)+$); a path or anything else is refused.
    type: str
    required: true
  value:
    description:
      - The value to set. Several values (like C(kernel.sem)) are separated by spaces; integers compare by value
        and whitespace does not matter (C(250 32000) equals C(250<TAB>32000)).
      - V(auto) (with O(instance)) for C(vm.nr_hugepages), C(kernel.shmmax) and C(kernel.shmall) computes what the instance
        needs, plus O(auto_margin_percent). V(auto) never lowers a value that is already high enough.
    type: raw
    required: true
  current_value:
    description:
      - Guard. Fail without changing anything unless the current value equals this, or already equals the value to set
        (a re-run of an applied change is ok and changes nothing that is already in place).
      - Compared with the runtime value, or with the persisted value when the runtime one cannot be read and O(apply=false).
    type: raw
  min_value:
    description: Refuse (without changing anything) a value below this. The value must then be an integer.
    type: int
  max_value:
    description: Refuse (without changing anything) a value above this. The value must then be an integer.
    type: int
  apply:
    description: Change the runtime value through O(proc_root) and read it back.
    type: bool
    default: true
  persist:
    description: Write the value to O(sysctl_dir)/O(sysctl_file) so it survives a reboot (after the runtime value is verified).
    type: bool
    default: true
  sysctl_dir:
    description: Directory of sysctl configuration files.
    type: path
    default: /etc/sysctl.d
  sysctl_file:
    description:
      - File name inside O(sysctl_dir) to persist to. It must end in C(.conf) (systemd-sysctl ignores other files).
      - Files sorting after it in O(sysctl_dir) that set the same key win at boot; they are reported in RV(overridden_by).
    type: str
    default: 99-irisops-iris.conf
  backup:
    description: Keep a timestamped copy of the persisted file when this run changes it.
    type: bool
    default: false
  proc_root:
    description:
      - The directory that holds kernel parameters, C(/proc/sys) on a real host. An emulated instance reads its huge pages here.
      - Huge page size comes from C(meminfo) next to it and the transparent huge pages setting from
        C(../../sys/kernel/mm/transparent_hugepage/enabled) relative to it, like on a real host.
    type: path
    default: /proc/sys
  allow_dangerous:
    description:
      - Allow setting C(vm.nr_hugepages), C(kernel.shmmax) or C(kernel.shmall) below what O(instance) needs.
      - Without it such a change fails and nothing is changed; with it the change is made and a warning is issued.
    type: bool
    default: false
  instance:
    description:
      - IRIS instance (as listed by C(iris qlist)) whose shared memory sizes V(auto) and the danger check.
    type: str
  auto_margin_percent:
    description: Head room added to the instance's shared memory need for V(auto) and the danger check.
    type: int
    default: 5
  hugepage_size_kb:
    description:
      - Huge page size in KB. By default the C(Hugepagesize) line of C(meminfo) next to O(proc_root), else 2048.
    type: int
notes:
  - Writing kernel parameters needs root or CAP_SYS_ADMIN; use O(ignore:become=true).
  - A permission error, a value the kernel rejects or a read-back that differs (for example C(vm.nr_hugepages) the kernel
    could only partly reserve because memory is fragmented) fails the task with both values and restores the previous state.
seealso:
  - module: ansible.posix.sysctl
  - name: Linux kernel settings for IRIS
    description: docs/kernel_param.md in this collection.
    link: https://docs.intersystems.com/irislatest/csp/docbook/DocBook.UI.Page.cls?KEY=GCI_prepare_install
"""

EXAMPLES = r"""
- name: Reserve the huge pages instance IRIS needs, now and at boot
  irisops.iris.kernel_param:
    name: vm.nr_hugepages
    value: auto
    instance: IRIS
  become: true

- name: Lower swappiness only if nobody changed it meanwhile
  irisops.iris.kernel_param:
    name: vm.swappiness
    value: 5
    current_value: 60
  become: true

- name: Let a large shared memory segment through, within bounds
  irisops.iris.kernel_param:
    name: kernel.shmmax
    value: 8589934592
    min_value: 134217728
    max_value: 68719476736
    backup: true
  become: true

- name: Fix the huge pages fault of an emulated instance (its own proc root, no root needed)
  irisops.iris.kernel_param:
    name: vm.nr_hugepages
    value: auto
    instance: EMU1
    proc_root: /var/lib/iris-emulator/EMU1/proc/sys
    persist: false
"""

RETURN = r"""
name:
  description: The kernel parameter.
  returned: always
  type: str
  sample: vm.nr_hugepages
value:
  description: The value set (or that would be set); for V(auto) the computed one.
  returned: success
  type: str
  sample: "168"
proc_path:
  description: The runtime file of the parameter.
  returned: success
  type: str
  sample: /proc/sys/vm/nr_hugepages
runtime_value_before:
  description: Runtime value before the run, null when it could not be read (only allowed with O(apply=false)).
  returned: success
  type: str
  sample: "0"
runtime_value:
  description: Runtime value after the run (read back), or the one that would result in check mode.
  returned: success
  type: str
  sample: "168"
sysctl_file:
  description: The persisted file, null with O(persist=false).
  returned: success
  type: str
  sample: /etc/sysctl.d/99-irisops-iris.conf
persisted_value_before:
  description: The effective value in RV(sysctl_file) before the run (its last line for the key), null when absent.
  returned: success
  type: str
  sample: null
persisted_value:
  description: The effective value in RV(sysctl_file) after the run.
  returned: success
  type: str
  sample: "168"
duplicates:
  description: Earlier lines in RV(sysctl_file) setting the same key; kept as they are (the last line wins).
  returned: success
  type: int
  sample: 0
overridden_by:
  description: Files in O(sysctl_dir) sorting after RV(sysctl_file) that set the same key and so win at boot.
  returned: success
  type: list
  elements: str
  sample: []
backup_file:
  description: The backup of RV(sysctl_file), when O(backup=true) and the file changed.
  returned: changed and backup requested
  type: str
  sample: /etc/sysctl.d/99-irisops-iris.conf.12345.2026-11-25@12:00:00~
shared_memory:
  description: What O(instance) needs, when O(instance) is set.
  returned: when instance is set
  type: dict
  contains:
    instance:
      description: Instance name as qlist prints it.
      type: str
    required_mb:
      description: The need in MB (larger of the two sources), before the margin.
      type: int
    cpf_estimate_mb:
      description: Estimate from the CPF, null when the CPF is missing.
      type: int
    log_allocated_mb:
      description: MB of the latest allocation line of messages.log, null when there is none.
      type: int
    required_value:
      description: The value of O(name) the need translates to (with the margin), null for other parameters.
      type: str
    hugepage_size_kb:
      description: Huge page size used.
      type: int
recommendations:
  description:
    - How the value (and transparent huge pages for C(vm.nr_hugepages)) compares with the recommendations for IRIS hosts.
    - They become warnings only when this run changes (or would change) the value.
  returned: success
  type: list
  elements: str
  sample: ["vm.swappiness=60 is above the 5 recommended for IRIS hosts"]
tool_result:
  description: ToolResult of this run (status, changes with old and new values, error message, duration, trace id).
  returned: always
  type: dict
  sample: {"tool": "kernel_param", "status": "success", "changes": [{"target": "/proc/sys/vm/swappiness",
           "old_value": "60", "new_value": "5"}], "error_message": null, "requires_user_action": false,
           "dry_run": false, "duration_ms": 3, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
"""

import grp
import math
import os
import pwd
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import iris_log, sysctl
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import estimate_shared_memory
from ansible_collections.irisops.iris.plugins.module_utils.durable import error_chain
from ansible_collections.irisops.iris.plugins.module_utils.iris_events import ALLOCATION_PATTERN
from ansible_collections.irisops.iris.plugins.module_utils.file_attributes import apply_file_attributes
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import (
    CONTROL_ARGUMENT_SPEC, Instance, IrisControl, IrisControlError)
from ansible_collections.irisops.iris.plugins.module_utils.iris_sysctl import MEMORY_PARAMETERS
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC, ToolResultBuilder

AUTO = "auto"
MIB = 1024 * 1024
DEFAULT_HUGEPAGE_KB = 2048
# Upper bounds recommended for IRIS hosts (docs/kernel_param.md lists the sources).
RECOMMENDED_MAXIMUM = {"vm.swappiness": 5, "vm.dirty_background_ratio": 5, "vm.dirty_ratio": 10}


class ModuleFailure(Exception):
    """Stop with this message; whatever the run had changed has been put back (or the message says why not)."""


@dataclass(frozen=True)
class MemoryNeed:
    instance: str
    required_mb: int
    cpf_estimate_mb: Optional[int]
    log_allocated_mb: Optional[int]
    hugepage_size_kb: int
    margin_percent: int

    def value_for(self, name: str) -> Optional[int]:
        """``name``'s value that fits the need plus the margin, None for other parameters."""
        need_bytes = int(math.ceil(self.required_mb * MIB * (100 + self.margin_percent) / 100.0))
        if name == "vm.nr_hugepages":
            return int(math.ceil(need_bytes / (self.hugepage_size_kb * 1024.0)))
        if name == "kernel.shmmax":
            return need_bytes
        if name == "kernel.shmall":
            return int(math.ceil(need_bytes / float(os.sysconf("SC_PAGE_SIZE"))))
        return None

    def as_dict(self, name: str) -> Dict[str, Any]:
        required = self.value_for(name)
        return {"instance": self.instance, "required_mb": self.required_mb, "cpf_estimate_mb": self.cpf_estimate_mb,
                "log_allocated_mb": self.log_allocated_mb, "hugepage_size_kb": self.hugepage_size_kb,
                "required_value": None if required is None else str(required)}


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


def _text_value(field_name: str, raw: Any) -> str:
    """YAML gives ints or strings; anything else is a mistake worth naming."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError("%s: must be an integer or a string, got %s %r" % (field_name, type(raw).__name__, raw))
    text = str(raw).strip()
    sysctl.validate_value(field_name, text)
    return text


def _parent_file(proc_root: str, *relative: str) -> str:
    return os.path.normpath(os.path.join(proc_root, *relative))


def hugepage_size_kb(proc_root: str) -> int:
    """``Hugepagesize`` from the meminfo beside the proc root (``/proc/meminfo`` for ``/proc/sys``)."""
    try:
        with open(_parent_file(proc_root, "..", "meminfo"), "r") as handle:
            for line in handle:
                if line.startswith("Hugepagesize:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_HUGEPAGE_KB


def transparent_hugepages(proc_root: str) -> Optional[str]:
    """The selected THP mode ('always', 'madvise', 'never'), None when the file is absent."""
    try:
        with open(_parent_file(proc_root, "..", "..", "sys", "kernel", "mm", "transparent_hugepage", "enabled")) as handle:
            match = re.search(r"\[(\w+)\]", handle.read())
    except OSError:
        return None
    return match.group(1) if match else None


def last_allocation_mb(messages_log: str) -> Optional[int]:
    """MB of the latest startup allocation (or failed large-page attempt) in messages.log, read from the end."""
    try:
        with open(messages_log, "rb") as stream:
            end = stream.seek(0, os.SEEK_END)
            for _offset, raw in iris_log.iter_lines_backwards(stream, end):
                try:
                    entry = iris_log.parse_header(iris_log.split_line(iris_log.decode_line(raw)))
                except iris_log.LogFormatError:
                    continue
                match = ALLOCATION_PATTERN.match(entry.text) if entry is not None else None
                if match:
                    return int(match.group(1))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ModuleFailure("instance: cannot read %s: %s" % (messages_log, exc.strerror))
    return None


def cpf_estimate_mb(cpf_path: str) -> Optional[int]:
    try:
        with open(cpf_path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ModuleFailure("instance: cannot read %s: %s" % (cpf_path, exc.strerror))
    try:
        return estimate_shared_memory(CpfDocument.parse(data)).total_mb
    except ValueError as exc:
        raise ModuleFailure("instance: %s: %s" % (cpf_path, exc))


def memory_need(instance: Instance, page_kb: int, margin_percent: int) -> MemoryNeed:
    estimate = cpf_estimate_mb(instance.cpf_path)
    allocated = last_allocation_mb(instance.messages_log_path)
    known = [mb for mb in (estimate, allocated) if mb is not None]
    if not known:
        raise ModuleFailure("instance: cannot size shared memory of %s: no CPF at %s and no 'Allocated ...MB shared memory' "
                            "line in %s" % (instance.name, instance.cpf_path, instance.messages_log_path))
    return MemoryNeed(instance.name, max(known), estimate, allocated, page_kb, margin_percent)


def resolve_instance(module: AnsibleModule, name: str) -> Instance:
    try:
        control = IrisControl.from_module(module)
        return control.instance(name)
    except IrisControlError as exc:
        raise ModuleFailure("instance: %s" % exc)


def auto_value(required: int, runtime_before: Optional[str]) -> str:
    """What ``value: auto`` sets: the need, unless the runtime value already fits (auto never lowers)."""
    if runtime_before is not None and re.match(r"^\d+$", runtime_before.strip()) and int(runtime_before) >= required:
        return runtime_before.strip()
    return str(required)


def check_range(target: str, min_value: Optional[int], max_value: Optional[int]) -> None:
    if min_value is None and max_value is None:
        return
    number = sysctl.as_integer("value", target)
    if min_value is not None and number < min_value:
        raise ModuleFailure("value: %d is below min_value %d; nothing changed" % (number, min_value))
    if max_value is not None and number > max_value:
        raise ModuleFailure("value: %d is above max_value %d; nothing changed" % (number, max_value))


def danger(name: str, target: str, before: Optional[str], need: Optional[MemoryNeed]) -> Optional[str]:
    """Why setting ``target`` would starve the instance, None when it would not."""
    required = need.value_for(name) if need is not None else None
    if need is None or required is None:
        return None
    number = sysctl.as_integer("value", target)
    # Below the need is dangerous whichever way it moves: raising 0 to too few pages starves the instance too.
    unchanged = before is not None and re.match(r"^\d+$", before.strip()) is not None and number == int(before)
    if number >= required or unchanged:
        return None
    return ("%s=%d is below the %d instance %s needs for %dMB shared memory (+%d%%)"
            % (name, number, required, need.instance, need.required_mb, need.margin_percent))


def recommendations(name: str, target: str, proc_root: str) -> List[str]:
    notes = []
    maximum = RECOMMENDED_MAXIMUM.get(name)
    if maximum is not None and re.match(r"^\d+$", target) and int(target) > maximum:
        notes.append("%s=%s is above the %d recommended for IRIS hosts" % (name, target, maximum))
    if name == "vm.nr_hugepages":
        mode = transparent_hugepages(proc_root)
        if mode is not None and mode != "never":
            notes.append("transparent huge pages are '%s'; 'never' is recommended for IRIS hosts "
                         "(transparent_hugepage=never on the kernel command line)" % mode)
    return notes


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


def check_file_owner(params: Dict[str, Any]) -> None:
    """Unknown owner/group would fail inside Ansible after the runtime change, past our rollback: refuse them up front."""
    for option, lookup in (("owner", pwd.getpwnam), ("group", grp.getgrnam)):
        wanted = params.get(option)
        if wanted and not str(wanted).isdigit():
            try:
                lookup(wanted)
            except KeyError:
                raise ModuleFailure("%s: %r does not exist on this host; nothing changed" % (option, wanted))


def validated_request(params: Dict[str, Any]) -> Tuple[str, str, Optional[str]]:
    """(name, value, current_value guard) after every check that needs no reading of the host."""
    name = params["name"]
    sysctl.validate_name(name)
    value = _text_value("value", params["value"])
    guard = None if params["current_value"] is None else _text_value("current_value", params["current_value"])
    if not params["apply"] and not params["persist"]:
        raise ModuleFailure("apply, persist: at least one must be true, otherwise there is nothing to do")
    if params["auto_margin_percent"] < 0:
        raise ModuleFailure("auto_margin_percent: must be >= 0, got %d" % params["auto_margin_percent"])
    if value == AUTO and name not in MEMORY_PARAMETERS:
        raise ModuleFailure("value: 'auto' is only defined for %s, not %s" % (", ".join(MEMORY_PARAMETERS), name))
    if value == AUTO and not params["instance"]:
        raise ModuleFailure("value: 'auto' needs instance to size shared memory")
    return name, value, guard


def read_runtime_for(proc_path: str, apply: bool) -> Optional[str]:
    """The live value; without apply a parameter this kernel lacks may still be persisted (None)."""
    try:
        return sysctl.read_runtime(proc_path)
    except sysctl.SysctlError:
        if apply:
            raise
        return None


def check_guard(name: str, guard: Optional[str], target: str, runtime_before: Optional[str],
                persisted_before: Optional[str]) -> None:
    """The current_value guard passes when the value is the expected one, or already ``target`` (applied before)."""
    if guard is None:
        return
    current, where = (runtime_before, "runtime") if runtime_before is not None else (persisted_before, "persisted")
    if not sysctl.values_equal(current, guard) and not sysctl.values_equal(current, target):
        raise ModuleFailure("current_value: expected %s (or the new value %s) but the %s value of %s is %s; nothing changed"
                            % (guard, target, where, name, current))


def instance_need(module: AnsibleModule) -> Optional[MemoryNeed]:
    params = module.params
    if not params["instance"]:
        return None
    page_kb = params["hugepage_size_kb"] or hugepage_size_kb(params["proc_root"])
    if page_kb <= 0:
        raise ModuleFailure("hugepage_size_kb: must be > 0, got %d" % page_kb)
    return memory_need(resolve_instance(module, params["instance"]), page_kb, params["auto_margin_percent"])


def make_plan(module: AnsibleModule) -> Plan:
    """Read everything and decide every change; nothing is written here."""
    params = module.params
    name, value, guard = validated_request(params)
    proc_path = sysctl.proc_path(params["proc_root"], name)
    runtime_before = read_runtime_for(proc_path, params["apply"])
    file_path = file_path_of(params["sysctl_dir"], params["sysctl_file"]) if params["persist"] else None
    if file_path:
        check_file_owner(params)
    file_before = sysctl.read_file(os.path.realpath(file_path)) if file_path else None
    document = sysctl.SysctlFile(file_before or b"")
    persisted_before = document.get(name)

    need = instance_need(module)
    required = need.value_for(name) if need is not None else None
    # make_plan accepted auto only for a memory parameter with an instance, so required is known here.
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
        recommendations=recommendations(name, target, params["proc_root"]), dangerous=dangerous, need=need)


def apply_runtime(plan: Plan) -> None:
    """Write, read back, and put the old value back when the kernel did not take the new one."""
    sysctl.write_runtime(plan.proc_path, plan.target)
    observed = sysctl.read_runtime(plan.proc_path)
    if sysctl.values_equal(observed, plan.target):
        return
    restored = restore_runtime(plan)
    hint = " (the kernel could not reserve them all: memory is fragmented or short; free memory or reboot)" \
        if plan.name == "vm.nr_hugepages" else ""
    raise ModuleFailure("read-back mismatch for %s: wrote %r but the kernel reports %r%s; %s"
                        % (plan.proc_path, plan.target, observed, hint, restored))


def restore_runtime(plan: Plan) -> str:
    if plan.runtime_before is None:
        return "runtime value left as the kernel reports it"
    try:
        sysctl.write_runtime(plan.proc_path, plan.runtime_before)
    except sysctl.SysctlError as exc:
        return "restoring the runtime value %r failed too: %s" % (plan.runtime_before, exc)
    return "runtime value restored to %r" % plan.runtime_before


def persist(module: AnsibleModule, plan: Plan) -> Optional[str]:
    """Replace the file atomically (symlinks keep pointing where they did); returns the backup path."""
    if plan.file_path is None or plan.file_after is None:
        return None
    real_path = os.path.realpath(plan.file_path)
    temp_path = sysctl.write_temp_beside(real_path, plan.file_after)
    try:
        backup_file = module.backup_local(real_path) if module.params["backup"] and plan.file_before is not None else None
        module.atomic_move(temp_path, real_path, unsafe_writes=module.params["unsafe_writes"])
    except Exception as exc:  # ansible-core raises a bare Exception with the OSError as its cause
        raise sysctl.SysctlError("cannot replace %s: %s" % (real_path, error_chain(exc))) from None
    finally:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
    return backup_file or None


def build_diff(plan: Plan) -> List[Dict[str, str]]:
    diffs = []
    if plan.runtime_changes:
        diffs.append({"before_header": "%s (runtime)" % plan.proc_path, "after_header": "%s (runtime)" % plan.proc_path,
                      "before": "%s\n" % (plan.runtime_before or ""), "after": "%s\n" % plan.target})
    if plan.file_path and plan.file_changes:
        header = "%s (content)" % plan.file_path
        diffs.append({"before_header": header, "after_header": header,
                      "before": (plan.file_before or b"").decode("utf-8", "replace"),
                      "after": (plan.file_after or b"").decode("utf-8", "replace")})
    return diffs


def record_changes(builder: ToolResultBuilder, plan: Plan) -> None:
    if plan.runtime_changes:
        builder.add_change(plan.proc_path, plan.runtime_before, plan.target)
    if plan.file_path and plan.file_changes:
        builder.add_change("%s:%s" % (plan.file_path, plan.name), plan.persisted_before, plan.target)


def run(module: AnsibleModule, builder: ToolResultBuilder) -> Dict[str, Any]:
    plan = make_plan(module)
    backup_file = None
    if not module.check_mode:
        if plan.runtime_changes:
            apply_runtime(plan)
        try:
            if plan.file_changes:
                backup_file = persist(module, plan)
        except sysctl.SysctlError as exc:
            restored = restore_runtime(plan) if plan.runtime_changes else "runtime value untouched"
            raise ModuleFailure("%s; file left as it was, %s" % (exc, restored))
    # In check mode too, so a preview and the real run agree on an attribute-only difference.
    fs_changed, attributes_diff = apply_file_attributes(module, plan.file_path, False) if plan.file_path else (False, None)
    record_changes(builder, plan)
    for note in plan.recommendations if plan.changed else []:
        module.warn(note)
    if plan.dangerous:
        module.warn("allow_dangerous: " + plan.dangerous)
    result: Dict[str, Any] = {
        "changed": plan.changed or fs_changed, "name": plan.name, "value": plan.target, "proc_path": plan.proc_path,
        "runtime_value_before": plan.runtime_before,
        "runtime_value": plan.target if plan.runtime_changes else plan.runtime_before,
        "sysctl_file": plan.file_path, "persisted_value_before": plan.persisted_before,
        "persisted_value": plan.target if plan.file_path else plan.persisted_before,
        "duplicates": plan.duplicates, "overridden_by": plan.overridden_by, "recommendations": plan.recommendations,
    }
    if backup_file:
        result["backup_file"] = backup_file
    if plan.need is not None:
        result["shared_memory"] = plan.need.as_dict(plan.name)
    if module._diff:
        result["diff"] = build_diff(plan) + ([attributes_diff] if attributes_diff else [])
    return result


def argument_spec() -> Dict[str, Any]:
    return dict(
        name=dict(type="str", required=True),
        value=dict(type="raw", required=True),
        current_value=dict(type="raw"),
        min_value=dict(type="int"),
        max_value=dict(type="int"),
        apply=dict(type="bool", default=True),
        persist=dict(type="bool", default=True),
        sysctl_dir=dict(type="path", default="/etc/sysctl.d"),
        sysctl_file=dict(type="str", default="99-irisops-iris.conf"),
        backup=dict(type="bool", default=False),
        proc_root=dict(type="path", default="/proc/sys"),
        allow_dangerous=dict(type="bool", default=False),
        instance=dict(type="str"),
        auto_margin_percent=dict(type="int", default=5),
        hugepage_size_kb=dict(type="int"),
        **CONTROL_ARGUMENT_SPEC,
        **TOOL_RESULT_ARGUMENT_SPEC,
    )


class KernelParamModule(AnsibleModule):  # type: ignore[misc]
    """Refuses control characters in the values before AnsibleModule logs the invocation to syslog, where a NUL
    fails with an error that names no option."""

    def _log_invocation(self) -> None:
        for option in ("value", "current_value"):
            raw = self.params.get(option)
            if isinstance(raw, str) and raw.strip():
                try:
                    sysctl.validate_value(option, raw)
                except ValueError as exc:
                    self.fail_json(msg="%s; nothing changed" % exc, name=self.params["name"])
        super()._log_invocation()


def main() -> None:
    module = KernelParamModule(argument_spec=argument_spec(), supports_check_mode=True, add_file_common_args=True)
    builder = ToolResultBuilder("kernel_param", module.params["trace_id"])
    try:
        result = run(module, builder)
    except (ModuleFailure, ValueError, sysctl.SysctlError) as exc:
        message = str(exc)
        module.fail_json(msg=message, name=module.params["name"],
                         tool_result=builder.build("failure", error_message=message, dry_run=module.check_mode,
                                                   requires_user_action=isinstance(exc, sysctl.SysctlPermissionError)))
    module.exit_json(tool_result=builder.build("success", dry_run=module.check_mode), **result)


if __name__ == "__main__":
    main()
