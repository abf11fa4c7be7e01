# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The running instance's side of ``iris merge`` (merge.py writes the files, then hands over a request).

Whether IRIS activates a parameter live is the catalog's ``requires_restart`` (unknown parameters wait):
live values become active at once, the others wait in ``pending`` for the next start. Changes the instance
state (state.py) and returns the messages.log lines to write.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_events as events
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import lookup
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import masked

from .messages import INFO, LogLine
from .state import InstanceState


def activate(state: InstanceState, request: Optional[Dict[str, Any]]) -> Optional[List[LogLine]]:
    """Apply a merge request (mgr/emulator-merge-request.json); None when there is nothing to do: no request, one
    already applied, or an instance that is not running."""
    if not request or request.get("id") == state.merge_id or state.config is None or state.phase != "running":
        return None
    lines: List[LogLine] = []
    outcome: Dict[str, List[str]] = {"activated": [], "pending": [], "unchanged": []}
    for section, parameter, value in request.get("parameters", []) if request.get("activate") else []:
        result, line = _activate_parameter(state, section, parameter, value)
        outcome[result].append("[%s] %s" % (section, parameter))
        lines.extend([line] if line else [])
    for action in request.get("actions", []):
        lines.extend(_apply_action(state, action))
    state.pending = {section: values for section, values in state.pending.items() if values}
    state.merge_id = str(request["id"])
    state.last_merge = dict(outcome, id=state.merge_id, actions=[action["line"] for action in request.get("actions", [])])
    return lines


def _activate_parameter(state: InstanceState, section: str, parameter: str, value: str) -> Tuple[str, Optional[LogLine]]:
    """activated | pending | unchanged, and the line that says so."""
    spec = lookup(section, parameter)
    current = state.active.get(section, {}).get(parameter)
    waiting = state.pending.setdefault(section, {})
    if spec is not None and not spec.requires_restart:
        waiting.pop(parameter, None)
        if current == value:
            return "unchanged", None
        state.active.setdefault(section, {})[parameter] = value
        if state.config is not None:
            state.config = state.config.activated(section, parameter, value)
        return "activated", LogLine(INFO, "Utility.Event", "Configuration merge: [%s] %s=%s activated (was %s)" % (
            section, parameter, masked(parameter, value), masked(parameter, current)))
    if current == value:
        waiting.pop(parameter, None)
        return "unchanged", None
    waiting[parameter] = value
    return "pending", LogLine(INFO, "Utility.Event", "Configuration merge: [%s] %s=%s takes effect at the next restart" % (
        section, parameter, masked(parameter, value)))


def _apply_action(state: InstanceState, action: Dict[str, Any]) -> List[LogLine]:
    """A merge action as the running instance sees it (the CPF and the security store are already written)."""
    if not action.get("changed"):
        return []
    lines = []
    verb, name = action["verb"], action["name"]
    if verb == "CreateDatabase":
        state.databases[name] = action["directory"]
        lines.append(LogLine(INFO, "Database.MountedRW", events.MOUNTED_READ_WRITE.format(
            db_dir=action["directory"], sfn=len(state.databases) - 1)))
    elif verb == "DeleteDatabase" and name in state.databases:
        lines.append(LogLine(INFO, "Database.Dismounted", events.DISMOUNTED.format(db_dir=state.databases.pop(name))))
    elif verb == "CreateNamespace":
        state.namespaces[name] = action["value"]
    elif verb == "DeleteNamespace":
        state.namespaces.pop(name, None)
    lines.append(LogLine(INFO, "Utility.Event", "Configuration merge action %s" % action["line"]))
    return lines
