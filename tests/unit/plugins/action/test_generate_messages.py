# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generate_messages action plugin, loaded and run in-process (real files, real servers, no process).

Writing ``dest`` and appending to an instance's log run modules on the target through the connection (processes):
tests/integration/test_generate_messages_action.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage
from tests.support.in_process import run_action_on_this_host
from tests.support.openai_server import OpenAIServer, reply

KEY = "sk-planted-action-key-90be11f2c7"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def run_action(tmp_path: Path, check_mode: bool = False, diff: bool = False, **args: Any) -> Dict[str, Any]:
    return run_action_on_this_host("irisops.iris.generate_messages", tmp_path, check_mode, diff, **args)


def test_messages_are_returned_as_iris_messages(tmp_path: Path) -> None:
    result = run_action(tmp_path, category=["journal", "mirror"], count=12, severity="0-1", seed=3,
                        start_time="2025-03-01T08:00:00", timezone="UTC", trace_id=TRACE_ID)
    assert not result.get("failed"), result
    assert result["changed"] is False and result["count"] == result["messages_returned"] == 12
    messages = [IRISMessage.model_validate(message) for message in result["messages"]]
    assert {message.severity for message in messages} <= {0, 1}
    assert messages[0].timestamp.isoformat().startswith("2025-03-01T08:00")
    assert {message.trace_id for message in messages} == {TRACE_ID} == {result["trace_id"]}
    assert result["metrics"]["messages"] == 12 and result["tool_result"]["changes"] == []


def test_llm_engine_in_process_keeps_the_key_out_of_the_result(tmp_path: Path) -> None:
    answer = "01/17/99-23:59:01:001 (7) 2 [Generic.Event] LOCK TABLE FULL!!!\n" * 2
    with OpenAIServer(default=reply(answer)) as server:
        result = run_action(tmp_path, category="lock", count=2, engine="llm", base_url=server.url, api_key=KEY,
                            severity="2", llm_max_attempts=1)
        assert server.headers[0]["Authorization"] == "Bearer " + KEY
    assert not result.get("failed"), result
    assert [message["text"] for message in result["messages"]] == ["LOCK TABLE FULL!!!"] * 2
    assert result["metrics"]["llm"]["calls"] == 1 and result["metrics"]["llm"]["validity_rate"] == 1.0
    assert KEY not in json.dumps(result)


def test_llm_failure_is_a_failed_result_without_the_key(tmp_path: Path) -> None:
    with OpenAIServer(default=reply("no log lines today, %s" % KEY)) as server:
        result = run_action(tmp_path, category="lock", count=1, engine="llm", base_url=server.url, api_key=KEY,
                            fallback="fail", llm_max_attempts=1)
    assert result["failed"] is True and "LLM generation failed" in result["msg"]
    assert result["tool_result"]["status"] == "failure"
    assert KEY not in json.dumps(result)


def test_invalid_options_fail_with_field_errors_and_write_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "never.log"
    result = run_action(tmp_path, category=["lock", "disk"], count=3, dest=str(dest))
    assert result["failed"] is True and result["changed"] is False
    assert result["errors"] == [{"path": "$.categories[1]", "reason": "'disk' is not one of ['config', 'license', "
                                 "'memory', 'lock', 'journal', 'startup', 'mirror', 'network']"}]
    assert not dest.exists()


@pytest.mark.parametrize("args,message", [
    (dict(category="lock", timezone="Mars/Olympus"), "timezone: 'Mars/Olympus' is not a known IANA zone name"),
    (dict(category="lock", start_time="soon"), "start_time: 'soon' is neither an ISO 8601 date/time"),
    (dict(category="lock", dest="/tmp/x", append_to_instance_log=True, instance="IRIS", output="log"),
     "dest: mutually exclusive with append_to_instance_log"),
    (dict(category="lock", return_limit=-1), "return_limit: must be >= 0"),
    (dict(category="lock", count=20, return_limit=10), "count: 20 messages are more than return_limit=10"),
    (dict(category="lock", append_to_instance_log=True, output="log"), "append_to_instance_log: needs instance"),
    (dict(category="lock", append_to_instance_log=True, instance="IRIS"), "output: must be 'log' when appending"),
])
def test_conflicting_options_raise_naming_the_option(tmp_path: Path, args: Dict[str, Any], message: str) -> None:
    with pytest.raises(AnsibleActionFail, match=message):
        run_action(tmp_path, **args)
