# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.remediation_trace: write the WorkflowTrace of one remediation run (controller side)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from ansible.errors import AnsibleActionFail  # type: ignore[import-untyped]
from ansible.module_utils.basic import missing_required_lib  # type: ignore[import-untyped]
from ansible.plugins.action import ActionBase  # type: ignore[import-untyped]

try:
    from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact
    from ansible_collections.irisops.iris.plugins.plugin_utils.workflow_trace import (
        RunRecord, summary_line, trace_directory, write_trace)
except ImportError as error:  # pragma: no cover - exercised only without the controller requirements
    IMPORT_ERROR: Optional[ImportError] = error
else:
    IMPORT_ERROR = None

ARGUMENT_SPEC: dict[str, Any] = dict(
    plan=dict(type="str", required=True),
    checks=dict(type="list", elements="str", default=[]),
    steps=dict(type="list", elements="str", default=[]),
    rollback=dict(type="list", elements="str", default=[]),
    output_dir=dict(type="path"),
)


class ActionModule(ActionBase):  # type: ignore[misc]
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        if IMPORT_ERROR is not None:
            raise AnsibleActionFail(missing_required_lib("pydantic (controller requirements)"), orig_exc=IMPORT_ERROR)
        task_vars = task_vars or {}
        result: dict[str, Any] = super().run(tmp, task_vars)
        unused_spec, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        # Registered results are read by name, as they are: templating them would copy (and re-render) every key.
        plan = task_vars.get(params["plan"]) or {}
        started = plan.get("started_at")
        record = RunRecord(plan=plan, checks=[task_vars.get(name) for name in params["checks"]],
                           steps=[task_vars.get(name) for name in params["steps"]],
                           rollback=[task_vars.get(name) for name in params["rollback"]],
                           started_at=datetime.fromisoformat(started) if isinstance(started, str) else None,
                           check_mode=bool(self._task.check_mode))
        try:
            trace = record.trace()
            path = write_trace(trace_directory(params["output_dir"]), trace)
        except (ValueError, OSError) as error:
            raise AnsibleActionFail("cannot write the WorkflowTrace: %s" % error) from None
        # Writing the record is not a change of the managed system, in check mode neither.
        result.update(changed=False, path=path, summary=summary_line(trace, path),
                      trace=redact(trace.model_dump(mode="json")))
        return result
