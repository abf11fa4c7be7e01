# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: remediation_guard
short_description: The trust boundary of the remediate and consume playbooks
version_added: 0.2.0
description:
  - Reads the C(-e) arguments of this C(ansible-playbook) run itself (the raw bytes of each C(-e @file) and inline
    document, and each C(key=value)) and checks the remediation command they carry with the collection's one strict
    reader, the same one every other entry point uses. A command file must be exactly a command; a file that also
    sets a variable (C(approve_restart), C(target), a C(remediate_*) role variable, an C(ansible_*) variable, or
    anything else) is refused, and so is any Jinja marker, control or line-separator character, duplicate key,
    oversized or too deeply nested document.
  - Used as the C(hosts) expression of the first play, it is the first thing the run renders, so a refusal comes
    before any variable a command file carries is ever templated. On a refusal the run stops with the JSON path and
    the reason, nothing is changed, and a failure WorkflowTrace is written to O(trace_dir).
  - Returns C(localhost), where the first play checks the operator's own choices.
author:
  - irisops.iris contributors (@irisops)
options:
  _terms:
    description: Not used.
    required: false
  entry_point:
    description:
      - V(remediate) takes one command from the C(-e) arguments (a command file, or C(remediation_command)).
      - V(consume) takes commands from its sources only; a command given with C(-e) is refused.
    type: str
    choices: [remediate, consume]
    default: remediate
  trace_dir:
    description: Where the failure WorkflowTrace of a refused command is written.
    type: path
    default: ~/.ansible/irisops/traces
    env:
      - name: IRISOPS_TRACE_DIR
"""

EXAMPLES = r"""
- name: Check the remediation command before anything of it is used
  hosts: "{{ lookup('irisops.iris.remediation_guard') }}"
  gather_facts: false
  tasks: []
"""

RETURN = r"""
_raw:
  description: C(localhost).
  type: list
  elements: str
"""

from typing import Any, Optional

from ansible import context  # type: ignore[import-untyped]
from ansible.errors import AnsibleError, AnsibleLookupError  # type: ignore[import-untyped]
from ansible.module_utils.basic import missing_required_lib  # type: ignore[import-untyped]
from ansible.plugins.lookup import LookupBase  # type: ignore[import-untyped]

try:
    from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import (
        command_from_extra_vars, refusal, refused_document)
    from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
    from ansible_collections.irisops.iris.plugins.plugin_utils.workflow_trace import (
        refusal_trace, trace_directory, write_trace)
except ImportError as error:  # pragma: no cover - exercised only without the controller requirements
    IMPORT_ERROR: Optional[ImportError] = error
else:
    IMPORT_ERROR = None


class LookupModule(LookupBase):  # type: ignore[misc]
    def run(self, terms: list[Any], variables: Optional[dict[str, Any]] = None, **kwargs: Any) -> list[str]:
        if IMPORT_ERROR is not None:
            raise AnsibleLookupError(missing_required_lib("pydantic and jsonschema (controller requirements)")) \
                from IMPORT_ERROR
        # Options come from the call and the environment only: a variable could come from the command being checked.
        self.set_options(direct=kwargs)
        arguments = tuple(context.CLIARGS.get("extra_vars", ()))
        try:
            command = command_from_extra_vars(arguments)
            if command is not None and self.get_option("entry_point") == "consume":
                raise refusal("$", "consume takes commands from its source (HTTP, drop directory, EDA event); "
                                   "apply a single command with playbook irisops.iris.remediate")
        except ValidationError as error:
            trace = refusal_trace(error, refused_document(arguments), bool(context.CLIARGS.get("check")))
            path = write_trace(trace_directory(self.get_option("trace_dir")), trace)
            raise AnsibleError("%s. Nothing was changed; refusal trace: %s" % (error, path)) from None
        except OSError as error:
            raise AnsibleError("cannot read an -e argument: %s" % error) from None
        return ["localhost"]
