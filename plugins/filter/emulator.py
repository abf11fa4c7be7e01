# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The iris_emulator role's plan and its checks as filters; the logic is plugins/plugin_utils/emulator_plan.py.

Each filter is documented in the sidecar file of its name (emulator_plan.yml, ...) next to this one.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from ansible.errors import AnsibleFilterError  # type: ignore[import-untyped]
from ansible_collections.irisops.iris.plugins.plugin_utils import emulator_plan as plan


def emulator_plan(instances: Sequence[Mapping[str, Any]], prefix: str, version: str, superserver_port_base: int,
                  web_port_base: int) -> list[dict[str, Any]]:
    try:
        return plan.plan_instances(instances, prefix, version, superserver_port_base, web_port_base)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from error


class FilterModule(object):
    """irisops.iris.emulator_plan, emulator_plan_errors, emulator_port_drift."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "emulator_plan": emulator_plan,
            "emulator_plan_errors": plan.plan_errors,
            "emulator_port_drift": plan.port_drift,
        }
