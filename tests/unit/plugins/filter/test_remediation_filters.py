# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediate role's run decisions (plugin_utils/remediation_run.py) through the filters the role calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.irisops.iris.plugins.filter.remediation import FilterModule
from ansible_collections.irisops.iris.plugins.plugin_utils.planner import plan_document

try:
    from ansible.template import trust_as_template as trusted  # ansible-core >= 2.19 renders trusted templates only
except ImportError:  # pragma: no cover - older ansible-core renders every string
    def trusted(template: str) -> str:
        return template

FILTERS = FilterModule().filters()
shared_instances: Callable[..., dict[str, str]] = FILTERS["shared_instances"]
changed_items: Callable[..., list[dict[str, Any]]] = FILTERS["changed_items"]
sysctl_restore: Callable[..., dict[str, str]] = FILTERS["sysctl_restore"]
restart_due: Callable[..., bool] = FILTERS["restart_due"]
rolled_back: Callable[..., list[str]] = FILTERS["rolled_back"]


def planned(instance: str) -> dict[str, Any]:
    return {"remediate_plan": {"changed": False, "plan": {"instance": instance}}}


# --- shared_instances -------------------------------------------------------------------------------------------------

def test_two_local_hosts_on_one_instance_share_it_whatever_the_case_of_its_name() -> None:
    hostvars = {"first": dict(planned("IRIS"), ansible_connection="local"),
                "second": dict(planned("iris"), ansible_connection="local"),
                "third": dict(planned("OTHER"), ansible_connection="local")}
    assert shared_instances(["first", "second", "third"], hostvars) == {"first": "localhost IRIS",
                                                                        "second": "localhost IRIS"}


def test_a_machine_is_its_ansible_host_even_over_the_local_connection() -> None:
    hostvars = {"a": dict(planned("IRIS"), ansible_host="10.0.0.5"),
                "b": dict(planned("IRIS"), ansible_host="10.0.0.5", ansible_connection="local"),
                "c": dict(planned("IRIS"), ansible_connection="local")}
    assert shared_instances(["a", "b", "c"], hostvars) == {"a": "10.0.0.5 IRIS", "b": "10.0.0.5 IRIS"}


def test_hosts_without_ansible_host_are_their_own_machines() -> None:
    hostvars = {"db1": dict(planned("IRIS"), ansible_connection="ssh"), "db2": planned("IRIS")}
    assert shared_instances(["db1", "db2"], hostvars) == {}


def test_no_shared_hosts_is_an_empty_dict() -> None:
    assert shared_instances(["only"], {"only": planned("IRIS")}) == {}
    assert shared_instances([], {}) == {}


def test_a_host_without_a_plan_is_keyed_by_its_own_name_upper_case() -> None:
    hostvars = {"iris": {"ansible_host": "h"}, "other": dict(planned("Iris"), ansible_host="h")}
    assert shared_instances(["iris", "other"], hostvars) == {"iris": "h IRIS", "other": "h IRIS"}


def test_only_the_given_hosts_are_compared() -> None:
    hostvars = {"first": planned("IRIS"), "second": planned("IRIS")}
    hostvars["first"]["ansible_host"] = hostvars["second"]["ansible_host"] = "h"
    assert shared_instances(["first"], hostvars) == {}


def test_shared_instances_reads_ansibles_own_hostvars(tmp_path: Path) -> None:
    """What the role passes: Ansible's HostVars, whose values are templated on access."""
    inventory_file = tmp_path / "hosts.ini"
    inventory_file.write_text("[iris]\nfirst ansible_connection=local\nsecond ansible_connection=local\n"
                              "remote ansible_host=192.0.2.7\ntemplated ansible_host=\"{{ '192.0.2.' ~ 7 }}\"\n")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
    variables = VariableManager(loader=loader, inventory=inventory)
    for host, instance in [("first", "iris"), ("second", "IRIS"), ("remote", "IRIS"), ("templated", "Iris")]:
        variables.set_nonpersistent_facts(host, planned(instance))
    hostvars = HostVars(inventory=inventory, variable_manager=variables, loader=loader)
    hosts = ["first", "second", "remote", "templated"]
    expected = {"first": "localhost IRIS", "second": "localhost IRIS", "remote": "192.0.2.7 IRIS",
                "templated": "192.0.2.7 IRIS"}
    assert shared_instances(hosts, hostvars) == expected
    rendered = Templar(loader=loader, variables={"hostvars": hostvars, "hosts": hosts}).template(
        trusted("{{ hosts | irisops.iris.shared_instances(hostvars) }}"))
    assert rendered == expected


# --- changed_items ----------------------------------------------------------------------------------------------------

def kernel_result(name: str, changed: bool = True, **fields: Any) -> dict[str, Any]:
    return dict({"name": name, "changed": changed, "item": {"name": name, "requires_restart": False}}, **fields)


def test_changed_items_in_run_order_without_unchanged_failed_or_skipped_items() -> None:
    before = {"changed": True, "results": [kernel_result("vm.swappiness"), kernel_result("vm.dirty_ratio", changed=False),
                                           {"failed": True, "msg": "expected 99", "item": {"name": "kernel.shmmax"}}]}
    after = {"changed": True, "results": [{"skipped": True, "changed": False}, kernel_result("vm.nr_hugepages")]}
    assert [item["name"] for item in changed_items([before, after])] == ["vm.swappiness", "vm.nr_hugepages"]


def test_loops_that_did_not_run_or_ran_no_item_changed_nothing() -> None:
    empty_loop = {"changed": False, "skipped": True, "skipped_reason": "No items in the list", "results": []}
    assert changed_items([{}, empty_loop]) == []
    assert changed_items([]) == []


# --- sysctl_restore ---------------------------------------------------------------------------------------------------

def persisted(name: str, before: Any, after: Any, **fields: Any) -> dict[str, Any]:
    return kernel_result(name, sysctl_file="/etc/sysctl.d/99-irisops-iris.conf", persisted_value_before=before,
                         persisted_value=after, **fields)


def test_the_first_result_that_changed_the_file_gives_the_file_and_its_backup() -> None:
    results = [persisted("vm.swappiness", "30", "5", backup_file="/etc/sysctl.d/99-irisops-iris.conf.1~"),
               persisted("vm.dirty_ratio", None, "10", backup_file="/etc/sysctl.d/99-irisops-iris.conf.2~")]
    assert sysctl_restore(results) == {"file": "/etc/sysctl.d/99-irisops-iris.conf",
                                       "backup": "/etc/sysctl.d/99-irisops-iris.conf.1~"}


def test_a_file_this_run_created_has_no_backup_so_it_is_removed() -> None:
    assert sysctl_restore([persisted("vm.swappiness", None, "5")]) == {
        "file": "/etc/sysctl.d/99-irisops-iris.conf", "backup": ""}


def test_results_that_left_the_persisted_file_alone_are_passed_over() -> None:
    # The runtime value changed but the file already held the value; then one without a persisted file.
    untouched = persisted("vm.swappiness", "5", "5")
    not_persisted = kernel_result("vm.dirty_ratio", sysctl_file=None, persisted_value_before=None, persisted_value=None)
    assert sysctl_restore([untouched, not_persisted]) == {}
    later = persisted("kernel.shmmax", "1", "2", backup_file="/b~")
    assert sysctl_restore([untouched, not_persisted, later]) == {"file": "/etc/sysctl.d/99-irisops-iris.conf",
                                                                 "backup": "/b~"}


def test_no_kernel_change_restores_no_file() -> None:
    assert sysctl_restore([]) == {}


# --- restart_due ------------------------------------------------------------------------------------------------------

def plan(*actions: dict[str, Any], requires_restart: bool = False, live_activation: bool = True) -> dict[str, Any]:
    """A real plan of the planner, as the role gets it."""
    return plan_document({"command_id": "cmd-1", "instance": "IRIS", "error_type": "config", "severity": 2,
                          "requires_restart": requires_restart, "parameters": list(actions)},
                         live_activation=live_activation).as_dict()


LOCKSIZ = {"action": "cpf", "changes": [{"section": "config", "parameter": "locksiz", "new_value": "33554432"}]}
GMHEAP = {"action": "cpf", "changes": [{"section": "config", "parameter": "gmheap", "new_value": "307200"}]}
SWAPPINESS = {"action": "kernel", "changes": [{"name": "vm.swappiness", "new_value": 5}]}
HUGEPAGES = {"action": "kernel", "changes": [{"name": "vm.nr_hugepages", "new_value": 100}]}
SKIPPED_CPF = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def cpf_result(changed: bool, restart_required: bool = False, apply: str = "file") -> dict[str, Any]:
    return {"changed": changed, "restart_required": restart_required, "apply": apply, "path": "/iris/iris.cpf"}


def test_no_restart_in_the_plan_never_restarts() -> None:
    assert restart_due(plan(LOCKSIZ), cpf_result(True), []) is False


def test_an_implied_restart_runs_when_a_value_read_at_start_changed() -> None:
    gmheap = plan(GMHEAP)
    assert gmheap["restart_implied"] and not gmheap["restart_on_any_change"]
    assert restart_due(gmheap, cpf_result(True, restart_required=True), []) is True
    assert restart_due(gmheap, cpf_result(False), []) is False  # applied twice: no second restart


def test_an_implied_restart_runs_when_a_kernel_value_sizing_shared_memory_changed() -> None:
    hugepages = plan(HUGEPAGES)
    [setting] = hugepages["kernel_before_cpf"]
    assert restart_due(hugepages, {}, [kernel_result("vm.nr_hugepages", item=setting)]) is True
    assert restart_due(hugepages, {}, []) is False


def test_requires_restart_restarts_for_a_changed_file_or_kernel_value_but_not_a_live_merge() -> None:
    # vm.nr_hugepages implies the restart; requires_restart makes any change of the run a reason for it.
    command = plan(LOCKSIZ, HUGEPAGES, requires_restart=True)
    assert command["restart_implied"] and command["restart_on_any_change"]
    assert restart_due(command, cpf_result(True, apply="file"), []) is True
    assert restart_due(command, cpf_result(True, apply="merge"), []) is False  # locksiz is in effect already
    assert restart_due(command, cpf_result(False), []) is False
    file_only = plan(LOCKSIZ, SWAPPINESS, requires_restart=True, live_activation=False)
    assert file_only["restart_implied"] and file_only["restart_on_any_change"]
    assert restart_due(file_only, SKIPPED_CPF, [kernel_result("vm.swappiness")]) is True


def test_an_unflagged_kernel_change_does_not_imply_a_restart_of_a_command_that_does_not_require_one() -> None:
    gmheap_and_swappiness = plan(GMHEAP, SWAPPINESS)
    assert restart_due(gmheap_and_swappiness, cpf_result(False), [kernel_result("vm.swappiness")]) is False


def test_an_explicit_restart_runs_when_anything_changed_or_when_it_is_all_the_command_asks() -> None:
    explicit = plan(LOCKSIZ, SWAPPINESS, {"action": "restart"}, requires_restart=True)
    assert not explicit["restart_implied"]
    assert restart_due(explicit, cpf_result(True, apply="merge"), []) is True
    assert restart_due(explicit, cpf_result(False), [kernel_result("vm.swappiness")]) is True
    assert restart_due(explicit, cpf_result(False), []) is False
    only_restart = plan({"action": "restart"}, requires_restart=True)
    assert restart_due(only_restart, SKIPPED_CPF, []) is True


# --- rolled_back ------------------------------------------------------------------------------------------------------

def test_rolled_back_lists_what_the_rescue_put_back_in_its_order() -> None:
    restored_active = {"results": [{"item": {"parameter": "locksiz"}, "changed": True},
                                   {"item": {"parameter": "LockThreshold"}, "skipped": True, "changed": False}]}
    kernel = [kernel_result("vm.swappiness"), kernel_result("vm.dirty_ratio")]
    assert rolled_back(kernel, restored_active=restored_active, restored_cpf={"changed": True},
                       cpf=cpf_result(True), sysctl_restore={"file": "/etc/sysctl.d/x.conf", "backup": ""}) == [
        "locksiz (active value)", "/iris/iris.cpf", "vm.swappiness", "vm.dirty_ratio", "/etc/sysctl.d/x.conf"]


def test_a_failure_before_any_change_rolled_back_nothing() -> None:
    skipped_loop = {"changed": False, "skipped": True, "results": []}
    assert rolled_back([], restored_active=skipped_loop, restored_cpf={"changed": False, "skipped": True},
                       cpf={}, sysctl_restore={}) == []


def test_a_cpf_without_backup_is_not_reported_restored() -> None:
    assert rolled_back([kernel_result("vm.swappiness")], restored_active={"results": []},
                       restored_cpf={"skipped": True, "changed": False}, cpf=cpf_result(True),
                       sysctl_restore={}) == ["vm.swappiness"]


RENDERED = {
    "shared_instances": ("{{ [] | irisops.iris.shared_instances({}) }}", {}),
    "changed_items": ("{{ [{}, {'results': [{'changed': true, 'name': 'x'}]}] | irisops.iris.changed_items }}",
                      [{"changed": True, "name": "x"}]),
    "sysctl_restore": ("{{ [] | irisops.iris.sysctl_restore }}", {}),
    "restart_due": ("{{ {'restart': none} | irisops.iris.restart_due({}, []) }}", False),
    "rolled_back": ("{{ [{'name': 'vm.swappiness'}] | irisops.iris.rolled_back(restored_active={}, restored_cpf={},"
                    " cpf={}, sysctl_restore={}) }}", ["vm.swappiness"]),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_renders_by_its_full_name(name: str) -> None:
    expression, expected = RENDERED[name]
    assert Templar(loader=DataLoader()).template(trusted(expression)) == expected
