# SPDX-License-Identifier: GPL-3.0-or-later
"""The iris_emulator role's plan and its checks (plugin_utils/emulator_plan.py) through the filters the role calls."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.irisops.iris.plugins.filter.emulator import FilterModule

try:
    from ansible.template import trust_as_template as trusted  # ansible-core >= 2.19 renders trusted templates only
except ImportError:  # pragma: no cover - older ansible-core renders every string
    def trusted(template: str) -> str:
        return template

FILTERS = FilterModule().filters()
emulator_plan: Callable[..., list[dict[str, Any]]] = FILTERS["emulator_plan"]
emulator_plan_errors: Callable[..., list[str]] = FILTERS["emulator_plan_errors"]
emulator_port_drift: Callable[..., list[str]] = FILTERS["emulator_port_drift"]
ROLE_DEFAULTS = {"prefix": "/opt/irisemu", "version": "2023.1.0.235.1com", "superserver_port_base": 51773,
                 "web_port_base": 52773}


def plan(*instances: dict[str, Any]) -> list[dict[str, Any]]:
    return emulator_plan(list(instances), **ROLE_DEFAULTS)


def test_an_instance_with_only_a_name_gets_every_default() -> None:
    assert plan({"name": "iris"}) == [{
        "name": "IRIS", "install_dir": "/opt/irisemu/instances/iris", "superserver_port": 51773, "web_port": 52773,
        "ports_given": {"superserver_port": False, "web_port": False}, "version": "2023.1.0.235.1com",
        "state": "started", "proc_root": "/proc/sys", "cpf_src": "", "cpf_template": "",
        "seed": "/opt/irisemu/seeds/IRIS.cpf", "switches": None}]


def test_given_keys_are_kept_and_default_ports_count_up_by_position() -> None:
    east, west, spare = plan(
        {"name": "East", "superserver_port": 1972, "web_port": "8080", "install_dir": "/srv/east", "version": "2024.1",
         "state": "stopped", "proc_root": "/tmp/proc", "cpf_src": "/c/east.cpf", "switches": {}},
        {"name": "west", "web_port": 9090, "cpf_template": "west.cpf.j2", "switches": {"fail_start": True}},
        {"name": "spare"})
    assert (east["superserver_port"], east["web_port"], east["ports_given"]) == (
        1972, 8080, {"superserver_port": True, "web_port": True})
    assert (east["install_dir"], east["version"], east["state"], east["proc_root"], east["cpf_src"], east["switches"]) == (
        "/srv/east", "2024.1", "stopped", "/tmp/proc", "/c/east.cpf", {})
    assert east["seed"] == "/opt/irisemu/seeds/EAST.cpf"
    assert (west["superserver_port"], west["web_port"], west["ports_given"]) == (
        51774, 9090, {"superserver_port": False, "web_port": True})
    assert (west["cpf_template"], west["switches"]) == ("west.cpf.j2", {"fail_start": True})
    assert (spare["superserver_port"], spare["web_port"]) == (51775, 52775)


def test_empty_values_take_their_defaults_but_a_given_port_key_still_counts_as_given() -> None:
    [instance] = plan({"name": "iris", "superserver_port": None, "web_port": 0, "version": "", "state": None,
                       "install_dir": "", "proc_root": None, "cpf_src": None})
    assert (instance["superserver_port"], instance["web_port"]) == (51773, 52773)
    assert instance["ports_given"] == {"superserver_port": True, "web_port": True}
    assert (instance["version"], instance["state"], instance["install_dir"], instance["proc_root"], instance["cpf_src"]) == (
        "2023.1.0.235.1com", "started", "/opt/irisemu/instances/iris", "/proc/sys", "")


@pytest.mark.parametrize("instances, message", [
    ([{"name": "a"}, {"state": "started"}], "iris_emulator_instances[1].name: is required"),
    ([{"name": ""}], "iris_emulator_instances[0].name: is required"),
    ([{"name": "a", "web_port": "eighty"}], "iris_emulator_instances[0].web_port: must be a port number, got 'eighty'"),
])
def test_an_entry_without_a_name_or_with_a_port_that_is_no_number_is_refused_by_name(
        instances: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"^%s$" % message.replace("[", r"\[").replace("]", r"\]")):
        emulator_plan(instances, **ROLE_DEFAULTS)


def test_a_port_base_that_is_no_number_is_refused_by_name() -> None:
    with pytest.raises(AnsibleFilterError, match="web_port_base: must be a port number, got 'x'"):
        emulator_plan([{"name": "a"}], prefix="/p", version="v", superserver_port_base=1, web_port_base="x")


def test_a_valid_plan_has_no_errors() -> None:
    assert emulator_plan_errors(plan({"name": "a"}, {"name": "b"}, {"name": "c", "cpf_src": "/c.cpf"})) == []
    assert emulator_plan_errors([]) == []


def test_duplicate_names_are_found_whatever_their_case() -> None:
    errors = emulator_plan_errors(plan({"name": "solo"}, {"name": "SOLO"}, {"name": "Solo"}, {"name": "x"}))
    assert errors == ["name SOLO is given 3 times (names are case-insensitive)"]


def test_duplicate_ports_are_found_across_superserver_and_web_ports() -> None:
    # solo's web port is other's superserver port; the default superserver ports of two entries never clash.
    errors = emulator_plan_errors(plan({"name": "solo", "superserver_port": 1972, "web_port": 52000},
                                       {"name": "other", "superserver_port": 52000},
                                       {"name": "third", "web_port": 1972}, {"name": "fourth", "web_port": 1972}))
    assert errors == ["port 1972 is used 3 times", "port 52000 is used 2 times"]


def test_cpf_src_and_cpf_template_exclude_each_other() -> None:
    errors = emulator_plan_errors(plan({"name": "a", "cpf_src": "a.cpf", "cpf_template": "a.j2"},
                                       {"name": "b", "cpf_template": "b.j2"}))
    assert errors == ["A: cpf_src and cpf_template exclude each other"]


def test_every_problem_is_reported_names_then_ports_then_cpfs() -> None:
    errors = emulator_plan_errors(plan({"name": "solo", "web_port": 52000}, {"name": "SOLO"},
                                       {"name": "other", "superserver_port": 52000, "cpf_src": "o", "cpf_template": "o"}))
    assert errors == ["name SOLO is given 2 times (names are case-insensitive)", "port 52000 is used 2 times",
                      "OTHER: cpf_src and cpf_template exclude each other"]


REGISTERED = [{"name": "EAST", "superserver_port": 1972, "web_port": 52773, "running": True},
              {"name": "WEST", "superserver_port": 51774, "web_port": 8080, "running": False}]


def test_ports_given_for_an_existing_instance_must_be_its_own() -> None:
    moved = plan({"name": "east", "superserver_port": 1973, "web_port": 52773},
                 {"name": "west", "superserver_port": 51774, "web_port": 8081})
    assert emulator_port_drift(moved, REGISTERED) == ["EAST: superserver_port 1973 differs from 1972",
                                                      "WEST: web_port 8081 differs from 8080"]


def test_ports_not_given_new_instances_and_instances_planned_absent_are_not_compared() -> None:
    # EAST's default superserver port (51773) is not its own, but the entry does not set it.
    kept = plan({"name": "east"}, {"name": "west", "superserver_port": 1, "web_port": 2, "state": "absent"},
                {"name": "new", "superserver_port": 3})
    assert emulator_port_drift(kept, REGISTERED) == []
    assert emulator_port_drift(kept, []) == []


def test_the_role_expressions_render_through_ansible() -> None:
    variables = {"instances": [{"name": "solo", "web_port": 52000}, {"name": "SOLO"}], "registered": REGISTERED}
    templar = Templar(loader=DataLoader(), variables=variables)
    rendered = templar.template(trusted(
        "{{ instances | irisops.iris.emulator_plan(prefix='/p', version='v', superserver_port_base=1000,"
        " web_port_base=2000) | irisops.iris.emulator_plan_errors }}"))
    assert rendered == ["name SOLO is given 2 times (names are case-insensitive)"]
    drift = templar.template(trusted(
        "{{ [{'name': 'east', 'superserver_port': 1}] | irisops.iris.emulator_plan(prefix='/p', version='v',"
        " superserver_port_base=1000, web_port_base=2000) | irisops.iris.emulator_port_drift(registered) }}"))
    assert drift == ["EAST: superserver_port 1 differs from 1972"]
