# SPDX-License-Identifier: GPL-3.0-or-later
"""iris_log: the messages.log format, checked against the real excerpts in log_samples/messages."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import (
    LogEntry,
    LogFormatError,
    MalformedLine,
)

SAMPLES = Path(__file__).resolve().parents[4] / "log_samples" / "messages"
ENTRY_SAMPLES = sorted(SAMPLES.glob("*.log"))
MALFORMED_SAMPLES = sorted((SAMPLES / "malformed").glob("*.log"))
BACKUP_SAMPLE = SAMPLES / "backup-freeze-thaw-journal-switch.log"
RECOVERY_SAMPLE = SAMPLES / "wij-recovery-after-snapshot-restore.log"


def sample_lines(path: Path) -> List[str]:
    return iris_log.split_lines(path.read_text(encoding="utf-8"))


def test_samples_are_present() -> None:
    assert len(ENTRY_SAMPLES) >= 8
    assert len(MALFORMED_SAMPLES) >= 2


@pytest.mark.parametrize("path", ENTRY_SAMPLES, ids=lambda path: path.name)
def test_every_sample_line_parses_and_every_header_is_an_entry(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    entries, malformed = iris_log.parse_text(text)
    assert malformed == []
    headers = [number for number, line in enumerate(sample_lines(path), start=1) if iris_log.ENTRY_PATTERN.match(line)]
    assert [entry.line_number for entry in entries] == headers


@pytest.mark.parametrize("path", ENTRY_SAMPLES, ids=lambda path: path.name)
def test_format_of_parse_is_byte_identical(path: Path) -> None:
    raw = path.read_bytes()
    entries, _malformed = iris_log.parse_text(raw.decode("utf-8"))
    rendered = "".join(entry.format() + "\n" for entry in entries).encode("utf-8")
    assert rendered == raw


@pytest.mark.parametrize("path", ENTRY_SAMPLES, ids=lambda path: path.name)
def test_each_sample_header_round_trips_alone(path: Path) -> None:
    for line in sample_lines(path):
        entry = iris_log.parse_header(line)
        if entry is not None:
            assert entry.format() == line


@pytest.mark.parametrize("path", MALFORMED_SAMPLES, ids=lambda path: path.name)
def test_real_wrapped_and_stripped_lines_are_reported_with_line_numbers(path: Path) -> None:
    entries, malformed = iris_log.parse_text(path.read_text(encoding="utf-8"))
    assert entries == []
    assert [item.line_number for item in malformed] == list(range(1, len(sample_lines(path)) + 1))
    assert all(item.reason for item in malformed)


def test_docker_compose_prefix_is_named_in_the_reason() -> None:
    wrapped = "irislp  | 09/28/22-12:07:29:340 (1149) 0 [Generic.Event] 100MB global buffers"
    items = list(iris_log.iter_parse([wrapped]))
    assert items == [MalformedLine(1, wrapped, "entry header preceded by 'irislp  | ' (a docker-compose or iris-main prefix?)")]


def test_stripped_header_reason() -> None:
    (item,) = iris_log.parse_text("0 [Generic.Event] LMFMON exited due to halt command executed\n")[1]
    assert item.reason == "severity and category without the timestamp and pid"


def test_journal_switch_continuation_attaches_to_its_entry() -> None:
    entries, unused_malformed = iris_log.parse_text(BACKUP_SAMPLE.read_text(encoding="utf-8"))
    journal = [entry for entry in entries if entry.text == "INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE"]
    assert len(journal) == 1
    assert journal[0].continuation == ("Journaling switched to: /iris/journal1/20210811.003",)
    assert journal[0].full_text == "INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE\nJournaling switched to: /iris/journal1/20210811.003"
    assert len(entries) == 9


def test_recovery_block_with_blank_line_attaches_to_the_entry_before_it() -> None:
    entries, malformed = iris_log.parse_text(RECOVERY_SAMPLE.read_text(encoding="utf-8"))
    assert malformed == []
    first = entries[0]
    assert first.continuation[0] == ""
    assert first.continuation[1] == "*** Recovery started at Wed Aug 11 06:12:30 2021"
    assert first.continuation[-1] == "Exiting with status 3 (Success)"
    assert len(first.continuation) == 12
    # The blank separator line is kept for the round trip, not in the message text.
    assert first.full_text.startswith("Backup.General.ExternalFreeze: System suspended\n\n*** Recovery")
    assert entries[1].line_number == 14


def test_header_fields() -> None:
    line = "12/10/24-15:29:54:916 (42260) 2 [Generic.Event] Process terminated abnormally (pid 13056, jobid 0x0002001b)"
    entry = iris_log.parse_header(line, timezone.utc, 7)
    assert entry == LogEntry(datetime(2024, 12, 10, 15, 29, 54, 916000, tzinfo=timezone.utc), 42260, 2,
                             "Generic.Event", "Process terminated abnormally (pid 13056, jobid 0x0002001b)")
    assert entry is not None and entry.line_number == 7 and entry.severity_name == "severe"
    assert entry.as_dict() == {
        "timestamp": "2024-12-10T15:29:54.916+00:00", "pid": 42260, "severity": 2, "severity_name": "severe",
        "category": "Generic.Event", "text": "Process terminated abnormally (pid 13056, jobid 0x0002001b)",
        "line_number": 7,
    }


def test_double_spaces_in_text_and_category_without_dot_survive() -> None:
    for line in ("12/03/24-06:29:54:435 (66624) 2 [Utility.Event] LMF Error:  Could not send startup message",
                 "08/11/21-06:12:30:308 (1148) 0 [SIMD]  leading space kept",
                 "08/11/21-06:12:30:308 (1148) 0 [Generic.Event]"):
        entry = iris_log.parse_header(line)
        assert entry is not None and entry.format() == line


def test_timestamp_is_aware_in_the_given_zone_and_formats_back_exactly() -> None:
    zone = iris_log.resolve_timezone("Europe/Paris")
    parsed = iris_log.parse_timestamp("03/31/24-02:30:00:007", zone)
    assert parsed.tzinfo is zone and parsed.microsecond == 7000
    assert iris_log.format_timestamp(parsed) == "03/31/24-02:30:00:007"
    summer = iris_log.parse_timestamp("07/01/99-23:59:59:999", zone)
    assert summer.utcoffset() == timedelta(hours=2) and summer.year == 2099
    assert iris_log.format_timestamp(summer) == "07/01/99-23:59:59:999"
    assert iris_log.parse_timestamp("01/01/00-00:00:00:000").year == 2000


@pytest.mark.parametrize("value, reason", [
    ("13/01/21-00:00:00:000", "not a valid date and time"),
    ("02/30/21-00:00:00:000", "not a valid date and time"),
    ("02/03/21-24:00:00:000", "not a valid date and time"),
    ("2/3/21-00:00:00:000", "is not MM/DD/YY-HH:MM:SS:mmm"),
    ("02/03/21-00:00:00:00", "is not MM/DD/YY-HH:MM:SS:mmm"),
])
def test_invalid_timestamps_name_the_field(value: str, reason: str) -> None:
    with pytest.raises(LogFormatError, match="^timestamp: .*%s" % reason):
        iris_log.parse_timestamp(value)


def test_format_timestamp_rejects_years_a_two_digit_year_cannot_hold() -> None:
    with pytest.raises(LogFormatError, match="timestamp: year 1999"):
        iris_log.format_timestamp(datetime(1999, 12, 31))


@pytest.mark.parametrize("line, reason", [
    ("13/45/21-10:00:00:000 (1) 0 [Generic.Event] x", "timestamp: '13/45/21-10:00:00:000' is not a valid date"),
    ("1/2/21-10:00:00:000 (1) 0 [Generic.Event] x", "timestamp: not MM/DD/YY-HH:MM:SS:mmm"),
    ("01/02/21-10:00:00:000 1 0 [Generic.Event] x", "pid: not '(digits)'"),
    ("01/02/21-10:00:00:000 (1) X [Generic.Event] x", "severity: not a single digit"),
    ("01/02/21-10:00:00:000 (1) 7 [Generic.Event] x", "severity: must be 0-3, got 7"),
    ("01/02/21-10:00:00:000 (1) 0 [Generic Event] x", "category: not '[Word.Event]'"),
    ("01/02/21-10:00:00:000 (1) 0 [Generic.Event]x", "category: not '[Word.Event]'"),
])
def test_malformed_header_lines_are_reported_with_reason(line: str, reason: str) -> None:
    text = "08/11/21-04:38:13:440 (17808) 0 [Database.MountedRW] first\n%s\nafter\n" % line
    entries, malformed = iris_log.parse_text(text)
    assert len(malformed) == 1
    assert malformed[0].line_number == 2 and malformed[0].text == line
    assert malformed[0].reason.startswith(reason)
    # The line after a malformed header still continues the last good entry.
    assert entries[0].continuation == ("after",)


def test_text_before_the_first_entry_is_reported() -> None:
    entries, malformed = iris_log.parse_text("\nstray\n08/11/21-04:38:13:440 (17808) 0 [Database.MountedRW] x\n")
    assert [(m.line_number, m.reason) for m in malformed] == [
        (1, "text before the first entry"), (2, "text before the first entry")]
    assert entries[0].line_number == 3


def test_crlf_endings_and_unicode_separators() -> None:
    text = "08/11/21-04:38:13:440 (17808) 0 [Database.MountedRW] a\u2028b\x0cc\r\nnext line\r\n"
    entries, malformed = iris_log.parse_text(text)
    assert malformed == []
    assert entries[0].text == "a\u2028b\x0cc" and entries[0].continuation == ("next line",)


def test_non_ascii_digits_are_not_a_pid() -> None:
    line = "08/11/21-04:38:13:440 (\u0661\u0662) 0 [Generic.Event] x"
    assert iris_log.parse_header(line) is None


def test_iter_parse_numbers_from_the_given_line() -> None:
    items = list(iris_log.iter_parse(["08/11/21-04:38:13:440 (1) 0 [A.B] x\n", "more\n"], first_line_number=41))
    assert items == [LogEntry(datetime(2021, 8, 11, 4, 38, 13, 440000, tzinfo=timezone.utc), 1, 0, "A.B", "x", ("more",))]
    assert isinstance(items[0], LogEntry) and items[0].line_number == 41


def test_make_entry_round_trips_through_the_parser() -> None:
    zone = iris_log.resolve_timezone("America/New_York")
    stamp = datetime(2026, 1, 5, 9, 0, 1, 234567, tzinfo=zone)
    entry = iris_log.make_entry(stamp, 4242, 1, "Utility.Event", "LOCK TABLE FULL", ["  detail", ""])
    rendered = entry.format()
    assert rendered == "01/05/26-09:00:01:234 (4242) 1 [Utility.Event] LOCK TABLE FULL\n  detail\n"
    (parsed,), malformed = iris_log.parse_text(rendered + "\n", zone)
    assert malformed == []
    assert parsed.format() == rendered
    assert parsed.timestamp == stamp.replace(microsecond=234000)


@pytest.mark.parametrize("kwargs, message", [
    ({"pid": -1}, "pid: must be a non-negative integer"),
    ({"pid": True}, "pid: must be a non-negative integer"),
    ({"severity": 4}, "severity: must be 0-3"),
    ({"category": "Generic Event"}, "category: must be letters"),
    ({"category": ""}, "category: must be letters"),
    ({"text": "two\nlines"}, "text: must be a single line"),
    ({"text": "ends with CR\r"}, "text: contains control character U\\+000D at position 12"),
    ({"text": "forged\r01/02/21-10:00:00:000 (1) 3 [A.B] x"}, "text: contains control character U\\+000D at position 6"),
    ({"text": "nul\x00byte"}, "text: contains control character U\\+0000"),
    ({"text": "\x1b[31mred"}, "text: contains control character U\\+001B at position 0"),
    ({"text": "tab\there"}, "text: contains control character U\\+0009"),
    ({"text": "del\x7f"}, "text: contains control character U\\+007F"),
    ({"text": "next\x85line"}, "text: contains control character U\\+0085"),
    ({"text": "csi\x9b31m"}, "text: contains control character U\\+009B"),
    ({"text": "line\u2028separator"}, "text: contains control character U\\+2028"),
    ({"text": "paragraph\u2029separator"}, "text: contains control character U\\+2029"),
    ({"continuation": ["ok", "bell\x07"]}, r"continuation\[1\]: contains control character U\+0007"),
    ({"continuation": ["ok", "bad\nline"]}, r"continuation\[1\]: must be a single line"),
    ({"continuation": ["01/02/21-10:00:00:000 (1) 0 [A.B] x"]}, r"continuation\[0\]: would not read back"),
    ({"continuation": ["svc | 01/02/21-10:00:00:000 (1) 0 [A.B] x"]}, r"continuation\[0\]: .*docker-compose"),
    ({"timestamp": datetime(1990, 1, 1)}, "timestamp: year 1990"),
])
def test_make_entry_rejects_values_that_would_not_read_back(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    args = dict(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), pid=1, severity=0, category="Generic.Event",
                text="x", continuation=())
    args.update(kwargs)
    with pytest.raises(LogFormatError, match=message):
        iris_log.make_entry(**args)  # type: ignore[arg-type]


def test_printable_text_passes_and_reports_escape_control_characters() -> None:
    text = "Überlauf: 100% \u00a0ok \ufffd"  # non-ASCII letters, NBSP and U+FFFD are printable
    assert iris_log.unprintable_reason(text) is None
    assert iris_log.printable(text) == text
    assert iris_log.printable("a\x1b[2Jb\rc\u2028d\x00") == "a\\x1b[2Jb\\rc\\u2028d\\x00"


@pytest.mark.parametrize("value, expected", [(0, 0), (3, 3), ("2", 2), ("warning", 1), (" Fatal ", 3), ("info", 0)])
def test_parse_severity(value: object, expected: int) -> None:
    assert iris_log.parse_severity(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [4, -1, True, "loud", "9", "\u0662"])
def test_parse_severity_rejects(value: object) -> None:
    with pytest.raises(LogFormatError, match="^severity: "):
        iris_log.parse_severity(value)  # type: ignore[arg-type]


def test_resolve_timezone() -> None:
    assert iris_log.resolve_timezone("UTC") is timezone.utc
    assert str(iris_log.resolve_timezone("Asia/Tokyo")) == "Asia/Tokyo"
    with pytest.raises(LogFormatError, match="timezone: 'Mars/Olympus'"):
        iris_log.resolve_timezone("Mars/Olympus")


def test_resolve_local_timezone_honours_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":Australia/Sydney")
    assert str(iris_log.resolve_timezone(None)) == "Australia/Sydney"
    monkeypatch.setenv("TZ", "Not/AZone")
    local = iris_log.resolve_timezone("")
    assert datetime(2026, 1, 1, tzinfo=local).utcoffset() is not None


def test_since_cutoff() -> None:
    zone = iris_log.resolve_timezone("Europe/Paris")
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert iris_log.since_cutoff("last 15 minutes", zone, now) == now - timedelta(minutes=15)
    assert iris_log.since_cutoff("LAST 1 hour", zone, now) == now - timedelta(hours=1)
    assert iris_log.since_cutoff("last 2 days", zone, now) == now - timedelta(days=2)
    naive = iris_log.since_cutoff("2026-03-01T10:00:00", zone)
    assert naive.tzinfo is zone and naive.utcoffset() == timedelta(hours=1)
    assert iris_log.since_cutoff("2026-03-01T10:00:00Z", zone) == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    with pytest.raises(LogFormatError, match="^since: 'yesterday'"):
        iris_log.since_cutoff("yesterday", zone)


def _lines_forwards(data: bytes) -> list:  # type: ignore[type-arg]
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    result, offset = [], 0
    for line in lines:
        result.append((offset, line))
        offset += len(line) + 1
    return result


@pytest.mark.parametrize("block_size", [1, 2, 3, 7, 64, 65536])
@pytest.mark.parametrize("data", [b"", b"\n", b"abc", b"abc\n", b"\nabc", b"a\nb\n\nc\n", b"a\r\nbb\n\n\n"])
def test_iter_lines_backwards_matches_a_forward_split(data: bytes, block_size: int) -> None:
    backwards = list(iris_log.iter_lines_backwards(io.BytesIO(data), len(data), block_size))
    assert backwards[::-1] == _lines_forwards(data)


def test_iter_lines_backwards_on_a_real_sample_and_count_lines_before() -> None:
    data = RECOVERY_SAMPLE.read_bytes()
    stream = io.BytesIO(data)
    backwards = list(iris_log.iter_lines_backwards(stream, len(data), 16))
    assert backwards[::-1] == _lines_forwards(data)
    offset, line = backwards[2]
    assert line.startswith(b"08/11/21-06:12:30:224")
    assert iris_log.count_lines_before(stream, offset, 5) + 1 == 14
    assert iris_log.decode_line(b"caf\xc3\xa9 \xff") == "caf\u00e9 \ufffd"
