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
from tests.support.in_process import run_module

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
    # Nothing matched, so the backward scan read the whole file: its 3 wrapped lines are reported.
    assert result["entries"] == [] and result["truncated"] is False
    assert (result["malformed_count"], result["malformed_from_line"]) == (3, 1)
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


# --- other forms of the same entries (issue 17): docker compose prefixes and structured (NVP) logging ---
FORMS = SAMPLES / "forms"


@pytest.mark.parametrize("max_entries", [None, 1, 3, 50])
def test_docker_compose_prefixed_log_reads_like_the_plain_one(max_entries: Any) -> None:
    plain = run({"path": str(SAMPLES / "backup-freeze-thaw-journal-switch.log")})
    args: Dict[str, Any] = {"path": str(FORMS / "docker-compose-prefixed-backup.log")}
    if max_entries is not None:
        args["max_entries"] = max_entries
    prefixed = run(args)
    assert prefixed["form"] == "docker-compose" and prefixed["malformed_count"] == 0
    assert prefixed["entries"] == plain["entries"][-(max_entries or 50):]
    assert len(plain["entries"]) == 9 and "Journaling switched to: /iris/journal1/20210811.003" in plain["entries"][4]["text"]


@pytest.mark.parametrize("max_entries", [None, 1])
def test_real_compose_output_of_a_failed_start_keeps_its_fatal_entry(max_entries: Any) -> None:
    args: Dict[str, Any] = {"path": str(FORMS / "docker-compose-failed-start.log"), "min_severity": "severe"}
    if max_entries is not None:
        args["max_entries"] = max_entries
    result = run(args)
    assert result["form"] == "docker-compose"
    assert [(entry["severity"], entry["line_number"]) for entry in result["entries"]] == [(3, 5)]
    assert result["entries"][0]["text"].startswith("Error while moving data directories ERROR **#5001")
    # iris-main's own lines before the entry are not messages.log lines, and are reported when read.
    if max_entries is None:
        assert result["malformed_count"] == 4
        assert {line["reason"] for line in result["malformed_lines"]} == {"text before the first entry"}


def test_compose_output_of_other_services_is_reported_not_glued_to_entries(tmp_path: Path) -> None:
    lines = (FORMS / "docker-compose-prefixed-backup.log").read_text(encoding="utf-8").splitlines()
    # A second service's output, interleaved as docker compose does (taken from the real iris-main lines).
    other = (FORMS / "docker-compose-failed-start.log").read_text(encoding="utf-8").splitlines()[3]
    lines.insert(2, other)
    lines.insert(0, "\x1b[36miris-1  |\x1b[0m " + lines.pop(0).split("| ", 1)[1])  # a coloured prefix
    path = tmp_path / "compose.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run({"path": str(path)})
    assert result["form"] == "docker-compose" and len(result["entries"]) == 9
    assert result["malformed_lines"] == [{"line_number": 3, "text": other,
                                          "reason": "output of docker compose service 'irislpcom', not of 'iris-1'"}]
    assert "[ERROR]" not in " ".join(texts(result))


@pytest.mark.parametrize("max_entries", [None, 2, 10])
def test_structured_nvp_log_from_the_documentation(max_entries: Any) -> None:
    args: Dict[str, Any] = {"path": str(FORMS / "structured-nvp-docs-example.log")}
    if max_entries is not None:
        args["max_entries"] = max_entries
    result = run(args)
    assert result["form"] == "structured-nvp" and result["malformed_count"] == 0
    expected = [(2, "Utility.Event", 8240), (2, "Utility.Event", 8240), (1, "Generic.Event", 8240),
                (1, "System.Monitor", 11948)]
    got = [(entry["severity"], entry["category"], entry["pid"]) for entry in result["entries"]]
    assert got == expected[-(max_entries or 10):]
    assert result["entries"][-1]["text"] == "CPUusage Warning: CPUusage = 79 ( Warnvalue is 75)."
    assert result["entries"][-1]["timestamp"] == "2019-08-01T18:46:10.493+00:00"
    severe = run({"path": str(FORMS / "structured-nvp-docs-example.log"), "min_severity": "severe", "max_entries": 5})
    assert severe["severity_counts"]["severe"] == 2


def test_structured_nvp_lines_with_broken_fields_are_malformed_naming_the_field(tmp_path: Path) -> None:
    good = (FORMS / "structured-nvp-docs-example.log").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "structured.log"
    path.write_text("\n".join([good[0], good[1].replace("level=SEVERE", "level=LOUD"),
                               good[2].replace(' text="', ' note="'), good[3].replace("18:46", "25:46")]) + "\n",
                    encoding="utf-8")
    result = run({"path": str(path), "max_entries": 10})
    assert len(result["entries"]) == 1 and result["malformed_count"] == 3
    reasons = [line["reason"] for line in result["malformed_lines"]]
    assert reasons[0].startswith("structured (NVP) line: level: 'LOUD' is not one of")
    assert reasons[1] == "structured (NVP) line: text: missing from the structured (NVP) line"
    assert reasons[2].startswith("structured (NVP) line: when: '2019-08-01 25:46:10.493' is not a valid date")


def test_structured_nvp_lines_with_host_and_instance_first(tmp_path: Path) -> None:
    """irislogd -h host -i instance adds those pairs; the documentation's lines are prefixed with them here."""
    good = (FORMS / "structured-nvp-docs-example.log").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "structured.log"
    path.write_text("".join('host=iris-0 instance=IRIS %s\n' % line for line in good), encoding="utf-8")
    result = run({"path": str(path), "min_severity": "warning"})
    assert result["form"] == "structured-nvp" and len(result["entries"]) == 4 and result["malformed_count"] == 0


@pytest.mark.parametrize("content, named", [
    ('{"when":"2019-08-01 18:43:02.216","pid":"8240","level":"SEVERE","event":"Utility.Event","text":"x"}\n',
     "structured log in JSON form ([Logging] Format=JSON), which is not read"),
    ("[INFO] log: 12/23/21-17:22:27:392 (799) 0 [Generic.Event] Allocated 103MB\nplain words\n",
     "not messages.log, docker compose prefixed messages.log or a structured (NVP) log; first line: '[INFO] log:"),
])
@pytest.mark.parametrize("max_entries", [None, 5])
def test_a_log_in_no_known_form_fails_naming_it(tmp_path: Path, content: str, named: str, max_entries: Any) -> None:
    path = tmp_path / "unknown.log"
    path.write_text(content, encoding="utf-8")
    args: Dict[str, Any] = {"path": str(path)}
    if max_entries is not None:
        args["max_entries"] = max_entries
    result = run(args)
    assert result["failed"] is True
    assert result["msg"].startswith("path: %s is " % path) and named in result["msg"]


def test_max_entries_never_reports_an_unreadable_tail_as_clean(tmp_path: Path) -> None:
    """Entries at the top, then only lines that are not understood: the count says so."""
    lines = (SAMPLES / "durable-sys-first-boot.log").read_text(encoding="utf-8").splitlines()
    wrapped = WRAPPED.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "messages.log"
    path.write_text("\n".join(lines[:2] + wrapped * 4) + "\n", encoding="utf-8")
    result = run({"path": str(path), "min_severity": "severe", "max_entries": 3})
    assert result["entries"] == [] and result["malformed_count"] == 12 and result["malformed_from_line"] == 1
