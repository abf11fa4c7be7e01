# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the remediate role decides during a run, from its plan and the results its steps registered.

The planner (planner.py) decides before anything runs; these functions decide while the role runs: which hosts of
the play share an instance, whether the restart is due, what the rescue restores and reports. The role calls them
through the filters in plugins/filter/remediation.py. Standard library only: the filters import this module, and
ansible-test's import test loads them without the controller requirements.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Optional, Sequence

Result = Mapping[str, Any]


def instance_key(host: str, host_vars: Mapping[str, Any]) -> str:
    """``'<machine> <INSTANCE>'`` for one inventory host: two hosts with one key would remediate the same instance.

    The machine is the host's ``ansible_host``, else the controller (``localhost``) for the local connection, else its
    inventory name. The instance is the one its plan names (IRIS names are case-insensitive), else the host's name.
    """
    if "ansible_host" in host_vars:
        machine = host_vars["ansible_host"]
    elif host_vars.get("ansible_connection", "") == "local":
        machine = "localhost"
    else:
        machine = host
    instance = _dig(host_vars, "remediate_plan", "plan", "instance")
    return "%s %s" % (machine, str(host if instance is None else instance).upper())


def shared_instances(hosts: Sequence[str], hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """host -> its instance key (instance_key), for each of ``hosts`` whose key another of them has too."""
    keys = {host: instance_key(host, hostvars[host]) for host in hosts}
    counts = Counter(keys.values())
    return {host: key for host, key in keys.items() if counts[key] > 1}


def changed_items(registered: Sequence[Result]) -> list[Result]:
    """The item results that changed something, in run order, of registered loop results (one per loop task).

    A loop that did not run (registered as ``{}``) or ran no item has none; a failed or skipped item did not change.
    """
    return [item for result in registered for item in result.get("results", []) if item.get("changed")]


def sysctl_restore(kernel_changed: Sequence[Result]) -> dict[str, str]:
    """The sysctl file to put back and its backup, ``{}`` when no kernel change touched the persisted file.

    The first result that changed the persisted value knows the file as it was before this run: its backup, or no
    backup (``backup: ''``) when the file did not exist, so the rescue removes it.
    """
    for result in kernel_changed:
        if result.get("sysctl_file") and result.get("persisted_value_before") != result.get("persisted_value"):
            return {"file": result["sysctl_file"], "backup": result.get("backup_file") or ""}
    return {}


def changed_anything(cpf: Result, kernel_changed: Sequence[Result]) -> bool:
    """Whether this run changed (or in check mode would change) the CPF or a kernel parameter."""
    return bool(cpf.get("changed")) or len(kernel_changed) > 0


def restart_needed(plan: Result, cpf: Result, kernel_changed: Sequence[Result]) -> bool:
    """Whether this run changed what an implied restart is for.

    A CPF value IRIS reads only at start, a kernel value that sizes shared memory, or, when the command sets
    ``requires_restart`` (the plan's ``restart_on_any_change``), a change to the CPF file or any kernel value. A CPF
    change merged into the running instance is in effect already.
    """
    if cpf.get("restart_required") or any(_dig(result, "item", "requires_restart") for result in kernel_changed):
        return True
    cpf_file_changed = bool(cpf.get("changed")) and cpf.get("apply", "file") == "file"
    return bool(plan.get("restart_on_any_change")) and (cpf_file_changed or len(kernel_changed) > 0)


def restart_due(plan: Result, cpf: Result, kernel_changed: Sequence[Result]) -> bool:
    """Whether the plan's restart step runs: a command applied twice does not bounce the instance twice.

    An implied restart runs when restart_needed; an explicit one when this run changed anything, or when the restart
    is the command's only step.
    """
    if plan.get("restart") is None:
        return False
    if plan.get("restart_implied"):
        return restart_needed(plan, cpf, kernel_changed)
    return len(plan.get("steps", [])) == 1 or changed_anything(cpf, kernel_changed)


def rolled_back(kernel_changed: Sequence[Result], restored_active: Result, restored_cpf: Result, cpf: Result,
                sysctl_restore: Mapping[str, str]) -> list[str]:
    """What the rescue put back, in its order, for the failure report.

    The parameters whose live value was merged back, the CPF when its backup was copied back, every kernel parameter
    this run changed (their runtime values) and the sysctl file (sysctl_restore) when there was one to restore.
    """
    active = ["%s (active value)" % item["item"]["parameter"] for item in restored_active.get("results", [])
              if "skipped" not in item]
    cpf_file = [cpf["path"]] if restored_cpf and not restored_cpf.get("skipped") else []
    kernel = [result["name"] for result in kernel_changed]
    sysctl = [sysctl_restore["file"]] if sysctl_restore else []
    return active + cpf_file + kernel + sysctl


def _dig(data: Mapping[str, Any], *keys: str) -> Optional[Any]:
    """``data[k1][k2]...``, or None where a level is missing or not a mapping."""
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value
