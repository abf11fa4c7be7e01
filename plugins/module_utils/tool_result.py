# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ToolResult as plain dicts for modules (stdlib only; mirrors plugin_utils.models.ToolResult).

Every module returns ``tool_result`` built here, so the remediation trace is uniform and the
controller-side pydantic model (the contract) can validate it unchanged.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, Dict, List, Optional

# 32 lowercase hex digits, at least one non-zero (written without look-ahead so JSON Schema
# validators and pydantic's regex engine accept the same pattern).
TRACE_ID_LENGTH = 32
TRACE_ID_PATTERN = re.compile(r"^0*[1-9a-f][0-9a-f]*$")
STATUSES = ("success", "failure", "partial")
# The option of every module that returns a ToolResult (documented by the irisops.iris.iris.TOOL_RESULT fragment).
TOOL_RESULT_ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {"trace_id": {"type": "str"}}


def new_trace_id() -> str:
    """A W3C traceparent-compatible trace id: 128 random bits, lowercase hex, never all zero."""
    while True:
        candidate = secrets.token_hex(TRACE_ID_LENGTH // 2)
        if is_trace_id(candidate):
            return candidate


def is_trace_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == TRACE_ID_LENGTH and TRACE_ID_PATTERN.match(value) is not None


def change(target: str, old_value: Any, new_value: Any) -> Dict[str, Any]:
    """One ChangeDetail: what changed (or would change) from what to what."""
    return {"target": target, "old_value": old_value, "new_value": new_value}


class ToolResultBuilder(object):
    """Collects the pieces of a ToolResult while a module runs and times it."""

    def __init__(self, tool: str, trace_id: Optional[str] = None) -> None:
        self.tool = tool
        self.trace_id = trace_id if is_trace_id(trace_id) else new_trace_id()
        self.changes: List[Dict[str, Any]] = []
        self._started = time.monotonic()

    def add_change(self, target: str, old_value: Any, new_value: Any) -> None:
        self.changes.append(change(target, old_value, new_value))

    def build(
        self,
        status: str = "success",
        error_message: Optional[str] = None,
        requires_user_action: bool = False,
        dry_run: bool = False,
    ) -> Dict[str, Any]:
        if status not in STATUSES:
            raise ValueError("status must be one of %s, got %r" % (", ".join(STATUSES), status))
        return {
            "tool": self.tool,
            "status": status,
            "changes": list(self.changes),
            "error_message": error_message,
            "requires_user_action": requires_user_action,
            "dry_run": dry_run,
            "duration_ms": int((time.monotonic() - self._started) * 1000),
            "trace_id": self.trace_id,
        }
