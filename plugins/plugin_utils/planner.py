# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RemediationCommand -> ordered, validated steps (controller side).

Everything a command asks for is checked here before anything runs: the published contract, the CPF
parameter catalog (known section and parameter, type, range, read-only, dangerous), kernel value
rules and conflicts between steps. The result says which module runs when; a restart needed by any
change (or asked for by the command) is the last step, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ansible_collections.irisops.iris.plugins.module_utils import cpf_catalog
from ansible_collections.irisops.iris.plugins.module_utils.cpf import check_text
from ansible_collections.irisops.iris.plugins.module_utils.iris_sysctl import MEMORY_PARAMETERS, kernel_parameter_problem
from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import check_command
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import (
    CpfAction, KernelAction, RemediationCommand, RestartAction)

CPF_MODULE = "irisops.iris.cpf"
KERNEL_MODULE = "irisops.iris.kernel_param"
RESTART_MODULE = "irisops.iris.instance_restart"
# Bounds that keep a hostile command cheap to refuse and a plan readable.
MAX_CHANGES_PER_ACTION = 64
AUTO = "auto"

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class CpfSetting:
    """One validated CPF change, in the shape of the cpf module's ``settings`` entries."""

    section: str
    parameter: str
    value: str
    current_value: Optional[str]
    requires_restart: bool

    @property
    def target(self) -> str:
        return "[%s] %s" % (self.section, self.parameter)

    def module_args(self) -> dict[str, Any]:
        return {"section": self.section, "parameter": self.parameter, "value": self.value,
                "current_value": self.current_value}


@dataclass(frozen=True)
class KernelSetting:
    """One validated kernel parameter change (one kernel_param call)."""

    name: str
    value: Union[int, str]
    current_value: Optional[int]
    min_value: Optional[int]
    max_value: Optional[int]
    requires_restart: bool

    def module_args(self) -> dict[str, Any]:
        # Unset bounds are left out (not null): before ansible-core 2.19 a null renders as '' in a task argument.
        optional = {"current_value": self.current_value, "min_value": self.min_value, "max_value": self.max_value}
        return dict({"name": self.name, "value": self.value},
                    **{name: value for name, value in optional.items() if value is not None})


@dataclass(frozen=True)
class Step:
    """One module call of the plan (the kernel step loops over its settings)."""

    number: int
    action: str
    module: str
    requires_restart: bool = False
    implied: bool = False
    cpf_settings: tuple[CpfSetting, ...] = ()
    kernel_settings: tuple[KernelSetting, ...] = ()
    restart: Optional[RestartAction] = None

    @property
    def targets(self) -> list[str]:
        if self.action == "cpf":
            return [setting.target for setting in self.cpf_settings]
        if self.action == "kernel":
            return [setting.name for setting in self.kernel_settings]
        return ["instance restart"]

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "action": self.action, "module": self.module, "targets": self.targets,
                "requires_restart": self.requires_restart, "implied": self.implied}


@dataclass(frozen=True)
class RemediationPlan:
    command: RemediationCommand
    steps: tuple[Step, ...]
    restart_reasons: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    live_activation: bool = True

    @property
    def requires_restart(self) -> bool:
        return any(step.action == "restart" for step in self.steps)

    def _step(self, action: str) -> Optional[Step]:
        return next((step for step in self.steps if step.action == action), None)

    def as_dict(self) -> dict[str, Any]:
        """The plan as the remediate role consumes it (JSON-serialisable)."""
        cpf = self._step("cpf")
        kernel = self._step("kernel")
        restart = self._step("restart")
        # requires_restart rides along so the role restarts for an implied reason only when such a value changed.
        kernel_args = [dict(setting.module_args(), requires_restart=setting.requires_restart)
                       for setting in kernel.kernel_settings] if kernel else []
        kernel_first = kernel is not None and (cpf is None or kernel.number < cpf.number)
        return {
            "command_id": self.command.command_id,
            "trace_id": self.command.trace_id,
            "instance": self.command.instance,
            "error_type": self.command.error_type.value,
            "severity": self.command.severity,
            "reason": self.command.reason,
            "requires_restart": self.requires_restart,
            "restart_reasons": list(self.restart_reasons),
            "notes": list(self.notes),
            # auto: iris merge on a running instance (live changes in effect at once), the file otherwise.
            "cpf_apply": "auto" if self.live_activation else "file",
            "steps": [step.as_dict() for step in self.steps],
            "cpf_settings": [setting.module_args() for setting in cpf.cpf_settings] if cpf else [],
            "kernel_before_cpf": kernel_args if kernel_first else [],
            "kernel_after_cpf": [] if kernel_first else kernel_args,
            "restart": restart.restart.model_dump() if restart and restart.restart else None,
            "restart_implied": bool(restart and restart.implied),
            "restart_on_any_change": bool(restart and restart.implied and self.command.requires_restart),
        }


def plan_document(document: Any, allow_dangerous: bool = False, allow_kernel_parameters: tuple[str, ...] = (),
                  live_activation: bool = True) -> RemediationPlan:
    """Read a raw command (JSON bytes, text or data) with the one strict reader, then plan it."""
    return plan_command(check_command(document), allow_dangerous, allow_kernel_parameters, live_activation)


def plan_command(command: RemediationCommand, allow_dangerous: bool = False,
                 allow_kernel_parameters: tuple[str, ...] = (), live_activation: bool = True) -> RemediationPlan:
    """Ordered steps for ``command``; ValidationError lists every problem (JSON path, reason).

    ``allow_dangerous``, ``allow_kernel_parameters`` and ``live_activation`` are the operator's, never the command's.
    With ``live_activation`` (the cpf step applies a running instance's changes with ``iris merge``), a command whose
    every change IRIS activates live needs no restart, whatever its ``requires_restart`` says."""
    problems: Problems = []
    position = {action.action: index for index, action in enumerate(command.parameters)}
    steps: list[Step] = []
    restart_reasons: list[str] = []
    notes: list[str] = []
    explicit_restart: Optional[RestartAction] = None
    ordered = command.ordered_actions()
    for order, action in enumerate(ordered):
        path = "$.parameters[%d]" % position[action.action]
        if isinstance(action, RestartAction):
            explicit_restart = action
            if order != len(ordered) - 1:
                problems.append(("$.execution_order", "restart must be the last action: it is what makes the earlier "
                                                      "changes take effect, and nothing may run after it"))
            continue
        if isinstance(action, CpfAction):
            cpf_settings = tuple(_cpf_settings(action, path, allow_dangerous, problems))
            steps.append(Step(len(steps) + 1, "cpf", CPF_MODULE, cpf_settings=cpf_settings,
                              requires_restart=any(setting.requires_restart for setting in cpf_settings)))
            restart_reasons += ["%s needs a restart" % s.target for s in cpf_settings if s.requires_restart]
        elif isinstance(action, KernelAction):
            kernel_settings = tuple(_kernel_settings(action, path, allow_kernel_parameters, problems))
            steps.append(Step(len(steps) + 1, "kernel", KERNEL_MODULE, kernel_settings=kernel_settings,
                              requires_restart=any(setting.requires_restart for setting in kernel_settings)))
            restart_reasons += ["%s sizes shared memory, which IRIS allocates at start" % s.name
                                for s in kernel_settings if s.requires_restart]
    if explicit_restart is not None:
        if not command.requires_restart:
            problems.append(("$.requires_restart", "is false, yet parameters include a restart action; "
                                                   "set it to true or remove the restart"))
        restart_reasons.insert(0, "the command includes a restart action")
    elif command.requires_restart and live_activation and not restart_reasons:
        notes.append("the command sets requires_restart, but every change takes effect live (CPF changes through "
                     "iris merge on a running instance): no restart, no approval needed")
    elif command.requires_restart:
        restart_reasons.insert(0, "the command sets requires_restart")
    if problems:
        raise ValidationError("remediation command %s refused, nothing was changed: %s" % (
            command.command_id, "; ".join("%s: %s" % problem for problem in problems)), problems)
    if restart_reasons:
        steps.append(Step(len(steps) + 1, "restart", RESTART_MODULE, implied=explicit_restart is None,
                          restart=explicit_restart or RestartAction()))
    return RemediationPlan(command=command, steps=tuple(steps), restart_reasons=tuple(restart_reasons),
                           notes=tuple(notes), live_activation=live_activation)


def _too_many(path: str, count: int, problems: Problems) -> bool:
    if count > MAX_CHANGES_PER_ACTION:
        problems.append(("%s.changes" % path, "%d changes; at most %d per action" % (count, MAX_CHANGES_PER_ACTION)))
        return True
    return False


def _cpf_settings(action: CpfAction, path: str, allow_dangerous: bool, problems: Problems) -> list[CpfSetting]:
    if _too_many(path, len(action.changes), problems):
        return []
    settings: list[CpfSetting] = []
    seen: dict[tuple[str, str], int] = {}
    for index, change in enumerate(action.changes):
        where = "%s.changes[%d]" % (path, index)
        try:
            section, spec, value = cpf_catalog.check_setting(change.section, change.parameter, change.new_value)
            if change.current_value is not None:
                check_text("current_value", change.current_value)
        except ValueError as error:
            problems.append((where, str(error)))
            continue
        if spec is None:
            # Open sections (databases, mappings, ...) hold names, not tunables: a remediation has no business there.
            problems.append((where, "[%s] %s is not a catalogued parameter; remediation only sets catalogued ones"
                             % (section, change.parameter)))
            continue
        if spec.dangerous and not allow_dangerous:
            problems.append((where, "%s is dangerous (%s); refused unless allow_dangerous is set" % (
                spec.target, spec.danger)))
            continue
        key = (spec.section.lower(), spec.name.lower())
        if key in seen:
            problems.append((where, "%s is already changed by %s.changes[%d]; conflicting changes of one parameter"
                             % (spec.target, path, seen[key])))
            continue
        seen[key] = index
        settings.append(CpfSetting(section=spec.section, parameter=spec.name, value=value or "",
                                   current_value=change.current_value, requires_restart=spec.requires_restart))
    return settings


def _kernel_settings(action: KernelAction, path: str, also_allowed: tuple[str, ...],
                     problems: Problems) -> list[KernelSetting]:
    if _too_many(path, len(action.changes), problems):
        return []
    settings: list[KernelSetting] = []
    seen: dict[str, int] = {}
    for index, change in enumerate(action.changes):
        where = "%s.changes[%d]" % (path, index)
        if change.name in seen:
            problems.append((where, "%s is already changed by %s.changes[%d]; conflicting changes of one parameter"
                             % (change.name, path, seen[change.name])))
            continue
        if change.new_value == AUTO and change.name not in MEMORY_PARAMETERS:
            problems.append(("%s.new_value" % where, "'auto' is only defined for %s" % ", ".join(MEMORY_PARAMETERS)))
            continue
        bounds = [("new_value", change.new_value), ("current_value", change.current_value),
                  ("min_value", change.min_value), ("max_value", change.max_value)]
        refused = [("%s.%s" % (where, field_name), problem) for field_name, number in bounds
                   for problem in [kernel_parameter_problem(change.name, number if isinstance(number, int) else None,
                                                            also_allowed)] if problem]
        if refused:
            problems.append(refused[0])
            continue
        seen[change.name] = index
        settings.append(KernelSetting(name=change.name, value=change.new_value, current_value=change.current_value,
                                      min_value=change.min_value, max_value=change.max_value,
                                      requires_restart=change.name in MEMORY_PARAMETERS))
    return settings


def approval_problem(plan: RemediationPlan, approved: bool, check_mode: bool) -> Optional[str]:
    """Why the plan may not run now, or None. A preview (check mode) needs no approval: it changes nothing."""
    if not plan.requires_restart or approved or check_mode:
        return None
    return ("remediation %s needs a restart of instance %s (%s) and the restart is not approved; nothing was changed. "
            "Re-run with -e approve_restart=true (or answer the approve_restart survey question) to apply it" % (
                plan.command.command_id, plan.command.instance, "; ".join(plan.restart_reasons)))
