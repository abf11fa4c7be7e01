# SPDX-License-Identifier: GPL-3.0-or-later
"""The publish_messages action plugin, loaded and run in-process against a real sink on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from ansible_collections.irisops.iris.plugins.action.publish_messages import default_spool_dir
from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolResult
from tests.support.http_sink import HttpSink, free_port
from tests.support.in_process import run_action as action_result

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


def test_unreachable_endpoint_fails_the_task_naming_the_backlog_and_spool(tmp_path: Path) -> None:
    endpoint = "http://127.0.0.1:%d/ingest" % free_port()
    result = run_action(endpoint=endpoint, messages=[ENTRY], spool_dir=str(tmp_path), backoff_base=0.01)
    assert result["failed"] is True
    assert (result["sent"], result["spooled"], result["undelivered"], result["tool_result"]["status"]) == (0, 1, 1, "failure")
    assert "1 messages undelivered: 1 spooled in %s" % tmp_path in result["msg"]
    assert "latency p50 n/a (no request acknowledged)" in result["msg"]
    assert result["latency_ms"] == {"p50": None, "p90": None, "p99": None, "max": None}
    check = run_action(check_mode=True, endpoint=endpoint, messages=[], spool_dir=str(tmp_path))
    assert (check["backlog"], check["would_send"]) == (1, 1)


def test_undelivered_warn_keeps_the_task_ok_with_the_backlog_in_a_warning(tmp_path: Path) -> None:
    endpoint = "http://127.0.0.1:%d/ingest" % free_port()
    result = run_action(endpoint=endpoint, messages=[ENTRY], spool_dir=str(tmp_path), backoff_base=0.01,
                        undelivered="warn")
    assert not result.get("failed") and result["tool_result"]["status"] == "failure"
    assert "sent first by the next run" in result["warnings"][0] and str(tmp_path) in result["warnings"][0]


def test_refused_messages_are_undelivered_too(sink: HttpSink, tmp_path: Path) -> None:
    sink.fail_next(1, status=422)
    args: dict[str, Any] = dict(endpoint=sink.url, messages=[ENTRY, dict(ENTRY, pid=13)], spool_dir=str(tmp_path),
                                concurrency=1, batch_size=1)
    result = run_action(**args)
    assert (result["sent"], result["refused"], result["failed"], result["tool_result"]["status"]) == (1, 1, True, "partial")
    assert "rejected.ndjson" in result["msg"] and result["latency_ms"]["p50"] is not None
    sink.fail_next(1, status=422)
    args.update(spool_dir=str(tmp_path / "b"), undelivered="warn")
    warned = run_action(**args)
    assert not warned.get("failed") and warned["refused"] == 1


def test_log_entries_get_the_run_trace_id_and_a_torn_spool_is_a_warning(sink: HttpSink, tmp_path: Path) -> None:
    (tmp_path / "journal.ndjson").write_bytes(b'{"k":"0123')
    result = run_action(endpoint=sink.url, messages=[ENTRY, dict(ENTRY, pid=13)], spool_dir=str(tmp_path))
    assert not result.get("failed"), result
    assert {message["trace_id"] for message in sink.messages()} == {result["trace_id"]}
    assert result["tool_result"]["trace_id"] == result["trace_id"]
    assert result["quarantined"][0]["bytes"] == 10 and "spool repaired" in result["warnings"][0]


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
    assert {message["trace_id"] for message in sink.messages()} == {result["trace_id"]}
    assert sink.received[0].headers["Authorization"] == "Bearer " + TOKEN
    assert TOKEN not in json.dumps(result) + (tmp_path / "log").read_text()


@pytest.mark.parametrize("args,field", [
    ({"messages": [dict(ENTRY, severity=7)]}, "$[0].severity"),
    ({"messages": [dict(ENTRY, colour="red")]}, "$[0].colour"),
    ({"messages": [ENTRY], "concurrency": 0}, "concurrency"),
    ({"messages": [ENTRY], "trace_id": "xyz"}, "trace_id"),
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
