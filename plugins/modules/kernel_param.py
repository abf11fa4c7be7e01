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

from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import sysctl
from ansible_collections.irisops.iris.plugins.module_utils._kernel_param import ModuleFailure, apply, make_plan
from ansible_collections.irisops.iris.plugins.module_utils.file_attributes import apply_file_attributes
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import CONTROL_ARGUMENT_SPEC, IrisControl
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC, ToolResultBuilder


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


def run(module: AnsibleModule, builder: ToolResultBuilder) -> Dict[str, Any]:
    """Plan (reads only), apply (not in check mode), then report what changed or would change."""
    params = module.params
    plan = make_plan(params, control=lambda: IrisControl.from_module(module))
    backup_file = None
    if not module.check_mode:
        backup_file = apply(plan, move=lambda temp, path: module.atomic_move(temp, path, unsafe_writes=params["unsafe_writes"]),
                            backup=module.backup_local if params["backup"] else None)
    # In check mode too, so a preview and the real run agree on an attribute-only difference.
    attributes_changed, attributes_diff = apply_file_attributes(module, plan.file_path, False) if plan.file_path else (False, None)
    plan.record_changes(builder)
    for warning in plan.warnings():
        module.warn(warning)
    result = plan.result(backup_file, attributes_changed)
    if module._diff:
        result["diff"] = plan.diff() + ([attributes_diff] if attributes_diff else [])
    return result


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
