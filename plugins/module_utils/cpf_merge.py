# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply CPF changes to a running IRIS instance with ``iris merge`` (stdlib only).

IRIS (2021.1+) applies a merge file to a running instance: parameters it can change live take effect at
once, ``[Actions]`` run, the rest is written to the CPF and waits for a restart
(shared/reference/cpf-parameters.md, "Configuration merge"). Which parameters IRIS activates live is the
catalog's ``requires_restart`` (module_utils/cpf_catalog.py), so what this module reports as
``activated`` / ``restart_required`` does not depend on the instance being real or emulated.

``iris merge`` prints "IRIS Merge completed successfully" even when it did nothing (a missing file, a
misspelt ``[actions]``), so its word proves nothing: the CPF is read back, and where the instance
publishes its active configuration (the bundled emulator's mgr/emulator-state.json) the active values are
checked too. A real IRIS instance has no interface in the reference material that reports its active
CPF values; there ``active`` is None with ``NOT_OBSERVABLE`` as the reason.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.cpf import (
    ACTIONS_SECTION, CpfDocument, CpfError, MergeAction, parse_action)
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import ParameterSpec, lookup, values_equal
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, IrisControl
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import is_secret_key

MERGE_SUCCESS = "IRIS Merge completed successfully"
ACTIVATED = "activated"
RESTART_REQUIRED = "restart_required"
EMULATOR_STATE = os.path.join("mgr", "emulator-state.json")
NOT_OBSERVABLE = ("not observable: the IRIS reference material documents no interface that reports a running "
                  "instance's active CPF values (the bundled emulator publishes them in mgr/emulator-state.json)")
INSTANCE_DOWN = "the instance is not running, so no value is active; the CPF is read at the next start"
# Objects an action names that the CPF lists, so whether they exist is known on any instance.
CPF_OBJECT_SECTIONS = {"Database": "Databases", "Namespace": "Namespaces"}
# Objects IRIS keeps in its security database; only an instance that publishes them (the emulator) shows them.
SECURITY_STORES = {"User": "users", "Role": "roles", "Resource": "resources", "Service": "services"}
ACTION_VERBS = ("Create", "Modify", "Delete")
Key = Tuple[str, str]


class MergeError(Exception):
    """``iris merge`` failed, or its effect could not be found afterwards."""


def activation(spec: Optional[ParameterSpec]) -> str:
    """What IRIS does with a merged value: activate it at once, or keep it for the next start (unknown: the latter)."""
    return RESTART_REQUIRED if spec is None or spec.requires_restart else ACTIVATED


def _key(section: str, parameter: str) -> Key:
    return section.strip().lower(), parameter.strip().lower()


@dataclass(frozen=True)
class ActiveView(object):
    """The active configuration of a running instance where it can be observed."""

    source: Optional[str]
    reason: Optional[str] = None
    values: Dict[Key, str] = field(default_factory=dict)
    pending: Dict[Key, str] = field(default_factory=dict)
    security: Dict[str, Dict[str, Dict[str, str]]] = field(default_factory=dict)

    @property
    def observable(self) -> bool:
        return self.source is not None

    def active(self, section: str, parameter: str) -> Optional[str]:
        return self.values.get(_key(section, parameter))

    def waiting(self, section: str, parameter: str) -> Optional[str]:
        return self.pending.get(_key(section, parameter))


def _flatten(sections: Any) -> Dict[Key, str]:
    if not isinstance(sections, dict):
        return {}
    return {_key(section, name): str(value) for section, values in sections.items() if isinstance(values, dict)
            for name, value in values.items()}


def read_active_view(instance: Instance) -> ActiveView:
    """What the instance uses now: observed from the emulator's published state, else not observable (with why)."""
    if not instance.running:
        return ActiveView(source=None, reason=INSTANCE_DOWN)
    path = os.path.join(instance.config_dir, EMULATOR_STATE)
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return ActiveView(source=None, reason=NOT_OBSERVABLE)
    if not isinstance(state, dict) or not isinstance(state.get("active"), dict):
        return ActiveView(source=None, reason=NOT_OBSERVABLE)
    security: Dict[str, Dict[str, Dict[str, str]]] = state["security"] if isinstance(state.get("security"), dict) else {}
    return ActiveView(source=path, values=_flatten(state["active"]), pending=_flatten(state.get("pending")),
                      security=security)


def render_merge_file(settings: Sequence[Tuple[str, str, str]], actions: Sequence[MergeAction]) -> bytes:
    """A merge file: one block per section in first-seen order, ``[Actions]`` (spelt exactly so) last."""
    sections: Dict[str, List[str]] = {}
    for section, parameter, value in settings:
        sections.setdefault(section, []).append("%s=%s" % (parameter, value))
    if actions:
        sections[ACTIONS_SECTION] = [action.render() for action in actions]
    blocks = ["[%s]\n%s\n" % (section, "\n".join(lines)) for section, lines in sections.items()]
    return "\n".join(blocks).encode("utf-8")


@contextmanager
def merge_file(directory: str, data: bytes) -> Iterator[str]:
    """The merge file, private (0600: it may hold secrets), at an absolute path (IRIS refuses relative ones); removed after."""
    descriptor, path = tempfile.mkstemp(dir=directory, prefix=".irisops-merge.", suffix=".cpf")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        yield os.path.abspath(path)
    finally:
        if os.path.lexists(path):
            os.unlink(path)


def run_merge(control: IrisControl, instance: str, path: str) -> None:
    rc, out, err = control.merge(instance, path)
    if rc != 0 or MERGE_SUCCESS not in out:
        raise MergeError("'iris merge %s' failed (rc=%d): %s" % (instance, rc, (err or out).strip() or "no output"))


# ----------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class PlannedAction(object):
    """An ``[Actions]`` line and whether it has anything to do on this instance."""

    action: MergeAction
    run: bool
    reason: str

    def as_dict(self) -> Dict[str, Any]:
        return dict(action=self.action.render(masked=True), run=self.run, reason=self.reason)


def _split_verb(verb: str) -> Tuple[str, str]:
    for prefix in ACTION_VERBS:
        if verb.startswith(prefix) and len(verb) > len(prefix):
            return prefix, verb[len(prefix):]
    return "", verb


def _object_exists(kind: str, name: str, document: CpfDocument, view: ActiveView) -> Optional[bool]:
    """Whether the object an action names exists now; None when this instance does not show it."""
    if kind in CPF_OBJECT_SECTIONS:
        return document.get(CPF_OBJECT_SECTIONS[kind], name) is not None
    if kind in SECURITY_STORES and view.observable:
        return name in view.security.get(SECURITY_STORES[kind], {})
    return None


def _same_properties(action: MergeAction, current: Dict[str, str]) -> bool:
    given = [(key, value) for key, value in action.properties if key.lower() != "name"]
    return all(not is_secret_key(key) and current.get(key) == value for key, value in given)


def plan_action(action: MergeAction, document: CpfDocument, view: ActiveView) -> PlannedAction:
    prefix, kind = _split_verb(action.verb)
    name = action.name
    exists = _object_exists(kind, name, document, view) if name and prefix else None
    if exists is None:
        return PlannedAction(action, True, "this instance does not show whether %s would change anything" % action.verb)
    if prefix == "Create":
        return PlannedAction(action, not exists, "%s %s exists" % (kind, name) if exists else "%s %s is new" % (kind, name))
    if prefix == "Delete":
        return PlannedAction(action, exists, "%s %s exists" % (kind, name) if exists else "%s %s is absent" % (kind, name))
    current = view.security.get(SECURITY_STORES.get(kind, ""), {}).get(name or "")
    if exists and current is not None and _same_properties(action, current):
        return PlannedAction(action, False, "%s %s already has these properties" % (kind, name))
    return PlannedAction(action, True, "%s %s gets new properties" % (kind, name))


def check_action(action: MergeAction, document: CpfDocument, view: ActiveView) -> Optional[str]:
    """After the merge: why the action's effect is missing, or None when it is there (or cannot be seen)."""
    prefix, kind = _split_verb(action.verb)
    exists = _object_exists(kind, action.name, document, view) if action.name and prefix in ("Create", "Delete") else None
    if exists is None or exists == (prefix == "Create"):
        return None
    return "%s %s is %s after %s" % (kind, action.name, "still there" if exists else "missing", action.verb)


# ----------------------------------------------------------------------------- verification
def check_parameters(settings: Sequence[Tuple[str, str, str]], document: CpfDocument, view: ActiveView) -> List[str]:
    """After the merge: every value in the CPF, and every live one active where that is observable."""
    problems = []
    for section, parameter, value in settings:
        spec = lookup(section, parameter)
        found = document.get(section, parameter)
        if not values_equal(spec, found, value):
            problems.append("[%s] %s: the CPF holds %r, not %r" % (section, parameter, found, value))
        elif view.observable and activation(spec) == ACTIVATED and not values_equal(spec, view.active(section, parameter), value):
            problems.append("[%s] %s: the instance's active value is %r, not %r" % (
                section, parameter, view.active(section, parameter), value))
    return problems


def apply_merge(control: IrisControl, instance: Instance, cpf_path: str, settings: Sequence[Tuple[str, str, str]],
                actions: Sequence[MergeAction]) -> ActiveView:
    """Merge ``settings`` and ``actions`` into the running ``instance``; the active view afterwards.

    MergeError when the command fails or its effect is missing (the caller rolls back).
    """
    with merge_file(os.path.dirname(cpf_path), render_merge_file(settings, actions)) as path:
        run_merge(control, instance.name, path)
    with open(cpf_path, "rb") as handle:
        document = CpfDocument.parse(handle.read())
    view = read_active_view(instance)
    problems = check_parameters(settings, document, view)
    problems += [problem for problem in (check_action(action, document, view) for action in actions) if problem]
    if problems:
        raise MergeError("'iris merge' reported success but %s" % "; ".join(problems))
    return view


def previous_values(targets: Sequence[Tuple[str, str]], before: CpfDocument, view: ActiveView) -> List[Tuple[str, str, str]]:
    """What a rollback merges back: the value active before (observed), else the file's, else the catalog default.

    A parameter the file did not hold and the catalog does not know has no value to go back to; it is left out
    (the restored file bytes then remove it from the CPF).
    """
    values = []
    for section, parameter in targets:
        spec = lookup(section, parameter)
        value = view.active(section, parameter) if view.observable else None
        if value is None:
            value = before.get(section, parameter)
        if value is None and spec is not None:
            value = spec.default
        if value is not None:
            values.append((section, parameter, value))
    return values


def merge_actions(merge: CpfDocument) -> List[MergeAction]:
    """The ``[Actions]`` of a merge file, parsed; a section IRIS would silently ignore (``[actions]``) is refused."""
    spelt = merge.section_name(ACTIONS_SECTION)
    if spelt is not None and spelt != ACTIONS_SECTION:
        raise CpfError("the merge file's section [%s] would be ignored by IRIS, which reads only [%s] (case-sensitive)" % (
            spelt, ACTIONS_SECTION))
    return [parse_action(line) for line in merge.action_lines()]
