# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generate_messages action plugin through ansible-playbook playbooks/generate.yml (real subprocesses).

Returned messages, files written idempotently (check and diff mode too), entries appended to an
emulated instance's live messages.log, publication to a real HTTP sink, the LLM engine against a
local OpenAI-compatible server with the key kept out of the output, and bad options.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.support.emulator import EmulatorEnv
from tests.support.http_sink import HttpSink
from tests.support.openai_server import OpenAIServer, reply

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from tests.support.paths import VENV_BIN

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "generate.yml"
ANSIBLE_PLAYBOOK = str(VENV_BIN / "ansible-playbook")
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PLANTED_KEY = "sk-planted-playbook-key-51c3e9aa70"


RECORDER = Path(__file__).resolve().parent / "callback_plugins"


class PlaybookRun(object):
    """One ansible-playbook run: its output and the registered result of each task (by task name)."""

    def __init__(self, completed: "subprocess.CompletedProcess[str]", results_file: Path) -> None:
        self.returncode = completed.returncode
        self.output = completed.stdout + completed.stderr
        recorded = json.loads(results_file.read_text()) if results_file.exists() else []
        self.results: Dict[str, Dict[str, Any]] = {item["task"]: item["result"] for item in recorded}
        self.statuses: Dict[str, str] = {item["task"]: item["status"] for item in recorded}

    def __getitem__(self, task: str) -> Dict[str, Any]:
        return self.results[task]


def run_playbook(env: Dict[str, str], *args: str, playbook: Path = PLAYBOOK) -> PlaybookRun:
    results_file = Path(env["ANSIBLE_LOCAL_TEMP"]).parent / ("results-%s.json" % uuid.uuid4().hex)
    env = dict(env, ANSIBLE_CALLBACK_PLUGINS=str(RECORDER), ANSIBLE_CALLBACKS_ENABLED="record_results",
               IRISOPS_TEST_RESULTS=str(results_file))
    completed = subprocess.run([ANSIBLE_PLAYBOOK, str(playbook), *args], env=env, capture_output=True, text=True,
                               timeout=300, check=False)
    return PlaybookRun(completed, results_file)


def test_playbook_returns_the_requested_messages(ansible_env: Dict[str, str]) -> None:
    completed = run_playbook(ansible_env, "-e", "category=config", "-e", "count=10", "-e", "severity=2-3",
                             "-e", "output=json")
    assert completed.returncode == 0, completed.output
    generated = completed["Generate messages"]
    assert generated["changed"] is False and generated["count"] == generated["messages_returned"] == 10
    assert {message["severity"] for message in generated["messages"]} <= {2, 3}
    assert len({message["trace_id"] for message in generated["messages"]}) == 1
    for message in generated["messages"]:
        entry = iris_log.make_entry(iris_log.parse_timestamp("01/01/25-00:00:00:000"), message["pid"],
                                    message["severity"], message["category"], message["text"].split("\n")[0])
        assert iris_log.ENTRY_PATTERN.match(entry.format())
    assert generated["metrics"]["engine"] == "template" and generated["metrics"]["messages"] == 10
    assert generated["tool_result"]["status"] == "success" and generated["tool_result"]["changes"] == []


def test_seeded_file_is_written_once_and_check_mode_writes_nothing(ansible_env: Dict[str, str], tmp_path: Path) -> None:
    dest = tmp_path / "out" / "messages.log"
    dest.parent.mkdir()
    args = ["-e", "category=startup,lock", "-e", "count=300", "-e", "seed=11", "-e", "start_time=2025-03-01T08:00:00",
            "-e", "timezone=UTC", "-e", "output=log", "-e", "dest=%s" % dest, "-e", "trace_id=%s" % TRACE_ID,
            "-e", "return_limit=100"]
    check = run_playbook(ansible_env, "--check", "--diff", *args)
    assert check.returncode == 0, check.output
    previewed = check["Generate messages"]
    assert previewed["changed"] is True and not dest.exists()
    assert previewed["tool_result"]["dry_run"] is True

    first = run_playbook(ansible_env, *args)["Generate messages"]
    assert first["changed"] is True and first["dest"] == str(dest)
    assert first["count"] == 300 and first["messages"] == [] and first["messages_returned"] == 0
    entries, malformed = iris_log.parse_text(dest.read_text(encoding="utf-8"))
    assert len(entries) == 300 and malformed == []
    assert entries[0].timestamp >= iris_log.parse_timestamp("03/01/25-08:00:00:000")
    assert first["checksum"] == previewed["checksum"]

    again = run_playbook(ansible_env, *args)["Generate messages"]
    assert again["changed"] is False and again["checksum"] == first["checksum"]


@pytest.mark.slow
def test_entries_are_appended_to_a_live_emulated_instance_log(
        emulator: EmulatorEnv, ansible_env: Dict[str, str]) -> None:
    emulator.create("GEN")
    emulator.start("GEN")
    env = dict(ansible_env, IRISEMU_REGISTRY=emulator.registry)
    args = ["-e", "category=lock", "-e", "count=5", "-e", "severity=severe", "-e", "instance=GEN",
            "-e", "append_to_instance_log=true", "-e", "output=log", "-e", "iris_bin=%s" % emulator.iris_bin]
    try:
        before = emulator.messages_log("GEN")
        check = run_playbook(env, "--check", *args)
        assert check.returncode == 0, check.output
        assert check["Generate messages"]["changed"] is True
        assert emulator.messages_log("GEN") == before

        completed = run_playbook(env, *args)
        assert completed.returncode == 0, completed.output
        generated = completed["Generate messages"]
        log_path = Path(emulator.instance("GEN").messages_log_path)
        assert generated["changed"] is True and generated["dest"] == str(log_path)
        after = log_path.read_text(encoding="utf-8")
        assert after.startswith(before)
        entries, malformed = iris_log.parse_text(after)
        assert malformed == []
        appended = [entry for entry in entries if entry.severity == 2 and entry.text in
                    {message["text"] for message in generated["messages"]}]
        assert len(appended) >= 5
        assert generated["tool_result"]["changes"][0]["target"] == str(log_path)
    finally:
        emulator.stop("GEN")


@pytest.mark.slow
def test_publish_true_sends_every_generated_message_to_the_sink(ansible_env: Dict[str, str], tmp_path: Path) -> None:
    with HttpSink() as sink:
        completed = run_playbook(ansible_env, "-e", "category=license,memory", "-e", "count=15", "-e", "publish=true",
                                 "-e", "endpoint=%s" % sink.url, "-e", "spool_dir=%s" % (tmp_path / "spool"),
                                 "-e", "trace_id=%s" % TRACE_ID, "-e", "quiet=true")
        assert completed.returncode == 0, completed.output
        generated = completed["Generate messages"]["messages"]
        received = sink.messages()
    assert len(received) == 15
    assert sorted(json.dumps(message, sort_keys=True) for message in received) == sorted(
        json.dumps(message, sort_keys=True) for message in generated)
    assert {message["trace_id"] for message in received} == {TRACE_ID}


@pytest.mark.slow
def test_llm_engine_through_the_playbook_keeps_the_key_out_of_the_output(
        ansible_env: Dict[str, str], tmp_path: Path) -> None:
    lines = "\n".join("01/17/99-23:59:%02d:001 (7) 2 [Utility.Event] LMF Error:  Could not send startup message to "
                      "license server" % second for second in range(3))
    env = dict(ansible_env, OPENAI_API_KEY=PLANTED_KEY)
    with OpenAIServer(default=reply(lines)) as server:
        completed = run_playbook(env, "-vvv", "-e", "category=license", "-e", "count=3", "-e", "engine=llm",
                                 "-e", "base_url=%s" % server.url, "-e", "model=local-test", "-e", "severity=2")
        assert completed.returncode == 0, completed.output
        assert server.headers[0]["Authorization"] == "Bearer " + PLANTED_KEY
        assert server.requests[0]["model"] == "local-test"
    shown = completed.output
    assert "LMF Error:  Could not send startup message to license server" in shown
    assert '"llm_call"' in shown and '"messages_generated"' in shown  # the JSON log at -vvv, with metrics
    assert PLANTED_KEY not in shown and PLANTED_KEY[3:] not in shown

    vaulted = run_playbook(ansible_env, "-vvv", "-e", "category=license", "-e", "count=1", "-e", "engine=llm",
                           "-e", "base_url=http://127.0.0.1:9/v1", "-e", "llm_max_attempts=1", "-e", "llm_max_retries=0",
                           "-e", "fallback=fail", "-e", "llm_api_key=%s" % PLANTED_KEY)
    assert vaulted.returncode != 0 and vaulted.statuses["Generate messages"] == "failed"
    assert "LLM generation failed" in vaulted["Generate messages"]["msg"]
    assert PLANTED_KEY not in vaulted.output and PLANTED_KEY not in json.dumps(vaulted.results)


BAD_OPTIONS = """
- hosts: localhost
  gather_facts: false
  tasks:
"""
BAD_CASES: List[Dict[str, Any]] = [
    {"category": "disk"},
    {"category": "lock", "severity": "9"},
    {"category": "lock", "severity": "fatal"},
    {"category": "lock", "count": 2000},
    {"category": "lock", "append_to_instance_log": True, "output": "log"},
    {"category": "lock", "append_to_instance_log": True, "instance": "IRIS", "output": "json"},
    {"category": "lock", "start_time": "yesterday-ish"},
    {"category": "lock", "engine": "llm"},
]
EXPECTED_MESSAGES = [
    "$.categories[0]", "severity: must be 0-3", "severity: no lock messages exist at severity 3",
    "count: 2000 messages are more than return_limit=1000", "append_to_instance_log: needs instance",
    "output: must be 'log' when appending", "start_time: 'yesterday-ish' is neither", "engine=llm needs an API key: pass the api_key option",
]


def test_bad_options_fail_with_the_field_and_the_reason(ansible_env: Dict[str, str], tmp_path: Path) -> None:
    playbook = tmp_path / "bad.yml"
    tasks = "".join("    - name: case %d\n      irisops.iris.generate_messages: %s\n      ignore_errors: true\n"
                    % (index, json.dumps(case)) for index, case in enumerate(BAD_CASES))
    playbook.write_text(BAD_OPTIONS + tasks)
    env = {name: value for name, value in ansible_env.items() if name != "OPENAI_API_KEY"}
    completed = run_playbook(env, playbook=playbook)
    for index, expected in enumerate(EXPECTED_MESSAGES):
        result = completed["case %d" % index]
        assert completed.statuses["case %d" % index] == "failed", (index, result)
        assert expected in result["msg"], (index, result["msg"])
