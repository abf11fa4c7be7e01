# SPDX-License-Identifier: GPL-3.0-or-later
"""Trace ids, JSON logs and redaction: planted secrets must appear nowhere in the output."""

from __future__ import annotations

import io
import json
import re

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder, is_trace_id
from ansible_collections.irisops.iris.plugins.plugin_utils import tracing
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import REDACTED, redact

API_KEY = "sk-proj-PLANTEDsecret0123456789abcdef"
BEARER = "eyJhbGciOiJIUzI1NiJ9.PLANTEDtoken.signature"
PASSWORD = "PLANTED-hunter2-password"
LICENCE = "PLANTED-1234-5678-ABCD-EF00"
SECRETS = (API_KEY, BEARER, PASSWORD, LICENCE)


def test_trace_ids_are_w3c_compatible_and_never_zero() -> None:
    ids = {tracing.new_trace_id() for _attempt in range(200)}
    assert len(ids) == 200 and all(is_trace_id(i) for i in ids)
    assert not is_trace_id("0" * 32) and not is_trace_id("A" * 32) and not is_trace_id("a" * 31)


def test_traceparent_round_trip_and_propagation() -> None:
    trace_id = tracing.new_trace_id()
    header = tracing.traceparent(trace_id)
    # W3C trace-context: version 00, the trace id, a non-zero 16-hex-digit span id, flags (01: sampled).
    match = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])", header)
    assert match is not None and match.group(1) == trace_id and match.group(2) != "0" * 16
    assert match.group(3) == "01" and tracing.traceparent(trace_id, sampled=False).endswith("-00")
    assert tracing.traceparent(trace_id, span_id="1" * 16) == "00-%s-%s-01" % (trace_id, "1" * 16)
    with pytest.raises(ValueError, match="trace_id"):
        tracing.traceparent("bogus")


def test_redaction_of_structures_and_text() -> None:
    document = {
        "api_key": API_KEY,
        "headers": {"Authorization": "Bearer " + BEARER},
        "nested": [{"password": PASSWORD}, "url https://admin:%s@sink.local/x" % PASSWORD],
        "license": "AuthorizationKey=%s" % LICENCE,
        "note": "called with %s and token: %s" % (API_KEY, BEARER),
        "prompt_tokens": 42,
        "requires_user_action": False,
    }
    cleaned = json.dumps(redact(document))
    for secret in SECRETS:
        assert secret not in cleaned
    assert REDACTED in cleaned and '"prompt_tokens": 42' in cleaned and '"requires_user_action": false' in cleaned


def test_json_log_records_carry_trace_id_and_no_secrets() -> None:
    stream = io.StringIO()
    trace_id = tracing.new_trace_id()
    log = build_logger("test", stream=stream, trace_id=trace_id)
    log.info("llm_call", api_key=API_KEY, prompt="Authorization: Bearer %s" % BEARER, password=PASSWORD,
             detail="AuthorizationKey=%s" % LICENCE)
    log.debug("hidden")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "llm_call" and record["level"] == "info" and record["trace_id"] == trace_id
    assert "timestamp" in record
    for secret in SECRETS:
        assert secret not in lines[0]


def test_tool_results_are_redacted_before_they_leave() -> None:
    builder = ToolResultBuilder("publish")
    builder.add_change("endpoint", None, "https://user:%s@sink.local/in" % PASSWORD)
    result = redact(builder.build(status="failure", error_message="401 for api key %s" % API_KEY))
    dumped = json.dumps(result)
    assert PASSWORD not in dumped and API_KEY not in dumped
