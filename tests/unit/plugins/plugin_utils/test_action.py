# SPDX-License-Identifier: GPL-3.0-or-later
"""The action-plugin base: requirements guard, argument checking by ansible-core, the one failure shape.

Each test runs a small action built on the base through ansible-core's own ActionBase (a real Task, the local
connection, ansible-core's argument spec validator), as the task executor would.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins import loader as plugin_loader
from ansible.template import Templar

from ansible_collections.irisops.iris.plugins.plugin_utils.action import (
    ControllerRequirements, IrisOpsActionBase, OptionError, OptionRule)
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolResult

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class Example(IrisOpsActionBase):
    """Writes nothing: returns its arguments, or fails the way ``fail`` says."""

    TOOL = "example"
    _load_name = "irisops.iris.example"  # set by the plugin loader, which this test does without
    ARGUMENT_SPEC: Dict[str, Any] = dict(
        count=dict(type="int", default=1),
        dest=dict(type="path"),
        append=dict(type="bool", default=False),
        instance=dict(type="str"),
        trace_id=dict(type="str"),
        fail=dict(type="str", choices=["validation", "action", "option"]),
    )
    OPTION_RULES = (
        OptionRule("dest", "mutually exclusive with append (which writes the instance's log)",
                   dict(mutually_exclusive=[["dest", "append"]])),
        OptionRule("append", "needs instance", dict(required_if=[["append", True, ["instance"]]])),
    )

    def perform(self, args: Dict[str, Any], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        self.use_trace_id(args["trace_id"])
        if args["fail"] == "validation":
            raise ValidationError("instance: password=hunter2 is not a name", [("instance", "password=hunter2 given")])
        if args["fail"] == "action":
            raise AnsibleActionFail("the target said no")
        if args["fail"] == "option":
            raise OptionError("count", "must be even, got %d" % args["count"])
        return dict(changed=False, arguments=args, tool_result=self.tool_result.build(dry_run=self.check_mode))


def run(action: Type[IrisOpsActionBase], check_mode: bool = False, **args: Any) -> Dict[str, Any]:
    loader = DataLoader()
    task = Task.load({"ansible.builtin.debug": args}, loader=loader)  # any known action name: args are not its
    task.check_mode = check_mode
    play_context = PlayContext()
    plugin = action(task=task, connection=plugin_loader.connection_loader.get("local", play_context),
                    play_context=play_context, loader=loader, templar=Templar(loader=loader),
                    shared_loader_obj=plugin_loader.get_plugin_loader_namespace())
    return plugin.run(task_vars={})  # type: ignore[no-any-return]


def failed_with(action: Type[IrisOpsActionBase], **args: Any) -> AnsibleActionFail:
    with pytest.raises(AnsibleActionFail) as raised:
        run(action, **args)
    return raised.value


def assert_failure_shape(result: Dict[str, Any], dry_run: bool = False) -> ToolResult:
    assert result["failed"] is True and result["changed"] is False and isinstance(result["errors"], list)
    tool_result = ToolResult.model_validate(result["tool_result"])
    assert tool_result.tool == "example" and tool_result.status == "failure" and tool_result.dry_run is dry_run
    assert tool_result.error_message == result["msg"]
    return tool_result


def test_valid_arguments_are_converted_and_defaulted_by_ansible_core() -> None:
    result = run(Example, count="3", trace_id=TRACE_ID)
    assert result["arguments"] == dict(count=3, dest=None, append=False, instance=None, trace_id=TRACE_ID, fail=None)
    assert result["tool_result"]["trace_id"] == TRACE_ID and "failed" not in result


def test_a_missing_controller_library_fails_naming_it_and_how_to_install_it() -> None:
    requirements = ControllerRequirements("irisops_no_such_library and pydantic")
    with requirements.imported():
        import irisops_no_such_library  # type: ignore[import-not-found]  # noqa: F401
    assert isinstance(requirements.error, ImportError)

    class Unready(Example):
        REQUIREMENTS = requirements

    error = failed_with(Unready)
    assert "Failed to import the required Python library (irisops_no_such_library)" in str(error)
    assert "irisops_no_such_library and pydantic" in str(error)
    assert "pip install -r requirements/runtime.txt" in str(error)
    assert_failure_shape(error.result)


def test_imports_that_succeed_record_no_error() -> None:
    requirements = ControllerRequirements("json")
    with requirements.imported():
        import json  # noqa: F401
    assert requirements.error is None


@pytest.mark.parametrize("args, words", [
    (dict(count="many"), ["count", "int"]),
    (dict(fail="sometimes"), ["fail", "validation, action, option"]),
    (dict(colour="red"), ["colour"]),
])
def test_argument_spec_errors_are_ansible_cores_naming_the_option(args: Dict[str, Any], words: list[str]) -> None:
    error = failed_with(Example, **args)
    assert all(word in str(error) for word in words), str(error)
    assert_failure_shape(error.result)


@pytest.mark.parametrize("args, message", [
    (dict(dest="/tmp/x", append=True, instance="IRIS"), "dest: mutually exclusive with append (which writes"),
    (dict(append=True), "append: needs instance"),
])
def test_a_broken_option_rule_names_the_option_and_the_reason(args: Dict[str, Any], message: str) -> None:
    error = failed_with(Example, **args)
    assert str(error) == message or str(error).startswith(message)
    assert isinstance(error, OptionError)
    option, reason = message.split(": ", 1)
    assert error.result["errors"][0]["path"] == option and error.result["errors"][0]["reason"].startswith(reason)
    assert_failure_shape(error.result)


def test_rules_hold_when_respected() -> None:
    assert not run(Example, dest="/tmp/x").get("failed")
    assert not run(Example, append=True, instance="IRIS").get("failed")


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_irisops_error_is_a_failed_result_with_its_fields_redacted(check_mode: bool) -> None:
    result = run(Example, check_mode=check_mode, fail="validation", trace_id=TRACE_ID)
    tool_result = assert_failure_shape(result, dry_run=check_mode)
    assert result["msg"].startswith("instance: password=") and "hunter2" not in str(result)
    assert result["errors"] == [{"path": "instance", "reason": "password=******** given"}]
    assert tool_result.trace_id == TRACE_ID


def test_a_raised_action_failure_keeps_its_message_and_gains_the_failure_shape() -> None:
    error = failed_with(Example, fail="action", trace_id=TRACE_ID)
    assert str(error) == "the target said no" and error.result["errors"] == []
    assert assert_failure_shape(error.result).trace_id == TRACE_ID


def test_an_option_error_from_the_work_names_the_option() -> None:
    error = failed_with(Example, fail="option", count=3)
    assert str(error) == "count: must be even, got 3"
    assert error.result["errors"] == [{"path": "count", "reason": "must be even, got 3"}]
    assert_failure_shape(error.result)


@pytest.mark.parametrize("given, kept", [(TRACE_ID, True), ("xyz", False), (None, False)])
def test_only_a_well_formed_trace_id_is_taken(given: Optional[str], kept: bool) -> None:
    trace_id = run(Example, trace_id=given)["tool_result"]["trace_id"]
    assert (trace_id == TRACE_ID) is kept and ToolResult.model_validate(run(Example)["tool_result"])
