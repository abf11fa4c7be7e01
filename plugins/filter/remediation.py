# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediate role's run decisions as filters; the logic is plugins/plugin_utils/remediation_run.py.

Each filter is documented in the sidecar file of its name (shared_instances.yml, ...) next to this one.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.irisops.iris.plugins.plugin_utils import remediation_run


class FilterModule(object):
    """irisops.iris.shared_instances, changed_items, sysctl_restore, restart_due, rolled_back."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "shared_instances": remediation_run.shared_instances,
            "changed_items": remediation_run.changed_items,
            "sysctl_restore": remediation_run.sysctl_restore,
            "restart_due": remediation_run.restart_due,
            "rolled_back": remediation_run.rolled_back,
        }
