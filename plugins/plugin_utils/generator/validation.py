# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Is a generated line a messages.log entry of the requested kind? (iris_log first, then the request.)

Used on every line an LLM returns: prose, code fences, wrong formats, wrong severities, tags that
belong to another category and text unrelated to the category are rejected with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import catalog
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_text

# Tags any subsystem writes with (the samples show both for every kind of event).
GENERIC_TAGS = frozenset({"Generic.Event", "Utility.Event"})
# What the text of a category's message must mention (case-insensitive).
CATEGORY_KEYWORDS: Dict[MessageCategory, "re.Pattern[str]"] = {
    MessageCategory.CONFIG: re.compile(r"config|cpf|parameter|setting|director|MaxServerConn|locksiz|gmheap|qlist|"
                                       r"version|ISC_|Executing", re.IGNORECASE),
    MessageCategory.LICENSE: re.compile(r"licen[cs]e|LMF|key|units?\b", re.IGNORECASE),
    MessageCategory.MEMORY: re.compile(r"memory|heap|buffer|pages|gmheap|\bMB\b|\dMB|\dKB|terminated|alloc",
                                       re.IGNORECASE),
    MessageCategory.LOCK: re.compile(r"lock", re.IGNORECASE),
    MessageCategory.JOURNAL: re.compile(r"journal|WIJ|backup|freeze|thaw|suspend|resum", re.IGNORECASE),
    MessageCategory.STARTUP: re.compile(r"start|shut|logons|mount|initiali|WIJ|daemon|allocated|webserver|"
                                        r"recover|AES|halt|abort", re.IGNORECASE),
    MessageCategory.MIRROR: re.compile(r"mirror|failover|arbiter|primary|backup|async", re.IGNORECASE),
    MessageCategory.NETWORK: re.compile(r"ECP|connect|network|TCP|port|superserver|server|socket", re.IGNORECASE),
}
# The only multi-line entry a model may write (the system prompt says so): the real journal switch.
JOURNAL_SWITCH_TEXT = "INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE"
JOURNAL_SWITCH_CONTINUATION = re.compile(r"^Journaling switched to: \S+$")
CODE_FENCE = re.compile(r"^\s*```")
MAX_TEXT_LENGTH = 1000


@dataclass(frozen=True)
class Rejected:
    line: str
    reason: str


@lru_cache(maxsize=None)
def allowed_tags(category: MessageCategory) -> frozenset[str]:
    return GENERIC_TAGS | catalog.tags_for(category)


def check_entry(entry: iris_log.LogEntry, category: MessageCategory, severities: frozenset[int]) -> str:
    """Why ``entry`` does not answer the request ('' when it does)."""
    if entry.severity not in severities:
        return "severity %d is outside the requested %s" % (entry.severity, sorted(severities))
    if entry.category not in allowed_tags(category):
        tags = ", ".join(sorted(allowed_tags(category)))
        return "tag [%s] is not one %s messages use (%s)" % (entry.category, category.value, tags)
    if not entry.full_text.strip():
        return "empty message text"
    if len(entry.full_text) > MAX_TEXT_LENGTH:
        return "text longer than %d characters" % MAX_TEXT_LENGTH
    if entry.text == JOURNAL_SWITCH_TEXT and not entry.continuation:
        return "journal switch without its 'Journaling switched to: <file>' line"
    if not CATEGORY_KEYWORDS[category].search(entry.full_text):
        return "text does not read like a %s message" % category.value
    return ""


def split_continuation(entry: iris_log.LogEntry) -> Tuple[iris_log.LogEntry, List[Rejected]]:
    """Keep a journal switch's own continuation line; every other line under a header is rejected on its own.

    A model that adds prose after a good line ("Let me know if ...") loses the prose, not the line.
    """
    keep = 1 if entry.text == JOURNAL_SWITCH_TEXT and JOURNAL_SWITCH_CONTINUATION.match(
        entry.continuation[0] if entry.continuation else "") else 0
    rejected = [Rejected(line, "not a messages.log entry (prose or an invented continuation line)")
                for line in entry.continuation[keep:]]
    if not rejected:
        return entry, rejected
    return iris_log.LogEntry(entry.timestamp, entry.pid, entry.severity, entry.category, entry.text,
                             entry.continuation[:keep]), rejected


def line_fault(line: str, scrub: Callable[[str], str]) -> str:
    """Why a raw answer line may not be written at all ('' when it may): control characters, a secret, a fence.

    ``scrub`` hides secrets (the API key, anything the redaction rules know); a line it would change carries
    one, and an accepted line is written verbatim to the output and the instance's log.
    """
    reason = iris_log.unprintable_reason(line)
    if reason:
        return "not one printable line: %s" % reason
    if scrub(line) != line:
        return "carries a secret (the API key or a value the redaction rules hide); never written"
    if CODE_FENCE.match(line):
        return "markdown code fence"
    return ""


def check_response(text: str, category: MessageCategory, severities: frozenset[int],
                   scrub: Callable[[str], str] = redact_text) -> Tuple[List[iris_log.LogEntry], List[Rejected]]:
    """Split a model's answer into accepted entries and rejected lines (blank lines are ignored).

    The answer is split on LF only (one trailing CR per line is a CRLF ending); every other control or
    line-separator character rejects its line, so an accepted entry is exactly the lines the log will show.
    """
    accepted: List[iris_log.LogEntry] = []
    rejected: List[Rejected] = []
    lines: List[str] = []
    for raw in iris_log.split_lines(text):
        line = iris_log.split_line(raw)
        fault = line_fault(line, scrub)
        if fault:
            rejected.append(Rejected(line, fault))
        elif line.strip():
            lines.append(line)
    for item in iris_log.iter_parse(lines):
        if isinstance(item, iris_log.MalformedLine):
            rejected.append(Rejected(item.text, "not a messages.log entry: %s" % item.reason))
            continue
        entry, stray = split_continuation(item)
        reason = check_entry(entry, category, severities)
        if reason:
            rejected.append(Rejected(iris_log.format_entry(entry), reason))
        else:
            accepted.append(entry)
        rejected.extend(stray)
    return accepted, rejected
