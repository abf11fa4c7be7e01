# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Output formats and one whole run (runner): files in tmp_path, contracts, checksums, metrics, constant memory."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils import contracts
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import engine, output, runner
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger

START = datetime(2025, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def run_to_file(path: Path, output_format: str, count: int = 50, keep: int = 1000, seed: int = 1,
                log: Any = None, **options: Any) -> runner.RunOutcome:
    spec = engine.build_spec(options.pop("category", ["license", "journal"]), count=count, seed=seed, start_time=START,
                             trace_id=TRACE_ID, **options)
    logger = build_logger("test", stream=log or io.StringIO(), trace_id=TRACE_ID)
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        return runner.run(spec, output_format, stream, logger, keep, START)


def test_log_output_is_messages_log_text(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    outcome = run_to_file(path, "log", count=200)
    text = path.read_text(encoding="utf-8")
    entries, malformed = iris_log.parse_text(text)
    assert malformed == [] and len(entries) == outcome.count == 200
    assert text.endswith("\n") and "\r" not in text
    assert outcome.sha1 == hashlib.sha1(path.read_bytes()).hexdigest()
    assert [message["text"] for message in outcome.messages] == [entry.full_text for entry in entries]


@pytest.mark.parametrize("output_format", ["json", "ndjson"])
def test_json_outputs_follow_the_iris_message_contract_and_the_log(tmp_path: Path, output_format: str) -> None:
    log_path, json_path = tmp_path / "messages.log", tmp_path / ("out." + output_format)
    run_to_file(log_path, "log", count=120)
    outcome = run_to_file(json_path, output_format, count=120)
    text = json_path.read_text(encoding="utf-8")
    documents: List[Dict[str, Any]] = (json.loads(text) if output_format == "json"
                                       else [json.loads(line) for line in text.splitlines()])
    assert len(documents) == 120 and documents == outcome.messages
    entries, unused = iris_log.parse_text(log_path.read_text(encoding="utf-8"))
    for document, entry in zip(documents, entries):
        assert contracts.schema_errors("iris_message", document) == []
        assert document["trace_id"] == TRACE_ID
        # Same instant, pid, severity, tag and text as the messages.log line: JSON says what the log says.
        assert datetime.fromisoformat(document["timestamp"]) == entry.timestamp
        assert (document["pid"], document["severity"], document["category"], document["text"]) == (
            entry.pid, entry.severity, entry.category, entry.full_text)
    assert outcome.sha1 == hashlib.sha1(json_path.read_bytes()).hexdigest()


def test_keep_limits_the_returned_messages_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    outcome = run_to_file(path, "ndjson", count=300, keep=10)
    assert outcome.count == 300 and len(outcome.messages) == 10
    assert len(path.read_text(encoding="utf-8").splitlines()) == 300


def test_same_seed_same_bytes_in_every_format(tmp_path: Path) -> None:
    for output_format in output.FORMATS:
        first, second = tmp_path / ("a." + output_format), tmp_path / ("b." + output_format)
        run_to_file(first, output_format, seed=99)
        run_to_file(second, output_format, seed=99)
        assert first.read_bytes() == second.read_bytes()


def test_unknown_format_is_refused_before_writing(tmp_path: Path) -> None:
    stream = io.StringIO()
    with pytest.raises(ValueError, match="output: must be one of json, ndjson, log, got 'xml'"):
        output.write_entries(iter(()), "xml", stream, None, TRACE_ID, 10)
    assert stream.getvalue() == ""


def test_entries_not_declared_validated_are_validated_line_by_line() -> None:
    good = iris_log.make_entry(START, 7, 2, "Generic.Event", "LOCK TABLE FULL!!!")
    forged = iris_log.LogEntry(START, 7, 2, "Generic.Event", "ok\r03/01/25-08:00:00:000 (1) 3 [Generic.Event] forged")
    with pytest.raises(iris_log.LogFormatError, match="text: contains control character U\\+000D"):
        output.write_entries(iter([good, forged]), "log", io.StringIO(), None, TRACE_ID, 0)


def test_batched_writes_match_line_by_line_output(tmp_path: Path) -> None:
    """Lines are written and hashed in batches; the file and checksum are those of the lines in order."""
    entries = list(engine.generate(engine.build_spec("lock", count=output.BATCH_LINES * 2 + 3, seed=4,
                                                     start_time=START), START))
    stream = io.StringIO()
    summary = output.write_entries(iter(entries), "log", stream, None, TRACE_ID, 2, validated=True)
    expected = "".join(iris_log.format_entry(entry) + "\n" for entry in entries)
    assert stream.getvalue() == expected and summary.count == len(entries) and len(summary.messages) == 2
    assert summary.sha1 == hashlib.sha1(expected.encode("utf-8")).hexdigest()


def test_run_logs_metrics_with_the_trace_id(tmp_path: Path) -> None:
    log = io.StringIO()
    outcome = run_to_file(tmp_path / "out.log", "log", count=40, log=log)
    records = [json.loads(line) for line in log.getvalue().splitlines()]
    summary = [record for record in records if record["event"] == "messages_generated"]
    assert len(summary) == 1
    assert summary[0]["trace_id"] == TRACE_ID and summary[0]["messages"] == 40 and summary[0]["engine"] == "template"
    assert outcome.metrics["messages"] == 40 and outcome.metrics["engine"] == "template"


def test_large_runs_stream_with_constant_memory(tmp_path: Path) -> None:
    """Peak memory of 20,000 lines is about that of 2,000: nothing grows with the count."""

    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            run_to_file(tmp_path / "big.log", "log", count=count, keep=0, category=["lock", "startup", "memory"])
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(500)  # warm-up: caches and lazily built schema validators
    small, large = peak(2000), peak(20000)
    assert large < small * 1.5 + 64 * 1024, (small, large)
