# SPDX-License-Identifier: GPL-3.0-or-later
"""publisher.py against a real aiohttp sink on 127.0.0.1 (retries, spool, concurrency, batches, secrets)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "integration"))

from http_sink import HttpSink, free_port  # noqa: E402

from ansible_collections.irisops.iris.plugins.plugin_utils import publisher as pub  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import (  # noqa: E402
    ExternalIntegrationError, ValidationError)
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger  # noqa: E402

PLANTED_TOKEN = "planted-secret-token-7f3a9c"


def make_messages(count: int, start: int = 0) -> List[Dict[str, Any]]:
    return [{"timestamp": "2026-01-31T08:00:%02d.%03d+00:00" % ((n // 1000) % 60, n % 1000), "pid": 1000 + n,
             "severity": n % 4, "category": "Generic.Event", "text": "message %d" % n, "instance": "IRIS1"}
            for n in range(start, start + count)]


def config(spool: Path, endpoint: str, **overrides: Any) -> pub.PublisherConfig:
    values: Dict[str, Any] = dict(endpoint=endpoint, spool_dir=spool, backoff_base=0.01, timeout=5.0)
    values.update(overrides)
    return pub.PublisherConfig(**values)


def keys_of(messages: List[Dict[str, Any]]) -> set[str]:
    return {pub.idempotency_key(pub.to_message_dict(message)) for message in messages}


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as server:
        yield server


def test_every_message_arrives_once_with_its_idempotency_key_and_trace(sink: HttpSink, tmp_path: Path) -> None:
    messages = make_messages(25)
    report = pub.publish(config(tmp_path, sink.url), messages)
    assert (report.sent, report.refused, report.spooled, report.backlog) == (25, 0, 0, 0)
    assert sorted(sink.keys()) == sorted(keys_of(messages))
    request = sink.received[0]
    assert request.headers["Idempotency-Key"] == pub.idempotency_key(request.messages[0])
    assert request.headers["traceparent"].split("-")[1] == request.messages[0]["trace_id"]
    assert report.as_dict()["latency_ms"]["p50"] is not None
    assert (tmp_path / pub.JOURNAL).read_text() == ""


def test_key_is_stable_across_publications_and_ignores_the_trace_id() -> None:
    message = pub.to_message_dict(make_messages(1)[0])
    again = dict(message, trace_id="0" * 31 + "1")
    assert pub.idempotency_key(message) == pub.idempotency_key(again)
    assert pub.idempotency_key(message) != pub.idempotency_key(dict(message, text="other"))


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_retryable_status_is_retried_until_accepted(sink: HttpSink, tmp_path: Path, status: int) -> None:
    sink.fail_next(2, status=status, retry_after="0" if status == 429 else None)
    report = pub.publish(config(tmp_path, sink.url, concurrency=1), make_messages(3))
    assert (report.sent, report.spooled) == (3, 0)
    assert report.attempts == 5 and sink.refused == 2


def test_timeouts_are_retried(sink: HttpSink, tmp_path: Path) -> None:
    sink.hang_next(1, seconds=2.0)
    report = pub.publish(config(tmp_path, sink.url, timeout=0.3, concurrency=1), make_messages(2))
    assert (report.sent, report.spooled, report.attempts) == (2, 0, 3)


def test_retry_after_date_and_seconds_are_understood() -> None:
    assert pub._retry_after("7") == 7.0
    assert pub._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert pub._retry_after("soon") is None and pub._retry_after(None) is None


def test_backoff_doubles_from_the_base_with_bounded_jitter(tmp_path: Path) -> None:
    publisher = pub.Publisher(config(tmp_path, "http://127.0.0.1:1/x", backoff_base=1.0))
    for attempt, floor in ((1, 1.0), (2, 2.0), (3, 4.0)):
        assert floor <= publisher._delay(attempt, None) <= floor + 1.0
    assert publisher._delay(1, 30.0) == 30.0
    assert publisher._delay(1, 500.0) == 60.0


def test_sink_down_longer_than_all_retries_spools_then_next_run_sends_backlog_first(tmp_path: Path) -> None:
    sink = HttpSink()  # not started: connection refused
    try:
        first = make_messages(300)
        report = pub.publish(config(tmp_path, sink.url, max_attempts=3), first)
        assert (report.sent, report.spooled) == (0, 300)
        assert len(pub.Spool(tmp_path).backlog()) == 300
        sink.up()
        second = make_messages(5, start=300)
        report = pub.publish(config(tmp_path, sink.url, concurrency=1), second)
        assert (report.backlog, report.sent, report.spooled) == (300, 305, 0)
        assert sink.keys()[:300] == [item for item in sink.keys() if item in keys_of(first)][:300]
        assert sink.unique_keys() == keys_of(first) | keys_of(second)
        assert pub.Spool(tmp_path).backlog() == []
    finally:
        sink.close()


def test_permanent_refusal_is_dead_lettered_not_retried_not_spooled(sink: HttpSink, tmp_path: Path) -> None:
    sink.reject_all(400)
    report = pub.publish(config(tmp_path, sink.url), make_messages(4))
    assert (report.sent, report.refused, report.spooled, report.attempts) == (0, 4, 0, 4)
    assert report.rejections[0]["status"] == 400
    dead = [json.loads(line) for line in (tmp_path / pub.REJECTED).read_text().splitlines()]
    assert len(dead) == 4 and dead[0]["status"] == 400


def test_concurrency_never_exceeds_the_limit_measured_at_the_server(tmp_path: Path) -> None:
    with HttpSink(delay=0.05) as sink:
        report = pub.publish(config(tmp_path, sink.url, concurrency=4), make_messages(40))
        assert report.sent == 40
        assert 2 <= sink.max_in_flight <= 4


@pytest.mark.parametrize("batch_format", ["ndjson", "array"])
def test_batches_carry_a_key_per_message(sink: HttpSink, tmp_path: Path, batch_format: str) -> None:
    messages = make_messages(25)
    report = pub.publish(config(tmp_path, sink.url, batch_size=10, batch_format=batch_format), messages)
    assert (report.sent, report.requests) == (25, 3)
    assert sink.unique_keys() == keys_of(messages)
    assert len(sink.messages()) == 25
    expected_type = "application/x-ndjson" if batch_format == "ndjson" else "application/json"
    assert sink.received[0].headers["Content-Type"] == expected_type


def test_duplicates_within_a_run_are_sent_once(sink: HttpSink, tmp_path: Path) -> None:
    messages = make_messages(3)
    report = pub.publish(config(tmp_path, sink.url), messages + messages)
    assert (report.sent, report.duplicates_skipped) == (3, 3)


def test_token_is_sent_but_never_logged_or_spooled(tmp_path: Path) -> None:
    stream = io.StringIO()
    logger = build_logger("publisher", stream=stream)
    with HttpSink(token=PLANTED_TOKEN) as sink:
        sink.fail_next(1)
        report = pub.publish(config(tmp_path, sink.url + "?u=x", auth_token=PLANTED_TOKEN,
                                    max_attempts=2), make_messages(2), logger=logger)
        assert report.sent == 2
        sink.reject_all(401)
        assert pub.publish(config(tmp_path / "b", sink.url, auth_token="wrong-" + PLANTED_TOKEN),
                           make_messages(1), logger=logger).refused == 1
    written = stream.getvalue() + json.dumps(report.as_dict())
    for path in list(tmp_path.rglob("*")):
        if path.is_file():
            written += path.read_text(errors="replace")
    assert "publish_attempt_failed" in written
    assert PLANTED_TOKEN not in written


def test_credentials_in_the_endpoint_are_redacted_in_results() -> None:
    assert "hunter2" not in pub.safe_endpoint("https://user:hunter2@sink.example/ingest")


@pytest.mark.parametrize("field,value,reason", [
    ("endpoint", "ftp://x", "http"), ("timeout", 0, "greater than 0"), ("max_attempts", 0, "at least 1"),
    ("concurrency", 0, "at least 1"), ("batch_size", 101, "between 1 and 100"), ("batch_format", "xml", "ndjson"),
    ("backoff_base", -1, "negative"), ("headers", {"Authorization": "x"}, "auth_token"),
])
def test_bad_options_name_the_field_and_nothing_is_written(tmp_path: Path, field: str, value: Any, reason: str) -> None:
    values: Dict[str, Any] = {"endpoint": "http://127.0.0.1:1/", field: value}
    with pytest.raises(ValidationError) as error:
        pub.Publisher(config(tmp_path / "spool", **values))
    assert field in str(error.value) and reason in str(error.value)
    assert not (tmp_path / "spool").exists()


def test_invalid_message_names_its_index_and_nothing_is_spooled(tmp_path: Path) -> None:
    messages = make_messages(2) + [dict(make_messages(1)[0], severity=9)]
    with pytest.raises(ValidationError, match=r"messages\[2\].*severity"):
        pub.publish(config(tmp_path, "http://127.0.0.1:%d/" % free_port()), messages)
    assert not (tmp_path / pub.JOURNAL).exists()


def test_torn_last_journal_line_and_leftover_acks_read_back_the_same_backlog(tmp_path: Path) -> None:
    spool = pub.Spool(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    items = [pub.SpooledMessage(pub.idempotency_key(m), m) for m in (pub.to_message_dict(x) for x in make_messages(3))]
    spool.journal(items)
    spool.ack([items[0].key])
    with open(tmp_path / pub.JOURNAL, "ab") as stream:
        stream.write(b'{"k":"torn","m":{"ti')
    assert [item.key for item in spool.backlog()] == [items[1].key, items[2].key]
    assert spool.compact() == 2
    spool.ack([items[1].key])  # an ack that survived a crash between replace and unlink is harmless
    assert [item.key for item in spool.backlog()] == [items[2].key]


def test_a_second_publisher_waits_for_the_spool_lock_then_fails_clearly(tmp_path: Path) -> None:
    holder = pub.Spool(tmp_path)
    holder.lock(1.0)
    try:
        with pytest.raises(ExternalIntegrationError, match="locked by another publisher"):
            pub.Spool(tmp_path).lock(0.2)
    finally:
        holder.unlock()
    pub.Spool(tmp_path).lock(0.2)


def test_latency_percentiles_nearest_rank() -> None:
    assert pub.latency_percentiles([]) == {"p50": None, "p90": None, "p99": None, "max": None}
    expected = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert pub.latency_percentiles([float(n) for n in range(1, 101)]) == expected
