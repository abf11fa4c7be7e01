# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner: contract + catalog validation, ordering, the implied restart, conflicts, approval."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.planner import (
    CPF_MODULE, KERNEL_MODULE, MAX_CHANGES_PER_ACTION, RESTART_MODULE, approval_problem, plan_document)

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = sorted((REPO / "examples" / "commands").glob("*.json"))


def command(*actions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"command_id": "cmd-1", "instance": "IRIS", "error_type": "config", "severity": 2,
                                "parameters": list(actions)}
    document.update(fields)
    return document


def cpf(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"action": "cpf", "changes": list(changes)}


def kernel(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"action": "kernel", "changes": list(changes)}


def refused(document: Any, allow_dangerous: bool = False) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        plan_document(document, allow_dangerous)
    return caught.value


LOCKSIZ = {"section": "config", "parameter": "locksiz", "new_value": "67108864"}
GMHEAP = {"section": "config", "parameter": "gmheap", "new_value": "307200"}
HUGEPAGES = {"name": "vm.nr_hugepages", "new_value": "auto"}


def test_change_without_restart_is_one_step() -> None:
    plan = plan_document(command(cpf(LOCKSIZ)))
    assert [step.action for step in plan.steps] == ["cpf"]
    assert plan.steps[0].module == CPF_MODULE
    assert not plan.requires_restart
    shaped = plan.as_dict()
    assert shaped["cpf_settings"] == [{"section": "config", "parameter": "locksiz", "value": "67108864",
                                       "current_value": None}]
    assert shaped["restart"] is None and shaped["kernel_before_cpf"] == shaped["kernel_after_cpf"] == []


def test_restart_needed_by_a_change_is_implied_last_and_once() -> None:
    plan = plan_document(command(cpf(GMHEAP, {"section": "config", "parameter": "jrnbufs", "new_value": "128"}),
                                 kernel(HUGEPAGES)))
    assert [(step.number, step.action) for step in plan.steps] == [(1, "cpf"), (2, "kernel"), (3, "restart")]
    restart = plan.steps[-1]
    assert restart.module == RESTART_MODULE and restart.implied
    assert plan.requires_restart
    assert "[config] gmheap needs a restart" in plan.restart_reasons
    assert plan.as_dict()["restart"] == {"action": "restart", "user_wait_timeout": 60, "stop_timeout": 120,
                                         "start_timeout": 60, "force_users": False}


def test_explicit_restart_keeps_its_options_and_is_not_duplicated() -> None:
    plan = plan_document(command(cpf(GMHEAP), {"action": "restart", "user_wait_timeout": 5, "force_users": True},
                                 requires_restart=True))
    assert [step.action for step in plan.steps] == ["cpf", "restart"]
    assert not plan.steps[-1].implied
    assert plan.as_dict()["restart"]["force_users"] is True


def test_execution_order_is_honoured() -> None:
    plan = plan_document(command(cpf(GMHEAP), kernel(HUGEPAGES), execution_order=["kernel", "cpf"]))
    assert [step.action for step in plan.steps] == ["kernel", "cpf", "restart"]
    shaped = plan.as_dict()
    assert [change["name"] for change in shaped["kernel_before_cpf"]] == ["vm.nr_hugepages"]
    assert shaped["kernel_after_cpf"] == []
    default_order = plan_document(command(cpf(GMHEAP), kernel(HUGEPAGES))).as_dict()
    assert default_order["kernel_before_cpf"] == [] and len(default_order["kernel_after_cpf"]) == 1


def test_command_asking_for_a_restart_gets_one_unless_every_change_is_live() -> None:
    filed = plan_document(command(cpf(LOCKSIZ), requires_restart=True), live_activation=False)
    assert [step.action for step in filed.steps] == ["cpf", "restart"]
    assert filed.restart_reasons == ("the command sets requires_restart",) and filed.as_dict()["cpf_apply"] == "file"
    live = plan_document(command(cpf(LOCKSIZ), requires_restart=True))
    assert [step.action for step in live.steps] == ["cpf"] and not live.requires_restart
    assert "no restart, no approval needed" in live.notes[0] and live.as_dict()["cpf_apply"] == "auto"
    mixed = plan_document(command(cpf(LOCKSIZ, GMHEAP), requires_restart=True))
    assert [step.action for step in mixed.steps] == ["cpf", "restart"]
    assert mixed.restart_reasons == ("the command sets requires_restart", "[config] gmheap needs a restart")


def test_kernel_memory_parameter_implies_restart_other_does_not() -> None:
    assert plan_document(command(kernel(HUGEPAGES), error_type="os")).requires_restart
    swappiness = plan_document(command(kernel({"name": "vm.swappiness", "new_value": 5}), error_type="os"))
    assert [step.module for step in swappiness.steps] == [KERNEL_MODULE]


def test_restart_not_last_is_refused() -> None:
    error = refused(command(cpf(GMHEAP), {"action": "restart"}, requires_restart=True,
                            execution_order=["restart", "cpf"]))
    assert error.errors[0][0] == "$.execution_order"
    assert "nothing was changed" in str(error)


def test_restart_action_contradicting_requires_restart_is_refused() -> None:
    error = refused(command(cpf(LOCKSIZ), {"action": "restart"}))
    assert ("$.requires_restart" in dict(error.errors))


@pytest.mark.parametrize("changes, path, reason", [
    ([LOCKSIZ, dict(LOCKSIZ, parameter="LOCKSIZ", new_value="1048576")], "$.parameters[0].changes[1]", "conflicting"),
    ([{"section": "nosuch", "parameter": "x", "new_value": "1"}], "$.parameters[0].changes[0]", "not a known CPF section"),
    ([{"section": "config", "parameter": "nosuch", "new_value": "1"}], "$.parameters[0].changes[0]", "not in the catalog"),
    ([dict(GMHEAP, new_value="12")], "$.parameters[0].changes[0]", "out of range"),
    ([dict(GMHEAP, new_value="lots")], "$.parameters[0].changes[0]", "not an integer"),
    ([{"section": "config", "parameter": "overview", "new_value": "x"}], "$.parameters[0].changes[0]", "written by IRIS"),
    ([{"section": "config", "parameter": "memlock", "new_value": "64"}], "$.parameters[0].changes[0]", "dangerous"),
    ([{"section": "Databases", "parameter": "USER", "new_value": "/tmp/"}], "$.parameters[0].changes[0]", "not a catalogued"),
    ([{"section": "Actions", "parameter": "CreateDatabase", "new_value": "x"}], "$.parameters[0].changes[0]", "merge actions"),
    ([dict(LOCKSIZ, current_value="1\x00")], "$.parameters[0].changes[0].current_value", "control or line-separator"),
])
def test_cpf_problems_are_named_by_path(changes: list[dict[str, Any]], path: str, reason: str) -> None:
    error = refused(command(cpf(*changes)))
    assert path in dict(error.errors), error.errors
    assert reason in dict(error.errors)[path]


def test_every_problem_is_reported_at_once() -> None:
    error = refused(command(cpf(dict(GMHEAP, new_value="1"), {"section": "x", "parameter": "y", "new_value": "z"}),
                            kernel({"name": "vm.swappiness", "new_value": "auto"}), error_type="os"))
    assert [path for path, _reason in error.errors] == [
        "$.parameters[0].changes[0]", "$.parameters[0].changes[1]", "$.parameters[1].changes[0].new_value"]


def test_dangerous_parameter_allowed_on_request() -> None:
    plan = plan_document(command(cpf({"section": "config", "parameter": "memlock", "new_value": "0"})),
                         allow_dangerous=True)
    assert plan.steps[0].cpf_settings[0].target == "[config] memlock"


def test_section_and_parameter_spelling_become_canonical() -> None:
    setting = plan_document(command(cpf({"section": "CONFIG", "parameter": "GMHEAP", "new_value": "0307200"}))
                            ).steps[0].cpf_settings[0]
    assert (setting.section, setting.parameter, setting.value) == ("config", "gmheap", "307200")


@pytest.mark.parametrize("change, path", [
    ({"name": "vm.swappiness", "new_value": "auto"}, "$.parameters[0].changes[0].new_value"),
    ({"name": "vm.swappiness", "new_value": 2 ** 64}, "$.parameters[0].changes[0].new_value"),
    ({"name": "vm.swappiness", "new_value": 5, "current_value": -(2 ** 70)}, "$.parameters[0].changes[0].current_value"),
])
def test_impossible_kernel_changes_are_refused(change: dict[str, Any], path: str) -> None:
    assert path in dict(refused(command(kernel(change), error_type="os")).errors)


def test_duplicate_kernel_parameter_is_a_conflict() -> None:
    error = refused(command(kernel(HUGEPAGES, {"name": "vm.nr_hugepages", "new_value": 10}), error_type="os"))
    assert "conflicting" in dict(error.errors)["$.parameters[0].changes[1]"]


def test_too_many_changes_are_refused() -> None:
    many = [{"section": "config", "parameter": "locksiz", "new_value": str(65536 + n)}
            for n in range(MAX_CHANGES_PER_ACTION + 1)]
    assert "$.parameters[0].changes" in dict(refused(command(cpf(*many))).errors)


def test_approval() -> None:
    needs_restart = plan_document(command(cpf(GMHEAP)))
    message = approval_problem(needs_restart, approved=False, check_mode=False)
    assert message is not None and "approve_restart=true" in message and "[config] gmheap" in message
    assert approval_problem(needs_restart, approved=True, check_mode=False) is None
    assert approval_problem(needs_restart, approved=False, check_mode=True) is None
    assert approval_problem(plan_document(command(cpf(LOCKSIZ))), approved=False, check_mode=False) is None


def test_trace_id_is_kept() -> None:
    plan = plan_document(command(cpf(LOCKSIZ), trace_id="4bf92f3577b34da6a3ce929d0e0e4736"))
    assert plan.as_dict()["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_shipped_examples_plan(path: Path) -> None:
    plan = plan_document(json.loads(path.read_text()))
    assert plan.steps
    if plan.requires_restart:
        assert plan.steps[-1].action == "restart"


def test_examples_cover_every_error_type() -> None:
    assert {json.loads(path.read_text())["error_type"] for path in EXAMPLES} == {"config", "license", "resource", "os"}


# --------------------------------------------------------------------------- hostile commands
BASE = command(cpf(LOCKSIZ))


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


TRAVERSALS = ["../../etc/passwd", "/etc/shadow", "..", "config/../Startup", "~root", "a/b", "C:\\Windows", "%2e%2e%2f"]
INJECTIONS = ["1\n[Startup]\nPasswordHash=x", "1; rm -rf /", "$(reboot)", "`id`", "1\r\nx=1", "1\x00", "{{ lookup('pipe','id') }}",
              "<script>", "' OR 1=1 --", "1|id", "\x1b[2J"]
OUT_OF_RANGE = {"gmheap": ["1", "-1", "16383", "1073741761", "99999999999999999999", "0x10", "1e9", ""],
                "locksiz": ["1", "65535", "-5", "abc"], "jrnbufs": ["0", "7", "1025", "64.5"],
                "MaxServerConn": ["-1", "255", "100000"], "errlog": ["9", "10001"], "netjob": ["2", "yes", "true"],
                "globals": ["1,2,3", "0,0,-1,0,0,0", "0,0,16777217,0,0,0"], "routines": ["1,2", "-44"]}
OTHER_SECTIONS_OUT_OF_RANGE = [("Startup", "ShutdownTimeout", "119"), ("Startup", "ShutdownTimeout", "100001"),
                               ("Startup", "DefaultPort", "0"), ("Startup", "DefaultPort", "65536"),
                               ("SQL", "LockTimeout", "32768"), ("Journal", "FileSizeLimit", "4080"),
                               ("Startup", "LicenseID", "L" * 65), ("Journal", "CurrentDirectory", "../journal"),
                               ("Journal", "CurrentDirectory", "/iris/../../etc/"), ("Startup", "WebServer", "2")]
BAD_RESTARTS = [{"user_wait_timeout": -1}, {"user_wait_timeout": 3601}, {"stop_timeout": 0}, {"start_timeout": 99999},
                {"force_users": "yes please"}, {"reboot_host": True}]


def hostile_commands() -> Iterator[tuple[str, Any]]:
    for index, text in enumerate(TRAVERSALS + INJECTIONS):
        yield "section-%d" % index, _with(["parameters", 0, "changes", 0, "section"], text)
        yield "parameter-%d" % index, _with(["parameters", 0, "changes", 0, "parameter"], text)
        yield "instance-%d" % index, _with(["instance"], text)
        yield "kernel-name-%d" % index, command(kernel({"name": text, "new_value": 1}), error_type="os")
        yield "command-id-%d" % index, _with(["command_id"], text)
    for index, text in enumerate(INJECTIONS):
        yield "value-%d" % index, _with(["parameters", 0, "changes", 0, "new_value"], text)
        yield "kernel-value-%d" % index, command(kernel({"name": "vm.swappiness", "new_value": text}), error_type="os")
    for parameter, values in OUT_OF_RANGE.items():
        for value in values:
            change = {"section": "config", "parameter": parameter, "new_value": value}
            yield "range-%s-%s" % (parameter, value), command(cpf(change))
    for section, parameter, value in OTHER_SECTIONS_OUT_OF_RANGE:
        yield "range-%s-%s-%s" % (section, parameter, value), command(cpf({"section": section, "parameter": parameter,
                                                                           "new_value": value}))
    for index, options in enumerate(BAD_RESTARTS):
        yield "restart-options-%d" % index, command(cpf(GMHEAP), dict({"action": "restart"}, **options),
                                                    requires_restart=True)
    for index, text in enumerate(INJECTIONS):
        yield "kernel-current-value-%d" % index, command(
            kernel({"name": "vm.swappiness", "new_value": 5, "current_value": text}), error_type="os")
    yield "kernel-min-above-max", command(kernel({"name": "vm.swappiness", "new_value": 5, "min_value": 9,
                                                  "max_value": 1}), error_type="os")
    yield "kernel-below-min", command(kernel({"name": "vm.swappiness", "new_value": 5, "min_value": 6}), error_type="os")
    yield "kernel-above-max", command(kernel({"name": "vm.swappiness", "new_value": 5, "max_value": 4}), error_type="os")
    yield "map-section", command(cpf({"section": "Map.USER", "parameter": "Global_X", "new_value": "USER"}))
    for index, name in enumerate(["nosuch", "LockTableSize", "gmheapx", "Path2", "PasswordHash", "memlock", "wijdir",
                                  "overview", "Version", "Product"]):
        section = "Startup" if name == "PasswordHash" else ("ConfigFile" if name in ("Version", "Product") else "config")
        yield "unknown-or-unsafe-%d" % index, command(cpf({"section": section, "parameter": name, "new_value": "1"}))
    yield "oversized-value", _with(["parameters", 0, "changes", 0, "new_value"], "9" * 5000)
    yield "oversized-reason", _with(["reason"], "x" * 2001)
    yield "too-many-changes", command(cpf(*[{"section": "config", "parameter": "locksiz", "new_value": str(70000 + n)}
                                            for n in range(200)]))
    yield "unknown-field", _with(["shell"], "id")
    yield "unknown-action", _with(["parameters", 0, "action"], "shell")
    yield "no-parameters", _with(["parameters"], [])
    yield "severity-9", _with(["severity"], 9)
    yield "bad-error-type", _with(["error_type"], "rm")
    yield "bad-trace-id", _with(["trace_id"], "0" * 32)
    yield "order-mismatch", _with(["execution_order"], ["kernel"])
    yield "duplicate-action", command(cpf(LOCKSIZ), cpf(GMHEAP))
    for index, raw in enumerate([None, [], "text", 42, {"command_id": "x"}]):
        yield "not-a-command-%d" % index, raw


HOSTILE = list(hostile_commands())


def test_hostile_corpus_is_large() -> None:
    assert len(HOSTILE) >= 200


@pytest.mark.parametrize("document", [document for _name, document in HOSTILE], ids=[name for name, _d in HOSTILE])
def test_hostile_command_is_refused_with_a_reason(document: Any) -> None:
    error = refused(document)
    assert error.errors and all(reason for _path, reason in error.errors)


def test_plan_says_why_the_restart_is_there() -> None:
    """The role restarts for an implied reason only when such a change happened (re-runs do not bounce the instance)."""
    implied = plan_document(command(cpf(GMHEAP), kernel(HUGEPAGES, {"name": "vm.swappiness", "new_value": 5}))).as_dict()
    assert (implied["restart_implied"], implied["restart_on_any_change"]) == (True, False)
    assert [(change["name"], change["requires_restart"]) for change in implied["kernel_after_cpf"]] == [
        ("vm.nr_hugepages", True), ("vm.swappiness", False)]
    asked = plan_document(command(cpf(LOCKSIZ), requires_restart=True), live_activation=False).as_dict()
    assert (asked["restart_implied"], asked["restart_on_any_change"]) == (True, True)
    explicit = plan_document(command(cpf(LOCKSIZ), {"action": "restart"}, requires_restart=True)).as_dict()
    assert (explicit["restart_implied"], explicit["restart_on_any_change"]) == (False, False)
    none = plan_document(command(kernel({"name": "vm.swappiness", "new_value": 5}))).as_dict()
    assert (none["restart"], none["restart_implied"], none["restart_on_any_change"]) == (None, False, False)
