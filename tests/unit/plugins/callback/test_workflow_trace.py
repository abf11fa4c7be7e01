# SPDX-License-Identifier: GPL-3.0-or-later
"""workflow_trace: aggregation of ToolResults into WorkflowTraces, trace files and the summary."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ansible import constants as C
from ansible.inventory.host import Host
from ansible.parsing.plugin_docs import read_docstring
from ansible.playbook.task import Task

from ansible_collections.irisops.iris.plugins.callback import workflow_trace
from ansible_collections.irisops.iris.plugins.callback.workflow_trace import (
    CallbackModule, TraceCollector, summary_line, trace_file_name, write_trace)
from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolStatus, WorkflowTrace

PLUGIN_NAME = "irisops.iris.workflow_trace"
REPO = Path(__file__).resolve().parents[4]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def tool_result(tool: str, status: str = "success", dry_run: bool = False, **extra: Any) -> dict[str, Any]:
    return dict({"tool": tool, "status": status, "changes": [], "error_message": None, "requires_user_action": False,
                 "dry_run": dry_run, "duration_ms": 5, "trace_id": TRACE_ID}, **extra)


def plan_result(status: str = "success", check_mode: bool = False) -> dict[str, Any]:
    return {"tool_result": tool_result("remediation_plan", status, dry_run=check_mode), "check_mode": check_mode,
            "plan": {"command_id": "cmd-1", "instance": "IRIS1"}}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_steps_in_order_with_loop_items_and_timings() -> None:
    collector = TraceCollector()
    collector.task_started("h1", at(0))
    collector.task_finished("h1", plan_result(), at(0.1))
    collector.task_finished("h1", {"results": [{"tool_result": tool_result("kernel_param")},
                                               {"tool_result": tool_result("kernel_param", "failure")},
                                               {"skipped": True}]}, at(1))
    collector.task_finished("h1", {"tool_result": tool_result("cpf")}, at(2))
    collector.task_finished("h1", {"changed": True}, at(3))  # a task without a ToolResult is no step
    [trace] = collector.traces()
    assert [step.tool for step in trace.steps_executed] == ["kernel_param", "kernel_param", "cpf"]
    assert trace.overall_status == ToolStatus.PARTIAL
    assert (trace.trace_id, trace.command_id, trace.instance) == (TRACE_ID, "cmd-1", "IRIS1")
    assert trace.started_at == at(0) and trace.finished_at == at(2) and trace.duration_ms == 2000


def test_overall_status_success_and_failure() -> None:
    collector = TraceCollector()
    collector.task_finished("ok", plan_result(), at(0))
    collector.task_finished("ok", {"tool_result": tool_result("cpf")}, at(1))
    collector.task_finished("bad", plan_result(), at(0))
    collector.task_finished("bad", {"tool_result": tool_result("cpf", "failure")}, at(1))
    statuses = {run.host: run.trace().overall_status for run in collector.runs.values()}
    assert statuses == {"ok": ToolStatus.SUCCESS, "bad": ToolStatus.FAILURE}


def test_refused_plan_is_the_only_step_and_fails() -> None:
    collector = TraceCollector()
    refusal = plan_result("failure")
    refusal["tool_result"]["error_message"] = "refused"
    collector.task_finished("h", refusal, at(0))
    [trace] = collector.traces()
    assert [step.tool for step in trace.steps_executed] == ["remediation_plan"]
    assert trace.overall_status == ToolStatus.FAILURE


def test_check_mode_is_recorded() -> None:
    collector = TraceCollector()
    collector.task_finished("h", plan_result(check_mode=True), at(0))
    collector.task_finished("h", {"tool_result": tool_result("cpf", dry_run=True)}, at(1))
    assert collector.traces()[0].check_mode is True


def test_invalid_tool_result_is_ignored_with_a_warning() -> None:
    collector = TraceCollector()
    collector.task_finished("h", {"tool_result": {"tool": "x", "status": "maybe"}}, at(0))
    assert collector.traces() == []
    assert "not a ToolResult" in collector.warnings[0]


def test_trace_file_round_trips_and_is_redacted(tmp_path: Path) -> None:
    collector = TraceCollector()
    collector.task_finished("h", plan_result(), at(0))
    secret = tool_result("cpf", changes=[{"target": "[Startup] x", "old_value": "password=hunter2", "new_value": "b"}])
    collector.task_finished("h", {"tool_result": secret}, at(1))
    [trace] = collector.traces()
    path = write_trace(str(tmp_path / "traces"), trace)
    assert Path(path).name == trace_file_name(trace) == "%s.IRIS1.json" % TRACE_ID
    text = Path(path).read_text()
    assert "hunter2" not in text
    WorkflowTrace.model_validate(json.loads(text))
    assert trace_file_name(trace.model_copy(update={"check_mode": True})) == "%s.IRIS1.preview.json" % TRACE_ID
    line = summary_line(trace, path)
    assert line.startswith("IRIS1 cmd-1: SUCCESS in 1.0s [cpf success]") and path in line


class FinishedTask(object):
    """What ansible-core hands a callback for a finished task: the host and the result dict (``_host``/``_result``
    on every supported core version; 2.19+ builds them from internal objects a test cannot construct)."""

    def __init__(self, host: Host, result: dict[str, Any]) -> None:
        self._host = host
        self._result = result


def load_callback() -> CallbackModule:
    """Register the plugin's documented options and name the instance, as the plugin loader does when loading it."""
    doc = read_docstring(workflow_trace.__file__)["doc"]
    C.config.initialize_plugin_configuration_definitions("callback", PLUGIN_NAME, doc["options"])
    callback = CallbackModule()
    callback._load_name = PLUGIN_NAME
    return callback


def test_callback_methods_collect_write_and_summarise(tmp_path: Path, capsys: Any) -> None:
    callback = load_callback()
    callback.set_options(direct={"output_dir": str(tmp_path)})
    host = Host("IRIS1")
    callback.v2_runner_on_start(host, Task())
    callback.v2_runner_on_ok(FinishedTask(host, plan_result()))
    callback.v2_runner_on_ok(FinishedTask(host, {"tool_result": {"tool": "cpf", "status": "unknown"}}))
    callback.v2_runner_on_failed(FinishedTask(host, {"failed": True, "tool_result": tool_result("cpf", "failure")}))
    callback.v2_playbook_on_stats(None)
    [written] = list(tmp_path.iterdir())
    trace = WorkflowTrace.model_validate(json.loads(written.read_text()))
    assert trace.overall_status == ToolStatus.FAILURE and trace.command_id == "cmd-1"
    output = capsys.readouterr()
    assert "IRIS1 cmd-1: FAILURE" in output.out and "not a ToolResult" in output.out + output.err


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan
      irisops.iris.remediation_plan:
        command:
          command_id: cmd-1
          trace_id: "%(trace_id)s"
          instance: IRIS1
          error_type: config
          severity: 1
          parameters: [{action: cpf, changes: [{section: config, parameter: locksiz, new_value: "16777216"}]}]
      register: planned
    - name: A CPF edit whose guard does not hold fails and is a step of the trace
      irisops.iris.cpf:
        path: "%(cpf)s"
        section: config
        parameter: locksiz
        value: "16777216"
        current_value: "1"
        trace_id: "{{ planned.plan.trace_id }}"
"""


def test_callback_plugin_in_a_playbook_writes_the_trace_and_prints_summary(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    cpf = tmp_path / "iris.cpf"
    cpf.write_bytes(b"[config]\nlocksiz=1048576\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK % {"trace_id": TRACE_ID, "cpf": cpf})
    env = dict(ansible_env, ANSIBLE_CALLBACKS_ENABLED=PLUGIN_NAME, IRISOPS_TRACE_DIR=str(tmp_path / "traces"))
    run = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), str(playbook)], env=env,
                         capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr
    [written] = list((tmp_path / "traces").iterdir())
    assert written.name == "%s.IRIS1.json" % TRACE_ID
    trace = WorkflowTrace.model_validate(json.loads(written.read_text()))
    assert [step.tool for step in trace.steps_executed] == ["cpf"]
    assert trace.overall_status == ToolStatus.FAILURE and trace.command_id == "cmd-1"
    assert "IRIS1 cmd-1: FAILURE" in run.stdout and str(written) in run.stdout
