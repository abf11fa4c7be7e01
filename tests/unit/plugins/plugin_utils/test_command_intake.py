# SPDX-License-Identifier: GPL-3.0-or-later
"""Command intake: real drop directories in tmp_path, a real HTTP server on 127.0.0.1, a real state directory."""

from __future__ import annotations

import copy
import io
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils import command_intake as intake
from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import MAX_COMMAND_BYTES, MAX_DEPTH, check_command
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger
from tests.support.http_sink import HttpSink, free_port

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = sorted((REPO / "examples" / "commands").glob("*.json"))

BASE: Dict[str, Any] = {
    "command_id": "base-001", "instance": "IRIS", "error_type": "os", "severity": 1,
    "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}],
    "reason": "lower swappiness",
}
RESTART: Dict[str, Any] = {
    "command_id": "restart-001", "instance": "IRIS", "error_type": "config", "severity": 2, "requires_restart": True,
    "parameters": [{"action": "cpf", "changes": [{"section": "config", "parameter": "gmheap", "new_value": "307200"}]}],
}


def command(command_id: str, **changes: Any) -> Dict[str, Any]:
    document = copy.deepcopy(BASE)
    document.update(command_id=command_id, **changes)
    return document


def drop(directory: Path, name: str, content: Any, mtime_ns: int | None = None) -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def run(tmp_path: Path, log: io.StringIO | None = None, **options: Any) -> intake.IntakeReport:
    options.setdefault("state_dir", tmp_path / "state")
    options.setdefault("interval", 0.0)
    logger = build_logger("test", stream=log) if log is not None else None
    return intake.run_intake(intake.IntakeConfig(**options), logger)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    directory = tmp_path / "inbox"
    directory.mkdir()
    return directory


# --- valid commands of every error type ----------------------------------------------------------------------
def test_examples_cover_every_error_type_and_are_accepted_in_arrival_order(tmp_path: Path, inbox: Path) -> None:
    assert {json.loads(path.read_text())["error_type"] for path in EXAMPLES} == {"config", "license", "resource", "os"}
    # Newest file first by name, oldest by mtime: arrival (mtime) order wins over names.
    for age, path in enumerate(reversed(EXAMPLES)):
        drop(inbox, path.name, path.read_bytes(), mtime_ns=1_700_000_000_000_000_000 + age * 1000)
    expected = [json.loads(path.read_text())["command_id"] for path in reversed(EXAMPLES)]
    report = run(tmp_path, directory=inbox, approve_restart=True)
    assert [entry["command_id"] for entry in report.accepted] == expected
    assert [entry["queue_position"] for entry in report.accepted] == list(range(1, len(expected) + 1))
    assert not report.rejected and not report.pending
    assert sorted(path.name for path in (inbox / "done").iterdir()) == sorted(path.name for path in EXAMPLES)
    assert [path for path in inbox.iterdir() if path.is_file()] == []
    state = json.loads((tmp_path / "state" / "accepted.json").read_text())["accepted"]
    assert sorted(state, key=lambda key: state[key]["sequence"]) == expected


def test_accepted_command_is_the_validated_contract_with_its_trace_id(tmp_path: Path) -> None:
    report = run(tmp_path, documents=[command("with-defaults")])
    accepted = report.accepted[0]["command"]
    assert len(accepted["trace_id"]) == 32 and accepted["execution_order"] == []
    assert "current_value" not in accepted["parameters"][0]["changes"][0]
    assert check_command(accepted).command_id == "with-defaults"


# --- malformed and hostile commands ------------------------------------------------------------------------------
def _without(field: str) -> Dict[str, Any]:
    document = command("missing-" + field.replace("_", "-"))
    del document[field]
    return document


def _nested(depth: int) -> Any:
    value: Any = "x"
    for unused in range(depth):
        value = [value]
    return value


def _change(**values: Any) -> Dict[str, Any]:
    return command("bad-change", parameters=[{"action": "cpf", "changes": [dict(
        {"section": "config", "parameter": "locksiz", "new_value": "0"}, **values)]}])


def _kernel(**values: Any) -> Dict[str, Any]:
    return command("bad-kernel", parameters=[{"action": "kernel", "changes": [dict(
        {"name": "vm.swappiness", "new_value": 5}, **values)]}])


HOSTILE: List[Tuple[str, Any, str]] = [
    # (name, document or raw bytes, JSON path the first error must name)
    ("empty file", b"", "$"),
    ("whitespace only", b"  \n\t ", "$"),
    ("truncated json", b'{"command_id": "x", ', "$"),
    ("trailing garbage", json.dumps(BASE).encode() + b" {}", "$"),
    ("single quotes", b"{'command_id': 'x'}", "$"),
    ("trailing comma", b'{"command_id": "x",}', "$"),
    ("comment in json", b'{"command_id": "x" /* hi */}', "$"),
    ("not utf-8", b'{"command_id": "\xff\xfe"}', "$"),
    ("utf-8 bom", b"\xef\xbb\xbf" + json.dumps(BASE).encode(), "$"),
    ("nan severity", json.dumps(BASE).replace('"severity": 1', '"severity": NaN').encode(), "$"),
    ("infinity severity", json.dumps(BASE).replace('"severity": 1', '"severity": Infinity').encode(), "$"),
    ("duplicate key", b'{"command_id": "a", "command_id": "b"}', "$"),
    ("top-level array", [BASE], "$"),
    ("top-level string", "rm -rf /", "$"),
    ("top-level number", 42, "$"),
    ("top-level null", None, "$"),
    ("missing command_id", _without("command_id"), "$"),
    ("missing instance", _without("instance"), "$"),
    ("missing error_type", _without("error_type"), "$"),
    ("missing severity", _without("severity"), "$"),
    ("missing parameters", _without("parameters"), "$"),
    ("unknown top-level field", command("extra-field", run_as="root"), "$"),
    ("unknown nested field", command("extra-nested", parameters=[{"action": "kernel", "changes": [
        {"name": "vm.swappiness", "new_value": 5, "shell": "id"}]}]), "$.parameters[0]"),
    ("severity as string", command("sev-str", severity="2"), "$.severity"),
    ("severity out of range", command("sev-big", severity=7), "$.severity"),
    ("severity negative", command("sev-neg", severity=-1), "$.severity"),
    ("severity as float", command("sev-float", severity=1.5), "$.severity"),
    ("requires_restart as string", command("rr-str", requires_restart="yes"), "$.requires_restart"),
    ("unknown error_type", command("et-unknown", error_type="kernel-panic"), "$.error_type"),
    ("parameters empty", command("params-empty", parameters=[]), "$.parameters"),
    ("parameters as object", command("params-obj", parameters={"action": "kernel"}), "$.parameters"),
    ("unknown action", command("act-unknown", parameters=[{"action": "shell", "cmd": "id"}]), "$.parameters[0]"),
    ("action twice", command("act-twice", parameters=[BASE["parameters"][0], BASE["parameters"][0]]), "$"),
    ("execution_order mismatch", command("order-bad", execution_order=["cpf"]), "$"),
    ("command_id empty", command(""), "$.command_id"),
    ("command_id path traversal", command("../../etc/passwd"), "$.command_id"),
    ("command_id slash", command("a/b"), "$.command_id"),
    ("command_id shell injection", command("x; rm -rf /"), "$.command_id"),
    ("command_id too long", command("a" * 200), "$.command_id"),
    ("command_id as number", dict(BASE, command_id=12345), "$.command_id"),
    ("instance path traversal", command("inst-trav", instance="../../../etc"), "$.instance"),
    ("instance shell injection", command("inst-shell", instance="IRIS;reboot"), "$.instance"),
    ("instance command substitution", command("inst-subst", instance="$(id)"), "$.instance"),
    ("instance with newline", command("inst-nl", instance="IRIS\nOTHER"), "$.instance"),
    ("instance empty", command("inst-empty", instance=""), "$.instance"),
    ("trace_id not hex", command("trace-bad", trace_id="z" * 32), "$.trace_id"),
    ("trace_id all zero", command("trace-zero", trace_id="0" * 32), "$.trace_id"),
    ("cpf section traversal", _change(section="../../config"), "$.parameters[0]"),
    ("cpf parameter injection", _change(parameter="locksiz`id`"), "$.parameters[0]"),
    ("cpf value with newline (CPF line injection)", _change(new_value="0\n[Startup]\nSystemMode=x"), "$.parameters[0]"),
    ("cpf value with NUL", _change(new_value="0\x00"), "$.parameters[0]"),
    ("cpf value too long", _change(new_value="9" * 5000), "$.parameters[0]"),
    ("cpf value as number", _change(new_value=0), "$.parameters[0]"),
    ("cpf changes empty", command("cpf-empty", parameters=[{"action": "cpf", "changes": []}]), "$.parameters[0]"),
    ("kernel name traversal", _kernel(name="../../proc/sys/kernel/core_pattern"), "$.parameters[0]"),
    ("kernel name with space", _kernel(name="vm.swappiness 1"), "$.parameters[0]"),
    ("kernel value as shell", _kernel(new_value="5; reboot"), "$.parameters[0]"),
    ("kernel value outside its own bounds", _kernel(new_value=50, max_value=10), "$"),
    ("restart timeout too big", command("restart-big", parameters=[{"action": "restart", "user_wait_timeout": 10 ** 9}]),
     "$.parameters[0]"),
    ("jinja in reason", command("jinja-reason", reason="{{ lookup('pipe', 'touch /tmp/irisops-pwned') }}"), "$.reason"),
    ("jinja statement in cpf value", _change(new_value="{% for x in range(10**9) %}{% endfor %}"),
     "$.parameters[0].changes[0].new_value"),
    ("jinja comment in current_value", _change(current_value="{# x #}"), "$.parameters[0].changes[0].current_value"),
    ("jinja in an unknown key", dict(BASE, **{"{{ x }}": 1}), "$"),
    ("reason too long", command("reason-long", reason="r" * 3000), "$.reason"),
    ("huge payload", command("huge", reason="A" * (MAX_COMMAND_BYTES + 10)), "$"),
    ("deeply nested", command("deep", reason=_nested(MAX_DEPTH + 5)), "$"),
    ("nesting beyond the parser", b"[" * 30000 + b"]" * 30000, "$"),
]


def test_the_hostile_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 50
    assert len({name for name, unused, ignored in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("name,document,path", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_hostile_document_is_refused_with_path_and_reason(name: str, document: Any, path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_command(document if isinstance(document, bytes) else json.dumps(document).encode())
    assert caught.value.errors, name
    paths = [error_path for error_path, unused in caught.value.errors]
    assert any(error_path.startswith(path) for error_path in paths), (name, caught.value.errors)
    assert all(reason.strip() for unused, reason in caught.value.errors)


def test_every_hostile_file_is_moved_to_rejected_with_a_reason_file_and_nothing_is_queued(
        tmp_path: Path, inbox: Path) -> None:
    for number, (name, document, path) in enumerate(HOSTILE):
        drop(inbox, "cmd-%02d.json" % number, document if isinstance(document, bytes) else json.dumps(document).encode())
    log = io.StringIO()
    report = run(tmp_path, log=log, directory=inbox, approve_restart=True)
    assert report.accepted == [] and report.pending == {} and len(report.rejected) == len(HOSTILE)
    assert json.loads((tmp_path / "state" / "accepted.json").read_text() if (
        tmp_path / "state" / "accepted.json").exists() else '{"accepted": {}}')["accepted"] == {}
    rejected = inbox / "rejected"
    for number, (name, unused, path) in enumerate(HOSTILE):
        reason = json.loads((rejected / ("cmd-%02d.json.reason.json" % number)).read_text())
        assert reason["origin"] == "cmd-%02d.json" % number
        assert any(error["path"].startswith(path) and error["reason"] for error in reason["errors"]), (name, reason)
        assert all(len(error["reason"]) <= intake.MAX_REASON_CHARS + 20 for error in reason["errors"])
    assert [path for path in inbox.iterdir() if path.is_file()] == []
    assert log.getvalue().count('"event": "command_rejected"') == len(HOSTILE)


def test_oversized_file_is_refused_without_reading_it_whole(tmp_path: Path, inbox: Path) -> None:
    with open(inbox / "big.json", "wb") as stream:
        stream.truncate(50 * 1024 * 1024)  # sparse: costs nothing on disk
    report = run(tmp_path, directory=inbox)
    assert report.rejected[0]["errors"][0]["reason"] == "document is larger than the limit of %d bytes" % MAX_COMMAND_BYTES


def test_symlink_and_fifo_in_the_drop_directory_are_refused(tmp_path: Path, inbox: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(command("via-symlink")))
    (inbox / "link.json").symlink_to(secret)
    os.mkfifo(inbox / "pipe.json")
    (inbox / ".half-written.json.tmp").write_text("{")
    report = run(tmp_path, directory=inbox)
    assert report.accepted == []
    assert sorted(entry["origin"] for entry in report.rejected) == ["link.json", "pipe.json"]
    assert all("not a regular file" in entry["errors"][0]["reason"] for entry in report.rejected)
    assert secret.exists() and (inbox / ".half-written.json.tmp").exists()


def test_secret_in_a_rejected_command_is_redacted_from_reasons_and_logs(tmp_path: Path, inbox: Path) -> None:
    planted = "sk-planted0123456789abcdefABCDEF"
    drop(inbox, "leak.json", command("leak", api_key=planted))
    log = io.StringIO()
    report = run(tmp_path, log=log, directory=inbox)
    reason_file = Path(report.rejected[0]["reason_file"]).read_text()
    assert report.rejected and planted not in json.dumps(report.as_dict())
    assert planted not in reason_file and planted not in log.getvalue()


# --- serial queue, duplicates -------------------------------------------------------------------------------------
def test_queue_keeps_arrival_order_across_sources_and_logs_positions(tmp_path: Path, inbox: Path) -> None:
    drop(inbox, "b.json", command("second"), mtime_ns=2_000_000_000)
    drop(inbox, "a.json", command("third"), mtime_ns=3_000_000_000)
    log = io.StringIO()
    report = run(tmp_path, log=log, directory=inbox, documents=[command("first")])
    assert [entry["command_id"] for entry in report.accepted] == ["first", "second", "third"]
    queued = [json.loads(line) for line in log.getvalue().splitlines() if '"command_queued"' in line]
    assert [(line["command_id"], line["queue_position"], line["queue_length"]) for line in queued] == [
        ("first", 1, 3), ("second", 2, 3), ("third", 3, 3)]


def test_duplicate_command_id_is_never_queued_twice_even_across_runs(tmp_path: Path, inbox: Path) -> None:
    drop(inbox, "one.json", command("dup-1"), mtime_ns=1_000_000_000)
    drop(inbox, "again.json", command("dup-1", reason="same id, other text"), mtime_ns=2_000_000_000)
    first = run(tmp_path, directory=inbox)
    assert [entry["command_id"] for entry in first.accepted] == ["dup-1"]
    assert [entry["origin"] for entry in first.duplicates] == ["again.json"]
    assert "already accepted" in first.duplicates[0]["errors"][0]["reason"]
    assert (inbox / "rejected" / "again.json.reason.json").exists()
    drop(inbox, "one.json", command("dup-1"))
    second = run(tmp_path, directory=inbox)
    assert second.accepted == [] and [entry["command_id"] for entry in second.duplicates] == ["dup-1"]
    assert sorted(path.name for path in (inbox / "rejected").iterdir() if not path.name.endswith(".reason.json")) == [
        "again.json", "one.json"]
    assert (inbox / "done" / "one.json").exists()


def test_done_file_name_collision_keeps_both_files(tmp_path: Path, inbox: Path) -> None:
    drop(inbox, "cmd.json", command("first-of-name"))
    run(tmp_path, directory=inbox)
    drop(inbox, "cmd.json", command("second-of-name"))
    run(tmp_path, directory=inbox)
    assert sorted(path.name for path in (inbox / "done").iterdir()) == ["cmd.json", "cmd.json.1"]


# --- approval gate ---------------------------------------------------------------------------------------------------
def test_restart_command_waits_pending_until_an_approval_file_appears(tmp_path: Path, inbox: Path) -> None:
    drop(inbox, "restart.json", RESTART)
    log = io.StringIO()
    waiting = run(tmp_path, log=log, directory=inbox)
    assert waiting.accepted == [] and list(waiting.pending) == ["restart-001"]
    assert "approve_restart=true" in waiting.pending["restart-001"]["reason"]
    assert (inbox / "restart.json").exists(), "a pending command stays in the drop directory"
    assert not (tmp_path / "state" / "accepted.json").exists()
    assert '"event": "command_pending"' in log.getvalue()
    still = run(tmp_path, directory=inbox)
    assert still.accepted == [] and list(still.pending) == ["restart-001"]
    (tmp_path / "state" / "approvals" / "restart-001").write_text("approved by ops\n")
    released = run(tmp_path, directory=inbox)
    assert [entry["command_id"] for entry in released.accepted] == ["restart-001"]
    assert released.accepted[0]["restart_approved"] is True and released.pending == {}
    assert (inbox / "done" / "restart.json").exists()


def test_a_change_that_implies_a_restart_needs_approval(tmp_path: Path) -> None:
    document = command("implicit-restart", parameters=[{"action": "cpf", "changes": [
        {"section": "config", "parameter": "gmheap", "new_value": "307200"}]}])
    pending = run(tmp_path, documents=[document]).pending
    assert list(pending) == ["implicit-restart"] and "[config] gmheap needs a restart" in pending["implicit-restart"]["reason"]
    assert [entry["command_id"] for entry in run(tmp_path, documents=[], approve_restart=True).accepted] == [
        "implicit-restart"]


def test_a_command_the_role_would_refuse_is_rejected_never_pending(tmp_path: Path) -> None:
    out_of_range = command("never-runs", requires_restart=True, parameters=[{"action": "cpf", "changes": [
        {"section": "config", "parameter": "gmheap", "new_value": "1"}]}, {"action": "restart"}])
    undeclared = command("undeclared-restart", parameters=[{"action": "restart"}])
    report = run(tmp_path, documents=[out_of_range, undeclared])
    assert report.pending == {} and report.accepted == []
    reasons = {entry["errors"][0]["path"]: entry["errors"][0]["reason"] for entry in report.rejected}
    assert "out of range" in reasons["$.parameters[0].changes[0]"] and "$.requires_restart" in reasons
    # Their ids are not used up: fixed commands under the same ids are taken.
    fixed = [command("never-runs", parameters=[{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}])]
    assert [entry["command_id"] for entry in run(tmp_path, documents=fixed).accepted] == ["never-runs"]


def test_approve_restart_accepts_at_once_and_no_restart_needs_no_approval(tmp_path: Path) -> None:
    report = run(tmp_path, documents=[RESTART, command("plain")], approve_restart=True)
    assert [entry["command_id"] for entry in report.accepted] == ["restart-001", "plain"]
    assert [entry["restart_approved"] for entry in report.accepted] == [True, False]


def test_pending_conflict_with_a_different_command_of_the_same_id_is_rejected(tmp_path: Path) -> None:
    other = dict(RESTART, reason="a different command under the same id")
    report = run(tmp_path, documents=[RESTART, other])
    assert list(report.pending) == ["restart-001"]
    assert "conflicts with a different pending command" in report.rejected[0]["errors"][0]["reason"]


# --- HTTP polling ----------------------------------------------------------------------------------------------------
def test_http_polling_queues_commands_in_arrival_order_and_rejects_garbage() -> None:
    with HttpSink() as sink:
        sink.serve_documents(command("http-1"), [command("http-2"), command("http-3")], b"not json", [
            command("http-4"), {"command_id": "broken"}])
        source = intake.HttpSource(sink.commands_url, timeout=5)
        import tempfile
        with tempfile.TemporaryDirectory() as state:
            report = intake.run_intake(intake.IntakeConfig(state_dir=Path(state), http=source, polls=5, interval=0.01))
        assert sink.polls == 5
    assert [entry["command_id"] for entry in report.accepted] == ["http-1", "http-2", "http-3", "http-4"]
    assert [entry["origin"] for entry in report.accepted] == ["poll 1", "poll 2[0]", "poll 2[1]", "poll 4[0]"]
    assert [entry["origin"] for entry in report.rejected] == ["poll 3", "poll 4[1]"]
    assert report.poll_errors == []


def test_http_pending_command_is_kept_in_the_state_directory_until_approved(tmp_path: Path) -> None:
    with HttpSink() as sink:
        sink.serve_documents(RESTART)
        source = intake.HttpSource(sink.commands_url, timeout=5)
        first = run(tmp_path, http=source)
        assert list(first.pending) == ["restart-001"]
        assert (tmp_path / "state" / "pending" / "restart-001.json").exists()
        (tmp_path / "state" / "approvals" / "restart-001").touch()
        second = run(tmp_path, http=source)
    assert [entry["command_id"] for entry in second.accepted] == ["restart-001"]
    assert second.accepted[0]["origin"] == "pending/restart-001.json"
    assert not (tmp_path / "state" / "pending" / "restart-001.json").exists()


def test_http_bearer_token_is_sent_and_never_reported_or_logged(tmp_path: Path) -> None:
    token = "planted-commands-token-51f7"
    log = io.StringIO()
    with HttpSink(token=token) as sink:
        sink.serve_documents(command("authorised"))
        refused = run(tmp_path, log=log, http=intake.HttpSource(sink.commands_url, timeout=5))
        accepted = run(tmp_path, log=log, http=intake.HttpSource(sink.commands_url, token=token, timeout=5))
    assert refused.poll_errors == ["GET %s answered HTTP 401" % sink.commands_url]
    assert [entry["command_id"] for entry in accepted.accepted] == ["authorised"]
    assert token not in json.dumps(refused.as_dict()) + json.dumps(accepted.as_dict()) + log.getvalue()


def test_unreachable_endpoint_is_reported_per_poll(tmp_path: Path) -> None:
    url = "http://127.0.0.1:%d/commands" % free_port()
    report = run(tmp_path, http=intake.HttpSource(url, timeout=2), polls=2)
    assert report.polls == 2 and len(report.poll_errors) == 2
    assert all(error.startswith("GET %s failed: " % url) for error in report.poll_errors)


def test_duration_bounds_the_polling(tmp_path: Path) -> None:
    with HttpSink() as sink:
        report = run(tmp_path, http=intake.HttpSource(sink.commands_url, timeout=5), duration=0.3, interval=0.1)
        assert sink.polls == report.polls and 2 <= report.polls <= 4


@pytest.mark.parametrize("body,reason", [
    (b"[" + json.dumps(BASE).encode(), "malformed JSON"),
    (b"[" * 30000 + b"]" * 30000, "nested deeper than the JSON parser allows"),
    (b"[\"\xff\"]", "not UTF-8 text"),
])
def test_broken_http_batch_is_refused_whole(tmp_path: Path, body: bytes, reason: str) -> None:
    with HttpSink() as sink:
        sink.serve_documents(body)
        report = run(tmp_path, http=intake.HttpSource(sink.commands_url, timeout=5))
    assert report.accepted == [] and report.rejected[0]["origin"] == "poll 1"
    assert report.rejected[0]["errors"][0]["reason"].startswith(reason)


def test_oversized_http_response_is_refused(tmp_path: Path) -> None:
    with HttpSink() as sink:
        sink.serve_documents(b"[" + b" " * (intake.MAX_RESPONSE_BYTES + 10) + b"]")
        report = run(tmp_path, http=intake.HttpSource(sink.commands_url, timeout=5))
    assert "response is larger than the limit" in report.rejected[0]["errors"][0]["reason"]


# --- state, lock, options, check mode --------------------------------------------------------------------------------
def test_damaged_state_file_stops_the_intake_rather_than_risk_a_second_run(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "accepted.json").write_text("{not json")
    with pytest.raises(ExternalIntegrationError, match="damaged"):
        run(tmp_path, documents=[command("any")])


def test_second_consumer_on_the_same_state_directory_waits_then_gives_up(tmp_path: Path) -> None:
    holder = intake.IntakeState(tmp_path / "state")
    holder.open(timeout=1)
    try:
        with pytest.raises(ExternalIntegrationError, match="another consumer"):
            run(tmp_path, documents=[command("blocked")], lock_timeout=0.2)
    finally:
        holder.close()
    assert [entry["command_id"] for entry in run(tmp_path, documents=[command("blocked")]).accepted] == ["blocked"]


@pytest.mark.parametrize("options,field", [
    ({"polls": 0}, "polls"), ({"interval": -1}, "interval"), ({"duration": -1}, "duration"),
    ({"directory": Path("/nonexistent/inbox")}, "source"),
])
def test_bad_options_name_the_field(tmp_path: Path, options: Dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        run(tmp_path, **options)
    assert caught.value.errors[0][0] == field


def test_state_dir_must_not_be_the_drop_directory(inbox: Path) -> None:
    with pytest.raises(ValidationError, match="state_dir"):
        intake.run_intake(intake.IntakeConfig(state_dir=inbox, directory=inbox))


@pytest.mark.parametrize("url,field", [("ftp://host/x", "source"), ("http://127.0.0.1:1/x", "timeout")])
def test_bad_http_source_options(tmp_path: Path, url: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        run(tmp_path, http=intake.HttpSource(url, timeout=0 if field == "timeout" else 5))
    assert caught.value.errors[0][0] == field


def test_check_mode_moves_nothing_records_nothing_and_skips_http(tmp_path: Path, inbox: Path) -> None:
    drop(inbox, "ok.json", command("preview-1"), mtime_ns=1_000_000_000)
    drop(inbox, "dup.json", command("preview-1"), mtime_ns=2_000_000_000)
    drop(inbox, "bad.json", b"{")
    report = run(tmp_path, directory=inbox, check_mode=True)
    assert [entry["command_id"] for entry in report.accepted] == ["preview-1"]
    assert len(report.rejected) == 1 and len(report.duplicates) == 1
    assert sorted(path.name for path in inbox.iterdir()) == ["bad.json", "dup.json", "ok.json"]
    assert not (tmp_path / "state").exists()
    with HttpSink() as sink:
        sink.serve_documents(command("not-taken"))
        run(tmp_path, http=intake.HttpSource(sink.commands_url, timeout=5), check_mode=True)
        assert sink.polls == 0


def test_file_vanishing_between_listing_and_reading_is_refused_not_fatal(tmp_path: Path, inbox: Path) -> None:
    arrival = intake._read_bounded(inbox / "gone.json")
    assert arrival.problem is not None and arrival.problem[0] == "$"
    report = intake.Intake(intake.IntakeConfig(state_dir=tmp_path / "state", directory=inbox))
    report.state.open(timeout=1)
    try:
        report._take(arrival)
    finally:
        report.state.close()
    assert report.report.rejected[0]["errors"][0]["reason"].startswith("cannot open")


def test_not_json_serialisable_inline_data_is_refused() -> None:
    with pytest.raises(ValidationError, match="not JSON data"):
        check_command({"command_id": object()})
