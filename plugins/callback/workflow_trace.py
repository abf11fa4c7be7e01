# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workflow_trace
type: aggregate
short_description: Print one summary line per remediated instance at the end of the play
version_added: 0.1.0
description:
  - The C(irisops.iris.remediate) role writes a WorkflowTrace on every run (M(irisops.iris.remediation_trace)). This
    callback collects what those tasks report and prints, at the end of the playbook, one line per run under a
    C(WORKFLOW TRACE) banner.
  - "For example: C(IRIS fix-locksiz-1: SUCCESS in 2.9s [cpf success, instance_restart success] trace 4bf9... -> <file>)."
author:
  - irisops.iris contributors (@irisops)
requirements:
  - enable it with C(callbacks_enabled = irisops.iris.workflow_trace) in ansible.cfg or
    C(ANSIBLE_CALLBACKS_ENABLED=irisops.iris.workflow_trace)
"""

from typing import Any

from ansible.plugins.callback import CallbackBase  # type: ignore[import-untyped]

TRACE_ACTIONS = frozenset({"irisops.iris.remediation_trace", "remediation_trace"})


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "irisops.iris.workflow_trace"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summaries: list[str] = []

    def v2_runner_on_ok(self, result: Any) -> None:
        summary = result._result.get("summary")
        if result._task.action in TRACE_ACTIONS and isinstance(summary, str):
            self.summaries.append(summary)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self.summaries:
            self._display.banner("WORKFLOW TRACE")
        for summary in self.summaries:
            self._display.display(summary)
