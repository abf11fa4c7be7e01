# SPDX-License-Identifier: GPL-3.0-or-later
"""workflow_trace callback: one summary line per remediation_trace task, printed at the end."""

from __future__ import annotations

from typing import Any

from ansible_collections.irisops.iris.plugins.callback.workflow_trace import CallbackModule


class FinishedTask(object):
    """What ansible-core hands a callback for a finished task: the task and the result dict."""

    def __init__(self, action: str, result: dict[str, Any]) -> None:
        self._task = type("Task", (), {"action": action})()
        self._result = result


def test_summaries_of_trace_tasks_only_are_printed_at_the_end(capsys: Any) -> None:
    callback = CallbackModule()
    callback.v2_runner_on_ok(FinishedTask("irisops.iris.remediation_trace", {"summary": "IRIS c-1: SUCCESS"}))
    callback.v2_runner_on_ok(FinishedTask("ansible.builtin.debug", {"summary": "not a trace"}))
    callback.v2_runner_on_ok(FinishedTask("irisops.iris.remediation_trace", {"failed": True}))
    assert capsys.readouterr().out == ""
    callback.v2_playbook_on_stats(None)
    output = capsys.readouterr().out
    assert "WORKFLOW TRACE" in output and "IRIS c-1: SUCCESS" in output and "not a trace" not in output


def test_nothing_printed_without_a_trace(capsys: Any) -> None:
    CallbackModule().v2_playbook_on_stats(None)
    assert capsys.readouterr().out == ""
