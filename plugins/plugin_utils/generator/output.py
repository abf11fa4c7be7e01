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
BATCH_LINES = 256


@dataclass
class WriteSummary:
    count: int = 0
    messages: List[Dict[str, Any]] = field(default_factory=list)
    sha1: str = ""


def message_dict(entry: iris_log.LogEntry, instance: Optional[str], trace_id: str) -> Dict[str, Any]:
    """The entry as the published IRISMessage contract (JSON-ready)."""
    return IRISMessage.from_entry(entry, instance=instance, trace_id=trace_id).model_dump(mode="json")


def write_entries(entries: Iterable[iris_log.LogEntry], output: str, stream: TextIO, instance: Optional[str],
                  trace_id: str, keep: int, validated: bool = False) -> WriteSummary:
    """Write ``entries`` to ``stream`` in ``output`` format; return the count, the first ``keep`` messages, sha1.

    ``validated``: the entries were checked when they were built (the engines' entries are), so ``log`` lines
    are rendered without checking every field again; otherwise each is validated by iris_log.format_entry.
    """
    if output not in FORMATS:
        raise ValueError("output: must be one of %s, got %r" % (", ".join(FORMATS), output))
    render = iris_log.render_entry if validated else iris_log.format_entry
    summary = WriteSummary()
    digest = hashlib.sha1()
    batch: List[str] = []  # written and hashed every BATCH_LINES lines: fewer calls, memory stays constant
    if output == "log":
        for entry in entries:
            if summary.count < keep:
                summary.messages.append(message_dict(entry, instance, trace_id))
            batch.append(render(entry))
            summary.count += 1
            if len(batch) >= BATCH_LINES:
                _flush(stream, digest, batch, "\n")
        _flush(stream, digest, batch, "\n")
        summary.sha1 = digest.hexdigest()
        return summary
    if output == "json":
        batch.append("[")
    for entry in entries:
        message = message_dict(entry, instance, trace_id)
        if output == "ndjson":
            batch.append(json.dumps(message, sort_keys=True) + "\n")
        else:
            batch.append(("," if summary.count else "") + "\n" + json.dumps(message, sort_keys=True))
        if summary.count < keep:
            summary.messages.append(message)
        summary.count += 1
        if len(batch) >= BATCH_LINES:
            _flush(stream, digest, batch)
    if output == "json":
        batch.append("\n]\n")
    _flush(stream, digest, batch)
    summary.sha1 = digest.hexdigest()
    return summary


def _flush(stream: TextIO, digest: Any, batch: List[str], line_end: str = "") -> None:
    """Write and hash the batch (each item followed by ``line_end``) and empty it."""
    if batch:
        chunk = line_end.join(batch) + line_end
        stream.write(chunk)
        digest.update(chunk.encode("utf-8"))
        batch.clear()
