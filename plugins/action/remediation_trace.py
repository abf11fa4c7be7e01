# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.remediation_trace: write the WorkflowTrace of one remediation run (controller side)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ansible.errors import AnsibleActionFail  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.plugin_utils.action import ControllerRequirements, IrisOpsActionBase

REQUIREMENTS = ControllerRequirements("pydantic")
with REQUIREMENTS.imported():
    from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact
    from ansible_collections.irisops.iris.plugins.plugin_utils.workflow_trace import (
        RunRecord, summary_line, trace_directory, write_trace)


class ActionModule(IrisOpsActionBase):
    TOOL = "remediation_trace"
    REQUIREMENTS = REQUIREMENTS
    ARGUMENT_SPEC: dict[str, Any] = dict(
        plan=dict(type="str", required=True),
        checks=dict(type="list", elements="str", default=[]),
        steps=dict(type="list", elements="str", default=[]),
        rollback=dict(type="list", elements="str", default=[]),
        output_dir=dict(type="path"),
    )

    def perform(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        # Registered results are read by name, as they are: templating them would copy (and re-render) every key.
        plan = task_vars.get(args["plan"]) or {}
        started = plan.get("started_at")
        record = RunRecord(plan=plan, checks=[task_vars.get(name) for name in args["checks"]],
                           steps=[task_vars.get(name) for name in args["steps"]],
                           rollback=[task_vars.get(name) for name in args["rollback"]],
                           started_at=datetime.fromisoformat(started) if isinstance(started, str) else None,
                           check_mode=self.check_mode)
        try:
            trace = record.trace()
            path = write_trace(trace_directory(args["output_dir"]), trace)
        except (ValueError, OSError) as error:
            raise AnsibleActionFail("cannot write the WorkflowTrace: %s" % error) from None
        # Writing the record is not a change of the managed system, in check mode neither.
        return dict(changed=False, path=path, summary=summary_line(trace, path),
                    trace=redact(trace.model_dump(mode="json")))
