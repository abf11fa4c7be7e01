# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end publishing: real sink on 127.0.0.1, real subprocesses, SIGKILL mid-run, 10,000 messages."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.support.http_sink import HttpSink

from ansible_collections.irisops.iris.plugins.plugin_utils import publisher as pub
from tests.support.paths import VENV_BIN

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
PLAYBOOK = REPO / "playbooks" / "publish.yml"
PLANTED_TOKEN = "planted-integration-token-c0ffee42"
# The publisher as a plain process (starts in ~0.3 s, so many kill points fit in one test).
RUNNER = """
import json, sys
sys.path.insert(0, %r)
from pathlib import Path
from ansible_collections.irisops.iris.plugins.plugin_utils.publisher import PublisherConfig, publish
messages = [json.loads(line) for line in open(sys.argv[3])]
report = publish(PublisherConfig(endpoint=sys.argv[1], spool_dir=Path(sys.argv[2]), backoff_base=0.01,
                                 concurrency=4, timeout=5), messages)
print(json.dumps(report.as_dict()))
""" % str(COLLECTIONS)


def make_messages(count: int) -> List[Dict[str, Any]]:
    return [{"timestamp": "2026-02-01T10:%02d:%02d.%03d+01:00" % (n // 60000 % 60, n // 1000 % 60, n % 1000),
             "pid": 4000 + n % 97, "severity": n % 4, "category": "Utility.Event", "text": "event %d" % n,
             "instance": "IRIS1"} for n in range(count)]


def write_ndjson(path: Path, messages: List[Dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(message) + "\n" for message in messages))
    return path


def expected_keys(messages: List[Dict[str, Any]]) -> set[str]:
    return {pub.idempotency_key(message) for message in messages}


def wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.0f s" % timeout)
        time.sleep(0.01)


def run_playbook(env: Dict[str, str], *extra: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), str(PLAYBOOK), *extra],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_playbook_killed_mid_run_loses_nothing(tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    """SIGKILL the whole ansible-playbook process group mid-publication, run again: every message arrives."""
    messages = make_messages(2000)
    source = write_ndjson(tmp_path / "messages.ndjson", messages)
    spool = tmp_path / "spool"
    with HttpSink(delay=0.01) as sink:
        args = ["-e", "endpoint=%s" % sink.url, "-e", "messages_file=%s" % source, "-e", "spool_dir=%s" % spool,
                "-e", "concurrency=4", "-e", "backoff_base=0.01"]
        process = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), str(PLAYBOOK), *args],
                                   env=ansible_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            wait_until(lambda: len(sink.keys()) >= 300, timeout=120)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        delivered_before_kill = sink.unique_keys()
        assert 300 <= len(delivered_before_kill) < len(messages), "the kill must land mid-run"
        assert len(pub.Spool(spool).backlog()) > 0

        sink.set_delay(0.0)
        rerun = run_playbook(ansible_env, *args, "-e", "publish_log_file=%s" % (tmp_path / "publish.log"))
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert sink.unique_keys() == expected_keys(messages)
        assert pub.Spool(spool).backlog() == []
        # Duplicates (in flight at the kill, or handed over again by the re-run) carry the same key and the same
        # message; only the trace id may differ, when the re-run accepted the message again.
        by_key: Dict[str, List[str]] = {}
        for request in sink.received:
            by_key.setdefault(request.keys[0], []).append(json.dumps({k: v for k, v in request.messages[0].items()
                                                                      if k != "trace_id"}, sort_keys=True))
        assert all(len(set(bodies)) == 1 for bodies in by_key.values())
        assert len({message["trace_id"] for message in sink.messages()}) <= 2  # one per run
        assert "sent" in rerun.stdout


@pytest.mark.slow
def test_publisher_process_killed_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    """Five SIGKILLs at random points (journaling, sending, compacting), then one full run: nothing lost."""
    messages = make_messages(1500)
    source = write_ndjson(tmp_path / "messages.ndjson", messages)
    spool = tmp_path / "spool"
    chooser = random.Random(20260201)
    with HttpSink(delay=0.002) as sink:
        command = [sys.executable, "-c", RUNNER, sink.url, str(spool), str(source)]
        for unused in range(5):
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(chooser.uniform(0.2, 1.2))
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        final = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert final.returncode == 0, final.stderr
        report = json.loads(final.stdout)
        assert report["spooled"] == 0 and report["refused"] == 0
        assert sink.unique_keys() == expected_keys(messages)


@pytest.mark.slow
def test_sink_down_longer_than_all_retries_then_back_loses_none_of_10000(tmp_path: Path) -> None:
    messages = make_messages(10_000)
    spool = tmp_path / "spool"
    settings = dict(endpoint="", spool_dir=spool, backoff_base=0.01, max_attempts=3, concurrency=10, timeout=5.0)
    sink = HttpSink()
    try:
        settings["endpoint"] = sink.url
        down = pub.publish(pub.PublisherConfig(**settings), messages)  # type: ignore[arg-type]
        assert (down.sent, down.spooled) == (0, 10_000)

        sink.up()
        outage = threading.Thread(target=lambda: (wait_until(lambda: len(sink.keys()) >= 3000, 120), sink.down()))
        outage.start()
        partial = pub.publish(pub.PublisherConfig(**settings), [])  # type: ignore[arg-type]
        outage.join()
        assert partial.backlog == 10_000 and 3000 <= partial.sent < 10_000
        assert partial.spooled == 10_000 - len(sink.unique_keys())

        sink.up()
        final = pub.publish(pub.PublisherConfig(**settings), messages)  # type: ignore[arg-type]
        assert final.spooled == 0 and final.refused == 0
        assert sink.unique_keys() == expected_keys(messages)
    finally:
        sink.close()


@pytest.mark.slow
def test_playbook_fails_when_a_503_burst_leaves_messages_undelivered(tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    """Regression (issue 17): after a burst of 503s the task ended ok with the latency printed blank."""
    messages = make_messages(200)
    source = write_ndjson(tmp_path / "messages.ndjson", messages)
    spool = tmp_path / "spool"
    with HttpSink(accept_batches=True) as sink:
        sink.fail_next(1_000_000, status=503)
        args = ["-e", "endpoint=%s" % sink.url, "-e", "messages_file=%s" % source, "-e", "spool_dir=%s" % spool,
                "-e", "backoff_base=0.01", "-e", "max_attempts=2"]
        failed = run_playbook(ansible_env, *args)
        assert failed.returncode == 2, failed.stdout + failed.stderr
        assert "200 messages undelivered: 200 spooled in %s" % spool in failed.stdout
        assert "latency p50 n/a (no request acknowledged)" in failed.stdout
        assert sink.refused >= 2 and sink.messages() == []

        warned = run_playbook(ansible_env, *args, "-e", "undelivered=warn")
        assert warned.returncode == 0, warned.stdout + warned.stderr
        assert "[WARNING]" in warned.stdout + warned.stderr and "200 spooled in %s" % spool in warned.stdout

        sink.fail_next(0)
        recovered = run_playbook(ansible_env, *args)
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        assert "sent 200, refused 0, spooled 0 (backlog was 200); latency p50 " in recovered.stdout
        assert sink.unique_keys() == expected_keys(messages)
        assert {request.headers["Content-Type"] for request in sink.received} == {"application/x-ndjson"}


@pytest.mark.slow
def test_playbook_sends_token_from_env_and_never_shows_it(tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    messages = make_messages(20)
    source = write_ndjson(tmp_path / "messages.ndjson", messages)
    log_file = tmp_path / "publish.log"
    env = dict(ansible_env, IRISOPS_PUBLISH_TOKEN=PLANTED_TOKEN)
    with HttpSink(token=PLANTED_TOKEN) as sink:
        sink.fail_next(2, status=503)
        result = run_playbook(env, "-vvv", "-e", "endpoint=%s" % sink.url, "-e", "messages_file=%s" % source,
                              "-e", "spool_dir=%s" % (tmp_path / "spool"), "-e", "backoff_base=0.01",
                              "-e", "publish_log_file=%s" % log_file, "-e", "min_severity=2")
        assert result.returncode == 0, result.stdout + result.stderr
        assert sink.unique_keys() == expected_keys([m for m in messages if m["severity"] >= 2])
        assert all(r.headers["Authorization"] == "Bearer " + PLANTED_TOKEN for r in sink.received)
    shown = result.stdout + result.stderr + log_file.read_text()
    shown += "".join(path.read_text() for path in (tmp_path / "spool").iterdir() if path.is_file())
    assert "publish_attempt_failed" in shown
    assert PLANTED_TOKEN not in shown


@pytest.mark.slow
def test_playbook_publishes_an_instance_log_file_and_check_mode_sends_nothing(
        tmp_path: Path, ansible_env: Dict[str, str]) -> None:
    log = tmp_path / "messages.log"
    log.write_text("02/01/26-10:00:00:001 (1234) 0 [Generic.Event] startup ok\n"
                   "02/01/26-10:00:01:002 (1234) 2 [Generic.Event] LOCK TABLE FULL\n"
                   "  continuation of the lock message\n"
                   "02/01/26-10:00:02:003 (1234) 3 [Utility.Event] fatal thing\n")
    with HttpSink() as sink:
        args = ["-e", "endpoint=%s" % sink.url, "-e", "log_path=%s" % log, "-e", "min_severity=2",
                "-e", "instance=IRIS1", "-e", "log_timezone=UTC", "-e", "spool_dir=%s" % (tmp_path / "spool")]
        check = run_playbook(ansible_env, "--check", *args)
        assert check.returncode == 0, check.stdout + check.stderr
        assert sink.received == []
        result = run_playbook(ansible_env, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        texts = sorted(message["text"] for message in sink.messages())
        assert texts == ["LOCK TABLE FULL\n  continuation of the lock message", "fatal thing"]
        assert {message["instance"] for message in sink.messages()} == {"IRIS1"}
