# SPDX-License-Identifier: GPL-3.0-or-later
"""publish_messages with eda_event: the event's message is read untemplated and published as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from tests.support.http_sink import HttpSink
from tests.support.in_process import run_action as action_result

MESSAGE = {"timestamp": "2026-01-31T08:00:00.001+00:00", "pid": 12, "severity": 2, "category": "Utility.Event",
           "text": "LOCK TABLE FULL {{ lookup('pipe', 'id') }}", "instance": "IRIS", "host": "db1"}


def run_action(task_vars: Dict[str, Any], **args: Any) -> Dict[str, Any]:
    return action_result("irisops.iris.publish_messages", args, task_vars)


def test_event_message_is_published_verbatim(tmp_path: Path) -> None:
    with HttpSink() as sink:
        result = run_action({"ansible_eda": {"event": {"message": MESSAGE}}}, endpoint=sink.url, eda_event=True,
                            spool_dir=str(tmp_path))
        received = sink.messages()
    assert not result.get("failed"), result
    assert [message["text"] for message in received] == [MESSAGE["text"]]


def test_event_without_message_names_the_option(tmp_path: Path) -> None:
    result = run_action({"ansible_eda": {"event": {"payload": {}}}}, endpoint="http://127.0.0.1:9/x", eda_event=True,
                        spool_dir=str(tmp_path))
    assert result["failed"] and result["errors"][0]["path"] == "eda_event"
