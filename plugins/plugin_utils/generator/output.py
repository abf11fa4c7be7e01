# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Streaming writers for generated entries: ``log`` (messages.log lines), ``ndjson`` and ``json``.

Entries are written one at a time, so a million lines need no more memory than one; the first
``keep`` messages are also returned for the task result.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, TextIO

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage

FORMATS = ("json", "ndjson", "log")


@dataclass
class WriteSummary:
    count: int = 0
    messages: List[Dict[str, Any]] = field(default_factory=list)
    sha1: str = ""


def message_dict(entry: iris_log.LogEntry, instance: Optional[str], trace_id: str) -> Dict[str, Any]:
    """The entry as the published IRISMessage contract (JSON-ready)."""
    return IRISMessage.from_entry(entry, instance=instance, trace_id=trace_id).model_dump(mode="json")


def write_entries(entries: Iterable[iris_log.LogEntry], output: str, stream: TextIO, instance: Optional[str],
                  trace_id: str, keep: int) -> WriteSummary:
    """Write ``entries`` to ``stream`` in ``output`` format; return the count, the first ``keep`` messages, sha1."""
    if output not in FORMATS:
        raise ValueError("output: must be one of %s, got %r" % (", ".join(FORMATS), output))
    summary = WriteSummary()
    digest = hashlib.sha1()
    if output == "json":
        digest.update(_write(stream, "["))
    for entry in entries:
        message = message_dict(entry, instance, trace_id) if output != "log" or summary.count < keep else None
        if output == "log":
            chunk = iris_log.format_entry(entry) + "\n"
        elif output == "ndjson":
            chunk = json.dumps(message, sort_keys=True) + "\n"
        else:
            chunk = ("," if summary.count else "") + "\n" + json.dumps(message, sort_keys=True)
        digest.update(_write(stream, chunk))
        if message is not None and summary.count < keep:
            summary.messages.append(message)
        summary.count += 1
    if output == "json":
        digest.update(_write(stream, "\n]\n"))
    summary.sha1 = digest.hexdigest()
    return summary


def _write(stream: TextIO, chunk: str) -> bytes:
    stream.write(chunk)
    return chunk.encode("utf-8")
