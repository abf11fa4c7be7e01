# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.remediation_plan: validate a RemediationCommand and return its ordered steps.

Runs on the controller only; it reads the command from variables *without templating them*, so a hostile
command cannot smuggle a Jinja expression into the play.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from ansible.errors import AnsibleActionFail  # type: ignore[import-untyped]
from ansible.module_utils.basic import missing_required_lib  # type: ignore[import-untyped]
from ansible.plugins.action import ActionBase  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder

try:
    from ansible_collections.irisops.iris.plugins.plugin_utils.contracts import parse_document
    from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
    from ansible_collections.irisops.iris.plugins.plugin_utils.models import RemediationCommand
    from ansible_collections.irisops.iris.plugins.plugin_utils.planner import approval_problem, plan_document
    from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact, redact_text
except ImportError as error:  # pragma: no cover - exercised only without the controller requirements
    IMPORT_ERROR: Optional[ImportError] = error
else:
    IMPORT_ERROR = None

TOOL = "remediation_plan"
COMMAND_VAR = "remediation_command"
# A real command is a few KB; the bound keeps oversized input from costing more than a refusal.
MAX_COMMAND_BYTES = 65536
# A variable reference such as {{ cmd }}, {{ item.command }} or {{ event['payload'] }} (no filters, no calls).
VARIABLE_REFERENCE = re.compile(r"""^\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\.\d+|\[\d+\]|\['[^'\]]*'\]|\["[^"\]]*"\])*)\s*\}\}$""")
PATH_TOKEN = re.compile(r"""([A-Za-z_]\w*)|\.(\d+)|\[(\d+)\]|\['([^'\]]*)'\]|\["([^"\]]*)"\]""")
MAX_REFERENCE_DEPTH = 8
IDENTITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
ARGUMENT_SPEC: dict[str, Any] = dict(
    command=dict(type="raw"),
    approve_restart=dict(type="bool", default=False),
    allow_dangerous=dict(type="bool", default=False),
    instance=dict(type="str"),
)


class ActionModule(ActionBase):  # type: ignore[misc]
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        if IMPORT_ERROR is not None:
            raise AnsibleActionFail(missing_required_lib("pydantic and jsonschema (controller requirements)"),
                                    orig_exc=IMPORT_ERROR)
        task_vars = task_vars or {}
        result: dict[str, Any] = super().run(tmp, task_vars)
        unused_spec, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        check_mode = bool(self._task.check_mode)
        builder = ToolResultBuilder(TOOL)
        try:
            document = load_command(params["command"] if params["command"] is not None else command_from_vars(task_vars))
            if isinstance(document, dict):
                # Keep the command's trace id and names on a refusal too, so its trace joins the rest of the loop.
                builder = ToolResultBuilder(TOOL, document.get("trace_id"))
                result["refused"] = command_identity(document)
            plan = plan_document(document, params["allow_dangerous"])
            if params["instance"] is not None and params["instance"] != plan.command.instance:
                raise ValidationError("command is for instance %s but this host is instance %s; nothing was changed"
                                      % (plan.command.instance, params["instance"]),
                                      [("$.instance", "does not match the host's instance %s" % params["instance"])])
        except ValidationError as error:
            return refuse(result, builder, error, check_mode)
        builder.trace_id = plan.command.trace_id
        refusal = approval_problem(plan, params["approve_restart"], check_mode)
        if refusal is not None:
            return refuse(result, builder, ValidationError(refusal, [("approve_restart", "needed for the restart")]),
                          check_mode, requires_user_action=True)
        plan_dict = plan.as_dict()
        result.pop("refused", None)
        result.update(changed=False, plan=redact(plan_dict), check_mode=check_mode,
                      msg=summary(plan_dict, check_mode),
                      tool_result=builder.build("success", dry_run=check_mode))
        return result


def command_identity(document: dict[str, Any]) -> dict[str, Optional[str]]:
    """command_id and instance of a refused command, each only when it is a plain name (they name trace files)."""
    return {name: document[name] if isinstance(document.get(name), str) and IDENTITY.match(document[name]) else None
            for name in ("command_id", "instance")}


def refuse(result: dict[str, Any], builder: ToolResultBuilder, error: ValidationError, check_mode: bool,
           requires_user_action: bool = False) -> dict[str, Any]:
    message = redact_text(str(error))
    result.update(failed=True, changed=False, msg=message,
                  errors=[{"path": path, "reason": redact_text(reason)} for path, reason in error.errors],
                  tool_result=builder.build("failure", error_message=message, dry_run=check_mode,
                                            requires_user_action=requires_user_action))
    return result


def command_from_vars(task_vars: dict[str, Any]) -> Any:
    """``remediation_command`` (dict or JSON text, e.g. an AWX survey answer), else the top-level fields
    that ``-e @command.json`` defines."""
    if task_vars.get(COMMAND_VAR) is not None:
        return resolve_reference(task_vars[COMMAND_VAR], task_vars)
    fields = {name: task_vars[name] for name in RemediationCommand.model_fields if name in task_vars}
    if not fields:
        raise AnsibleActionFail("no remediation command: pass -e @command.json, set %s (a dict or JSON text), "
                                "or give the command option" % COMMAND_VAR)
    return fields


def resolve_reference(value: Any, task_vars: dict[str, Any]) -> Any:
    """Follow ``{{ name.path }}`` references (how a role include passes the command on) through task_vars
    without the template engine, so nothing inside the command is ever rendered. Anything else is the command."""
    for unused_depth in range(MAX_REFERENCE_DEPTH):
        match = VARIABLE_REFERENCE.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            return value
        value = lookup_path(task_vars, match.group(1))
    raise ValidationError("%s refers to variables more than %d levels deep" % (COMMAND_VAR, MAX_REFERENCE_DEPTH),
                          [(COMMAND_VAR, "references nested too deep")])


def lookup_path(task_vars: dict[str, Any], path: str) -> Any:
    value: Any = task_vars
    for token in PATH_TOKEN.finditer(path):
        key: Any = next(group for group in token.groups() if group is not None)
        if token.group(2) is not None or token.group(3) is not None:
            key = int(key)
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise ValidationError("%s refers to {{ %s }}, which is not defined" % (COMMAND_VAR, path),
                                  [(COMMAND_VAR, "{{ %s }} is not defined" % path)]) from None
    return value


def load_command(raw: Any) -> Any:
    """The command as plain JSON data, refusing oversized or malformed input before the contract check."""
    text = raw if isinstance(raw, (str, bytes)) else json.dumps(raw, default=str)
    if len(text) > MAX_COMMAND_BYTES:
        raise ValidationError("remediation command is %d bytes, the limit is %d; nothing was changed" % (
            len(text), MAX_COMMAND_BYTES), [("$", "larger than %d bytes" % MAX_COMMAND_BYTES)])
    # A round trip through JSON turns Ansible's wrapped strings and mappings into plain data.
    return parse_document(text)


def summary(plan: dict[str, Any], check_mode: bool) -> str:
    steps = ", ".join("%d. %s (%s)" % (step["number"], step["action"], ", ".join(step["targets"]))
                      for step in plan["steps"])
    return "%s%s on %s: %s" % ("[preview] " if check_mode else "", plan["command_id"], plan["instance"],
                               steps or "nothing to do")
