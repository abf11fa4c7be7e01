# SPDX-License-Identifier: GPL-3.0-or-later
"""messages_log module, run in-process on real sample files and on generated large files."""

from __future__ import annotations

import io
import os
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.modules import messages_log
from tests.conftest import run_module

SAMPLES = Path(__file__).resolve().parents[4] / "log_samples" / "messages"
SAMPLE_ORDER = [  # the real excerpts in time order, so they form one plausible log
    "sharding-node-startup.log",
    "backup-freeze-thaw-journal-switch.log",
    "wij-recovery-after-snapshot-restore.log",
    "durable-sys-first-boot.log",
    "shared-memory-allocation-kubernetes.log",
    "huge-pages-allocation.log",
    "startup-failure-moving-data-directories.log",
    "alerts-large-pages-journal-license.log",
]
WRAPPED = SAMPLES / "malformed" / "wrapped-by-iris-main-and-docker-compose.log"


@pytest.fixture
def combined_log(tmp_path: Path) -> Path:
    """Real sample files concatenated, with the real docker-wrapped lines in the middle."""
    path = tmp_path / "messages.log"
    parts = [(SAMPLES / name).read_bytes() for name in SAMPLE_ORDER]
    parts.insert(4, WRAPPED.read_bytes())
    path.write_bytes(b"".join(parts))
    return path


def run(args: Dict[str, Any], **kwargs: Any) -> Dict[str, Any]:
    return run_module(messages_log, dict({"timezone": "UTC"}, **args), **kwargs)


def texts(result: Dict[str, Any]) -> List[str]:
    return [entry["text"] for entry in result["entries"]]


def expected_entries(path: Path) -> List[iris_log.LogEntry]:
    return iris_log.parse_text(path.read_text(encoding="utf-8"))[0]


def test_reads_every_entry_with_counts_and_malformed_lines(combined_log: Path) -> None:
    result = run({"path": str(combined_log)})
    assert not result.get("failed"), result
    expected = expected_entries(combined_log)
    assert [entry["line_number"] for entry in result["entries"]] == [entry.line_number for entry in expected]
    assert len(expected) == 43
    assert result["changed"] is False and result["truncated"] is False
    assert result["path"] == str(combined_log) and result["timezone"] == "UTC"
    assert result["severity_counts"] == {"info": 30, "warning": 2, "severe": 10, "fatal": 1}
    assert result["category_counts"] == {"Utility.Event": 32, "Generic.Event": 9, "Database.MountedRW": 1,
                                         "Crypto.IntelSandyBridgeAESNI": 1}
    wrapped_first_line = 7 + 10 + 16 + 8 + 1
    assert [line["line_number"] for line in result["malformed_lines"]] == [wrapped_first_line + i for i in range(3)]
    assert result["malformed_lines"][1]["reason"].startswith("entry header preceded by 'irislpcom  | '")
    assert result["malformed_count"] == 3
    recovery = [entry for entry in result["entries"] if "*** Recovery started" in entry["text"]]
    assert len(recovery) == 1 and recovery[0]["timestamp"] == "2021-08-11T05:49:44.347+00:00"


def test_min_severity_by_name_and_number_and_categories(combined_log: Path) -> None:
    by_name = run({"path": str(combined_log), "min_severity": "severe"})
    by_number = run({"path": str(combined_log), "min_severity": 2})
    assert by_name["entries"] == by_number["entries"]
    assert by_name["severity_counts"] == {"info": 0, "warning": 0, "severe": 10, "fatal": 1}
    generic = run({"path": str(combined_log), "min_severity": "2", "categories": ["Generic.Event"]})
    assert generic["category_counts"] == {"Generic.Event": 2}
    facility = run({"path": str(combined_log), "categories": ["Crypto", "Database.MountedRW"]})
    assert [entry["category"] for entry in facility["entries"]] == ["Database.MountedRW", "Crypto.IntelSandyBridgeAESNI"]
    assert run({"path": str(combined_log), "categories": ["Utility"]})["category_counts"] == {"Utility.Event": 32}
    assert run({"path": str(combined_log), "categories": ["utility.event"]})["entries"] == []


def test_since_iso_in_the_log_zone_and_with_offset(combined_log: Path) -> None:
    result = run({"path": str(combined_log), "since": "2024-12-10T05:42:01.245"})
    assert [entry["timestamp"] for entry in result["entries"]] == ["2024-12-10T05:42:01.245+00:00",
                                                                   "2024-12-10T15:29:54.916+00:00"]
    in_paris = run({"path": str(combined_log), "since": "2024-12-10T06:42:01.245", "timezone": "Europe/Paris"})
    assert [entry["timestamp"] for entry in in_paris["entries"]] == ["2024-12-10T05:42:01.245+01:00",
                                                                     "2024-12-10T15:29:54.916+01:00"][1:]
    offset = run({"path": str(combined_log), "since": "2024-12-10T06:42:01.245+01:00"})
    assert len(offset["entries"]) == 2


def test_since_last_minutes_against_a_log_written_now(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    path = tmp_path / "messages.log"
    stamps = [now - timedelta(hours=3), now - timedelta(minutes=50), now - timedelta(minutes=5)]
    path.write_text("".join(iris_log.make_entry(stamp, 100 + i, 1, "Generic.Event", "entry %d" % i).format() + "\n"
                            for i, stamp in enumerate(stamps)))
    assert texts(run({"path": str(path), "since": "last 10 minutes"})) == ["entry 2"]
    assert texts(run({"path": str(path), "since": "last 1 hour"})) == ["entry 1", "entry 2"]
    assert texts(run({"path": str(path), "since": "last 2 hours", "max_entries": 5})) == ["entry 1", "entry 2"]


@pytest.mark.parametrize("max_entries", [1, 2, 5, 42, 43, 200])
def test_max_entries_returns_the_newest_like_a_full_read(combined_log: Path, max_entries: int) -> None:
    full = run({"path": str(combined_log)})
    tail = run({"path": str(combined_log), "max_entries": max_entries})
    assert tail["entries"] == full["entries"][-max_entries:]
    assert tail["truncated"] is (max_entries < 43)


def test_max_entries_with_filters_and_malformed_window(combined_log: Path) -> None:
    full = run({"path": str(combined_log), "min_severity": 1, "categories": ["Utility.Event"]})
    tail = run({"path": str(combined_log), "min_severity": 1, "categories": ["Utility.Event"], "max_entries": 9})
    assert tail["entries"] == full["entries"][-9:] and tail["truncated"] is True
    # The window starts after the wrapped lines, so none are reported; a window before them reports them.
    assert tail["malformed_lines"] == [] and full["malformed_count"] == 3
    wide = run({"path": str(combined_log), "min_severity": 1, "max_entries": 13})
    assert wide["malformed_count"] == 3 and wide["truncated"] is False and wide["entries"] == full_all_warnings(combined_log)
    assert wide["malformed_lines"] == full["malformed_lines"]


def full_all_warnings(path: Path) -> List[Dict[str, Any]]:
    return run({"path": str(path), "min_severity": "warning"})["entries"]


def test_max_entries_with_no_match_returns_nothing(combined_log: Path) -> None:
    result = run({"path": str(combined_log), "categories": ["ECP"], "max_entries": 3})
    assert result["entries"] == [] and result["truncated"] is False and result["malformed_count"] == 0
    assert result["severity_counts"] == {"info": 0, "warning": 0, "severe": 0, "fatal": 0}


def test_max_entries_skips_and_reports_a_broken_header_inside_the_window(tmp_path: Path) -> None:
    lines = (SAMPLES / "durable-sys-first-boot.log").read_text(encoding="utf-8").split("\n")
    lines.insert(6, "13/45/21-00:15:29:030 (390) 0 [Utility.Event] month 13 does not exist")
    path = tmp_path / "messages.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    tail = run({"path": str(path), "max_entries": 3})
    assert [entry["line_number"] for entry in tail["entries"]] == [6, 8, 9]
    assert tail["malformed_lines"] == [{"line_number": 7, "text": lines[6],
                                        "reason": "timestamp: '13/45/21-00:15:29:030' is not a valid date and time "
                                                  "(month must be in 1..12)"}]


def test_crlf_and_invalid_utf8_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    lines = (SAMPLES / "backup-freeze-thaw-journal-switch.log").read_bytes().split(b"\n")
    path.write_bytes(b"\r\n".join(lines[:6]) + b"\r\n" + lines[6] + b" \xff\r\n")
    full = run({"path": str(path)})
    tail = run({"path": str(path), "max_entries": 3})
    assert full["entries"][-3:] == tail["entries"]
    assert full["entries"][4]["text"].endswith("MESSAGE\nJournaling switched to: /iris/journal1/20210811.003")
    assert full["entries"][-1]["text"].endswith("20210811.003 \ufffd")
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert run({"path": str(empty), "max_entries": 3})["entries"] == []
    assert run({"path": str(empty)})["entries"] == []


def test_check_mode_reads_and_changes_nothing(combined_log: Path) -> None:
    before = (combined_log.read_bytes(), os.stat(combined_log).st_mtime_ns)
    checked = run({"path": str(combined_log), "max_entries": 4}, check_mode=True)
    assert checked["changed"] is False and len(checked["entries"]) == 4
    assert (combined_log.read_bytes(), os.stat(combined_log).st_mtime_ns) == before


@pytest.mark.parametrize("args, message", [
    ({"min_severity": "loud"}, "min_severity: must be 0-3 or one of info, warning, severe, fatal, got 'loud'"),
    ({"min_severity": 5}, "min_severity: must be 0-3, got 5"),
    ({"since": "yesterday"}, "since: 'yesterday' is neither an ISO 8601 date/time nor 'last N minutes|hours|days'"),
    ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not a known IANA zone name"),
    ({"max_entries": 0}, "max_entries: must be at least 1, got 0"),
])
def test_bad_options_name_the_field(combined_log: Path, args: Dict[str, Any], message: str) -> None:
    result = run(dict({"path": str(combined_log)}, **args))
    assert result["failed"] is True and result["msg"].startswith(message)


def test_missing_file_directory_and_unreadable(tmp_path: Path) -> None:
    missing = run({"path": str(tmp_path / "nope.log")})
    assert missing["failed"] and missing["msg"] == "path: %s does not exist" % (tmp_path / "nope.log")
    directory = run({"path": str(tmp_path)})
    assert directory["failed"] and directory["msg"] == "path: %s is not a regular file" % tmp_path
    if os.geteuid() == 0:
        return  # root reads any file; permission errors cannot be produced
    locked = tmp_path / "locked.log"
    locked.write_text("x\n")
    locked.chmod(0)
    result = run({"path": str(locked)})
    assert result["failed"] and result["msg"].startswith("path: cannot read")


def test_path_and_instance_are_exclusive_and_one_is_required(combined_log: Path) -> None:
    assert "mutually exclusive" in run({"path": str(combined_log), "instance": "IRIS"})["msg"]
    assert "one of the following is required" in run({})["msg"]


def test_instance_needs_an_executable_control_command(combined_log: Path) -> None:
    # Resolution through a real `iris qlist` is tested against the emulator in tests/integration.
    result = run({"instance": "IRIS", "iris_bin": str(combined_log)})
    assert result["failed"] and result["msg"] == "instance: iris_bin %r is not an executable file" % str(combined_log)


LARGE_ENTRIES = 20000


def write_large_log(path: Path, entries: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with open(path, "w", encoding="utf-8") as stream:
        for index in range(entries):
            entry = iris_log.make_entry(start + timedelta(seconds=index), 1000 + index % 7, index % 4 if index % 97 == 0 else 0,
                                        "Utility.Event", "Backup.General.ExternalFreeze: entry %06d %s" % (index, "x" * 60))
            stream.write(entry.format() + "\n")


@pytest.fixture(scope="module")
def large_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "messages.log"
    write_large_log(path, LARGE_ENTRIES)
    return path


def peak_memory_of_run(args: Dict[str, Any]) -> Tuple[Dict[str, Any], int]:
    """Result and peak traced allocation of one run, after a warm-up run so imports are not counted."""
    run(args)
    tracemalloc.start()
    try:
        result = run(args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_file_tail_uses_bounded_memory_and_matches_full_read(large_log: Path) -> None:
    tail, peak = peak_memory_of_run({"path": str(large_log), "max_entries": 5})
    last = ["%06d" % index for index in range(LARGE_ENTRIES - 5, LARGE_ENTRIES)]
    assert [entry["text"][-67:-61] for entry in tail["entries"]] == last
    assert tail["entries"][0]["line_number"] == LARGE_ENTRIES - 4
    assert peak < large_log.stat().st_size / 10
    severe = run({"path": str(large_log), "min_severity": 2, "max_entries": 3})
    expected = [index for index in range(LARGE_ENTRIES) if index % 97 == 0 and index % 4 >= 2][-3:]
    assert [entry["line_number"] for entry in severe["entries"]] == [index + 1 for index in expected]


def test_forward_read_streams_without_holding_the_file(large_log: Path) -> None:
    result, peak = peak_memory_of_run({"path": str(large_log), "min_severity": 3})
    assert result["severity_counts"]["fatal"] == sum(1 for i in range(LARGE_ENTRIES) if i % 97 == 0 and i % 4 == 3)
    assert peak < large_log.stat().st_size / 10


def test_find_tail_start_reports_offsets_of_header_lines() -> None:
    data = (SAMPLES / "wij-recovery-after-snapshot-restore.log").read_bytes()
    entry_filter = messages_log.EntryFilter(0, None, None)
    start, truncated = messages_log.find_tail_start(io.BytesIO(data), entry_filter, 4, timezone.utc)
    assert truncated is False and start == 0
    start, truncated = messages_log.find_tail_start(io.BytesIO(data), entry_filter, 2, timezone.utc)
    assert truncated is True and start is not None and data[start:].startswith(b"08/11/21-06:12:30:297")
