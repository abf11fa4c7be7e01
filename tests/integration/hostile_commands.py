# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile RemediationCommands: each is a valid base command with one thing made malicious or wrong.

Categories: path traversal, shell/template/line injection, out-of-range values, unknown parameters
and fields, oversized input, conflicting or impossible steps, and malformed documents. Every one of
them must be refused by the planner before anything runs.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict, Iterator, List, Tuple

Command = Dict[str, Any]
Mutation = Callable[[Command], Any]

TRAVERSALS = ["../../etc/passwd", "..", "/etc/shadow", "IRIS/../../root", "..%2f..%2fetc", "IRIS\\..\\x", "./IRIS",
              "~root", "IRIS\x00.cpf", "mgr/../../iris.cpf"]
INJECTIONS = ["IRIS; rm -rf /", "$(touch /tmp/irisops-pwned)", "`id`", "IRIS && reboot", "IRIS | nc 127.0.0.1 1",
              "{{ lookup('pipe', 'touch /tmp/irisops-pwned') }}", "{% raw %}x{% endraw %}", "IRIS\nrestart",
              "IRIS\r\n[Startup]", "'; DROP TABLE x; --"]
LINE_INJECTIONS = ["5000\n[Startup]\nDefaultPort=1", "5000\r\nSystemMode=EVIL", "5000\x00", "5000\x1b[2J", "5000\x7f"]


def base_commands() -> List[Command]:
    """Valid commands for instance IRIS: one per kind of step, so each mutation has something to break."""
    return [
        {"command_id": "hostile-cpf", "instance": "IRIS", "error_type": "config", "severity": 2,
         "parameters": [{"action": "cpf", "changes": [{"section": "SQL", "parameter": "LockThreshold", "new_value": "5000"}]}]},
        {"command_id": "hostile-kernel", "instance": "IRIS", "error_type": "os", "severity": 1,
         "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}]},
        {"command_id": "hostile-restart", "instance": "IRIS", "error_type": "resource", "severity": 2, "requires_restart": True,
         "parameters": [{"action": "cpf", "changes": [{"section": "config", "parameter": "gmheap", "new_value": "307200"}]},
                        {"action": "restart"}],
         "execution_order": ["cpf", "restart"]},
    ]


def _set(path: Tuple[Any, ...], value: Any) -> Mutation:
    def mutate(command: Command) -> Command:
        target: Any = command
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return command
    return mutate


def _first_change(command: Command) -> Dict[str, Any]:
    return command["parameters"][0]["changes"][0]  # type: ignore[no-any-return]


def _with_change(**fields: Any) -> Mutation:
    def mutate(command: Command) -> Command:
        _first_change(command).update(fields)
        return command
    return mutate


def _add_parameter(parameter: Dict[str, Any]) -> Mutation:
    def mutate(command: Command) -> Command:
        command["parameters"].append(parameter)
        return command
    return mutate


def _duplicate_change(command: Command) -> Command:
    changes = command["parameters"][0]["changes"]
    changes.append(dict(changes[0]))
    return command


def _many_changes(command: Command) -> Command:
    command["parameters"] = [{"action": "cpf", "changes": [
        {"section": "SQL", "parameter": "LockThreshold", "new_value": str(1000 + index)} for index in range(65)]}]
    return command


def _restart_first(command: Command) -> Command:
    command.update(requires_restart=True, execution_order=["restart", command["parameters"][0]["action"]])
    command["parameters"].append({"action": "restart"})
    return command


def _undeclared_restart(command: Command) -> Command:
    command.update(requires_restart=False, execution_order=[])
    if not any(action["action"] == "restart" for action in command["parameters"]):
        command["parameters"].append({"action": "restart"})
    return command


def _as_text(mangle: Callable[[str], str]) -> Mutation:
    return lambda command: mangle(json.dumps(command))


def _cpf_mutations() -> Iterator[Tuple[str, Mutation]]:
    for value in TRAVERSALS:
        yield "cpf section traversal %r" % value, _with_change(section=value)
        yield "cpf parameter traversal %r" % value, _with_change(parameter=value)
    for value in INJECTIONS:
        yield "cpf value injection %r" % value, _with_change(new_value=value)
        yield "cpf section injection %r" % value, _with_change(section=value)
    for value in LINE_INJECTIONS:
        yield "cpf line injection %r" % value, _with_change(new_value=value)
    for section, parameter, value in [("SQL", "LockThreshold", "-1"), ("SQL", "LockThreshold", "1e99"),
                                      ("config", "gmheap", "1"), ("config", "gmheap", "99999999999999"),
                                      ("config", "locksiz", "-5"), ("config", "globals", "x,y"),
                                      ("Journal", "CurrentDirectory", "../../tmp"), ("Journal", "CurrentDirectory", "relative/dir"),
                                      ("Startup", "DefaultPort", "70000"), ("Startup", "DefaultPort", "0x1F")]:
        mutation = _with_change(section=section, parameter=parameter, new_value=value)
        yield "cpf out of range [%s] %s=%s" % (section, parameter, value), mutation
    for section, parameter in [("Evil", "x"), ("config", "no_such_parameter"), ("Actions", "CreateDatabase"),
                               ("Databases", "USER"), ("Map.USER", "Global_x"), ("SQL", "LockThreshold2")]:
        yield "cpf unknown [%s] %s" % (section, parameter), _with_change(section=section, parameter=parameter)
    for section, parameter, value in [("config", "wijdir", "/tmp/wij/"), ("Startup", "PasswordHash", "x"),
                                      ("Journal", "FreezeOnError", "1")]:
        yield "cpf dangerous [%s] %s" % (section, parameter), _with_change(section=section, parameter=parameter, new_value=value)
    yield "cpf oversized value", _with_change(new_value="9" * 5000)
    yield "cpf too many changes", _many_changes
    yield "cpf same parameter twice", _duplicate_change
    yield "cpf unknown change field", _with_change(command="rm -rf /")


def _kernel_mutations() -> Iterator[Tuple[str, Mutation]]:
    for value in TRAVERSALS + ["vm.swappiness/../../x", "vm..swappiness", "/proc/sys/vm/swappiness", "VM.SWAPPINESS"]:
        yield "kernel name traversal %r" % value, _with_change(name=value)
    for value in INJECTIONS:
        yield "kernel name injection %r" % value, _with_change(name=value)
        yield "kernel value injection %r" % value, _with_change(new_value=value)
    for fields in [{"new_value": 2 ** 64}, {"new_value": -(2 ** 64)}, {"new_value": 5, "min_value": 10},
                   {"new_value": 50, "max_value": 10}, {"new_value": 5, "min_value": 9, "max_value": 1},
                   {"new_value": 5.5}, {"new_value": "5"}, {"new_value": True}, {"new_value": None},
                   {"new_value": "auto"}, {"new_value": 5, "current_value": 2 ** 70}, {"new_value": [5]}]:
        yield "kernel out of range %s" % json.dumps(fields), _with_change(**fields)
    yield "kernel unknown field", _with_change(persist_to="/etc/passwd")
    yield "kernel same parameter twice", _duplicate_change


def _command_mutations() -> Iterator[Tuple[str, Mutation]]:
    for value in TRAVERSALS + INJECTIONS + ["", "I" * 65, "9IRIS"]:
        yield "instance %r" % value, _set(("instance",), value)
    for value in ["../x", "x" * 200, "a b", "$(id)", ""]:
        yield "command_id %r" % value, _set(("command_id",), value)
    for value in ["0" * 32, "XYZ", "4bf92f3577b34da6a3ce929d0e0e473", 42]:
        yield "trace_id %r" % (value,), _set(("trace_id",), value)
    for value in [-1, 4, 99, "high", None, 2.5]:
        yield "severity %r" % (value,), _set(("severity",), value)
    for value in ["shell", "", None, "CONFIG"]:
        yield "error_type %r" % (value,), _set(("error_type",), value)
    yield "unknown top-level field", _set(("exec",), "rm -rf /")
    yield "unknown action", _add_parameter({"action": "shell", "cmd": "rm -rf /"})
    yield "action twice", lambda command: dict(command, parameters=command["parameters"] * 2)
    yield "no parameters", _set(("parameters",), [])
    yield "execution_order names a missing action", _set(("execution_order",), ["cpf", "kernel", "restart"])
    yield "execution_order unknown action", _set(("execution_order",), ["shell"])
    yield "restart before the change", _restart_first
    yield "restart action without requires_restart", _undeclared_restart
    yield "restart user_wait_timeout out of range", _add_parameter({"action": "restart", "user_wait_timeout": 99999})
    yield "restart stop_timeout 0", _add_parameter({"action": "restart", "stop_timeout": 0})
    yield "restart unknown option", _add_parameter({"action": "restart", "signal": "KILL"})
    yield "oversized reason", _set(("reason",), "x" * 70000)
    yield "reason over 2000 characters", _set(("reason",), "y" * 2001)
    yield "malformed JSON text", _as_text(lambda text: text[:-1])
    yield "JSON text with trailing garbage", _as_text(lambda text: text + " {}")
    yield "JSON array", lambda command: [command]
    yield "JSON string", lambda command: json.dumps(json.dumps(command))
    yield "empty text", lambda command: ""
    yield "oversized JSON text", _as_text(lambda text: text[:-1] + ', "pad": "%s"}' % ("z" * 70000))


def hostile_commands() -> List[Tuple[str, Any]]:
    """(label, command) pairs; the command is a dict, a list or JSON text."""
    hostile: List[Tuple[str, Any]] = []
    for base in base_commands():
        action = base["parameters"][0]["action"]
        mutations = list(_command_mutations()) + list(_cpf_mutations() if action == "cpf" else _kernel_mutations())
        for label, mutate in mutations:
            hostile.append(("%s: %s" % (base["command_id"], label), mutate(copy.deepcopy(base))))
    return hostile
