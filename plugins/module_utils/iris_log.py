# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one home of the IRIS messages.log line format.

An entry is a header line ``MM/DD/YY-HH:MM:SS:mmm (PID) SEV [Category.Event] text`` followed by
any number of continuation lines (the startup banner, journal switch messages, the untimestamped
``*** Recovery started`` block). Every reader and writer of messages.log in this collection
(parser module, generator, emulator, EDA source) goes through this file. Stdlib only: it travels
inside AnsiballZ and is shipped verbatim with the emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable, Iterator, List, Optional, Tuple, Union

TIMESTAMP_FORMAT = "%m/%d/%y-%H:%M:%S"
# The seed's pattern, with named groups; the text is optional because real headers of
# multi-line entries end right after the category.
ENTRY_PATTERN = re.compile(
    r"^(?P<timestamp>\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3})\s+\((?P<pid>\d+)\)\s+"
    r"(?P<severity>\d)\s+\[(?P<category>[\w.]+)\](?:\s(?P<text>.*))?$"
)
# A line that starts like a header but does not match is malformed, not a continuation.
LOOKS_LIKE_HEADER = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}-\d")
CATEGORY_PATTERN = re.compile(r"^[\w]+(\.[\w]+)*$")

SEVERITY_NAMES = {0: "info", 1: "warning", 2: "severe", 3: "fatal"}
MIN_SEVERITY = 0
MAX_SEVERITY = 3


class LogFormatError(ValueError):
    """A value cannot be written as (or read from) a messages.log entry."""


@dataclass(frozen=True)
class LogEntry:
    """One messages.log entry: its header fields and its continuation lines."""

    timestamp: datetime
    pid: int
    severity: int
    category: str
    text: str
    continuation: Tuple[str, ...] = ()
    line_number: int = field(default=0, compare=False)

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES[self.severity]

    @property
    def full_text(self) -> str:
        """Header text and continuation lines as one message."""
        return "\n".join((self.text,) + self.continuation) if self.continuation else self.text

    def format(self) -> str:
        """Render the entry exactly as IRIS writes it (lines joined by LF, no final newline)."""
        return format_entry(self)

    def as_dict(self) -> dict[str, object]:
        return {
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
            "pid": self.pid,
            "severity": self.severity,
            "severity_name": self.severity_name,
            "category": self.category,
            "text": self.full_text,
            "line_number": self.line_number,
        }


@dataclass(frozen=True)
class MalformedLine:
    """A line that is neither an entry header nor a continuation of one."""

    line_number: int
    text: str
    reason: str


ParsedItem = Union[LogEntry, MalformedLine]


def parse_timestamp(value: str, tz: tzinfo = timezone.utc) -> datetime:
    """``MM/DD/YY-HH:MM:SS:mmm`` -> aware datetime. messages.log has no zone: pass the instance's."""
    try:
        base, millis = value.rsplit(":", 1)
        parsed = datetime.strptime(base, TIMESTAMP_FORMAT)
    except ValueError as exc:
        raise LogFormatError("invalid messages.log timestamp %r: %s" % (value, exc)) from None
    if len(millis) != 3 or not millis.isdigit():
        raise LogFormatError("invalid messages.log timestamp %r: milliseconds must be 3 digits" % value)
    # IRIS writes 2-digit years; every IRIS release is from this century.
    parsed = parsed.replace(year=2000 + parsed.year % 100)
    return parsed.replace(tzinfo=tz) + timedelta(milliseconds=int(millis))


def format_timestamp(value: datetime) -> str:
    """Aware or naive datetime -> ``MM/DD/YY-HH:MM:SS:mmm`` (in the datetime's own zone)."""
    return "%s:%03d" % (value.strftime(TIMESTAMP_FORMAT), value.microsecond // 1000)


def validate_fields(pid: int, severity: int, category: str, text: str) -> None:
    """Raise LogFormatError naming the field when a value cannot appear in a header line."""
    if pid < 0:
        raise LogFormatError("pid: must be a non-negative integer, got %r" % pid)
    if not MIN_SEVERITY <= severity <= MAX_SEVERITY:
        raise LogFormatError("severity: must be 0-3, got %r" % severity)
    if not CATEGORY_PATTERN.match(category):
        raise LogFormatError("category: must look like 'Generic.Event', got %r" % category)
    if "\n" in text or "\r" in text:
        raise LogFormatError("text: must be a single line; pass further lines as continuation")


def format_entry(entry: LogEntry) -> str:
    validate_fields(entry.pid, entry.severity, entry.category, entry.text)
    header = "%s (%d) %d [%s]" % (format_timestamp(entry.timestamp), entry.pid, entry.severity, entry.category)
    if entry.text:
        header = "%s %s" % (header, entry.text)
    return "\n".join((header,) + entry.continuation)


def make_entry(
    timestamp: datetime,
    pid: int,
    severity: int,
    category: str,
    text: str,
    continuation: Iterable[str] = (),
) -> LogEntry:
    """Build a validated entry (the writers' entry point)."""
    validate_fields(pid, severity, category, text)
    return LogEntry(timestamp, pid, severity, category, text, tuple(continuation))


def parse_header(line: str, tz: tzinfo = timezone.utc, line_number: int = 0) -> Optional[LogEntry]:
    """Parse one header line; None when the line is not a header."""
    match = ENTRY_PATTERN.match(line)
    if match is None:
        return None
    return LogEntry(
        timestamp=parse_timestamp(match.group("timestamp"), tz),
        pid=int(match.group("pid")),
        severity=int(match.group("severity")),
        category=match.group("category"),
        text=match.group("text") or "",
        line_number=line_number,
    )


def _malformed_reason(line: str) -> str:
    if not re.match(r"^\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3}\s", line):
        return "timestamp is not MM/DD/YY-HH:MM:SS:mmm"
    if not re.match(r"^\S+\s+\(\d+\)\s", line):
        return "pid is not '(digits)'"
    if not re.match(r"^\S+\s+\(\d+\)\s+[0-3]\s", line):
        return "severity is not 0-3"
    return "category is not '[Word.Word]'"


def iter_parse(lines: Iterable[str], tz: tzinfo = timezone.utc, first_line_number: int = 1) -> Iterator[ParsedItem]:
    """Yield entries (with their continuation lines) and malformed lines, streaming.

    A line that does not start like a header continues the entry before it. Lines before the
    first entry, and lines that start like a header but do not parse, are yielded as MalformedLine.
    """
    pending: Optional[LogEntry] = None
    continuation: List[str] = []
    for number, raw in enumerate(lines, start=first_line_number):
        line = raw.rstrip("\r\n")
        entry = None
        if LOOKS_LIKE_HEADER.match(line):
            try:
                entry = parse_header(line, tz, number)
            except LogFormatError as exc:
                yield MalformedLine(number, line, str(exc))
                continue
            if entry is None:
                yield MalformedLine(number, line, _malformed_reason(line))
                continue
        if entry is not None:
            if pending is not None:
                yield _with_continuation(pending, continuation)
            pending, continuation = entry, []
        elif pending is not None:
            continuation.append(line)
        else:
            yield MalformedLine(number, line, "text before the first entry")
    if pending is not None:
        yield _with_continuation(pending, continuation)


def _with_continuation(entry: LogEntry, continuation: List[str]) -> LogEntry:
    # A trailing empty line belongs to the file's final newline, not to the message.
    while continuation and continuation[-1] == "":
        continuation.pop()
    if not continuation:
        return entry
    return LogEntry(entry.timestamp, entry.pid, entry.severity, entry.category, entry.text,
                    tuple(continuation), entry.line_number)


def parse_text(text: str, tz: tzinfo = timezone.utc) -> Tuple[List[LogEntry], List[MalformedLine]]:
    """Parse a whole messages.log text into (entries, malformed lines)."""
    entries: List[LogEntry] = []
    malformed: List[MalformedLine] = []
    for item in iter_parse(text.splitlines(), tz):
        if isinstance(item, LogEntry):
            entries.append(item)
        else:
            malformed.append(item)
    return entries, malformed
