# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile RemediationCommands: each is a valid base command with one thing made malicious or wrong.

Categories: path traversal, shell/template/line injection, out-of-range values, unknown parameters
and fields, oversized input, conflicting or impossible steps, malformed documents, and (crossing the trust
boundary) operator, role and ansible_* variables smuggled in as fields, Jinja in every string and every key,
duplicate keys, unicode lookalikes, control and line-separator characters, numeric edge cases, nesting and size.
Every one of them must be refused, on every entry point, before anything runs.
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
MARKER = "/tmp/irisops-pwned"
JINJA = "{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % MARKER
# What an operator decides, and what Ansible itself reads: a command carrying any of them is refused.
OPERATOR_FIELDS = ["approve_restart", "target", "dry_run", "source", "commands_state_dir", "remediation_command",
                   "iris_instances", "remediate_allow_dangerous", "remediate_allow_kernel_parameters", "remediate_become",
                   "remediate_instance", "remediate_iris_bin", "remediate_proc_root", "remediate_sysctl_dir",
                   "remediate_sysctl_file", "remediate_restart_address", "remediate_restart_health_checks",
                   "remediate_restart_stable_seconds", "remediate_trace_dir", "ansible_connection", "ansible_host",
                   "ansible_user", "ansible_python_interpreter", "ansible_become", "ansible_become_user",
                   "ansible_shell_executable", "ansible_remote_tmp", "ansible_check_mode", "exec", "hosts"]
# Characters no command needs: C0, DEL, C1 (NEL), zero width, bidi override, line/paragraph separators, BOM inside.
CONTROL_CHARACTERS = ["\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u200b", "\u202e", "\ufeff"]
LOOKALIKES = {"instance": "\u0399RIS", "command_id": "fix\u2010locksiz", "approve_rest\u0430rt": True,
              "\uff49nstance": "IRIS", "parameters\u200b": []}


def base_commands() -> List[Command]:
    """Valid commands for instance IRIS: one per kind of step, so each mutation has something to break."""
    return [
        {"command_id": "hostile-cpf", "instance": "IRIS", "reason": "a valid base", "error_type": "config", "severity": 2,
         "parameters": [{"action": "cpf", "changes": [{"section": "SQL", "parameter": "LockThreshold", "new_value": "5000"}]}]},
        {"command_id": "hostile-kernel", "instance": "IRIS", "reason": "a valid base", "error_type": "os", "severity": 1,
         "parameters": [{"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}]},
        {"command_id": "hostile-restart", "instance": "IRIS", "reason": "a valid base", "error_type": "resource", "severity": 2, "requires_restart": True,
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
    for name, value in [("kernel.randomize_va_space", 0), ("fs.protected_symlinks", 0), ("kernel.sysrq", 1),
                        ("net.ipv4.ip_forward", 1), ("vm.min_free_kbytes", 2 ** 40), ("kernel.core_uses_pid", 0),
                        ("vm.overcommit_memory", 1), ("vm.swappiness", 201), ("vm.swappiness", -1),
                        ("vm.dirty_ratio", 101), ("net.ipv4.tcp_keepalive_probes", 128)]:
        yield "kernel not allowed %s=%d" % (name, value), _with_change(name=name, new_value=value)
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


def _string_paths(value: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_paths(item, path + (index,))


def _key_paths(value: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,)
            yield from _key_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _key_paths(item, path + (index,))


def _rename_key(path: Tuple[Any, ...], new_key: str) -> Mutation:
    def mutate(command: Command) -> Command:
        target: Any = command
        for key in path[:-1]:
            target = target[key]
        target[new_key] = target.pop(path[-1])
        return command
    return mutate


def _nested_reason(depth: int) -> Mutation:
    def mutate(command: Command) -> Command:
        value: Any = "x"
        for unused in range(depth):
            value = [value]
        command["reason"] = value
        return command
    return mutate


def _boundary_mutations(base: Command) -> Iterator[Tuple[str, Mutation]]:
    """What crosses the trust boundary: fields that are decisions, templates anywhere, characters, shapes."""
    for name in OPERATOR_FIELDS:
        yield "field %s" % name, _set((name,), JINJA if name.startswith("ansible_") else True)
    for path in _string_paths(base):
        yield "jinja in %s" % ".".join(map(str, path)), _set(path, JINJA)
    for path in _key_paths(base):
        yield "jinja in the key %s" % ".".join(map(str, path)), _rename_key(path, "{{ %s }}" % path[-1])
    for character in CONTROL_CHARACTERS:
        yield "U+%04X in command_id" % ord(character), _set(("command_id",), "fix%s1" % character)
        yield "U+%04X in reason" % ord(character), _set(("reason",), "line one%sline two" % character)
        yield "U+%04X in a key" % ord(character), _set(("command%sid" % character,), "x")
    yield "lone surrogate in reason", _as_text(lambda text: text[:-1] + ', "reason": "\\ud800"}')
    for key, value in LOOKALIKES.items():
        yield "lookalike %r" % key, _set((key,), value)
    yield "duplicate instance key", _as_text(lambda text: text[:-1] + ', "instance": "OTHER"}')
    yield "duplicate approve_restart key", _as_text(
        lambda text: text[:-1] + ', "approve_restart": false, "approve_restart": true}')
    for value in [1e400, 2.0000000001, 10 ** 30, "1", True]:
        yield "severity %r" % (value,), _set(("severity",), value)
    yield "nesting 13 deep", _nested_reason(13)
    yield "64 KiB and one byte", _set(("reason",), "z" * 65536)


def hostile_commands() -> List[Tuple[str, Any]]:
    """(label, command) pairs; the command is a dict, a list or JSON text."""
    hostile: List[Tuple[str, Any]] = []
    for base in base_commands():
        action = base["parameters"][0]["action"]
        mutations = list(_command_mutations()) + list(_cpf_mutations() if action == "cpf" else _kernel_mutations())
        mutations += list(_boundary_mutations(base))
        for label, mutate in mutations:
            hostile.append(("%s: %s" % (base["command_id"], label), mutate(copy.deepcopy(base))))
    return hostile
