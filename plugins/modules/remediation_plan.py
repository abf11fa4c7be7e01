#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: remediation_plan
short_description: Validate a remediation command and turn it into ordered, checked steps
version_added: 0.1.0
description:
  - Validates a RemediationCommand (the published contract C(contracts/remediation_command.schema.json)), every CPF
    change against the parameter catalog (known section and parameter, type, range, read-only, dangerous) and every
    kernel change, and refuses conflicting changes (one parameter changed twice, a restart that is not last,
    V(auto) for a parameter it does not apply to). Problems are listed with their JSON path; nothing is changed.
  - Returns the steps in C(execution_order) (else the order of C(parameters)). A restart needed by any change, or
    asked for by the command, is the last step, exactly once.
  - When the plan contains a restart it fails unless O(approve_restart=true), except in check mode (a preview).
  - Every command is read with the collection's one strict reader (the same as the intake of
    M(irisops.iris.remediation_commands)) before it is planned. Without O(command) it is read, untemplated, from the
    variable C(remediation_command) (a dict or JSON text, for example an AWX survey answer), or else from the raw
    C(-e) arguments of the run (the bytes of C(-e @command.json), never the variables Ansible made of them).
  - Kernel parameters are limited to those IRIS hosts are tuned with, each within its range; O(allow_kernel_parameters)
    (the operator's) widens the list.
  - This is an action plugin; it runs on the controller and never touches the target.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.ACTION
attributes:
  check_mode:
    support: full
    details:
      - Plans as usual and does not require restart approval, since nothing will change.
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    platforms: all
options:
  command:
    description:
      - The RemediationCommand, as a dict or as JSON text. Values given here are templated by Ansible like any
        task argument; leave it out to read the command untemplated from variables.
    type: raw
  approve_restart:
    description:
      - Approval to restart the instance when the plan needs a restart.
    type: bool
    default: false
  allow_dangerous:
    description:
      - Allow CPF parameters the catalog flags as dangerous (for example C(memlock), C(wijdir)).
    type: bool
    default: false
  allow_kernel_parameters:
    description:
      - Kernel parameters a command may set besides those IRIS hosts are tuned with (huge pages, shared memory,
        message queues, swappiness, dirty ratios, TCP keepalive, somaxconn).
    type: list
    elements: str
    default: []
  cpf_apply:
    description:
      - V(auto) (the role's C(remediate_cpf_apply)) means the cpf step applies a running instance's changes with
        C(iris merge); a command whose every change IRIS activates live then needs no restart and no approval,
        whatever its C(requires_restart) says (RV(plan.notes) says so).
      - V(file) means every CPF change waits for a restart.
    type: str
    choices: [auto, file]
    default: auto
  instance:
    description:
      - The instance this host manages. When set, a command for another instance is refused.
    type: str
seealso:
  - module: irisops.iris.cpf
  - module: irisops.iris.kernel_param
  - name: Remediation command reference
    description: docs/remediate.md in this collection.
    link: https://github.com/irisops/iris/blob/main/docs/remediate.md
"""

EXAMPLES = r"""
- name: Plan the command given with -e @command.json
  irisops.iris.remediation_plan:
    approve_restart: "{{ approve_restart | default(false) | bool }}"
    instance: "{{ iris_instance | default(inventory_hostname) }}"
  register: remediation

- name: Plan an explicit command
  irisops.iris.remediation_plan:
    command:
      command_id: fix-locksiz-1
      instance: IRIS
      error_type: config
      severity: 2
      parameters:
        - action: cpf
          changes:
            - {section: config, parameter: locksiz, new_value: "67108864"}
"""

RETURN = r"""
plan:
  description: The validated plan.
  returned: success
  type: dict
  contains:
    command_id: {description: The command's id., type: str}
    trace_id: {description: Trace id every step of the run carries., type: str}
    instance: {description: IRIS instance the steps apply to., type: str}
    error_type: {description: "One of config, license, resource, os.", type: str}
    severity: {description: Severity of the error being remediated (0-3)., type: int}
    reason: {description: Free-text reason from the command., type: str}
    requires_restart: {description: Whether the plan ends with a restart., type: bool}
    restart_reasons: {description: Why a restart is part of the plan., type: list, elements: str}
    notes: {description: What the plan decided that the command did not say (e.g. no restart for live changes)., type: list, elements: str}
    cpf_apply: {description: "How the cpf step applies its changes: auto (iris merge on a running instance) or file.", type: str}
    steps:
      description: Ordered steps with number, action (cpf, kernel, restart), module, targets, requires_restart, implied.
      type: list
      elements: dict
    cpf_settings: {description: Entries for the cpf module's settings option (empty when no CPF step)., type: list, elements: dict}
    kernel_before_cpf:
      description: Kernel changes that run before the CPF step (kernel_param options plus C(requires_restart)).
      type: list
      elements: dict
    kernel_after_cpf:
      description: Kernel changes that run after the CPF step, or alone (kernel_param options plus C(requires_restart)).
      type: list
      elements: dict
    restart: {description: "Options of the restart step; null when there is none.", type: dict}
    restart_implied:
      description:
        - True when the command has no restart action and the restart comes from changes that need one (or from
          C(requires_restart)). The role then restarts only when one of those changes was actually made.
      type: bool
    restart_on_any_change:
      description:
        - True when the restart is implied and the command sets C(requires_restart); the role then restarts when
          any step changed something.
      type: bool
  sample:
    command_id: fix-locksiz-1
    trace_id: 4bf92f3577b34da6a3ce929d0e0e4736
    instance: IRIS
    requires_restart: false
    steps: [{number: 1, action: cpf, module: irisops.iris.cpf, targets: ["[config] locksiz"],
             requires_restart: false, implied: false}]
preview:
  description: What an approver reads before approving, one line each; the command, its reason, every change and why a restart.
  returned: success
  type: list
  elements: str
  sample: ["fix-gmheap-1 on instance IRIS (config, severity 2)", "reason: heap errors since 12:00",
           "1. cpf [config] gmheap -> 307200", "2. restart IRIS (only if a change above is made): [config] gmheap needs a restart"]
started_at:
  description: When planning began (ISO 8601, UTC); the WorkflowTrace starts here.
  returned: always
  type: str
  sample: "2026-12-01T03:22:18.123456+00:00"
check_mode:
  description: Whether the plan was made for a preview.
  returned: success
  type: bool
errors:
  description: Each problem found, with the JSON path of the offending field and the reason.
  returned: failure
  type: list
  elements: dict
  sample: [{path: "$.parameters[0].changes[0]", reason: "[config] gmheap: 12 is out of range 16384..1073741760 KB (or 0)"}]
refused:
  description:
    - C(command_id), C(instance) and C(trace_id) of a refused command, each null unless it is a plain name (a valid
      trace id).
  returned: failure
  type: dict
  sample: {command_id: fix-locksiz-1, instance: IRIS, trace_id: 4bf92f3577b34da6a3ce929d0e0e4736}
tool_result:
  description: ToolResult of the planning step (tool remediation_plan).
  returned: always
  type: dict
"""
