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

Round trip: for every header IRIS writes (single spaces between fields, no leading zeros in the
pid) ``format_entry(parse(x)) == x`` byte for byte, continuation lines included. Lines are split
on LF only; one trailing CR (a CRLF file) is not part of a line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import BinaryIO, Iterable, Iterator, List, Optional, Tuple, Union

# The seed's pattern, with named groups. The text is optional because real headers of multi-line
# entries end right after the category; a single separator keeps leading spaces of the text.
# ASCII: IRIS writes ASCII digits and category names, and int() would accept other digits.
ENTRY_PATTERN = re.compile(
    r"^(?P<timestamp>\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3})\s+\((?P<pid>\d+)\)\s+"
    r"(?P<severity>\d)\s+\[(?P<category>[\w.]+)\](?:\s(?P<text>.*))?$",
    re.ASCII,
)
# A line that starts like a header but does not match is malformed, not a continuation.
LOOKS_LIKE_HEADER = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}-\d", re.ASCII)
# A header somewhere inside a line: a docker-compose ("svc  | ") or iris-main ("[INFO] log: ") prefix.
EMBEDDED_HEADER = re.compile(r"\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3}\s+\(\d+\)\s+\d\s+\[[\w.]+\]", re.ASCII)
# "2 [Utility.Event] LMF Error: ..." - a header whose timestamp and pid were cut off.
HEADER_WITHOUT_STAMP = re.compile(r"^\s*\d\s+\[[\w.]+\](\s|$)", re.ASCII)
# Spelled out (not \w + re.ASCII) so the JSON Schema generated from it means the same in any regex engine.
CATEGORY_PATTERN = re.compile(r"^[A-Za-z0-9_.]+$")
TIMESTAMP_PATTERN = re.compile(r"^(\d{2})/(\d{2})/(\d{2})-(\d{2}):(\d{2}):(\d{2}):(\d{3})$", re.ASCII)
# What a written line must not contain: C0 controls (NUL, TAB, ESC of terminal escape sequences, a CR that
# lets a viewer overwrite the line with a forged one), DEL, C1 controls (NEL U+0085 included) and the Unicode
# line and paragraph separators (str.splitlines, editors and log viewers break lines there).
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

SEVERITY_NAMES = {0: "info", 1: "warning", 2: "severe", 3: "fatal"}
SEVERITY_BY_NAME = dict((name, number) for number, name in SEVERITY_NAMES.items())
MIN_SEVERITY = 0
MAX_SEVERITY = 3
# IRIS writes 2-digit years; these are the years they can stand for.
FIRST_YEAR = 2000
LAST_YEAR = 2099
LOCALTIME = "/etc/localtime"


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

    @classmethod
    def build(cls, timestamp: datetime, pid: int, severity: int, category: str, text: str,
              continuation: Tuple[str, ...] = (), line_number: int = 0) -> "LogEntry":
        """The same entry as ``LogEntry(...)``, built without the frozen dataclass's per-field
        ``object.__setattr__`` calls, which cost writers of millions of entries more than the rest of the entry."""
        entry = object.__new__(cls)
        entry.__dict__.update(timestamp=timestamp, pid=pid, severity=severity, category=category, text=text,
                              continuation=continuation, line_number=line_number)
        return entry

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES[self.severity]

    @property
    def full_text(self) -> str:
        """Header text and continuation lines as one message (blank edges dropped)."""
        return "\n".join((self.text,) + self.continuation).strip("\n") if self.continuation else self.text

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

    def as_dict(self) -> dict[str, object]:
        return {"line_number": self.line_number, "text": self.text, "reason": self.reason}


ParsedItem = Union[LogEntry, MalformedLine]


def parse_timestamp(value: str, tz: tzinfo = timezone.utc) -> datetime:
    """``MM/DD/YY-HH:MM:SS:mmm`` -> aware datetime. messages.log has no zone: pass the instance's."""
    match = TIMESTAMP_PATTERN.match(value)
    if match is None:
        raise LogFormatError("timestamp: %r is not MM/DD/YY-HH:MM:SS:mmm" % value)
    month, day, year, hour, minute, second, millis = (int(part) for part in match.groups())
    try:
        return datetime(FIRST_YEAR + year, month, day, hour, minute, second, millis * 1000, tzinfo=tz)
    except ValueError as exc:
        raise LogFormatError("timestamp: %r is not a valid date and time (%s)" % (value, exc)) from None


# The header as IRIS writes it: timestamp (month, day, 2-digit year, hour, minute, second, millisecond), pid,
# severity, category. One %-format for the whole header: a header is written per generated line.
TIMESTAMP_FORMAT = "%02d/%02d/%02d-%02d:%02d:%02d:%03d"
HEADER_FORMAT = TIMESTAMP_FORMAT + " (%d) %d [%s]"


def format_timestamp(value: datetime) -> str:
    """Datetime -> ``MM/DD/YY-HH:MM:SS:mmm`` in the datetime's own zone (sub-millisecond part dropped)."""
    _check_year(value.year)
    return TIMESTAMP_FORMAT % (
        value.month, value.day, value.year % 100, value.hour, value.minute, value.second, value.microsecond // 1000)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise LogFormatError("timestamp: year %d cannot be written as a 2-digit IRIS year (%d-%d)"
                             % (year, FIRST_YEAR, LAST_YEAR))


def parse_severity(value: Union[int, str]) -> int:
    """0-3, a digit string or a name (info, warning, severe, fatal) -> 0-3."""
    if isinstance(value, str):
        name = value.strip().lower()
        if name in SEVERITY_BY_NAME:
            return SEVERITY_BY_NAME[name]
        if not (name.isdigit() and name.isascii()):
            raise LogFormatError("severity: must be 0-3 or one of %s, got %r" % (", ".join(SEVERITY_BY_NAME), value))
        value = int(name)
    if isinstance(value, bool) or not MIN_SEVERITY <= value <= MAX_SEVERITY:
        raise LogFormatError("severity: must be 0-3, got %r" % (value,))
    return value


def unprintable_reason(value: str) -> Optional[str]:
    """Why ``value`` is not one printable line (None when it is): the first control or separator character."""
    match = UNPRINTABLE.search(value)
    if match is None:
        return None
    return "contains control character U+%04X at position %d (a messages.log line must be one printable line)" % (
        ord(match.group()), match.start())


def printable(value: str) -> str:
    """``value`` with every control and line-separator character escaped (``\\x1b``, ``\\u2028``), for reports."""
    return UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), value)


def validate_fields(pid: int, severity: int, category: str, text: str, continuation: Iterable[str] = ()) -> None:
    """Raise LogFormatError naming the field when a value cannot be written so that it reads back the same."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid < 0:
        raise LogFormatError("pid: must be a non-negative integer, got %r" % (pid,))
    if isinstance(severity, bool) or not isinstance(severity, int) or not MIN_SEVERITY <= severity <= MAX_SEVERITY:
        raise LogFormatError("severity: must be 0-3, got %r" % (severity,))
    if not CATEGORY_PATTERN.match(category):
        raise LogFormatError("category: must be letters, digits, '_' and '.' like 'Generic.Event', got %r" % category)
    if "\n" in text:
        raise LogFormatError("text: must be a single line; pass further lines as continuation")
    reason = unprintable_reason(text)
    if reason:
        raise LogFormatError("text: %s" % reason)
    for index, line in enumerate(continuation):
        if "\n" in line:
            raise LogFormatError("continuation[%d]: must be a single line" % index)
        reason = unprintable_reason(line)
        if reason:
            raise LogFormatError("continuation[%d]: %s" % (index, reason))
        reason = "starts like an entry header" if LOOKS_LIKE_HEADER.match(line) else _wrapped_header_reason(line)
        if reason:
            raise LogFormatError("continuation[%d]: would not read back as a continuation line: %s" % (index, reason))


def format_header(timestamp: datetime, pid: int, severity: int, category: str, text: str) -> str:
    year = timestamp.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        _check_year(year)
    header = HEADER_FORMAT % (timestamp.month, timestamp.day, year % 100, timestamp.hour, timestamp.minute,
                              timestamp.second, timestamp.microsecond // 1000, pid, severity, category)
    return header + " " + text if text else header


def format_entry(entry: LogEntry) -> str:
    """The entry's lines joined by LF, without a final newline (validated: LogFormatError names the field)."""
    validate_fields(entry.pid, entry.severity, entry.category, entry.text, entry.continuation)
    return render_entry(entry)


def render_entry(entry: LogEntry) -> str:
    """``format_entry`` without the validation, for writers whose entries were validated when they were built
    (a generator streaming millions of lines checks each template and value source once, not every line)."""
    header = format_header(entry.timestamp, entry.pid, entry.severity, entry.category, entry.text)
    return "\n".join((header,) + entry.continuation) if entry.continuation else header


def make_entry(
    timestamp: datetime,
    pid: int,
    severity: int,
    category: str,
    text: str,
    continuation: Iterable[str] = (),
) -> LogEntry:
    """Build a validated entry (the writers' entry point)."""
    lines = tuple(continuation)
    validate_fields(pid, severity, category, text, lines)
    format_timestamp(timestamp)
    return LogEntry(timestamp, pid, severity, category, text, lines)


def parse_header(line: str, tz: tzinfo = timezone.utc, line_number: int = 0) -> Optional[LogEntry]:
    """Parse one header line; None when the line is not a header, LogFormatError when a field is invalid."""
    match = ENTRY_PATTERN.match(line)
    if match is None:
        return None
    severity = int(match.group("severity"))
    if severity > MAX_SEVERITY:
        raise LogFormatError("severity: must be 0-3, got %d" % severity)
    return LogEntry(
        timestamp=parse_timestamp(match.group("timestamp"), tz),
        pid=int(match.group("pid")),
        severity=severity,
        category=match.group("category"),
        text=match.group("text") or "",
        line_number=line_number,
    )


def _malformed_reason(line: str) -> str:
    """Why a line that starts like a header is not one (the first field that breaks the pattern)."""
    if not re.match(r"^\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3}\s", line, re.ASCII):
        return "timestamp: not MM/DD/YY-HH:MM:SS:mmm followed by a space"
    if not re.match(r"^\S+\s+\(\d+\)\s", line, re.ASCII):
        return "pid: not '(digits)' followed by a space"
    if not re.match(r"^\S+\s+\S+\s+\d\s", line, re.ASCII):
        return "severity: not a single digit followed by a space"
    return "category: not '[Word.Event]' followed by a space or the end of the line"


def _wrapped_header_reason(line: str) -> Optional[str]:
    """Why a line that does not start like a header still cannot be a continuation line (None when it can)."""
    embedded = EMBEDDED_HEADER.search(line)
    if embedded:
        return "entry header preceded by %r (a docker-compose or iris-main prefix?)" % line[:embedded.start()]
    if HEADER_WITHOUT_STAMP.match(line):
        return "severity and category without the timestamp and pid"
    return None


def split_line(raw: str) -> str:
    """A line without its LF or CRLF ending."""
    if raw.endswith("\n"):
        raw = raw[:-1]
    return raw[:-1] if raw.endswith("\r") else raw


def iter_parse(lines: Iterable[str], tz: tzinfo = timezone.utc, first_line_number: int = 1,
               form: Optional["LogForm"] = None) -> Iterator[ParsedItem]:
    """Yield entries (with their continuation lines) and malformed lines in file order, streaming.

    A line that is not a header continues the entry before it, unless it carries a wrapped or
    truncated header. Lines before the first entry are malformed. Memory holds one entry at a time.
    ``form`` reads a wrapped form (docker compose prefixes, structured NVP); default: plain messages.log.
    """
    if form is not None and form.name == FORM_NVP:
        yield from _iter_parse_nvp(lines, tz, first_line_number)
        return
    unwrap = form.unwrap if form is not None else None
    pending: Optional[LogEntry] = None
    continuation: List[str] = []
    for number, raw in enumerate(lines, start=first_line_number):
        line = split_line(raw)
        if unwrap is not None:
            line, reason = unwrap(line)
            if reason is not None:
                yield MalformedLine(number, line, reason)
                continue
        try:
            entry = parse_header(line, tz, number)
        except LogFormatError as exc:
            yield MalformedLine(number, line, str(exc))
            continue
        if entry is not None:
            if pending is not None:
                yield _with_continuation(pending, continuation)
            pending, continuation = entry, []
            continue
        reason = _malformed_reason(line) if LOOKS_LIKE_HEADER.match(line) else _wrapped_header_reason(line)
        if reason is None and pending is None:
            reason = "text before the first entry"
        if reason is None:
            continuation.append(line)
        else:
            yield MalformedLine(number, line, reason)
    if pending is not None:
        yield _with_continuation(pending, continuation)


# --- wrapped forms: the same entries as another tool writes them --------------------------------------
FORM_PLAIN = "messages.log"
FORM_COMPOSE = "docker-compose"
FORM_NVP = "structured-nvp"
# "iris-1  | " as docker compose prints a service's output (colour codes around the name when not --no-color).
COMPOSE_PREFIX = re.compile(r"^(?:\x1b\[[0-9;]*m)*(?P<service>[A-Za-z0-9][A-Za-z0-9_.-]*)\s*\|(?:\x1b\[[0-9;]*m)* ?")
# Structured logging ([Logging] Format=NVP, written by irislogd): one entry per line of name=value pairs,
# a value in double quotes when it has spaces: when="2019-08-01 18:43:02.216" pid=8240 level=SEVERE
# event=Utility.Event text="..." (optionally host= and instance=). InterSystems documentation, "Structured Logging".
NVP_PAIR = re.compile(r'(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s"]*))(?=\s|$)')
NVP_WHEN = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$", re.ASCII)
NVP_REQUIRED = ("when", "pid", "level", "event", "text")
# Structured-log levels -> messages.log severities (debug levels and audit events are information).
NVP_LEVELS = {"DEBUG2": 0, "DEBUG": 0, "INFO": 0, "WARNING": 1, "SEVERE": 2, "FATAL": 3}


@dataclass(frozen=True)
class LogForm:
    """How a file writes its entries: plain messages.log, docker compose prefixed (one service), or NVP."""

    name: str
    service: str = ""  # the docker compose service whose lines carry the entries

    def unwrap(self, line: str) -> Tuple[str, Optional[str]]:
        """The messages.log line inside a wrapped one, and why it is not one (None when it is)."""
        if self.name != FORM_COMPOSE or not line.strip():
            return line, None
        prefix = COMPOSE_PREFIX.match(line)
        if prefix is None:
            return line, "no docker compose '%s | ' prefix" % self.service
        if prefix.group("service") != self.service:
            return line, "output of docker compose service %r, not of %r" % (prefix.group("service"), self.service)
        return line[prefix.end():], None

    def header(self, line: str, tz: tzinfo = timezone.utc, line_number: int = 0) -> Optional[LogEntry]:
        """The entry a line starts (None when it starts none); LogFormatError when a field is invalid."""
        if self.name == FORM_NVP:
            return parse_nvp(line, tz, line_number) if line.strip() else None
        unwrapped, reason = self.unwrap(line)
        return None if reason else parse_header(unwrapped, tz, line_number)


def detect_form(lines: Iterable[str]) -> Optional[LogForm]:
    """The form of the first line that starts an entry in any form we read; None when no line does."""
    for raw in lines:
        line = split_line(raw)
        if ENTRY_PATTERN.match(line):
            return LogForm(FORM_PLAIN)
        prefix = COMPOSE_PREFIX.match(line)
        if prefix is not None and ENTRY_PATTERN.match(line[prefix.end():]):
            return LogForm(FORM_COMPOSE, prefix.group("service"))
        # host= and instance= may come first (irislogd -h / -i).
        if NVP_PAIR.match(line) and {"when", "pid", "level"} <= {m.group("name") for m in NVP_PAIR.finditer(line)}:
            return LogForm(FORM_NVP)
    return None


def describe_unreadable(line: str) -> str:
    """What a file whose lines start no entry in any form seems to be, for the error that names it."""
    text = line.strip()
    if text.startswith("{") and '"when"' in text:
        return "a structured log in JSON form ([Logging] Format=JSON), which is not read: use Format=NVP"
    return "not messages.log, docker compose prefixed messages.log or a structured (NVP) log; first line: %r" % (
        printable(text[:120]),)


def parse_nvp(line: str, tz: tzinfo = timezone.utc, line_number: int = 0) -> LogEntry:
    """One structured-log (NVP) line -> entry; LogFormatError naming the field that is missing or invalid."""
    values = {}
    for pair in NVP_PAIR.finditer(line):
        quoted = pair.group("quoted")
        values[pair.group("name")] = (re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else pair.group("bare"))
    missing = [name for name in NVP_REQUIRED if name not in values]
    if missing:
        raise LogFormatError("%s: missing from the structured (NVP) line" % ", ".join(missing))
    when = NVP_WHEN.match(values["when"])
    if when is None:
        raise LogFormatError("when: %r is not 'yyyy-mm-dd hh:mm:ss.sss'" % values["when"])
    year, month, day, hour, minute, second, millis = (int(part) for part in when.groups())
    try:
        timestamp = datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=tz)
    except ValueError as exc:
        raise LogFormatError("when: %r is not a valid date and time (%s)" % (values["when"], exc)) from None
    if not (values["pid"].isdigit() and values["pid"].isascii()):
        raise LogFormatError("pid: %r is not a process id" % values["pid"])
    level = values["level"].upper()
    if level not in NVP_LEVELS:
        raise LogFormatError("level: %r is not one of %s" % (values["level"], ", ".join(NVP_LEVELS)))
    if not CATEGORY_PATTERN.match(values["event"]):
        raise LogFormatError("event: %r is not a 'Facility.Event' name" % values["event"])
    return LogEntry(timestamp, int(values["pid"]), NVP_LEVELS[level], values["event"], values["text"],
                    line_number=line_number)


def _iter_parse_nvp(lines: Iterable[str], tz: tzinfo, first_line_number: int) -> Iterator[ParsedItem]:
    for number, raw in enumerate(lines, start=first_line_number):
        line = split_line(raw)
        if not line.strip():
            continue
        try:
            yield parse_nvp(line, tz, number)
        except LogFormatError as exc:
            yield MalformedLine(number, line, "structured (NVP) line: %s" % exc)


def _with_continuation(entry: LogEntry, continuation: List[str]) -> LogEntry:
    if not continuation:
        return entry
    return LogEntry(entry.timestamp, entry.pid, entry.severity, entry.category, entry.text,
                    tuple(continuation), entry.line_number)


def split_lines(text: str) -> List[str]:
    """Lines of a text split on LF only (str.splitlines would also split on FF, VT, U+2028 ...)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_text(text: str, tz: tzinfo = timezone.utc) -> Tuple[List[LogEntry], List[MalformedLine]]:
    """Parse a whole messages.log text into (entries, malformed lines)."""
    entries: List[LogEntry] = []
    malformed: List[MalformedLine] = []
    for item in iter_parse(split_lines(text), tz):
        if isinstance(item, LogEntry):
            entries.append(item)
        else:
            malformed.append(item)
    return entries, malformed


def decode_line(raw: bytes) -> str:
    """messages.log bytes -> str; IRIS writes UTF-8 (or ASCII), stray bytes become U+FFFD."""
    return raw.decode("utf-8", errors="replace")


def iter_lines_backwards(stream: BinaryIO, end: int, block_size: int = 65536) -> Iterator[Tuple[int, bytes]]:
    """Yield ``(offset, line)`` from the last line before ``end`` back to the first, reading fixed blocks.

    ``line`` is without its LF; ``offset`` is where it starts. Memory holds one block plus one line.
    """
    position = end
    tail = b""  # the start of a line that may continue before ``position``
    at_end = True  # a final LF ends the last line; it does not start an empty one
    while position > 0:
        size = min(block_size, position)
        position -= size
        stream.seek(position)
        buffer = stream.read(size) + tail
        pieces = buffer.split(b"\n")
        start = position + len(buffer)
        for index in range(len(pieces) - 1, 0, -1):
            start -= len(pieces[index])
            if not (at_end and pieces[index] == b""):
                yield start, pieces[index]
            at_end = False
            start -= 1
        tail = pieces[0]
    if end > 0:
        yield 0, tail


def count_lines_before(stream: BinaryIO, offset: int, block_size: int = 65536) -> int:
    """Number of LF-terminated lines before ``offset`` (to number lines when reading from the end)."""
    stream.seek(0)
    remaining = offset
    count = 0
    while remaining > 0:
        block = stream.read(min(block_size, remaining))
        if not block:
            break
        count += block.count(b"\n")
        remaining -= len(block)
    return count


def resolve_timezone(name: Optional[str] = None) -> tzinfo:
    """An IANA zone name, ``UTC``, or the host's local zone (``TZ``, then /etc/localtime) when empty.

    messages.log timestamps carry no zone; IRIS writes the host's local time.
    """
    try:
        import zoneinfo
    except ImportError:  # pragma: no cover - Python < 3.9 is not supported on targets
        zoneinfo = None  # type: ignore[assignment]
    if name:
        if name.upper() in ("UTC", "Z"):
            return timezone.utc
        if zoneinfo is None:  # pragma: no cover
            raise LogFormatError("timezone: %r needs Python >= 3.9 (zoneinfo)" % name)
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise LogFormatError("timezone: %r is not a known IANA zone name (%s)" % (name, exc)) from None
    env_zone = os.environ.get("TZ", "").lstrip(":")
    if env_zone and zoneinfo is not None:
        try:
            return zoneinfo.ZoneInfo(env_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    if zoneinfo is not None and os.path.exists(LOCALTIME):
        # A symlink into the zoneinfo tree names the zone (reported back to users); else read the file.
        target = os.path.realpath(LOCALTIME)
        if "/zoneinfo/" in target:
            try:
                return zoneinfo.ZoneInfo(target.split("/zoneinfo/", 1)[1])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass
        with open(LOCALTIME, "rb") as localtime:
            return zoneinfo.ZoneInfo.from_file(localtime, key="localtime")
    # Last resort: the current fixed offset (wrong across a DST change, but honest about the zone).
    local = datetime.now(timezone.utc).astimezone().tzinfo
    return local if local is not None else timezone.utc


def since_cutoff(value: str, tz: tzinfo, now: Optional[datetime] = None) -> datetime:
    """``since`` -> aware datetime: ISO 8601 (naive means the log's zone) or ``last N minutes|hours|days``."""
    text = value.strip()
    relative = re.match(r"^last\s+(\d+)\s+(minute|hour|day)s?$", text, re.IGNORECASE | re.ASCII)
    if relative:
        amount = int(relative.group(1))
        unit = relative.group(2).lower()
        delta = timedelta(minutes=amount) if unit == "minute" else (
            timedelta(hours=amount) if unit == "hour" else timedelta(days=amount))
        return (now or datetime.now(tz)).astimezone(tz) - delta
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise LogFormatError("since: %r is neither an ISO 8601 date/time nor 'last N minutes|hours|days'" % value) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
