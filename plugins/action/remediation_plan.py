# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.remediation_plan: validate a RemediationCommand and return its ordered steps.

Runs on the controller only. The command is read with the collection's one strict reader
(plugin_utils.command_document): from the ``command`` option, the ``remediation_command`` variable (untemplated)
or the raw ``-e`` arguments of the run, never from the variables Ansible made of a command file.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ansible import context  # type: ignore[import-untyped]
from ansible.errors import AnsibleActionFail  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.plugin_utils.action import ControllerRequirements, IrisOpsActionBase
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError

REQUIREMENTS = ControllerRequirements("pydantic and jsonschema")
with REQUIREMENTS.imported():
    from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import (
        COMMAND_VARIABLE, check_command, command_from_extra_vars, refused_document)
    from ansible_collections.irisops.iris.plugins.plugin_utils.models import RemediationCommand, utc_now
    from ansible_collections.irisops.iris.plugins.plugin_utils.planner import RemediationPlan, approval_problem, plan_command
    from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact
    from ansible_collections.irisops.iris.plugins.plugin_utils.workflow_trace import plain_identity

# A variable reference such as {{ cmd }}, {{ item.command }} or {{ event['payload'] }} (no filters, no calls).
VARIABLE_REFERENCE = re.compile(r"""^\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\.\d+|\[\d+\]|\['[^'\]]*'\]|\["[^"\]]*"\])*)\s*\}\}$""")
PATH_TOKEN = re.compile(r"""([A-Za-z_]\w*)|\.(\d+)|\[(\d+)\]|\['([^'\]]*)'\]|\["([^"\]]*)"\]""")
MAX_REFERENCE_DEPTH = 8


class ActionModule(IrisOpsActionBase):
    TOOL = "remediation_plan"
    REQUIREMENTS = REQUIREMENTS
    ARGUMENT_SPEC: dict[str, Any] = dict(
        command=dict(type="raw"),
        approve_restart=dict(type="bool", default=False),
        allow_dangerous=dict(type="bool", default=False),
        allow_kernel_parameters=dict(type="list", elements="str", default=[]),
        cpf_apply=dict(type="str", choices=["auto", "file"], default="auto"),
        instance=dict(type="str"),
    )

    def perform(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        started_at = utc_now().isoformat()
        raw = args["command"] if args["command"] is not None else task_vars.get(COMMAND_VARIABLE)
        arguments = tuple(context.CLIARGS.get("extra_vars", ()))
        # The command's trace id and names, kept on a refusal too, so its trace joins the rest of the loop.
        identity: Optional[dict[str, Optional[str]]] = None
        try:
            if raw is not None:
                raw = resolve_reference(raw, task_vars)
            identity = plain_identity(raw if raw is not None else refused_document(arguments))
            self.use_trace_id(identity["trace_id"])
            command = check_command(raw) if raw is not None else command_from_cli(arguments)
            identity.update(command_id=command.command_id, instance=command.instance, trace_id=command.trace_id)
            self.use_trace_id(command.trace_id)
            plan = plan_command(command, args["allow_dangerous"], tuple(args["allow_kernel_parameters"]),
                                live_activation=args["cpf_apply"] == "auto")
            if args["instance"] is not None and args["instance"] != plan.command.instance:
                raise ValidationError("command is for instance %s but this host is instance %s; nothing was changed"
                                      % (plan.command.instance, args["instance"]),
                                      [("$.instance", "does not match the host's instance %s" % args["instance"])])
        except ValidationError as error:
            return self._refused(error, started_at, identity)
        refusal = approval_problem(plan, args["approve_restart"], self.check_mode)
        if refusal is not None:
            return self._refused(ValidationError(refusal, [("approve_restart", "needed for the restart")]), started_at,
                                 identity, requires_user_action=True)
        plan_dict = plan.as_dict()
        return dict(started_at=started_at, changed=False, plan=redact(plan_dict), check_mode=self.check_mode,
                    msg=summary(plan_dict, self.check_mode), preview=redact(preview(plan, self.check_mode)),
                    tool_result=self.tool_result.build("success", dry_run=self.check_mode))

    def _refused(self, error: ValidationError, started_at: str, identity: Optional[dict[str, Optional[str]]],
                 requires_user_action: bool = False) -> dict[str, Any]:
        refused = self.failure(error, requires_user_action)
        refused["started_at"] = started_at
        if identity is not None:
            refused["refused"] = identity
        return refused


def command_from_cli(arguments: tuple[str, ...]) -> RemediationCommand:
    """The command the ``-e`` arguments of this run carry (a command file, or remediation_command=<json>)."""
    command = command_from_extra_vars(arguments)
    if command is None:
        raise AnsibleActionFail("no remediation command: pass -e @command.json, set %s (a dict or JSON text), "
                                "or give the command option" % COMMAND_VARIABLE)
    return command


def resolve_reference(value: Any, task_vars: dict[str, Any]) -> Any:
    """Follow ``{{ name.path }}`` references (how a role include passes the command on) through task_vars
    without the template engine, so nothing inside the command is ever rendered. Anything else is the command."""
    for unused_depth in range(MAX_REFERENCE_DEPTH):
        match = VARIABLE_REFERENCE.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            return value
        value = lookup_path(task_vars, match.group(1))
    raise ValidationError("%s refers to variables more than %d levels deep" % (COMMAND_VARIABLE, MAX_REFERENCE_DEPTH),
                          [(COMMAND_VARIABLE, "references nested too deep")])


def lookup_path(task_vars: dict[str, Any], path: str) -> Any:
    value: Any = task_vars
    for token in PATH_TOKEN.finditer(path):
        key: Any = next(group for group in token.groups() if group is not None)
        if token.group(2) is not None or token.group(3) is not None:
            key = int(key)
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise ValidationError("%s refers to {{ %s }}, which is not defined" % (COMMAND_VARIABLE, path),
                                  [(COMMAND_VARIABLE, "{{ %s }} is not defined" % path)]) from None
    return value


def summary(plan: dict[str, Any], check_mode: bool) -> str:
    steps = ", ".join("%d. %s (%s)" % (step["number"], step["action"], ", ".join(step["targets"]))
                      for step in plan["steps"])
    return "%s%s on %s: %s" % ("[preview] " if check_mode else "", plan["command_id"], plan["instance"],
                               steps or "nothing to do")


def preview(plan: RemediationPlan, check_mode: bool) -> list[str]:
    """What an approver reads before saying yes: why, what changes, and why a restart."""
    command = plan.command
    heading = "%s on instance %s (%s, severity %d)" % (command.command_id, command.instance,
                                                       command.error_type.value, command.severity)
    lines = [("[preview] " if check_mode else "") + heading, "reason: %s" % (command.reason or "(none given)")]
    for step in plan.steps:
        for setting in step.cpf_settings:
            lines.append("%d. cpf %s -> %s%s%s" % (step.number, setting.target, setting.value,
                                                   " (expected now: %s)" % setting.current_value
                                                   if setting.current_value is not None else "",
                                                   " (IRIS activates it live)"
                                                   if plan.live_activation and not setting.requires_restart else ""))
        for kernel in step.kernel_settings:
            lines.append("%d. kernel %s -> %s%s" % (step.number, kernel.name, kernel.value,
                                                    " (expected now: %s)" % kernel.current_value
                                                    if kernel.current_value is not None else ""))
        if step.action == "restart":
            lines.append("%d. restart %s%s: %s" % (step.number, command.instance,
                                                   " (only if a change above is made)" if step.implied else "",
                                                   "; ".join(plan.restart_reasons)))
    return lines + ["note: %s" % note for note in plan.notes]
