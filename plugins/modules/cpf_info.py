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
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl, IrisControlError, find_iris_bin
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import masked


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
            iris_bin=dict(type="path"),
            sections=dict(type="list", elements="str"),
            parameters=dict(type="list", elements="str"),
        ),
        mutually_exclusive=[("path", "instance")],
        required_one_of=[("path", "instance")],
        supports_check_mode=True,
    )
    try:
        if module.params["path"]:
            path = check_cpf_path(module.params["path"])
        else:
            control = IrisControl(find_iris_bin(module.get_bin_path, module.params["iris_bin"]), module.run_command)
            path = check_cpf_path(control.instance(module.params["instance"]).cpf_path)
        with open(path, "rb") as handle:
            document = CpfDocument.parse(handle.read())
    except (ValueError, IrisControlError, OSError) as error:
        module.fail_json(msg=str(error))
    result = read_cpf(document, module.params["sections"], module.params["parameters"])
    module.exit_json(changed=False, path=path, sections=document.sections(), shared_memory=shared_memory(document),
                     **result)


if __name__ == "__main__":
    main()
