# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The WorkflowTrace of a remediation run: built from the run's step results, written once per run.

The remediate role writes it on every run (its ``always:`` section calls the remediation_trace action), the
command guard writes one for a command it refuses, and the workflow_trace callback prints their summaries.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional, Sequence

from pydantic import ValidationError as PydanticValidationError

from ansible_collections.irisops.iris.plugins.module_utils.durable import replace_file
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder, is_trace_id
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import (
    ToolResult, ToolStatus, TraceStatus, WorkflowTrace, utc_now)
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact, redact_text

DEFAULT_TRACE_DIR = "~/.ansible/irisops/traces"
TRACE_DIR_ENV = "IRISOPS_TRACE_DIR"
PLAN_TOOL = "remediation_plan"
RESTART_TOOL = "instance_restart"
# command_id and instance name trace files; anything but a plain name from a refused command is not used.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")


def trace_directory(configured: Optional[str] = None) -> str:
    """The configured directory, else $IRISOPS_TRACE_DIR, else ~/.ansible/irisops/traces."""
    return os.path.expanduser(configured or os.environ.get(TRACE_DIR_ENV) or DEFAULT_TRACE_DIR)


def plain_identity(document: Any) -> dict[str, Optional[str]]:
    """command_id, instance and trace_id of a (possibly refused) command, each only when it is a plain name."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError:
            document = None
    values = document if isinstance(document, dict) else {}
    identity = {name: values[name] if isinstance(values.get(name), str) and PLAIN_NAME.match(values[name]) else None
                for name in ("command_id", "instance")}
    identity["trace_id"] = values.get("trace_id") if is_trace_id(values.get("trace_id")) else None
    return identity


def tool_results(result: Any) -> list[ToolResult]:
    """The ToolResults in one registered task result (loop items in order); skipped or foreign ones are left out."""
    if not isinstance(result, dict) or result.get("skipped"):
        return []
    items = result.get("results")
    payloads = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else [result]
    found = []
    for payload in payloads:
        try:
            found.append(ToolResult.model_validate(payload["tool_result"]))
        except (KeyError, TypeError, PydanticValidationError):
            continue
    return found


def file_restore_result(result: Any, trace_id: str, check_mode: bool) -> Optional[ToolResult]:
    """A ToolResult for a rollback task that restored or removed a file (ansible.builtin.copy or file)."""
    if not isinstance(result, dict) or result.get("skipped") or "tool_result" in result:
        return None
    path = result.get("dest") or result.get("path")
    if not path:
        return None  # the task never ran
    builder = ToolResultBuilder("file_restore", trace_id)
    failed = bool(result.get("failed"))
    if not failed:
        builder.add_change(path, None, "removed" if result.get("state") == "absent" else "restored from backup")
    return ToolResult.model_validate(builder.build("failure" if failed else "success",
                                                   error_message=result.get("msg") if failed else None,
                                                   dry_run=check_mode))


@dataclass
class RunRecord:
    """One remediation run of one instance: the plan, the steps in the order they ran, the rollback."""

    plan: dict[str, Any]
    checks: Sequence[Any] = ()
    steps: Sequence[Any] = ()
    rollback: Sequence[Any] = ()
    started_at: Optional[datetime] = None
    check_mode: bool = False
    finished_at: datetime = field(default_factory=utc_now)

    def trace(self) -> WorkflowTrace:
        plan_result = tool_results(self.plan)
        identity = self.plan.get("plan") or self.plan.get("refused") or {}
        trace_id = identity.get("trace_id") or (plan_result[0].trace_id if plan_result else "")
        if not isinstance(trace_id, str) or not is_trace_id(trace_id):
            raise ValueError("the plan result carries no trace id")
        # A role included once per command (consume) keeps the registered results of an earlier command until
        # its tasks run again: only this run's results (its trace id) are its steps.
        executed = [result for step in self.steps for result in tool_results(step) if result.trace_id == trace_id]
        restored = [result for task in self.rollback for result in self._rollback_results(task, trace_id)
                    if result.trace_id == trace_id]
        refused = [result for result in plan_result if result.status != ToolStatus.SUCCESS]
        refused += [self._refusal(check, trace_id) for check in self.checks
                    if isinstance(check, dict) and check.get("failed")]
        started_at = self.started_at or self.finished_at
        return WorkflowTrace(
            trace_id=trace_id, command_id=identity.get("command_id"), instance=identity.get("instance"),
            check_mode=self.check_mode, started_at=started_at, finished_at=self.finished_at,
            duration_ms=max(0, int((self.finished_at - started_at).total_seconds() * 1000)),
            steps_executed=refused + executed + restored,
            overall_status=overall_status(refused + executed, restored))

    def _refusal(self, check: dict[str, Any], trace_id: str) -> ToolResult:
        """A check of the role that failed after the plan: a refusal before any step, like the plan's own."""
        message = redact_text(str(check.get("msg") or "refused"))
        return ToolResult.model_validate(ToolResultBuilder(PLAN_TOOL, trace_id).build(
            "failure", error_message=message, dry_run=self.check_mode))

    def _rollback_results(self, task: Any, trace_id: str) -> list[ToolResult]:
        restored = tool_results(task) or file_restore_result(task, trace_id, self.check_mode)
        return restored if isinstance(restored, list) else [restored] if restored is not None else []


def overall_status(steps: list[ToolResult], rollback: list[ToolResult]) -> TraceStatus:
    """success: every step succeeded. rolled_back: a step failed and everything it had changed was restored
    (the instance running again where a restart was cut short). failure: a step failed with nothing to restore,
    or a restart left the instance in a state only an operator can judge (a stop that hung). partial: a
    rollback action failed, so the instance is neither where it was nor where the command wanted it."""
    failed = [step for step in steps if step.status != ToolStatus.SUCCESS]
    if not failed:
        return TraceStatus.SUCCESS
    if any(step.tool == RESTART_TOOL and step.status == ToolStatus.FAILURE and step.changes for step in failed):
        return TraceStatus.FAILURE
    if not rollback:
        return TraceStatus.FAILURE
    if all(step.status == ToolStatus.SUCCESS for step in rollback):
        return TraceStatus.ROLLED_BACK
    return TraceStatus.PARTIAL


def refusal_trace(error: ValidationError, document: Any = None, check_mode: bool = False) -> WorkflowTrace:
    """The trace of a command refused before any step: its one step is the refusal."""
    identity = plain_identity(document)
    message = redact_text(str(error))
    builder = ToolResultBuilder(PLAN_TOOL, identity["trace_id"])
    step = ToolResult.model_validate(builder.build("failure", error_message=message, dry_run=check_mode))
    now = utc_now()
    return WorkflowTrace(trace_id=step.trace_id, command_id=identity["command_id"], instance=identity["instance"],
                         check_mode=check_mode, started_at=now, finished_at=now, duration_ms=0,
                         steps_executed=[step], overall_status=TraceStatus.FAILURE)


def trace_file_name(trace: WorkflowTrace) -> str:
    # A preview and the real run of one command share the trace id; both records are kept.
    return "%s.%s%s.json" % (trace.trace_id, UNSAFE_FILE_CHARACTERS.sub("_", trace.instance or "unknown"),
                             ".preview" if trace.check_mode else "")


def write_trace(directory: str, trace: WorkflowTrace) -> str:
    """Write crash-safely, so a reader never sees half a trace; secrets are redacted first."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, trace_file_name(trace))
    text = json.dumps(redact(trace.model_dump(mode="json")), indent=2, sort_keys=True) + "\n"
    replace_file(path, text.encode("utf-8"))
    return path


def summary_line(trace: WorkflowTrace, path: str) -> str:
    steps = ", ".join("%s %s" % (step.tool, step.status.value) for step in trace.steps_executed) or "no steps"
    return "%s%s %s: %s in %.1fs [%s] trace %s -> %s" % (
        "[preview] " if trace.check_mode else "", trace.instance, trace.command_id or "-",
        trace.overall_status.value.upper(), trace.duration_ms / 1000.0, steps, trace.trace_id, path)
