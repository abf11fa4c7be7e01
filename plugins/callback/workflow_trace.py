# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workflow_trace
type: aggregate
short_description: Write a WorkflowTrace JSON per remediated instance and print a summary
version_added: 0.1.0
description:
  - Collects, per host, the C(tool_result) of every task in the order the tasks finished (loop items in order),
    and the plan of M(irisops.iris.remediation_plan), then writes one WorkflowTrace
    (C(contracts/workflow_trace.schema.json)) per host to O(output_dir) as C(<trace_id>.<instance>.json)
    (C(<trace_id>.<instance>.preview.json) in check mode).
  - The overall status is C(success) when every step succeeded, C(failure) when none did and C(partial) otherwise.
    The planning step only counts when it failed (a refused command).
  - At the end of the play it prints one summary line per instance.
author:
  - irisops.iris contributors (@irisops)
requirements:
  - enable it with C(callbacks_enabled = irisops.iris.workflow_trace) in ansible.cfg or
    C(ANSIBLE_CALLBACKS_ENABLED=irisops.iris.workflow_trace)
options:
  output_dir:
    description: Directory the trace files are written to (created when missing).
    type: path
    default: ~/.ansible/irisops/traces
    env:
      - name: IRISOPS_TRACE_DIR
    ini:
      - section: irisops_workflow_trace
        key: output_dir
"""

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from ansible.plugins.callback import CallbackBase  # type: ignore[import-untyped]

try:
    from pydantic import ValidationError as PydanticValidationError

    from ansible_collections.irisops.iris.plugins.plugin_utils.models import (
        ToolResult, ToolStatus, WorkflowTrace, overall_status, utc_now)
    from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact
except ImportError as error:  # pragma: no cover - exercised only without the controller requirements
    IMPORT_ERROR: Optional[ImportError] = error
else:
    IMPORT_ERROR = None

PLAN_TOOL = "remediation_plan"
UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass
class HostRun:
    """What one host's remediation produced so far."""

    host: str
    started_at: datetime
    finished_at: datetime
    trace_id: Optional[str] = None
    command_id: Optional[str] = None
    instance: Optional[str] = None
    check_mode: bool = False
    planned: bool = False
    steps: list[ToolResult] = field(default_factory=list)

    def trace(self) -> WorkflowTrace:
        trace_id = self.trace_id or (self.steps[0].trace_id if self.steps else None)
        if trace_id is None:
            raise ValueError("host %s has no trace id" % self.host)
        return WorkflowTrace(
            trace_id=trace_id, command_id=self.command_id, instance=self.instance or self.host,
            check_mode=self.check_mode or any(step.dry_run for step in self.steps),
            started_at=self.started_at, finished_at=self.finished_at,
            duration_ms=max(0, int((self.finished_at - self.started_at).total_seconds() * 1000)),
            steps_executed=list(self.steps), overall_status=overall_status(self.steps))


class TraceCollector:
    """Turns task results into WorkflowTraces (no Ansible objects here, so it is easy to test and type)."""

    def __init__(self) -> None:
        self.runs: dict[str, HostRun] = {}
        self._first_seen: dict[str, datetime] = {}
        self.warnings: list[str] = []

    def task_started(self, host: str, when: datetime) -> None:
        self._first_seen.setdefault(host, when)

    def task_finished(self, host: str, result: dict[str, Any], when: datetime) -> None:
        items = result.get("results")
        payloads = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else [result]
        for payload in payloads:
            tool_result = payload.get("tool_result")
            if isinstance(tool_result, dict):
                self._record(host, payload, tool_result, when)

    def _run(self, host: str, when: datetime) -> HostRun:
        if host not in self.runs:
            self.runs[host] = HostRun(host=host, started_at=self._first_seen.get(host, when), finished_at=when)
        return self.runs[host]

    def _record(self, host: str, payload: dict[str, Any], raw: dict[str, Any], when: datetime) -> None:
        try:
            step = ToolResult.model_validate(raw)
        except PydanticValidationError as error:
            self.warnings.append("%s: ignoring a tool_result that is not a ToolResult: %s" % (
                host, error.errors()[0]["msg"]))
            return
        run = self._run(host, when)
        run.finished_at = max(run.finished_at, when)
        if step.tool == PLAN_TOOL:
            run.planned = True
            run.trace_id = step.trace_id
            # A refused command still names itself (``refused``), so its trace is filed under its instance.
            plan = payload.get("plan") or payload.get("refused")
            if isinstance(plan, dict):
                run.command_id = plan.get("command_id")
                run.instance = plan.get("instance")
            run.check_mode = bool(payload.get("check_mode", step.dry_run))
            if step.status != ToolStatus.SUCCESS:
                run.steps.append(step)
            return
        run.steps.append(step)

    def traces(self) -> list[WorkflowTrace]:
        return [run.trace() for run in self.runs.values()]


def trace_file_name(trace: WorkflowTrace) -> str:
    # A preview and the real run of one command share the trace id; both records are kept.
    return "%s.%s%s.json" % (trace.trace_id, UNSAFE_FILE_CHARACTERS.sub("_", trace.instance or "unknown"),
                             ".preview" if trace.check_mode else "")


def write_trace(directory: str, trace: WorkflowTrace) -> str:
    """Write atomically (temp file + rename) so a reader never sees half a trace."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, trace_file_name(trace))
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(redact(trace.model_dump(mode="json")), handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)
    return path


def summary_line(trace: WorkflowTrace, path: str) -> str:
    steps = ", ".join("%s %s" % (step.tool, step.status.value) for step in trace.steps_executed) or "no steps"
    return "%s%s %s: %s in %.1fs [%s] trace %s -> %s" % (
        "[preview] " if trace.check_mode else "", trace.instance, trace.command_id or "-",
        trace.overall_status.value.upper(), trace.duration_ms / 1000.0, steps, trace.trace_id, path)


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "irisops.iris.workflow_trace"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collector: Optional[TraceCollector] = None
        if IMPORT_ERROR is not None:
            self._display.warning("irisops.iris.workflow_trace is disabled: %s" % IMPORT_ERROR)
            self.disabled = True
        else:
            self.collector = TraceCollector()

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        if self.collector is not None:
            self.collector.task_started(host.get_name(), utc_now())

    def _finished(self, result: Any) -> None:
        if self.collector is not None:
            self.collector.task_finished(result._host.get_name(), result._result, utc_now())

    def v2_runner_on_ok(self, result: Any) -> None:
        self._finished(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._finished(result)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self.collector is None:
            return
        for warning in self.collector.warnings:
            self._display.warning(warning)
        directory = os.path.expanduser(str(self.get_option("output_dir")))
        traces = self.collector.traces()
        if traces:
            self._display.banner("WORKFLOW TRACE")
        for trace in traces:
            self._display.display(summary_line(trace, write_trace(directory, trace)))
