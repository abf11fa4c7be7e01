#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cpf_info
short_description: Read sections and parameters of an InterSystems IRIS configuration parameter file (CPF)
version_added: 0.1.0
description:
  - Returns the parameters of all or selected sections of a CPF, the catalog's view of each known parameter
    (default, units, whether a change needs a restart), and the shared memory the instance will allocate at startup.
  - With O(instance), also the instance's active value of each returned parameter next to the value in the file
    (RV(active)), so a value written but not yet in effect shows. An active value is reported only where it
    can be observed; the bundled emulator publishes its active configuration in C(mgr/emulator-state.json).
    A real IRIS instance has no interface in the reference material that reports active CPF values, so there
    the active values are null and RV(active_reason) says why.
  - Secret values (C([Startup] PasswordHash), C(LicenseID) and every key the redaction list names) are masked.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.INFO_MODULE
  - irisops.iris.iris.CONTROL
attributes:
  platform:
    platforms: posix
options:
  path:
    description:
      - Absolute path of the CPF. Paths with C(..) components and anything that is not a regular file are refused.
    type: path
  instance:
    description:
      - Name of an IRIS instance; its CPF is found with C(iris qlist).
    type: str
  sections:
    description:
      - Sections to return (case-insensitive). All sections when omitted.
    type: list
    elements: str
  parameters:
    description:
      - Parameter names to return from the selected sections (case-insensitive). All when omitted.
    type: list
    elements: str
seealso:
  - module: irisops.iris.cpf
"""

EXAMPLES = r"""
- name: Read the memory settings of an instance
  irisops.iris.cpf_info:
    instance: IRIS
    sections: [config]
    parameters: [globals, routines, gmheap, locksiz, jrnbufs]
  register: cpf

- name: Is the lock threshold written by a merge in effect yet?
  irisops.iris.cpf_info:
    instance: IRIS
    sections: [SQL]
    parameters: [LockThreshold]
  register: sql

- name: Show the startup shared memory estimate
  ansible.builtin.debug:
    msg: "{{ cpf.shared_memory.total_mb }} MB"
"""

RETURN = r"""
path:
  description: Real path of the CPF read.
  returned: always
  type: str
  sample: /usr/irissys/iris.cpf
sections:
  description: All section names in file order, as written.
  returned: always
  type: list
  elements: str
  sample: [ConfigFile, Databases, Namespaces, Journal, Startup, config, SQL]
cpf:
  description: Selected sections mapped to their parameters and values (as IRIS reads them).
  returned: always
  type: dict
  sample: {config: {gmheap: "37568", locksiz: "16777216"}}
catalog:
  description: For each returned parameter the catalog knows, its type, default, units, restart and danger flags.
  returned: always
  type: dict
  sample: {config: {gmheap: {kind: int, default: "0", units: KB, requires_restart: true, dangerous: false}}}
active:
  description:
    - For each returned parameter (and each requested one the instance has active but the file lacks), the value
      in the file, the active value, and what waits for a restart. Null values mean "not observable" (see
      RV(active_reason)).
  returned: always
  type: dict
  sample: {SQL: {LockThreshold: {file: "5000", active: "5000", in_effect: true, pending: null, requires_restart: false}},
           config: {gmheap: {file: "307200", active: "73728", in_effect: false, pending: "307200", requires_restart: true}}}
  contains:
    file: {description: Value in the CPF (null = absent)., type: str}
    active: {description: Value the running instance uses now; null when not observable., type: str}
    in_effect: {description: Whether the file's value is the active one; null when not observable., type: bool}
    pending: {description: A merged value that waits for a restart (null = none or not observable)., type: str}
    requires_restart: {description: Whether IRIS needs a restart to use a new value (catalog; unknown = true)., type: bool}
active_source:
  description: Where the active values were read (the emulator's state file); null when they are not observable.
  returned: always
  type: str
active_reason:
  description: Why active values are null (no O(instance) given, instance down, or not observable on this instance).
  returned: always
  type: str
shared_memory:
  description: Estimated startup shared memory in MB, split like the "Allocated ... shared memory" lines of messages.log;
    null when the [config] values cannot be read.
  returned: always
  type: dict
  contains:
    global_buffers_mb: {description: Global buffers., type: int}
    routine_buffers_mb: {description: Routine buffers., type: int}
    journal_buffers_mb: {description: Journal buffers., type: int}
    buffer_descriptors_mb: {description: Buffer descriptors., type: int}
    heap_mb: {description: Shared memory heap (gmheap)., type: int}
    ecp_mb: {description: ECP., type: int}
    misc_mb: {description: Miscellaneous., type: int}
    total_mb: {description: Sum of the above., type: int}
"""

from dataclasses import asdict
from typing import Any, Dict, List, Optional

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import cpf_catalog
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument, check_cpf_path
from ansible_collections.irisops.iris.plugins.module_utils.cpf_merge import ActiveView, read_active_view
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import CONTROL_ARGUMENT_SPEC, IrisControl, IrisControlError
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import masked

NO_INSTANCE = "the CPF was given by path; give instance to read the running instance's active values"


def selected(name: str, wanted: Optional[List[str]]) -> bool:
    return wanted is None or name.lower() in {item.lower() for item in wanted}


def read_cpf(document: CpfDocument, sections: Optional[List[str]], parameters: Optional[List[str]]
             ) -> Dict[str, Dict[str, Any]]:
    """(values by section, catalog facts by section) for the selected sections and parameters."""
    values: Dict[str, Dict[str, str]] = {}
    catalog: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for section, pairs in document.items():
        if not selected(section, sections):
            continue
        values[section] = {}
        for parameter, value in pairs:
            if not selected(parameter, parameters):
                continue
            spec = cpf_catalog.lookup(section, parameter)
            values[section][parameter] = masked(parameter, value)
            if spec is not None:
                catalog.setdefault(section, {})[parameter] = dict(
                    kind=spec.kind, default=spec.default, units=spec.units, minimum=spec.minimum,
                    maximum=spec.maximum, requires_restart=spec.requires_restart, dangerous=spec.dangerous)
    return dict(cpf=values, catalog=catalog)


def in_effect(spec: Optional[cpf_catalog.ParameterSpec], file_value: Optional[str], active: Optional[str]) -> bool:
    """Whether the instance uses what the file says (an absent key means the catalog default)."""
    expected = file_value if file_value is not None else (spec.default if spec is not None else None)
    if expected is None or active is None:
        return expected is None and active is None
    if spec is not None:
        try:
            expected = cpf_catalog.validate_value(spec, expected)
        except ValueError:
            pass
    return cpf_catalog.values_equal(spec, active, expected)


def active_values(document: CpfDocument, view: ActiveView, sections: Optional[List[str]],
                  parameters: Optional[List[str]]) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """File value vs active value of the selected parameters (and of requested ones only the instance has)."""
    wanted: Dict[str, List[str]] = {}
    for section, pairs in document.items():
        if selected(section, sections):
            wanted[section] = [parameter for parameter, _value in pairs if selected(parameter, parameters)]
    for section in sections or []:
        for parameter in parameters or []:
            if view.active(section, parameter) is not None and document.get(section, parameter) is None:
                spec = cpf_catalog.lookup(section, parameter)
                wanted.setdefault(document.section_name(section) or section, []).append(
                    spec.name if spec is not None else parameter)
    result: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for section, names in wanted.items():
        for parameter in names:
            spec = cpf_catalog.lookup(section, parameter)
            file_value = document.get(section, parameter)
            active = view.active(section, parameter)
            result.setdefault(section, {})[parameter] = dict(
                file=masked(parameter, file_value), active=masked(parameter, active),
                in_effect=in_effect(spec, file_value, active) if view.observable else None,
                pending=masked(parameter, view.waiting(section, parameter)),
                requires_restart=spec.requires_restart if spec is not None else True)
    return result


def shared_memory(document: CpfDocument) -> Optional[Dict[str, int]]:
    try:
        estimate = cpf_catalog.estimate_shared_memory(document)
    except ValueError:
        return None
    return dict(asdict(estimate), total_mb=estimate.total_mb)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            instance=dict(type="str"),
            **CONTROL_ARGUMENT_SPEC,
            sections=dict(type="list", elements="str"),
            parameters=dict(type="list", elements="str"),
        ),
        mutually_exclusive=[("path", "instance")],
        required_one_of=[("path", "instance")],
        supports_check_mode=True,
    )
    view = ActiveView(source=None, reason=NO_INSTANCE)
    try:
        if module.params["path"]:
            path = check_cpf_path(module.params["path"])
        else:
            control = IrisControl.from_module(module)
            instance = control.instance(module.params["instance"])
            path = check_cpf_path(instance.cpf_path)
            view = read_active_view(instance)
        with open(path, "rb") as handle:
            document = CpfDocument.parse(handle.read())
    except (ValueError, IrisControlError, OSError) as error:
        module.fail_json(msg=str(error))
    result = read_cpf(document, module.params["sections"], module.params["parameters"])
    module.exit_json(changed=False, path=path, sections=document.sections(), shared_memory=shared_memory(document),
                     active=active_values(document, view, module.params["sections"], module.params["parameters"]),
                     active_source=view.source, active_reason=view.reason, **result)


if __name__ == "__main__":
    main()
