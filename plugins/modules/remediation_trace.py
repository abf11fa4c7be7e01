#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: remediation_trace
short_description: Write the WorkflowTrace of one remediation run
version_added: 0.2.0
description:
  - Builds the WorkflowTrace (C(contracts/workflow_trace.schema.json)) of one run of the C(irisops.iris.remediate) role
    from the registered results of its plan, its steps and its rollback actions, and writes it on the controller to
    O(output_dir) as C(<trace_id>.<instance>.json) (C(<trace_id>.<instance>.preview.json) in check mode).
  - The role calls it in its C(always) section, so every run leaves a trace, refused and failed ones included.
  - C(overall_status) is V(success) when every step succeeded; V(rolled_back) when a step failed and every rollback
    action succeeded; V(failure) when the command was refused, when a step failed before anything had changed, or when
    a stop hung; V(partial) when a rollback action failed.
  - This is an action plugin; it runs on the controller.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.ACTION
attributes:
  check_mode:
    support: full
    details:
      - Writes the preview's trace (C(.preview.json)); the managed hosts are not touched.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Rewrites the same file for the same run; reports no change.
  platform:
    platforms: all
options:
  plan:
    description:
      - Name of the variable registered by M(irisops.iris.remediation_plan) (a plan, or a refusal).
      - Registered results are named rather than passed, so they are read as they are, never rendered again.
    type: str
    required: true
  checks:
    description:
      - Names of the variables registered by the role's own checks after the plan (for example that no other host of
        the play remediates the same instance). A failed check is a refusal, recorded as a failed planning step.
    type: list
    elements: str
    default: []
  steps:
    description:
      - Names of the variables registered by the steps, in the order they ran. Undefined and skipped ones are ignored,
        and so are results carrying another trace id (an earlier command's, when the role runs once per command).
    type: list
    elements: str
    default: []
  rollback:
    description:
      - Names of the variables registered by the rollback actions, in the order they ran. A result without a
        C(tool_result) (a file copied back or removed) is recorded as a C(file_restore) step.
    type: list
    elements: str
    default: []
  output_dir:
    description: Directory on the controller. Default C($IRISOPS_TRACE_DIR), else C(~/.ansible/irisops/traces).
    type: path
seealso:
  - module: irisops.iris.remediation_plan
  - plugin: irisops.iris.workflow_trace
    plugin_type: callback
"""

EXAMPLES = r"""
- name: Write the WorkflowTrace of this run
  irisops.iris.remediation_trace:
    plan: remediate_plan
    steps: [remediate_cpf, remediate_restart]
    output_dir: /var/log/irisops/traces
"""

RETURN = r"""
path:
  description: The trace file written on the controller.
  returned: success
  type: str
  sample: /root/.ansible/irisops/traces/4bf92f3577b34da6a3ce929d0e0e4736.IRIS.json
summary:
  description: One line on the run, as the workflow_trace callback prints it.
  returned: success
  type: str
  sample: "IRIS fix-locksiz-1: SUCCESS in 2.9s [cpf success, instance_restart success] trace 4bf9... -> /root/..."
trace:
  description: The WorkflowTrace written (secrets redacted).
  returned: success
  type: dict
errors:
  description: On invalid options, each offending option and the reason (empty when the trace could not be written).
  returned: failure
  type: list
  elements: dict
tool_result:
  description: ToolResult of the failed step (status failure), as every action of the collection returns on failure.
  returned: failure
  type: dict
"""
