# SPDX-License-Identifier: GPL-3.0-or-later
"""publisher.py against a real aiohttp sink on 127.0.0.1 (retries, spool, concurrency, batches, secrets)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils import publisher as pub
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger
from tests.support.http_sink import HttpSink, free_port

PLANTED_TOKEN = "planted-secret-token-7f3a9c"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def make_messages(count: int, start: int = 0) -> List[Dict[str, Any]]:
    return [{"timestamp": "2026-01-31T08:00:%02d.%03d+00:00" % ((n // 1000) % 60, n % 1000), "pid": 1000 + n,
             "severity": n % 4, "category": "Generic.Event", "text": "message %d" % n, "instance": "IRIS1"}
            for n in range(start, start + count)]


def config(spool: Path, endpoint: str, **overrides: Any) -> pub.PublisherConfig:
    values: Dict[str, Any] = dict(endpoint=endpoint, spool_dir=spool, backoff_base=0.01, timeout=5.0)
    values.update(overrides)
    return pub.PublisherConfig(**values)


def keys_of(messages: List[Dict[str, Any]]) -> set[str]:
    return {pub.idempotency_key(message) for message in messages}


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
    assert request.headers["traceparent"].split("-")[1] == request.messages[0]["trace_id"] == report.trace_id
    assert report.as_dict()["latency_ms"]["p50"] is not None
    assert (tmp_path / pub.JOURNAL).read_text() == ""


def test_key_is_stable_across_publications_and_ignores_the_trace_id() -> None:
    message = make_messages(1)[0]
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


def spooled(messages: List[Dict[str, Any]], trace_id: str = TRACE_ID) -> List[pub.SpooledMessage]:
    return pub.prepare_messages(messages, trace_id)[0]


def test_leftover_acks_read_back_the_same_backlog_after_compaction(tmp_path: Path) -> None:
    spool = pub.Spool(tmp_path)
    items = spooled(make_messages(3))
    spool.journal(items)
    spool.ack([items[0].key])
    assert [item.key for item in spool.backlog()] == [items[1].key, items[2].key]
    assert spool.compact(spool.backlog()) == 2
    spool.ack([items[1].key])  # an ack that survived a crash between replace and unlink is harmless
    spool.unlock()
    assert [item.key for item in spool.backlog()] == [items[2].key]


def test_torn_journal_tail_is_quarantined_not_merged_and_nothing_durable_is_lost(tmp_path: Path) -> None:
    """Regression (issue 17): the next run's append glued onto a torn line and compaction dropped that message."""
    durable, cut_off, later = make_messages(300), make_messages(1, start=300), make_messages(20, start=301)
    spool_dir = tmp_path / "spool"
    sink = HttpSink()  # not started yet: connection refused, every message stays journaled
    try:
        first = pub.publish(config(spool_dir, sink.url, max_attempts=1), durable)
        assert first.spooled == 300
        # A run killed in the middle of its group commit: half a record, no newline.
        record = spooled(cut_off)[0].record()
        fragment = record[:len(record) // 2]
        with open(spool_dir / pub.JOURNAL, "ab") as stream:
            stream.write(fragment)
        # The re-run hands the same input again while the sink is still down: every message must stay spooled.
        second = pub.publish(config(spool_dir, sink.url, max_attempts=1), cut_off + later)
        assert (second.backlog, second.sent, second.spooled) == (300, 0, 321)
        [repair] = second.quarantined
        assert (repair["file"], repair["bytes"]) == (pub.JOURNAL, len(fragment))
        assert Path(repair["quarantine"]).read_bytes() == fragment
        sink.up()
        third = pub.publish(config(spool_dir, sink.url), [])
        assert (third.sent, third.spooled, third.quarantined) == (321, 0, [])
        assert sink.unique_keys() == keys_of(durable + cut_off + later)
        assert (spool_dir / pub.JOURNAL).read_bytes() == b""
    finally:
        sink.close()


def test_journal_cut_mid_record_keeps_every_complete_record(tmp_path: Path) -> None:
    spool = pub.Spool(tmp_path)
    messages = make_messages(5)
    spool.journal(spooled(messages))
    journal = tmp_path / pub.JOURNAL
    whole = journal.read_bytes()
    journal.write_bytes(whole[:-40])  # the last line cut mid-record
    with HttpSink() as sink:
        report = pub.publish(config(tmp_path, sink.url), [])
        assert sink.unique_keys() == keys_of(messages[:4])
    assert report.sent == 4 and report.quarantined[0]["bytes"] == len(whole.splitlines(True)[-1]) - 40


def test_unreadable_journal_lines_and_torn_acks_are_quarantined_and_reported(tmp_path: Path) -> None:
    spool = pub.Spool(tmp_path)
    items = spooled(make_messages(3))
    spool.journal(items[:1])
    merged = b'{"k":"torn","m":{"ti' + items[1].record()  # what an older version's append produced
    with open(tmp_path / pub.JOURNAL, "ab") as stream:
        stream.write(merged)
    spool.journal(items[2:])
    (tmp_path / pub.ACKED).write_bytes(items[0].key.encode() + b"\n" + items[1].key[:7].encode())
    with HttpSink() as sink:
        report = pub.publish(config(tmp_path, sink.url), [])
        assert sink.unique_keys() == {items[2].key}
    by_file = {repair["file"]: repair for repair in report.quarantined}
    assert Path(by_file[pub.JOURNAL]["quarantine"]).read_bytes() == merged
    assert by_file[pub.ACKED]["bytes"] == 7


def test_group_commit_windows_are_durable_before_they_are_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One journal fsync per commit window (they double: never one per message), and no message is handed to the
    sender before the fsync of its window returned."""
    durable: set[str] = set()
    windows: List[int] = []
    sent_before_durable: List[str] = []
    real_journal, real_send = pub.Spool.journal, pub.Publisher._send

    def journal(spool: pub.Spool, items: List[pub.SpooledMessage]) -> None:
        real_journal(spool, items)  # returns once the window's fsync returned
        windows.append(len(items))
        durable.update(item.key for item in items)

    async def send(publisher: pub.Publisher, session: Any, batch: List[pub.SpooledMessage]) -> None:
        sent_before_durable.extend(item.key for item in batch if item.key not in durable)
        await real_send(publisher, session, batch)

    monkeypatch.setattr(pub.Spool, "journal", journal)
    monkeypatch.setattr(pub.Publisher, "_send", send)
    with HttpSink() as sink:
        report = pub.publish(config(tmp_path, sink.url, batch_size=1, concurrency=4), make_messages(3000))
        assert sink.unique_keys() == durable
    assert report.sent == 3000 and sent_before_durable == []
    assert windows[:4] == [4, 8, 16, 32] and sum(windows) == 3000 and len(windows) == 10


def test_every_message_of_a_run_carries_the_run_trace_id(sink: HttpSink, tmp_path: Path) -> None:
    fresh = make_messages(3)
    given = [dict(message, trace_id=OTHER_TRACE_ID) for message in make_messages(2, start=3)]
    report = pub.publish(config(tmp_path, sink.url, batch_size=1), fresh + given, trace_id=TRACE_ID)
    assert (report.trace_id, report.retraced) == (TRACE_ID, 2)
    assert {message["trace_id"] for message in sink.messages()} == {TRACE_ID}
    assert {request.headers["traceparent"].split("-")[1] for request in sink.received} == {TRACE_ID}


def test_run_continues_the_one_trace_its_messages_carry_else_starts_one(tmp_path: Path) -> None:
    carried = [dict(message, trace_id=OTHER_TRACE_ID) for message in make_messages(2)]
    assert pub.run_trace_id(carried) == OTHER_TRACE_ID
    assert pub.run_trace_id(carried + make_messages(1)) == OTHER_TRACE_ID
    mixed = pub.run_trace_id(carried + [dict(make_messages(1)[0], trace_id=TRACE_ID)])
    assert mixed not in (TRACE_ID, OTHER_TRACE_ID) and pub.is_trace_id(mixed)
    with pytest.raises(ValidationError, match="trace_id"):
        pub.run_trace_id([], "not-a-trace")


def test_redelivered_backlog_keeps_its_trace_and_body_and_batches_never_mix_traces(tmp_path: Path) -> None:
    old, new = make_messages(4), make_messages(4, start=4)
    down = HttpSink()
    try:
        pub.publish(config(tmp_path, down.url, max_attempts=1), old, trace_id=OTHER_TRACE_ID)
    finally:
        down.close()
    journaled = {item.key: item.body for item in pub.Spool(tmp_path).backlog()}
    with HttpSink() as sink:
        pub.publish(config(tmp_path, sink.url, batch_size=10), new, trace_id=TRACE_ID)
        requests = sink.received
    assert [len(request.messages) for request in requests] == [4, 4]
    for request in requests:
        trace_ids = {message["trace_id"] for message in request.messages}
        assert trace_ids == {request.headers["traceparent"].split("-")[1]}
    assert requests[0].body == b"".join(journaled[key] + b"\n" for key in requests[0].keys)
    assert {m["trace_id"] for m in requests[0].messages} == {OTHER_TRACE_ID}


def test_body_is_the_contract_json_and_the_key_ignores_the_trace_id() -> None:
    message = make_messages(1)[0]
    [item] = spooled([message])
    model = pub.IRISMessage.model_validate(dict(message, trace_id=TRACE_ID))
    assert item.body == model.model_dump_json().encode()
    assert item.key == pub.idempotency_key(model) == pub.idempotency_key(dict(message, trace_id=OTHER_TRACE_ID))


def test_batches_are_negotiated_with_the_receiver(tmp_path: Path) -> None:
    messages = make_messages(250)
    with HttpSink(accept_batches=True) as batching:
        report = pub.publish(config(tmp_path / "a", batching.url), messages)
        assert (report.batch_size, report.requests, batching.options_requests) == (100, 3, 1)
        assert batching.received[0].headers["Content-Type"] == "application/x-ndjson"
        assert batching.unique_keys() == keys_of(messages)
        pub.publish(config(tmp_path / "b", batching.url, batch_size=1), make_messages(2))
        assert batching.options_requests == 1  # a configured size is not negotiated
    with HttpSink() as plain:  # answers OPTIONS with 405: one message per request
        report = pub.publish(config(tmp_path / "c", plain.url), messages[:5])
        assert (report.batch_size, report.requests) == (1, 5)


def test_log_has_a_line_per_message_with_outcome_latency_severity_category(tmp_path: Path) -> None:
    stream = io.StringIO()
    messages = make_messages(4)
    with HttpSink() as sink:
        sink.fail_next(1, status=400)
        pub.publish(config(tmp_path, sink.url, batch_size=1, concurrency=1), messages[:2],
                    logger=build_logger("t", stream=stream))
        sink.down()
        pub.publish(config(tmp_path, sink.url, batch_size=1, max_attempts=1), messages[2:],
                    logger=build_logger("t", stream=stream))
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    per_message = [line for line in lines if line["event"] == "publish_message"]
    assert sorted(line["outcome"] for line in per_message) == ["delivered", "refused", "spooled", "spooled"]
    for line in per_message:
        assert {"idempotency_key", "severity", "category", "latency_ms", "trace_id"} <= set(line)
        assert (line["latency_ms"] is None) == (line["outcome"] != "delivered")
    assert {line["category"] for line in per_message} == {"Generic.Event"}


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
