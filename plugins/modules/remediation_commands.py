#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: remediation_commands
short_description: Take in remediation commands from an HTTP endpoint, a drop directory or an EDA event
version_added: 0.1.0
description:
  - Takes in RemediationCommand JSON (the published contract C(contracts/remediation_command.schema.json)) and
    returns the accepted commands as one serial queue in arrival order, the rejected ones with the JSON path and
    reason of every problem, the duplicates and the commands waiting for approval. It runs no remediation itself;
    C(playbooks/consume.yml) hands each accepted command to the role C(irisops.iris.remediate) in queue order.
  - Every document is read by the collection's one strict reader, the same as C(-e @command.json) of the remediate
    playbook; the size (64 KiB per command, 1 MiB per HTTP answer), strict JSON (UTF-8, no duplicate keys, no NaN),
    nesting depth, no Jinja template markers (C({{), C({%), C({#)) and no control or line-separator characters in any
    string or key, no field but the command's (an C(approve_restart), C(remediate_*) or C(ansible_*) field is refused),
    the published schema and the model's cross-field rules. Then the command is planned in full (CPF catalog, ranges,
    kernel allow list, order), so one that the remediate role would refuse is rejected here, never left pending.
  - A command_id is accepted at most once, ever; the accepted ids live in C(accepted.json) in O(state_dir). A later
    copy is reported in RV(duplicates) and never queued again. In check mode nothing is recorded and no file moves.
  - A command whose plan ends with a restart (C(requires_restart=true), a C(restart) action, or a change that needs
    one such as C([config] gmheap)) needs approval, O(approve_restart=true) or the
    file C(<state_dir>/approvals/<command_id>). Until then it is pending and nothing changes; HTTP and inline
    commands wait in C(<state_dir>/pending/), drop-directory files stay where they are. Each run looks at the
    pending commands again before it takes in new ones.
  - B(HTTP source.) Each poll is one C(GET) of O(source) (redirects are not followed); there is none in check mode,
    since a GET may take commands off the source. C(200) carries one command object or a JSON array of them;
    C(204) means nothing new. Other answers and connection errors are reported
    in RV(poll_errors); the task fails when every poll failed.
  - B(Directory source.) One command per file. Visible regular files are read in arrival order (modification time,
    then name); hidden files are ignored, so writers drop a file by renaming a hidden temporary into place.
    Symlinks are refused. A taken file moves to C(done/), a refused one to C(rejected/) beside
    C(<name>.reason.json), which names every JSON path and reason.
  - This is an action plugin; it runs on the controller.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.ACTION
attributes:
  check_mode:
    support: partial
    details:
      - Checks drop-directory, pending and inline commands and reports what a real run would accept; moves no file
        and records nothing. An HTTP O(source) is not polled, because a C(GET) takes the commands off the source.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A command is accepted once; running again with the same commands reports them as duplicates.
  platform:
    platforms: all
options:
  source:
    description:
      - An C(http://) or C(https://) URL to poll, or a drop directory on the controller.
      - At least one of O(source), O(documents) and O(eda_event) is required.
    type: str
  documents:
    description:
      - Commands given inline, each a dict or JSON text. Values given here are templated by Ansible like any task
        argument; use O(eda_event) for commands from an event.
    type: list
    elements: raw
  eda_event:
    description:
      - Take the command (or a list of commands) from C(ansible_eda.event.payload), read untemplated, as set by an
        EDA rulebook with a webhook source.
    type: bool
    default: false
  state_dir:
    description:
      - Directory with the accepted command ids, the pending commands, the approvals and C(intake.log).
      - One consumer uses a state directory at a time; another run waits up to O(lock_timeout) seconds.
    type: path
    default: ~/.local/state/irisops/commands
  approve_restart:
    description: Approve every command that needs a restart of its instance.
    type: bool
    default: false
  allow_dangerous:
    description:
      - The remediate role's O(allow_dangerous) (its C(remediate_allow_dangerous)). Each command is planned in full on
        intake, as the role will plan it, so a command the role would refuse is rejected here, never left pending.
    type: bool
    default: false
  allow_kernel_parameters:
    description: The remediate role's C(remediate_allow_kernel_parameters), for the same full planning on intake.
    type: list
    elements: str
    default: []
  cpf_apply:
    description:
      - The remediate role's C(remediate_cpf_apply). With V(auto) a command whose every change IRIS activates live
        needs no restart and so no approval.
    type: str
    choices: [auto, file]
    default: auto
  polls:
    description: Number of polls (HTTP GETs or directory scans) when O(duration) is not given.
    type: int
    default: 1
  interval:
    description: Seconds between two polls.
    type: float
    default: 5
  duration:
    description: Poll every O(interval) seconds for this many seconds instead of O(polls) times.
    type: float
  timeout:
    description: Seconds one HTTP request may take, connection included.
    type: float
    default: 30
  validate_certs:
    description: Verify the TLS certificate of an C(https://) source.
    type: bool
    default: true
  auth_token:
    description:
      - Bearer token sent as C(Authorization) header to an HTTP source. Keep it in Ansible Vault or use
        O(auth_token_env). Never logged or returned.
    type: str
  auth_token_env:
    description: Environment variable on the controller holding the bearer token when O(auth_token) is not given.
    type: str
    default: IRISOPS_COMMANDS_TOKEN
  log_file:
    description:
      - Append structured JSON log lines (accepted, queue position, rejected, pending, poll failures; secrets redacted)
        to this file. Default C(intake.log) in O(state_dir); nothing is logged in check mode unless this is set.
    type: path
  lock_timeout:
    description: Seconds to wait for another consumer to release O(state_dir).
    type: float
    default: 60
seealso:
  - module: irisops.iris.remediation_plan
notes:
  - Requires aiohttp, jsonschema, pydantic and structlog on the controller.
  - A command is accepted at most once; it is recorded before the play runs it. A command whose remediation
    failed is not run again automatically; send a new command with a new command_id.
"""

EXAMPLES = r"""
- name: Poll the analyser for one minute and list the queue
  irisops.iris.remediation_commands:
    source: https://analyser.example.com/iris/commands
    interval: 5
    duration: 60
    auth_token: "{{ vault_analyser_token }}"
  register: intake

- name: Take in the drop directory, approving restarts
  irisops.iris.remediation_commands:
    source: /var/spool/irisops/commands
    approve_restart: true
  register: intake

- name: Show the queue
  ansible.builtin.debug:
    msg: "{{ item.queue_position }}. {{ item.command_id }} on {{ item.instance }}"
  loop: "{{ intake.accepted }}"
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: 2 accepted (1. fault-locksiz-001 on IRIS, 2. os-swappiness-001 on IRIS), 1 rejected, 0 duplicate, 0 pending approval (1 polls)
accepted:
  description: The accepted commands in queue order.
  returned: success
  type: list
  elements: dict
  contains:
    command_id:
      description: The command's id.
      type: str
    instance:
      description: The IRIS instance the command is for.
      type: str
    queue_position:
      description: Position in the serial queue, from 1.
      type: int
    origin:
      description: Where it came from (file name, C(poll N), C(poll N[i]), C(inline[i]), C(pending/<file>)).
      type: str
    sequence:
      description: Number of the command among all commands ever accepted in O(state_dir) (null in check mode).
      type: int
    accepted_at:
      description: When it was accepted (ISO 8601, UTC; null in check mode).
      type: str
    restart_approved:
      description: Whether the command needs a restart (it passed the approval gate).
      type: bool
    file:
      description: Where a drop-directory file was moved (C(done/)).
      type: str
    command:
      description: The validated command, defaults filled in (a generated C(trace_id) when it had none).
      type: dict
commands:
  description: The validated commands alone, in queue order.
  returned: success
  type: list
  elements: dict
rejected:
  description: Refused documents with every problem as a JSON path and reason.
  returned: success
  type: list
  elements: dict
  sample: [{"origin": "cmd-7.json", "command_id": null, "errors": [{"path": "$.instance", "reason": "'../etc' does not match ..."}],
            "file": "/spool/rejected/cmd-7.json", "reason_file": "/spool/rejected/cmd-7.json.reason.json"}]
duplicates:
  description: Commands whose command_id was accepted before; same shape as RV(rejected).
  returned: success
  type: list
  elements: dict
pending:
  description: Commands waiting for restart approval, with the approval file that would release them.
  returned: success
  type: list
  elements: dict
  sample: [{"command_id": "fault-gmheap-001", "instance": "IRIS", "origin": "poll 1", "digest": "9f0c...",
            "approval_file": "/root/.local/state/irisops/commands/approvals/fault-gmheap-001",
            "reason": "needs a restart of instance IRIS; approve with approve_restart=true or create ..."}]
polls:
  description: Polls made.
  returned: success
  type: int
poll_errors:
  description: Failed polls (connection errors, HTTP answers other than 200 and 204); credentials redacted.
  returned: success
  type: list
  elements: str
state_dir:
  description: The state directory used.
  returned: success
  type: str
check_mode:
  description: Whether this was a preview.
  returned: success
  type: bool
errors:
  description: On invalid options, each offending option and the reason.
  returned: failure
  type: list
  elements: dict
tool_result:
  description: ToolResult of the intake (C(requires_user_action) when commands wait for approval).
  returned: always
  type: dict
"""
