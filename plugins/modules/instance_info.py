#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_info
short_description: Facts about InterSystems IRIS instances from C(iris qlist)
version_added: 0.1.0
description:
  - Runs C(iris qlist) and returns one dictionary per instance (directories, version, status, ports, state,
    mirror fields, CPF and messages.log paths).
  - Works with a real IRIS installation and with the emulator deployed by the role C(irisops.iris.iris_emulator).
    Older releases that print only 8 or 9 qlist fields are read too; the missing fields are returned empty.
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
  name:
    description:
      - Only this instance (instance names are case-insensitive).
      - When it is not installed, RV(instances) is empty and RV(instance) is null; the module does not fail.
    type: str
seealso:
  - module: irisops.iris.cpf_info
"""

EXAMPLES = r"""
- name: Facts about every instance on the host
  irisops.iris.instance_info:
  register: iris

- name: Fail unless IRIS is running and healthy
  ansible.builtin.assert:
    that:
      - iris.instances | selectattr('name', 'equalto', 'IRIS') | map(attribute='running') | first
      - iris.instances | selectattr('name', 'equalto', 'IRIS') | map(attribute='state') | first == 'ok'

- name: One instance, with an explicit control command
  irisops.iris.instance_info:
    name: iris
    iris_bin: /usr/irissys/bin/iris
  register: one

- name: Show where its CPF and messages.log are
  ansible.builtin.debug:
    msg: "{{ one.instance.cpf_path }} {{ one.instance.messages_log_path }}"
"""

RETURN = r"""
iris_bin:
  description: The control command that was run.
  returned: always
  type: str
  sample: /usr/irissys/bin/iris
instances:
  description: One entry per line of C(iris qlist) (only the named instance when O(name) is set).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Instance name.
      type: str
      sample: IRIS
    install_dir:
      description: Installation directory, with a trailing slash.
      type: str
      sample: /usr/irissys/
    version:
      description: Version id.
      type: str
      sample: 2023.1.0.235.1com
    status:
      description: C(running), C(down), C(sign-on inhibited), ... (the part of qlist's status field before the comma).
      type: str
      sample: running
    activity:
      description: The rest of the status field, e.g. C(since Fri May 13 22:07:02 2016) or C(last used ...).
      type: str
      sample: since Fri May 13 22:07:02 2016
    since:
      description: The date of RV(instances[].activity) as ISO 8601 (the host's local time, no zone); null when absent or unreadable.
      type: str
      sample: "2016-05-13T22:07:02"
    running:
      description: Whether the status is C(running).
      type: bool
      sample: true
    cpf_name:
      description: Name of the CPF used at the last start.
      type: str
      sample: iris.cpf
    superserver_port:
      description: Superserver port; null when qlist prints none.
      type: int
      sample: 1972
    web_port:
      description: Private web server port; null when qlist prints none.
      type: int
      sample: 52773
    jdbc_port:
      description: JDBC gateway port; null when qlist prints none.
      type: int
      sample: 53773
    state:
      description: System Monitor state, C(ok), C(warn), C(alert) or C(hung); empty when down or not printed (old releases).
      type: str
      sample: ok
    product:
      description: Product name (C(IRIS); empty for Cache).
      type: str
      sample: IRIS
    mirror_member_type:
      description: Mirror member type (C(Failover), C(Disaster Recovery), ...), empty when not mirrored.
      type: str
      sample: ""
    mirror_status:
      description: Mirror status (C(Primary), C(Connected), ...), empty when not mirrored.
      type: str
      sample: ""
    data_dir:
      description: Data directory for durable %SYS (with a trailing slash), empty when it is the install directory.
      type: str
      sample: ""
    cpf_path:
      description: Path of the CPF (in the data directory when there is one).
      type: str
      sample: /usr/irissys/iris.cpf
    messages_log_path:
      description: Path of messages.log.
      type: str
      sample: /usr/irissys/mgr/messages.log
instance:
  description: The entry of RV(instances) for O(name); null when O(name) is not set or not installed.
  returned: always
  type: dict
  sample: {name: IRIS, status: running, state: ok, superserver_port: 1972}
"""

from typing import Any, Dict, List, Optional

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import CONTROL_ARGUMENT_SPEC, IrisControl, IrisControlError


def gather(control: IrisControl, name: Optional[str]) -> List[Dict[str, Any]]:
    """qlist facts, filtered by name (case-insensitive, like IRIS)."""
    return [instance.as_dict() for instance in control.qlist()
            if name is None or instance.is_named(name)]


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            **CONTROL_ARGUMENT_SPEC,
        ),
        supports_check_mode=True,
    )
    name = module.params["name"]
    try:
        control = IrisControl.from_module(module)
        instances = gather(control, name)
    except IrisControlError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, iris_bin=control.iris_bin, instances=instances,
                     instance=instances[0] if name and instances else None)


if __name__ == "__main__":
    main()
