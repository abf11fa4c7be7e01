# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trace ids (W3C trace-context compatible) and their propagation through HTTP headers."""

from __future__ import annotations

import secrets

from ansible_collections.irisops.iris.plugins.module_utils.tool_result import is_trace_id, new_trace_id

__all__ = ["is_trace_id", "new_trace_id", "new_span_id", "traceparent"]


def new_span_id() -> str:
    while True:
        span = secrets.token_hex(8)
        if span != "0" * 16:
            return span


def traceparent(trace_id: str, span_id: str | None = None, sampled: bool = True) -> str:
    """The ``traceparent`` header value carrying ``trace_id`` to the next hop."""
    if not is_trace_id(trace_id):
        raise ValueError("trace_id: must be 32 lowercase hex digits, not all zero; got %r" % trace_id)
    return "00-%s-%s-%s" % (trace_id, span_id or new_span_id(), "01" if sampled else "00")
