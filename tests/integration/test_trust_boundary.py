# SPDX-License-Identifier: GPL-3.0-or-later
"""The hostile corpus through every way a RemediationCommand arrives, on one running emulated instance.

Each case must be refused with the same JSON paths and reasons everywhere (the one strict reader, then the plan),
and nothing may change: the instance's files, the emulated /proc/sys, the sysctl directory, the instance's start
time, no marker file from a template, no accepted command.

Entry points: consume's drop directory, consume's HTTP polling and the EDA payload (what ansible-rulebook hands
consume.yml) each take the whole corpus in one run; the remediate playbook's ``-e @file`` and
``-e remediation_command=<json>`` start one ansible-playbook per command, so they take every case in-process through
the same function the guard calls and a spread sample of the corpus as real processes (two at a time).
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.splitter import parse_kv

from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import command_from_extra_vars, parse_json
from ansible_collections.irisops.iris.plugins.plugin_utils.command_intake import short
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.planner import plan_command, plan_document
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_text
from tests.support.emulator import EmulatorEnv
from tests.support.hostile_commands import MARKER, hostile_commands
from tests.support.http_sink import HttpSink
from test_remediate import ANSIBLE_PLAYBOOK, REPO, Remediation

pytestmark = pytest.mark.slow
Problems = List[Tuple[str, str]]
CLI_SAMPLE_EVERY = 10


def as_text(document: Any) -> str:
    # Compact: the only spaces left are inside strings, which Ansible's key=value parsing keeps together.
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def verdict(raw: Any) -> Problems:
    """What every entry point must answer: the strict reader's and the planner's problems."""
    problems = reader_verdict(raw)
    assert problems, "accepted: %r" % (raw,)
    return problems


def is_batch(text: str) -> bool:
    # An HTTP answer and an EDA payload may be a JSON array of commands: there a top-level array is a batch.
    return text.lstrip().startswith("[")


def intake_rejections(log_file: Path) -> Dict[str, Problems]:
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert not [line for line in lines if line["event"] in ("command_accepted", "command_pending")]
    return {line["origin"]: [(error["path"], error["reason"]) for error in line["errors"]]
            for line in lines if line["event"] == "command_rejected"}


def cli_verdict(argument: str) -> Optional[Problems]:
    """What ``-e <argument> -e approve_restart=true`` gets from the guard, then from the plan task (None: accepted)."""
    try:
        command = command_from_extra_vars((argument, "approve_restart=true"))
        assert command is not None
        plan_command(command)
    except ValidationError as error:
        return list(error.errors)
    return None


def reader_verdict(raw: Any) -> Optional[Problems]:
    try:
        plan_document(raw)
    except ValidationError as error:
        return list(error.errors)
    return None


def _loads(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def eda_item(text: str) -> Any:
    """A command as data where the text is strict JSON an extra-vars file can carry, else as its JSON text (a payload
    item that is a string is read as JSON text). ansible-rulebook's webhook parses a body before the collection sees
    it, so a duplicate key sent as a JSON object is lost there (docs/eda.md): such texts go as text."""
    try:
        parse_json(text.encode("utf-8", "surrogatepass"))
    except ValidationError:
        return text
    return json.loads(text) if text.startswith("{") and "\\ud8" not in text else text


def loadable_by_ansible(text: str) -> bool:
    """Whether ansible-playbook itself can make extra vars of the file (else it refuses the file before us)."""
    try:
        return isinstance(DataLoader().load(text), dict)
    except AnsibleError:
        return False


@pytest.fixture
def hostile() -> List[Tuple[str, str, Problems]]:
    cases = [(label, as_text(document)) for label, document in hostile_commands()]
    assert len(cases) >= 300
    return [(label, text, verdict(text.encode("utf-8", "surrogatepass"))) for label, text in cases]


def test_every_hostile_command_is_refused_alike_on_every_entry_point_and_changes_nothing(
        emulator: EmulatorEnv, ansible_env: Dict[str, str], tmp_path: Path,
        hostile: List[Tuple[str, str, Problems]]) -> None:
    marker = Path(MARKER)
    marker.unlink(missing_ok=True)
    install_dir = emulator.create("IRIS")
    emulator.start("IRIS")
    (emulator.proc_root("IRIS") / "vm" / "swappiness").write_text("60\n")
    since = emulator.instance("IRIS").since
    remediation = Remediation(emulator, ansible_env, tmp_path)
    before = remediation.hashes()
    consume = [ANSIBLE_PLAYBOOK, str(REPO / "playbooks" / "consume.yml"), "-e", "approve_restart=true",
               "-e", "remediate_proc_root=%s" % emulator.proc_root("IRIS"), "-e", "remediate_sysctl_dir=%s" % remediation.sysctl_dir]

    def run(*args: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(args, env=remediation.env, capture_output=True, text=True, check=False, timeout=900)

    # Drop directory: every case, one file each, one run.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number, (unused_label, text, unused) in enumerate(hostile):
        (inbox / ("case-%04d.json" % number)).write_bytes(text.encode("utf-8", "surrogatepass"))
    dropped = run(*consume, "-e", "source=%s" % inbox, "-e", "commands_state_dir=%s" % (tmp_path / "state-drop"))
    assert dropped.returncode == 0, dropped.stdout[-3000:] + dropped.stderr[-3000:]
    for number, (label, unused_text, expected) in enumerate(hostile):
        reason_file = inbox / "rejected" / ("case-%04d.json.reason.json" % number)
        found = [(error["path"], error["reason"]) for error in json.loads(reason_file.read_text())["errors"]]
        assert found == [(path, short(reason)) for path, reason in expected], label

    # HTTP: one command per poll.
    over_http = [(label, text, expected) for label, text, expected in hostile if not is_batch(text)]
    with HttpSink() as sink:
        sink.serve_documents(*[text.encode("utf-8", "surrogatepass") for unused, text, unused_expected in over_http])
        polled = run(*consume, "-e", "source=%s" % sink.commands_url, "-e", "polls=%d" % len(over_http),
                     "-e", "interval=0", "-e", "commands_state_dir=%s" % (tmp_path / "state-http"))
        assert sink.polls == len(over_http)
    assert polled.returncode == 0, polled.stdout[-3000:] + polled.stderr[-3000:]
    rejections = intake_rejections(tmp_path / "state-http" / "intake.log")
    for poll, (label, unused_text, expected) in enumerate(over_http, 1):
        assert rejections["poll %d" % poll] == [(path, short(reason)) for path, reason in expected], label

    # EDA: the webhook's payload as ansible-rulebook hands it to consume.yml (an extra-vars file).
    payload = [eda_item(text) for unused, text, unused_expected in over_http]
    event_file = tmp_path / "eda.json"
    event_file.write_text(json.dumps({"ansible_eda": {"event": {"payload": payload}}}))
    from_eda = run(*consume, "-e", "@%s" % event_file, "-e", "commands_state_dir=%s" % (tmp_path / "state-eda"))
    assert from_eda.returncode == 0, from_eda.stdout[-3000:] + from_eda.stderr[-3000:]
    rejections = intake_rejections(tmp_path / "state-eda" / "intake.log")
    for index, (label, unused_text, expected) in enumerate(over_http):
        assert rejections["inline[%d]" % index] == [(path, short(reason)) for path, reason in expected], label

    # The remediate playbook's own entry points: every case in-process through the functions the guard and the plan
    # task call. key=value arguments go through Ansible's parse_kv, which decodes escapes: where that changed the
    # text, the verdict may name another reason, but it is still a refusal.
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    for number, (label, text, expected) in enumerate(hostile):
        path = cli_dir / ("case-%04d.json" % number)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        assert cli_verdict("@%s" % path) == expected, label
        argument = "remediation_command=%s" % text
        delivered = parse_kv(argument).get("remediation_command")
        # Where key=value quoting changed the text (unquoted, unescaped), the verdict is the reader's on what arrived.
        assert cli_verdict(argument) == (expected if delivered == text else reader_verdict(delivered)), label

    # ... and a spread sample as real ansible-playbook runs, two at a time.
    sample = hostile[::CLI_SAMPLE_EVERY]

    def remediate(case: Tuple[int, str, str, Problems], form: str) -> Tuple[str, "subprocess.CompletedProcess[str]"]:
        number, label, text, unused = case
        argument = "@%s" % (cli_dir / ("case-%04d.json" % number)) if form == "file" else "remediation_command=%s" % text
        return label, run(ANSIBLE_PLAYBOOK, str(REPO / "playbooks" / "remediate.yml"), "-e", argument,
                          "-e", "approve_restart=true", "-e", "remediate_proc_root=%s" % emulator.proc_root("IRIS"),
                          "-e", "remediate_sysctl_dir=%s" % remediation.sysctl_dir)

    numbered = [(number * CLI_SAMPLE_EVERY, label, text, expected) for number, (label, text, expected) in enumerate(sample)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        by_file = list(pool.map(lambda case: remediate(case, "file"), numbered))
        by_variable = list(pool.map(lambda case: remediate(case, "variable"), numbered))
    for (number, label, text, expected), (unused, file_run), (unused_too, variable_run) in zip(numbered, by_file, by_variable):
        assert file_run.returncode != 0 and variable_run.returncode != 0, label
        if loadable_by_ansible(text):
            output = file_run.stdout + file_run.stderr
            assert all("%s: %s" % (path, redact_text(reason)) in output for path, reason in expected), (label, output[-2000:])
        assert "PLAY RECAP" not in file_run.stdout or "changed=0" in file_run.stdout, label

    assert remediation.hashes() == before, "a hostile command changed a file"
    assert not list(install_dir.glob("iris.cpf.*")) and not list(remediation.sysctl_dir.iterdir())
    assert emulator.instance("IRIS").since == since and not marker.exists()
