# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The iris_emulator role's plan: its ``iris_emulator_instances`` with every default filled in, and what is wrong with it.

The role calls these through the filters in plugins/filter/emulator.py, checks the plan before it changes anything,
then acts on it. Standard library only: the filters import this module, and ansible-test's import test loads them
without the controller requirements.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

PORTS = ("superserver_port", "web_port")


def plan_instances(instances: Sequence[Mapping[str, Any]], prefix: str, version: str, superserver_port_base: int,
                   web_port_base: int) -> list[dict[str, Any]]:
    """One planned instance per entry of ``instances``: the name upper case like the IRIS registry, defaults filled in.

    A key that is missing or empty takes its default; a port's default is its base plus the entry's position in the
    list. ``ports_given`` says which ports the entry sets (only those are compared with an existing instance's), and
    ``seed`` is where a CPF given with ``cpf_src`` or ``cpf_template`` is staged. Raises ValueError naming the entry
    and key when a name is missing or a port is not a number.
    """
    bases = {"superserver_port": superserver_port_base, "web_port": web_port_base}
    plan = []
    for index, item in enumerate(instances):
        where = "iris_emulator_instances[%d]" % index
        if item.get("name") in (None, ""):
            raise ValueError("%s.name: is required" % where)
        name = str(item["name"])
        planned: dict[str, Any] = {
            "name": name.upper(),
            "install_dir": item.get("install_dir") or "%s/instances/%s" % (prefix, name.lower()),
        }
        for port in PORTS:
            planned[port] = _number("%s.%s" % (where, port), item.get(port) or _number(port + "_base", bases[port]) + index)
        planned.update({
            "ports_given": {port: port in item for port in PORTS},
            "version": item.get("version") or version,
            "state": item.get("state") or "started",
            "proc_root": item.get("proc_root") or "/proc/sys",
            "cpf_src": item.get("cpf_src") or "",
            "cpf_template": item.get("cpf_template") or "",
            "seed": "%s/seeds/%s.cpf" % (prefix, name.upper()),
            "switches": item.get("switches"),
        })
        plan.append(planned)
    return plan


def plan_errors(plan: Sequence[Mapping[str, Any]]) -> list[str]:
    """What makes the plan impossible: a name twice (case-insensitive), a port twice, cpf_src with cpf_template."""
    names = Counter(str(item["name"]) for item in plan)
    ports = Counter([item["superserver_port"] for item in plan] + [item["web_port"] for item in plan])
    return (["name %s is given %d times (names are case-insensitive)" % (name, count)
             for name, count in names.items() if count > 1]
            + ["port %s is used %d times" % (port, count) for port, count in ports.items() if count > 1]
            + ["%s: cpf_src and cpf_template exclude each other" % item["name"]
               for item in plan if item["cpf_src"] and item["cpf_template"]])


def port_drift(plan: Sequence[Mapping[str, Any]], registered: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ports the plan sets for a registered instance that differ from its own (ports are fixed when it is created).

    ``registered`` is instance_info's ``instances``; an instance planned absent keeps whatever ports it had.
    """
    return ["%s: %s %s differs from %s" % (want["name"], port, want[port], have[port])
            for have in registered
            for want in plan if want["name"] == have["name"] and want["state"] != "absent"
            for port in PORTS if want["ports_given"][port] and want[port] != have[port]]


def _number(field: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError("%s: must be a port number, got %r" % (field, value)) from None
