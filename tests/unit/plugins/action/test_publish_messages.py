# SPDX-License-Identifier: GPL-3.0-or-later
"""The publish_messages action plugin, loaded and run in-process against a real sink on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from http_sink import HttpSink, free_port  # noqa: E402

from ansible_collections.irisops.iris.plugins.action.publish_messages import default_spool_dir  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolResult  # noqa: E402
from tests.conftest import run_action as action_result  # noqa: E402

TOKEN = "planted-action-token-5ee5"
ENTRY = {"timestamp": "2026-01-31T08:00:00.001+00:00", "pid": 12, "severity": 2, "severity_name": "severe",
         "category": "Generic.Event", "text": "LOCK TABLE FULL", "line_number": 7}


def run_action(check_mode: bool = False, **args: Any) -> dict[str, Any]:
    result = action_result("irisops.iris.publish_messages", args, check_mode=check_mode)
    ToolResult.model_validate(result["tool_result"])
    return result


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as server:
        yield server


def test_messages_log_entries_are_published_with_instance_and_host(sink: HttpSink, tmp_path: Path) -> None:
    result = run_action(endpoint=sink.url, messages=[ENTRY, dict(ENTRY, severity=0, text="info")],
                        instance="IRIS1", host="db1", spool_dir=str(tmp_path), min_severity=1)
    assert not result.get("failed"), result
    assert (result["sent"], result["spooled"], result["changed"]) == (1, 0, True)
    assert result["tool_result"]["status"] == "success"
    published = sink.messages()[0]
    assert (published["instance"], published["host"], published["text"]) == ("IRIS1", "db1", "LOCK TABLE FULL")
    assert "line_number" not in published


def test_check_mode_counts_and_sends_nothing(sink: HttpSink, tmp_path: Path) -> None:
    result = run_action(check_mode=True, endpoint=sink.url, messages=[ENTRY], spool_dir=str(tmp_path / "s"))
    assert (result["would_send"], result["changed"], result["tool_result"]["dry_run"]) == (1, True, True)
    assert sink.received == [] and not (tmp_path / "s").exists()


def test_unreachable_endpoint_spools_and_reports_failure_with_warning(tmp_path: Path) -> None:
    endpoint = "http://127.0.0.1:%d/ingest" % free_port()
    result = run_action(endpoint=endpoint, messages=[ENTRY], spool_dir=str(tmp_path), backoff_base=0.01)
    assert (result["sent"], result["spooled"], result["tool_result"]["status"]) == (0, 1, "failure")
    assert "sent first by the next run" in result["warnings"][0]
    check = run_action(check_mode=True, endpoint=endpoint, messages=[], spool_dir=str(tmp_path))
    assert (check["backlog"], check["would_send"]) == (1, 1)


def test_partial_when_some_messages_are_refused(sink: HttpSink, tmp_path: Path) -> None:
    sink.fail_next(1, status=422)
    result = run_action(endpoint=sink.url, messages=[ENTRY, dict(ENTRY, pid=13)], spool_dir=str(tmp_path),
                        concurrency=1)
    assert (result["sent"], result["refused"], result.get("failed", False), result["tool_result"]["status"]) == (1, 1, False, "partial")


@pytest.mark.parametrize("content", [
    "".join(json.dumps(dict(ENTRY, pid=n)) + "\n" for n in range(3)),
    json.dumps([dict(ENTRY, pid=n) for n in range(3)]),
    "".join("01/31/26-08:00:0%d:001 (%d) 2 [Generic.Event] text\n" % (n, n) for n in range(3)),
])
def test_messages_file_as_ndjson_array_or_messages_log(sink: HttpSink, tmp_path: Path, content: str) -> None:
    path = tmp_path / "input"
    path.write_text(content)
    result = run_action(endpoint=sink.url, messages_file=str(path), spool_dir=str(tmp_path / "spool"),
                        timezone="UTC", batch_size=2, auth_token=TOKEN, log_file=str(tmp_path / "log"))
    assert (result["sent"], result["requests"]) == (3, 2)
    assert sink.received[0].headers["Authorization"] == "Bearer " + TOKEN
    assert TOKEN not in json.dumps(result) + (tmp_path / "log").read_text()


@pytest.mark.parametrize("args,field", [
    ({"messages": [dict(ENTRY, severity=7)]}, "$[0].severity"),
    ({"messages": [dict(ENTRY, colour="red")]}, "$[0].colour"),
    ({"messages": [ENTRY], "concurrency": 0}, "concurrency"),
    ({"messages_file": "/nonexistent/file"}, "messages_file"),
    ({"messages_file": "BADJSON"}, "messages_file"),
    ({"messages_file": "LOG", "timezone": "Mars/Olympus"}, "timezone"),
])
def test_bad_input_fails_naming_the_field_and_nothing_is_sent(sink: HttpSink, tmp_path: Path, args: dict[str, Any],
                                                              field: str) -> None:
    if args.get("messages_file") == "BADJSON":
        (tmp_path / "bad").write_text("[{\"pid\": 1,,]")
        args = dict(args, messages_file=str(tmp_path / "bad"))
    if args.get("messages_file") == "LOG":
        (tmp_path / "log").write_text("01/31/26-08:00:00:001 (1) 2 [Generic.Event] text\n")
        args = dict(args, messages_file=str(tmp_path / "log"))
    result = run_action(endpoint=sink.url, spool_dir=str(tmp_path / "spool"), **args)
    assert result["failed"] and result["tool_result"]["status"] == "failure"
    assert field in json.dumps(result["errors"]) or field in result["msg"]
    assert sink.received == [] and not (tmp_path / "spool" / "journal.ndjson").exists()


def test_default_spool_is_per_endpoint_and_hides_credentials() -> None:
    first = default_spool_dir("https://user:secret@a.example/ingest")
    assert first != default_spool_dir("https://b.example/ingest")
    assert "secret" not in first and first.startswith(str(Path.home()))
