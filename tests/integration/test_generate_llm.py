# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The LLM backend with the real openai client against an OpenAI-compatible server on 127.0.0.1.

Good answers, malformed answers (prose, wrong format, wrong severity), timeouts, 429/500 with
retries, fallback to the template engine or failure, the prompt that was sent (few-shot lines
from log_samples, temperature), normalised timestamps/PIDs, and the API key kept out of results
and logs.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest

from tests.support.openai_server import OpenAIServer, error, hang, raw, reply

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import engine, llm, runner
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger

REPO = Path(__file__).resolve().parents[2]
START = datetime(2025, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
API_KEY = "sk-planted-test-key-7f3a9c21d4e8b6"
# What a model writes: the right shape, but its own clock (1999) and PIDs.
LMF = "01/17/99-23:59:%02d:001 (%d) 2 [Utility.Event] LMF Error:  Could not send startup message to license server"
CONNECT = "01/17/99-23:59:%02d:001 (%d) 2 [Utility.Event] LMF error:  Could not connect to license server (10.0.0.5,4002)."


def good_answer(count: int, model_pids: Tuple[int, ...] = (777, 888)) -> str:
    lines = [(LMF if index % 2 else CONNECT) % (index % 60, model_pids[index % len(model_pids)]) for index in range(count)]
    return "\n".join(lines)


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def run_llm(server: OpenAIServer, count: int = 6, categories: Any = "license", severity: Any = "2-3",
            log: Any = None, output: Any = None, **settings: Any) -> Tuple[List[iris_log.LogEntry], runner.RunOutcome]:
    spec = engine.build_spec(categories, count=count, severity=severity, engine="llm", seed=1, start_time=START,
                             trace_id=TRACE_ID)
    options = dict(api_key=API_KEY, base_url=server.url, timeout=5.0, max_retries=2, max_attempts=3)
    options.update(settings)
    logger = build_logger("test", stream=log if log is not None else io.StringIO(), trace_id=TRACE_ID)
    stream = output if output is not None else io.StringIO()
    outcome = runner.run(spec, "log", stream, logger, 1000, START, llm.LLMSettings(**options))
    entries, malformed = iris_log.parse_text(stream.getvalue())
    assert malformed == []
    return entries, outcome


def test_good_answer_is_kept_with_our_clock_and_pids(server: OpenAIServer) -> None:
    server.script(reply(good_answer(6), prompt_tokens=900, completion_tokens=150))
    entries, outcome = run_llm(server, count=6)
    assert len(entries) == 6
    assert [entry.text for entry in entries] == [entry.text for entry in iris_log.parse_text(good_answer(6))[0]]
    # Timestamps: ours, from start_time on, never backwards; the model's 1999 clock is gone.
    assert entries[0].timestamp >= START and all(b.timestamp >= a.timestamp for a, b in zip(entries, entries[1:]))
    assert entries[-1].timestamp - START < timedelta(minutes=1)
    # PIDs: ours, one per PID the model used (777 and 888 are two processes, each keeps one PID).
    assert {entry.pid for entry in entries}.isdisjoint({777, 888})
    assert len({entry.pid for entry in entries[0::2]}) == len({entry.pid for entry in entries[1::2]}) == 1
    assert entries[0].pid != entries[1].pid
    metrics = outcome.metrics["llm"]
    assert (metrics["calls"], metrics["accepted_lines"], metrics["rejected_lines"], metrics["validity_rate"]) == (1, 6, 0, 1.0)
    assert (metrics["prompt_tokens"], metrics["completion_tokens"], metrics["fallback_messages"]) == (900, 150, 0)
    assert metrics["latency_ms_p50"] is not None and metrics["latency_ms_p95"] >= metrics["latency_ms_p50"]


def test_prompt_carries_format_rules_few_shot_lines_and_temperature(server: OpenAIServer) -> None:
    server.script(reply(good_answer(4)))
    run_llm(server, count=4, model="local-model", temperature=0.3)
    body = server.requests[0]
    assert body["model"] == "local-model" and body["temperature"] == 0.3
    system, user = server.system_prompts()[0], server.user_prompts()[0]
    assert "MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Facility.Event] text" in system
    samples = (REPO / "log_samples" / "messages" / "alerts-large-pages-journal-license.log").read_text(encoding="utf-8")
    real_lmf = [line for line in samples.splitlines() if "LMF" in line]
    assert any(line in user for line in real_lmf), "no real licence line among the few-shot examples"
    assert "Write 4 messages.log entries about licensing" in user
    assert "Allowed severities: 2, 3" in user and "[Utility.Event]" in user
    assert "real lines from log_samples" in user


def test_default_temperature_is_0_7(server: OpenAIServer) -> None:
    server.script(reply(good_answer(2)))
    run_llm(server, count=2)
    assert server.requests[0]["temperature"] == 0.7 and server.requests[0]["model"] == llm.DEFAULT_MODEL


def test_categories_without_real_lines_say_their_examples_are_documented_wording(server: OpenAIServer) -> None:
    server.script(reply("01/17/99-23:59:01:001 (5) 2 [Generic.Event] LOCK TABLE FULL!!!"))
    entries, unused = run_llm(server, count=1, categories="lock")
    assert entries[0].text == "LOCK TABLE FULL!!!"
    assert "wording follows the InterSystems documentation" in server.user_prompts()[0]
    assert "LOCK TABLE FULL" in server.user_prompts()[0]


def test_malformed_lines_are_rejected_and_asked_for_again(server: OpenAIServer) -> None:
    first = "\n".join([
        "Sure, here are realistic IRIS log lines:",
        "```",
        "2024-12-03 06:29:54.435 [66624] ERROR LMF Error: license server down",  # wrong format
        (LMF % (1, 42)).replace(") 2 [", ") 1 [", 1),                        # wrong severity (1)
        "01/17/99-23:59:02:001 (42) 2 [Database.MountedRW] License key mounted",  # tag of another category
        LMF % (3, 42),                                                          # good
        "```",
    ])
    server.script(reply(first), reply(good_answer(3)))
    entries, outcome = run_llm(server, count=4)
    assert len(entries) == 4 and len(server.requests) == 2
    assert "Write 3 messages.log entries" in server.user_prompts()[1]  # only the missing lines are asked for again
    metrics = outcome.metrics["llm"]
    assert metrics["accepted_lines"] == 4 and metrics["rejected_lines"] == 6
    assert metrics["validity_rate"] == 0.4
    reasons = " | ".join(item["reason"] for item in metrics["rejected_examples"])
    assert "text before the first entry" in reasons and "markdown code fence" in reasons
    assert metrics["fallback_messages"] == 0


def test_wrong_severity_only_answers_fall_back_to_the_template_engine(server: OpenAIServer) -> None:
    wrong = good_answer(5).replace(") 2 [", ") 0 [")
    server.script(reply(wrong), reply(wrong), reply(wrong))
    log = io.StringIO()
    entries, outcome = run_llm(server, count=5, log=log)
    assert len(server.requests) == 3
    assert len(entries) == 5 and {entry.severity for entry in entries} <= {2, 3}
    metrics = outcome.metrics["llm"]
    assert metrics["accepted_lines"] == 0 and metrics["fallback_messages"] == 5 and metrics["validity_rate"] == 0.0
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    fallback = [event for event in events if event["event"] == "llm_fallback"]
    assert fallback and fallback[0]["missing"] == 5 and fallback[0]["trace_id"] == TRACE_ID


def test_fallback_fail_raises_and_says_why(server: OpenAIServer) -> None:
    server.script(reply("I cannot help with that."), reply("No."))
    with pytest.raises(ExternalIntegrationError, match=r"produced 0 of the requested license messages valid after 2 "
                                                       r"attempt\(s\).*fallback=fail"):
        run_llm(server, count=3, fallback="fail", max_attempts=2)


def test_429_and_500_are_retried_by_the_client(server: OpenAIServer) -> None:
    server.script(error(429, "rate limited"), error(500, "boom"), reply(good_answer(3)))
    entries, outcome = run_llm(server, count=3, max_retries=2)
    assert len(entries) == 3 and len(server.requests) == 3
    metrics = outcome.metrics["llm"]
    assert metrics["calls"] == 1 and metrics["failed_calls"] == 0 and metrics["fallback_messages"] == 0


def test_a_call_that_fails_after_its_retries_costs_one_attempt(server: OpenAIServer) -> None:
    server.script(error(429, "rate limited"), error(429, "rate limited"), reply(good_answer(2)))
    entries, outcome = run_llm(server, count=2, max_retries=1)
    assert len(entries) == 2 and len(server.requests) == 3
    metrics = outcome.metrics["llm"]
    assert metrics["calls"] == 2 and metrics["failed_calls"] == 1
    assert metrics["errors"][0].startswith("RateLimitError")


def test_timeouts_are_retried_and_then_counted_as_failed_calls(server: OpenAIServer) -> None:
    server.script(hang(3.0), reply(good_answer(2)))
    entries, outcome = run_llm(server, count=2, timeout=0.3, max_retries=0)
    assert len(entries) == 2
    metrics = outcome.metrics["llm"]
    assert metrics["failed_calls"] == 1 and metrics["errors"][0].startswith("APITimeoutError")


def test_unreachable_server_falls_back_to_templates() -> None:
    with OpenAIServer() as gone:
        url = gone.url
    spec = engine.build_spec("memory", count=4, engine="llm", seed=2, start_time=START, trace_id=TRACE_ID)
    settings = llm.LLMSettings(api_key=API_KEY, base_url=url, timeout=1.0, max_retries=0, max_attempts=2)
    stream = io.StringIO()
    outcome = runner.run(spec, "log", stream, build_logger("test", stream=io.StringIO()), 10, START, settings)
    assert outcome.count == 4 and outcome.metrics["llm"]["failed_calls"] == 2
    assert outcome.metrics["llm"]["errors"][0].startswith("APIConnectionError")


def test_count_is_shared_across_categories_one_request_each(server: OpenAIServer) -> None:
    server.script(reply(good_answer(3)),
                  reply("\n".join("01/17/99-23:59:0%d:001 (9) 2 [Generic.Event] LOCK TABLE FULL!!!" % n for n in range(2))))
    entries, unused = run_llm(server, count=5, categories=["license", "lock"])
    assert len(entries) == 5
    prompts = server.user_prompts()
    assert "Write 3 messages.log entries about licensing" in prompts[0]
    assert "Write 2 messages.log entries about the lock table" in prompts[1]


def test_journal_switch_gets_our_journal_file(server: OpenAIServer) -> None:
    server.script(reply("01/17/99-23:59:01:001 (9) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE\n"
                        "Journaling switched to: /made/up/19990117.042"))
    entries, unused = run_llm(server, count=1, categories="journal", severity="0")
    assert entries[0].continuation[0].startswith("Journaling switched to: ")
    assert entries[0].continuation[0].split("/")[-1].startswith(START.strftime("%Y%m%d") + ".")


def test_api_key_is_sent_but_never_returned_or_logged(server: OpenAIServer) -> None:
    # A server that echoes the key in its error, as OpenAI's "Incorrect API key provided: sk-..." does.
    server.script(error(401, "Incorrect API key provided: %s" % API_KEY, retry_after_ms=None), reply(good_answer(2)))
    log = io.StringIO()
    entries, outcome = run_llm(server, count=2, log=log)
    assert server.headers[0]["Authorization"] == "Bearer " + API_KEY
    assert len(entries) == 2 and outcome.metrics["llm"]["failed_calls"] == 1
    assert "Incorrect API key provided: ********" in outcome.metrics["llm"]["errors"][0]
    for text in (json.dumps(outcome.metrics), json.dumps(outcome.messages), log.getvalue(),
                 repr(llm.LLMSettings(api_key=API_KEY))):
        assert API_KEY not in text and API_KEY[3:] not in text

    server.script(*[error(401, "Incorrect API key provided: %s" % API_KEY, retry_after_ms=None)] * 2)
    with pytest.raises(ExternalIntegrationError) as raised:
        run_llm(server, count=1, fallback="fail", max_attempts=2)
    assert API_KEY not in str(raised.value) and "********" in str(raised.value)


def test_api_key_comes_from_the_option_or_the_environment() -> None:
    assert llm.resolve_api_key("from-option", None, {"OPENAI_API_KEY": "from-env"}) == "from-option"
    assert llm.resolve_api_key(None, None, {"OPENAI_API_KEY": "from-env"}) == "from-env"
    assert llm.resolve_api_key(None, "http://127.0.0.1:1/v1", {}) == "no-key"
    with pytest.raises(ValidationError, match="engine=llm needs an API key: pass the api_key option") as raised:
        llm.resolve_api_key(None, None, {})
    assert raised.value.errors == [("api_key", "missing")]


@pytest.mark.parametrize("options,field", [
    (dict(model=" "), "model"), (dict(temperature=2.5), "temperature"), (dict(timeout=0), "llm_timeout"),
    (dict(max_retries=-1), "llm_max_retries"), (dict(max_attempts=0), "llm_max_attempts"),
    (dict(fallback="retry"), "fallback"),
])
def test_bad_llm_settings_name_the_option(options: Any, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        llm.LLMSettings(api_key="k", **options)
    assert [name for name, unused in raised.value.errors] == [field]


def test_llm_count_is_bounded(server: OpenAIServer) -> None:
    with pytest.raises(ValidationError, match="count: engine=llm generates at most 1000"):
        run_llm(server, count=1001)
    assert server.requests == []


# --- hostile replies (issue 17): nothing but printable messages.log lines, and no secret, is ever written ---

HOSTILE_LINES = [
    ("escape sequence", LMF.replace("LMF Error:", "\x1b[2J\x1b[31mLMF Error:") % (1, 42), "U+001B"),
    ("NUL", LMF.replace("startup", "start\x00up") % (2, 42), "U+0000"),
    # The CR case: a viewer shows the forged severity-3 entry over the real line.
    ("embedded CR", (LMF % (3, 42)) + "\r01/17/99-23:59:09:001 (1) 3 [Generic.Event] license server forged", "U+000D"),
    ("line separator", (LMF % (4, 42)).replace("license server", "license\u2028server"), "U+2028"),
    ("paragraph separator", (LMF % (5, 42)).replace("license server", "license\u2029server"), "U+2029"),
    ("next line (C1)", (LMF % (6, 42)).replace("license server", "license\x85server"), "U+0085"),
    ("C1 CSI", (LMF % (7, 42)).replace("LMF", "\x9b31mLMF"), "U+009B"),
    ("DEL", (LMF % (8, 42)) + "\x7f", "U+007F"),
    ("tab", (LMF % (9, 42)).replace("Error:  ", "Error:\t"), "U+0009"),
]


@pytest.mark.parametrize("name, line, code", HOSTILE_LINES, ids=[case[0] for case in HOSTILE_LINES])
def test_lines_with_control_or_separator_characters_are_rejected(server: OpenAIServer, name: str, line: str,
                                                                 code: str) -> None:
    server.script(reply("\n".join([line, LMF % (10, 42)])), reply(good_answer(1)))
    output = io.StringIO()
    entries, outcome = run_llm(server, count=2, output=output)
    metrics = outcome.metrics["llm"]
    assert (metrics["accepted_lines"], metrics["rejected_lines"], len(entries)) == (2, 1, 2)
    rejected = metrics["rejected_examples"][0]
    assert rejected["reason"].startswith("not one printable line: contains control character %s" % code)
    assert rejected["line"].isprintable()  # reported escaped, never raw
    written = output.getvalue()
    assert written.endswith("\n") and written.count("\n") == 2
    assert all(text.isprintable() for text in written[:-1].split("\n"))
    assert all(entry.severity == 2 for entry in entries)


def test_a_crlf_reply_is_not_a_control_character(server: OpenAIServer) -> None:
    server.script(reply(good_answer(3).replace("\n", "\r\n") + "\r\n"))
    entries, outcome = run_llm(server, count=3)
    assert len(entries) == 3 and outcome.metrics["llm"]["rejected_lines"] == 0
    assert all("\r" not in entry.text for entry in entries)


def test_a_line_echoing_the_api_key_is_rejected_and_never_written(server: OpenAIServer) -> None:
    echoed = (LMF % (1, 42)) + " (client key %s)" % API_KEY
    secret_shaped = (CONNECT % (2, 42)) + " password=hunter2hunter2"
    server.script(reply("\n".join([echoed, secret_shaped, LMF % (3, 42)])), reply(good_answer(1)))
    output, log = io.StringIO(), io.StringIO()
    entries, outcome = run_llm(server, count=2, output=output, log=log)
    metrics = outcome.metrics["llm"]
    assert (len(entries), metrics["accepted_lines"], metrics["rejected_lines"]) == (2, 2, 2)
    assert [item["reason"] for item in metrics["rejected_examples"]] == [
        "carries a secret (the API key or a value the redaction rules hide); never written"] * 2
    for text in (output.getvalue(), json.dumps(outcome.messages), json.dumps(outcome.metrics), log.getvalue()):
        assert API_KEY not in text and "hunter2hunter2" not in text


@pytest.mark.parametrize("body, content_type", [
    (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html; charset=utf-8"),
    (b"upstream connect error or disconnect/reset before headers", "text/plain"),
    (b"{\"choices\": [", "application/json"),  # cut-off JSON under a JSON content type
], ids=["html", "plain-text", "broken-json"])
def test_a_200_reply_that_is_not_json_falls_back_naming_what_came_back(
        server: OpenAIServer, body: bytes, content_type: str) -> None:
    server.script(raw(body, content_type), raw(body, content_type))
    log = io.StringIO()
    entries, outcome = run_llm(server, count=3, max_attempts=2, log=log)
    metrics = outcome.metrics["llm"]
    assert len(entries) == 3 and metrics["fallback_messages"] == 3 and metrics["failed_calls"] == 2
    error_text = metrics["errors"][0]
    assert error_text.startswith("the server answered HTTP 200 with content type %r" % content_type)
    assert repr(body[:20].decode())[1:-1] in error_text and "Expecting value" not in error_text
    assert "llm_call_failed" in log.getvalue() and "llm_fallback" in log.getvalue()


def test_a_non_json_reply_with_fallback_fail_raises_naming_it_redacted(server: OpenAIServer) -> None:
    body = ("<html>proxy error for key %s</html>" % API_KEY).encode()
    server.script(raw(body), raw(body))
    with pytest.raises(ExternalIntegrationError) as raised:
        run_llm(server, count=1, fallback="fail", max_attempts=2)
    message = str(raised.value)
    assert "HTTP 200 with content type 'text/html; charset=utf-8'" in message and "<html>proxy error" in message
    assert API_KEY not in message and "fallback=fail" in message


def test_logs_carry_what_the_seed_names_latency_validation_and_format_match_rate(server: OpenAIServer) -> None:
    """T031: log LLM calls, validation results and generation metrics (latency, format match rate)."""
    server.script(reply("\n".join([LMF % (1, 42), "not a log line", LMF % (2, 42), CONNECT % (3, 43)])))
    log = io.StringIO()
    run_llm(server, count=3, log=log)
    events = {event["event"]: event for event in map(json.loads, log.getvalue().splitlines())}
    assert events["llm_call"]["latency_ms"] >= 0 and events["llm_call"]["model"] == "gpt-4o"
    checked = events["llm_lines_checked"]
    assert (checked["accepted"], checked["rejected"], checked["format_match_rate"]) == (3, 1, 0.75)
    done = events["messages_generated"]
    assert done["validity_rate"] == 0.75 and done["latency_ms_p95"] is not None and done["trace_id"] == TRACE_ID
