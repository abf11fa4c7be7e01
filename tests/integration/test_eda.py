# SPDX-License-Identifier: GPL-3.0-or-later
"""The EDA rulebooks under a real ansible-rulebook (Java rules engine): publish_severe.yml against an emulated
instance and the HttpSink, remediation_webhook.yml with real webhook requests.

ansible-rulebook exits 0 even when a playbook it ran failed, so every test asserts on effects: what the sink
received, what the intake recorded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

from tests.support.emulator import EmulatorEnv
from tests.support.http_sink import HttpSink, free_port
from tests.support.paths import VENV_BIN

pytestmark = pytest.mark.slow
RULEBOOK_BIN = str(VENV_BIN / "ansible-rulebook")
WEBHOOK_TOKEN = "planted-webhook-token-77d1"


def wait_until(condition: Callable[[], bool], timeout: float, what: str, step: Callable[[], None] | None = None,
               process: "subprocess.Popen[str] | None" = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError("ansible-rulebook exited (rc=%s) before %s" % (process.returncode, what))
        if time.monotonic() > deadline:
            raise AssertionError("%s did not happen within %.0f s" % (what, timeout))
        if step is not None:
            step()
        time.sleep(0.5)


class Rulebook(object):
    """ansible-rulebook in its own process group (it starts ansible-runner and ansible-playbook children)."""

    def __init__(self, tmp_path: Path, env: Dict[str, str], rulebook: str, variables: Dict[str, Any],
                 *extra: str) -> None:
        inventory = tmp_path / "inventory.yml"
        inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
        vars_file = tmp_path / "rulebook-vars.json"
        vars_file.write_text(json.dumps(variables))
        self.output = tmp_path / "rulebook.out"
        with open(self.output, "w") as stream:
            self.process = subprocess.Popen([RULEBOOK_BIN, "-i", str(inventory), "--rulebook", rulebook,
                                             "--vars", str(vars_file), *extra],
                                            env=env, stdout=stream, stderr=subprocess.STDOUT, text=True,
                                            start_new_session=True, cwd=str(tmp_path))

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        return self.output.read_text()


@pytest.fixture
def rulebook_env(ansible_env: Dict[str, str]) -> Iterator[Dict[str, str]]:
    env = dict(ansible_env, PATH="%s:%s" % (VENV_BIN, ansible_env.get("PATH", "")))
    yield env


def test_publish_severe_publishes_severe_entries_of_an_instance_verbatim(
        tmp_path: Path, emulator: EmulatorEnv, rulebook_env: Dict[str, str]) -> None:
    emulator.create("IRISEDA")
    emulator.start("IRISEDA")
    log = emulator.instances["IRISEDA"] / "mgr" / "messages.log"
    env = dict(rulebook_env, IRISEMU_REGISTRY=emulator.registry, PATH=emulator.env["PATH"] + ":" + rulebook_env["PATH"])
    rounds = []

    def write_round() -> None:
        # The source starts at the end of the file, so keep writing until one round is published.
        number = len(rounds)
        rounds.append(number)
        with open(log, "a", encoding="utf-8") as stream:
            stream.write("01/31/26-08:00:%02d:000 (4242) 0 [Utility.Event] info round %d\n" % (number % 60, number))
            stream.write("01/31/26-08:00:%02d:500 (4242) 2 [Utility.Event] LOCK TABLE FULL {{ 7 * 6 }} round %d\n" % (
                number % 60, number))

    with HttpSink() as sink:
        rulebook = Rulebook(tmp_path, env, "irisops.iris.publish_severe",
                            {"iris_instance": "IRISEDA", "iris_bin": emulator.iris_bin, "publish_endpoint": sink.url,
                             "publish_spool_dir": str(tmp_path / "spool")})
        try:
            wait_until(lambda: len(sink.messages()) >= 1, 180, "a published message", step=write_round,
                       process=rulebook.process)
        finally:
            output = rulebook.stop()
        messages = sink.messages()
    assert messages, output
    first = messages[0]
    assert first["severity"] == 2 and first["instance"] == "IRISEDA" and first["category"] == "Utility.Event"
    assert first["text"] in ["LOCK TABLE FULL {{ 7 * 6 }} round %d" % number for number in rounds], first
    assert all(message["severity"] >= 2 for message in messages), "an info entry was published"


def post(url: str, body: bytes, token: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_remediation_webhook_consumes_posted_commands_and_refuses_bad_ones(
        tmp_path: Path, rulebook_env: Dict[str, str]) -> None:
    port = free_port()
    state = tmp_path / "state"
    canary = tmp_path / "pwned"
    env = dict(rulebook_env, IRISOPS_WEBHOOK_TOKEN=WEBHOOK_TOKEN)
    good = {"command_id": "webhook-001", "instance": "IRIS", "error_type": "os", "severity": 1,
            "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}]}
    hostile = dict(good, command_id="webhook-002", reason="{{ lookup('pipe', 'touch %s') }}" % canary)
    url = "http://127.0.0.1:%d/commands" % port
    rulebook = Rulebook(tmp_path, env, "irisops.iris.remediation_webhook",
                        {"webhook_port": port, "commands_state_dir": str(state), "consume_dry_run": True,
                         "commands_log_file": str(tmp_path / "intake.log")},
                        "--env-vars", "IRISOPS_WEBHOOK_TOKEN")
    accepted_file = state / "accepted.json"
    log_file = tmp_path / "intake.log"
    try:
        statuses: Dict[str, int] = {}

        def try_post() -> None:
            try:
                statuses["wrong token"] = post(url, json.dumps(good).encode(), "wrong")
                statuses["good"] = post(url, json.dumps(good).encode(), WEBHOOK_TOKEN)
                statuses["hostile"] = post(url, json.dumps(hostile).encode(), WEBHOOK_TOKEN)
            except (urllib.error.URLError, ConnectionError):
                pass  # the webhook is not listening yet

        wait_until(lambda: "hostile" in statuses, 120, "the webhook accepting requests", step=try_post,
                   process=rulebook.process)
        wait_until(lambda: log_file.exists() and log_file.read_text().count('"command_rejected"') >= 1
                   and '"command_accepted"' in log_file.read_text(), 180, "both commands taken in",
                   process=rulebook.process)
    finally:
        output = rulebook.stop()
    assert statuses == {"wrong token": 401, "good": 200, "hostile": 200}, statuses
    accepted = [json.loads(line) for line in log_file.read_text().splitlines() if '"command_accepted"' in line]
    assert [entry["command_id"] for entry in accepted] == ["webhook-001"], output
    assert not accepted_file.exists()  # a dry run uses nothing up
    rejected = [json.loads(line) for line in log_file.read_text().splitlines() if '"command_rejected"' in line]
    assert rejected[0]["errors"] == [{"path": "$.reason", "reason": "contains a Jinja template marker ({{, {% or {#); "
                                                                    "commands are data, never templates"}]
    assert not canary.exists()
    assert WEBHOOK_TOKEN not in output + log_file.read_text()
