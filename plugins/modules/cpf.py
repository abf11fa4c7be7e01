#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cpf
short_description: Edit an InterSystems IRIS configuration parameter file (CPF) losslessly and idempotently
version_added: 0.1.0
description:
  - Sets or removes parameters in an IRIS C(iris.cpf) (or Caché C(cache.cpf)), one at a time, as a list applied
    as one atomic change set, or from an IRIS merge file.
  - Only the affected lines change; comments, line endings (CRLF or LF), spacing, key case, a missing final
    newline and every other byte stay as they were. New keys go where IRIS writes them.
  - Values are checked against a catalog of the parameters remediation touches (type, range, units); the result
    says whether the change needs an instance restart.
  - The file is written atomically (temporary file in the same directory, fsync, rename) keeping its owner and
    mode, read back and verified; a failed verification puts the previous content back.
  - IRIS reads the CPF at startup; edit a running instance's file and restart it (M(irisops.iris.instance_restart))
    for the change to take effect.
  - With O(apply=merge) the change set goes into a running instance through C(iris merge) (IRIS 2021.1+) instead.
    Parameters IRIS changes live (the catalog's C(requires_restart=false), e.g. C([config] locksiz),
    C([SQL] LockThreshold)) are active at once without a restart, the others are written to the CPF and wait for
    the next restart, and the C([Actions]) of a O(merge_file) run. Each change reports C(activated) or
    C(restart_required). Guards, check mode, diff and backup work as with O(apply=file).
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.iris.CONTROL
  - irisops.iris.iris.TOOL_RESULT
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details:
      - Returns the would-be O(ignore:tool_result) with C(dry_run=true) and the would-be diff.
  diff_mode:
    support: full
    details:
      - The content before and after with secret values (C([Startup] PasswordHash), C(LicenseID), every key of the
        redaction list) masked, in check mode too. When file attributes (O(mode), O(owner), ...) differ as well, a list
        of the content diff and the attributes diff.
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  path:
    description:
      - Absolute path of the CPF. Symbolic links are followed and keep pointing where they pointed.
      - Paths with C(..) components and anything that is not a regular file are refused.
    type: path
  instance:
    description:
      - Name of an IRIS instance; its CPF is found with C(iris qlist).
    type: str
  section:
    description:
      - Section of O(parameter), for example C(config) or C(Startup). Matched case-insensitively.
    type: str
  parameter:
    description:
      - Parameter to set or remove in O(section).
    type: str
  value:
    description:
      - Value to set. Required with O(parameter) when O(state=present).
      - Normalised by the catalog (C(064) is C(64)); line breaks, control characters and C(//) at the start or after a
        space (the CPF would read the rest as a comment) are refused before anything is written.
    type: str
  current_value:
    description:
      - The value the file is expected to hold now. A file that already holds O(value) (or, with O(state=absent), no
        longer has the parameter) counts as already applied, ok and unchanged, so a re-run is green.
      - When the file holds anything else (or the parameter is absent), the module fails without changing anything
        and reports the file's value, O(current_value) and O(value).
    type: str
  state:
    description:
      - V(present) sets the value, adding the key (and section) when missing; V(absent) removes the key.
    type: str
    choices: [present, absent]
    default: present
  settings:
    description:
      - Several changes applied together in one write; all are validated before anything is written.
    type: list
    elements: dict
    suboptions:
      section:
        description: Section of the parameter.
        type: str
        required: true
      parameter:
        description: Parameter name.
        type: str
        required: true
      value:
        description: Value to set (required when O(settings[].state=present)).
        type: str
      current_value:
        description: Expected current value, as for O(current_value).
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  merge_file:
    description:
      - Path of an IRIS merge file (a partial CPF) whose C(section)/C(key=value) lines are applied as one change set.
      - With O(apply=file) a merge file with an C([Actions]) section is refused; actions need a running instance.
      - With O(apply=merge) its C([Actions]) (C(CreateDatabase:Name=APPA,Directory=/data/APPA), ...) run too. An action
        whose object visibly exists already (a database or namespace in the CPF; users, roles, resources and services
        where the instance shows them) is skipped, so a second run changes nothing. Actions are not undone by a
        rollback. IRIS silently ignores a section spelt C([actions]); such a file is refused.
    type: path
  apply:
    description:
      - V(file) edits the CPF; IRIS reads it at the next start.
      - V(merge) applies the change set to the running instance O(instance) with C(iris merge), activating at once
        what IRIS can change live. The instance must be running. O(state=absent) is not possible (a merge only sets
        values). The merge file is written beside the CPF (mode 0600) and removed afterwards.
      - After the merge the CPF is read back and, where the instance shows its active values (the bundled
        emulator), each live value must be active; otherwise the previous values are merged back (restoring the
        active ones) and the file's previous bytes are put back.
      - V(auto) is V(merge) when O(instance) is running and V(file) otherwise (a stopped instance reads the file when
        it starts). RV(apply) says which was used.
    type: str
    choices: [file, merge, auto]
    default: file
  allow_unknown:
    description:
      - Write parameters the catalog does not know in sections it knows. Unknown sections are always refused.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of the file before changing it (only when something changes).
    type: bool
    default: false
  validate_only:
    description:
      - Validate the request against the catalog and the file and report what would change, without writing.
    type: bool
    default: false
  timeout:
    description:
      - Seconds the whole operation may take, including waiting for another editor of the same CPF.
    type: int
    default: 60
notes:
  - Concurrent runs of this module on the same directory are serialised with an advisory lock.
  - A backup or a replacement that the filesystem refuses (read-only directory, C(chattr +i), EACCES) fails with the
    path and the reason and leaves the file as it was. With O(unsafe_writes=true) a CPF whose directory refuses new
    files is written in place.
  - File attributes (O(mode), O(owner), O(group), SELinux) are compared in check mode too.
seealso:
  - module: irisops.iris.cpf_info
"""

EXAMPLES = r"""
- name: Give the shared memory heap 300 MB
  irisops.iris.cpf:
    path: /usr/irissys/iris.cpf
    section: config
    parameter: gmheap
    value: "307200"
    backup: true
  register: heap

- name: Raise the lock escalation threshold only if nobody changed it meanwhile
  irisops.iris.cpf:
    instance: IRIS
    section: SQL
    parameter: LockThreshold
    current_value: "1000"
    value: "5000"

- name: Several changes in one atomic write
  irisops.iris.cpf:
    path: /usr/irissys/iris.cpf
    settings:
      - {section: config, parameter: globals, value: "0,0,2048,0,0,0"}
      - {section: config, parameter: jrnbufs, value: "128"}
      - {section: Startup, parameter: SystemMode, value: LIVE}

- name: Raise the lock table limit and the lock escalation threshold without a restart
  irisops.iris.cpf:
    instance: IRIS
    apply: merge
    backup: true
    settings:
      - {section: config, parameter: locksiz, current_value: "1048576", value: "33554432"}
      - {section: SQL, parameter: LockThreshold, value: "5000"}
  register: merged

- name: Create a database and a namespace on a running instance
  irisops.iris.cpf:
    instance: IRIS
    apply: merge
    merge_file: /opt/deploy/actions.cpf   # [Actions] CreateDatabase:Name=APPA,... CreateNamespace:Name=APPA,...

- name: Apply the parameter part of a merge file
  irisops.iris.cpf:
    path: /usr/irissys/iris.cpf
    merge_file: /opt/deploy/merge.cpf
"""

RETURN = r"""
path:
  description: Real path of the CPF that was (or would be) edited.
  returned: always
  type: str
  sample: /usr/irissys/iris.cpf
changes:
  description: Each requested setting with the file's value before and the value after (null = absent).
  returned: always
  type: list
  elements: dict
  contains:
    section: {description: Section as written in the file (or the catalog's spelling when new)., type: str}
    parameter: {description: Parameter name., type: str}
    before: {description: Value before; secrets are masked., type: str}
    after: {description: Value after; secrets are masked., type: str}
    changed: {description: Whether this setting changes the file (O(apply=merge) also when it activates a value)., type: bool}
    requires_restart: {description: Whether IRIS needs a restart to use the new value., type: bool}
    activation:
      description: With O(apply=merge), for a changed setting, V(activated) (in effect now) or V(restart_required)
        (written, in effect after the next restart); null when unchanged or with O(apply=file).
      type: str
    active_before:
      description: With O(apply=merge), the instance's active value before; null when not observable.
      type: str
    active_after:
      description: With O(apply=merge), the instance's active value after the merge; null when not observable.
      type: str
  sample: [{section: config, parameter: gmheap, before: "37568", after: "307200", changed: true, requires_restart: true}]
apply:
  description: How the change set was applied, V(file) or V(merge) (O(apply=auto) resolved).
  returned: unless the options were refused
  type: str
  sample: merge
restart_required:
  description: True when this run changed (or in check mode would change) a parameter that needs a restart.
    Parameters the catalog does not know count as needing one.
  returned: always
  type: bool
dangerous:
  description: Targets changed by this run that the catalog flags as dangerous, with the reason.
  returned: always
  type: list
  elements: str
activated:
  description: With O(apply=merge), the targets (C([section] parameter)) this run made active without a restart.
  returned: when O(apply=merge)
  type: list
  elements: str
  sample: ["[config] locksiz", "[SQL] LockThreshold"]
pending_restart:
  description: With O(apply=merge), the targets this run wrote that wait for the next restart.
  returned: when O(apply=merge)
  type: list
  elements: str
  sample: ["[config] gmheap"]
actions:
  description: With O(apply=merge), each C([Actions]) line of the merge file (secrets masked), whether it ran (or
    would run) and why.
  returned: when O(apply=merge)
  type: list
  elements: dict
  sample: [{action: "CreateDatabase:Name=APPA,Directory=/data/APPA", run: true, reason: Database APPA is new}]
active_source:
  description: With O(apply=merge), where the active values were observed (the emulator's state file); null when the
    instance does not show them (a real IRIS instance), then RV(active_reason) says why.
  returned: when O(apply=merge)
  type: str
active_reason:
  description: With O(apply=merge), why active values are not observable; null when they are.
  returned: when O(apply=merge)
  type: str
backup_file:
  description: Path of the backup copy.
  returned: when O(backup=true) and the file changed
  type: str
valid:
  description: True when every setting passed validation (with O(validate_only=true)).
  returned: when O(validate_only=true)
  type: bool
current_value:
  description: The expected value given in O(current_value) when it did not match (secrets are masked).
  returned: on a current_value mismatch
  type: str
file_value:
  description: The value the file holds when it did not match O(current_value) (null = absent; secrets are masked).
  returned: on a current_value mismatch
  type: str
tool_result:
  description: ToolResult of this run (status, changes with target/old_value/new_value, error_message,
    requires_user_action, dry_run, duration_ms, trace_id).
  returned: always
  type: dict
  sample: {tool: cpf, status: success, changes: [{target: "[config] gmheap", old_value: "37568", new_value: "307200"}],
           error_message: null, requires_user_action: true, dry_run: false, duration_ms: 3,
           trace_id: 4bf92f3577b34da6a3ce929d0e0e4736}
"""

import time
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import cpf_catalog
from ansible_collections.irisops.iris.plugins.module_utils.cpf import (
    ACTIONS_SECTION, CpfDocument, CpfError, MergeAction, check_cpf_path, directory_lock, replace_file_verified)
from ansible_collections.irisops.iris.plugins.module_utils.cpf_merge import (
    ACTIVATED, ActiveView, MergeError, PlannedAction, activation, apply_merge, merge_actions, plan_action,
    previous_values, read_active_view)
from ansible_collections.irisops.iris.plugins.module_utils.durable import error_chain, replace_file
from ansible_collections.irisops.iris.plugins.module_utils.file_attributes import apply_file_attributes
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import CONTROL_ARGUMENT_SPEC, IrisControl, IrisControlError
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import MASK, is_secret_key, masked
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC, ToolResultBuilder

TOOL = "cpf"
SETTING_SPEC: Dict[str, Any] = dict(
    section=dict(type="str", required=True),
    parameter=dict(type="str", required=True),
    value=dict(type="str"),
    current_value=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


class Setting(object):
    """One validated change request."""

    def __init__(self, section: str, parameter: str, value: Optional[str], current_value: Optional[str],
                 state: str, spec: Optional[cpf_catalog.ParameterSpec]) -> None:
        self.section = section
        self.parameter = parameter
        self.value = value
        self.current_value = current_value
        self.state = state
        self.spec = spec

    @property
    def target(self) -> str:
        return "[%s] %s" % (self.section, self.parameter)

    @property
    def requires_restart(self) -> bool:
        return self.spec.requires_restart if self.spec is not None else True

    def shown(self, value: Optional[str]) -> Optional[str]:
        return masked(self.parameter, value)

    def already_applied(self, file_value: Optional[str]) -> bool:
        """The file already holds what this setting asks for (a re-run of an applied change)."""
        if self.state == "absent":
            return file_value is None
        return file_value is not None and cpf_catalog.values_equal(self.spec, file_value, self.value or "")


def argument_spec() -> Dict[str, Any]:
    return dict(
        path=dict(type="path"),
        instance=dict(type="str"),
        **CONTROL_ARGUMENT_SPEC,
        section=dict(type="str"),
        parameter=dict(type="str"),
        value=dict(type="str"),
        current_value=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        settings=dict(type="list", elements="dict", options=SETTING_SPEC),
        merge_file=dict(type="path"),
        apply=dict(type="str", choices=["file", "merge", "auto"], default="file"),
        allow_unknown=dict(type="bool", default=False),
        backup=dict(type="bool", default=False),
        validate_only=dict(type="bool", default=False),
        timeout=dict(type="int", default=60),
        **TOOL_RESULT_ARGUMENT_SPEC,
    )


def requested_settings(params: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The raw requests from whichever of parameter / settings / merge_file was given."""
    if params["parameter"] is not None:
        return [dict(section=params["section"], parameter=params["parameter"], value=params["value"],
                     current_value=params["current_value"], state=params["state"])]
    if params["settings"] is not None:
        return list(params["settings"])
    return merge_file_settings(params["merge_file"], params["apply"] == "merge")


def read_merge_file(path: str) -> CpfDocument:
    with open(check_cpf_path(path), "rb") as handle:
        return CpfDocument.parse(handle.read())


def merge_file_settings(path: str, with_actions: bool = False) -> List[Dict[str, Any]]:
    merge = read_merge_file(path)
    if merge.has_section(ACTIONS_SECTION) and not with_actions:
        raise CpfError("merge file %s has an [%s] section; actions need 'iris merge' on a running instance "
                       "(apply: merge), or remove them to apply the parameters here" % (
                           path, merge.section_name(ACTIONS_SECTION)))
    found = [dict(section=section, parameter=key, value=value, current_value=None, state="present")
             for section, pairs in merge.items() for key, value in pairs
             if section.lower() != ACTIONS_SECTION.lower()]
    if not found and not (with_actions and merge.action_lines()):
        raise CpfError("merge file %s contains no section/key=value lines" % path)
    return found


def validate_settings(raw: List[Dict[str, Any]], allow_unknown: bool) -> List[Setting]:
    """Check every request before touching anything; raise ValueError listing every problem."""
    settings: List[Setting] = []
    problems: List[str] = []
    seen = set()
    for number, request in enumerate(raw, 1):
        state = request.get("state") or "present"
        value = request.get("value")
        try:
            if state == "present" and value is None:
                raise ValueError("value is required to set %s in [%s]" % (request["parameter"], request["section"]))
            section, spec, normalised = cpf_catalog.check_setting(
                request["section"], request["parameter"], value if state == "present" else None, allow_unknown)
            parameter = spec.name if spec is not None else request["parameter"]
            key = (section.lower(), parameter.lower())
            if key in seen:
                raise ValueError("[%s] %s is requested more than once" % (section, parameter))
            seen.add(key)
            settings.append(Setting(section, parameter, normalised, request.get("current_value"), state, spec))
        except ValueError as error:
            problems.append("setting %d: %s" % (number, error) if len(raw) > 1 else str(error))
    if problems:
        raise ValueError("; ".join(problems))
    return settings


def guard_allows(setting: Setting, file_value: Optional[str]) -> bool:
    """The current_value guard passes when the file holds the expected value, or already the new one."""
    if setting.current_value is None or setting.already_applied(file_value):
        return True
    if file_value is None:
        return False
    if setting.spec is not None:
        try:
            return cpf_catalog.values_equal(setting.spec, file_value,
                                            cpf_catalog.validate_value(setting.spec, setting.current_value))
        except ValueError:
            return file_value == setting.current_value.strip()
    return file_value == setting.current_value.strip()


class CpfEdit(object):
    """Plans the edit on a parsed document, then applies it in one atomic write."""

    def __init__(self, module: AnsibleModule, path: str, settings: List[Setting]) -> None:
        self.module = module
        self.path = path
        self.settings = settings
        self.builder = ToolResultBuilder(TOOL, module.params["trace_id"])
        self.deadline = time.monotonic() + module.params["timeout"]
        self.changes: List[Dict[str, Any]] = []
        self.result: Dict[str, Any] = dict(changed=False, path=path, changes=self.changes, restart_required=False,
                                           dangerous=[])

    def fail(self, msg: str, **extra: Any) -> None:
        """fail_json with this run's ToolResult; it exits."""
        tool_result = self.builder.build(status="failure", error_message=msg, dry_run=self.dry_run)
        self.result.update(extra)
        self.result.update(changed=False, tool_result=tool_result)
        self.module.fail_json(msg=msg, **self.result)

    @property
    def dry_run(self) -> bool:
        return bool(self.module.check_mode or self.module.params["validate_only"])

    def plan(self, document: CpfDocument) -> None:
        for setting in self.settings:
            before = document.get(setting.section, setting.parameter)
            if not guard_allows(setting, before):
                self.fail("%s: the file holds %r, neither the expected current_value %r nor the new value %r; "
                          "nothing was changed" % (setting.target, setting.shown(before),
                                                   setting.shown(setting.current_value),
                                                   setting.shown(setting.value if setting.state == "present" else None)),
                          current_value=setting.shown(setting.current_value), file_value=setting.shown(before))
            section = document.section_name(setting.section) or setting.section
            parameter = document.parameter_name(setting.section, setting.parameter) or setting.parameter
            if setting.state == "absent":
                changed = document.remove(section, parameter)
                after = None
            else:
                wanted = setting.value if setting.value is not None else ""
                changed = (not cpf_catalog.values_equal(setting.spec, before, wanted)
                           and document.set(section, parameter, wanted))
                after = wanted if changed else before
            self.record(setting, section, parameter, before, after, changed)

    def record(self, setting: Setting, section: str, parameter: str, before: Optional[str], after: Optional[str],
               changed: bool) -> None:
        self.changes.append(dict(section=section, parameter=parameter, before=setting.shown(before),
                                 after=setting.shown(after), changed=changed,
                                 requires_restart=setting.requires_restart))
        if not changed:
            return
        self.builder.add_change("%s %s" % (self.path, "[%s] %s" % (section, parameter)),
                                setting.shown(before), setting.shown(after))
        self.result["restart_required"] = self.result["restart_required"] or setting.requires_restart
        if setting.spec is not None and setting.spec.dangerous:
            self.result["dangerous"].append("%s: %s" % (setting.target, setting.spec.danger))

    def verify(self, written: bytes) -> None:
        """Read-back check: the file parses and holds every requested value."""
        document = CpfDocument.parse(written)
        for setting in self.settings:
            found = document.get(setting.section, setting.parameter)
            expected = None if setting.state == "absent" else setting.value
            if (found is None) != (expected is None) or (
                    expected is not None and not cpf_catalog.values_equal(setting.spec, found, expected)):
                raise CpfError("read-back of %s found %r instead of %r" % (setting.target, found, expected))

    def run(self) -> None:
        try:
            with directory_lock(self.path, self.deadline):
                with open(self.path, "rb") as handle:
                    original = handle.read()
                document = CpfDocument.parse(original)
                self.plan(document)
                updated = document.render()
                self.result["changed"] = self.needs_apply(original, updated)
                if self.result["changed"] and not self.dry_run:
                    self.write(original, updated)
        except (CpfError, OSError) as error:
            self.fail("%s: %s" % (self.path, error))
        attributes_diff = None
        if self.module.params["validate_only"]:
            self.result.update(valid=True, changed=False)
        else:
            self.result["changed"], attributes_diff = apply_file_attributes(self.module, self.path, self.result["changed"])
        if self.module._diff:
            changed = ["[%s] %s" % (entry["section"], entry["parameter"]) for entry in self.changes if entry["changed"]]
            self.result["diff"] = content_diff(self.path, original, document, attributes_diff, changed)
        self.result["tool_result"] = self.builder.build(
            requires_user_action=bool(self.result["restart_required"]), dry_run=self.dry_run)
        self.module.exit_json(**self.result)

    def needs_apply(self, original: bytes, updated: bytes) -> bool:
        """Whether the planned change set has anything to do (apply=merge also counts activations and actions)."""
        return updated != original

    def write(self, original: bytes, updated: bytes) -> None:
        if time.monotonic() >= self.deadline:
            raise CpfError("timed out after %d s before writing; nothing was changed" % self.module.params["timeout"])
        self.keep_backup()
        unsafe_writes = self.module.params["unsafe_writes"]
        try:
            replace_file_verified(self.path, original, updated, self.move, self.verify,
                                  fallback_dir=self.module.tmpdir if unsafe_writes else None)
        except CpfError as error:
            raise CpfError("%s; the previous content was restored" % error) from None
        except (MoveFailed, OSError) as error:
            raise CpfError("cannot replace the file: %s; %s" % (error_chain(error), self.state_of_file(original))) from None

    def keep_backup(self) -> None:
        """With backup: true, a timestamped copy before the change (only called when something changes)."""
        if self.module.params["backup"]:
            try:
                self.result["backup_file"] = self.module.backup_local(self.path)
            except Exception as error:  # ansible-core raises a bare Exception with the OSError as its cause
                raise CpfError("cannot keep a backup copy: %s; nothing was changed" % error_chain(error)) from None

    def move(self, source: str, destination: str) -> None:
        """atomic_move honouring unsafe_writes (in-place write when a rename cannot be done, e.g. a bind mount)."""
        try:
            self.module.atomic_move(source, destination, unsafe_writes=self.module.params["unsafe_writes"])
        except Exception as error:  # ansible-core raises a bare Exception with the OSError as its cause
            raise MoveFailed(error_chain(error)) from None

    def state_of_file(self, original: bytes) -> str:
        """After a failed write: say honestly whether the file still holds its previous bytes."""
        try:
            with open(self.path, "rb") as handle:
                current = handle.read()
        except OSError as error:
            return "the file could not be read back (%s)" % error.strerror
        return "nothing was changed" if current == original else "the file no longer holds its previous content"


class MoveFailed(Exception):
    """atomic_move could not put the new content in place."""


def content_diff(path: str, original: bytes, document: CpfDocument, attributes: Optional[Dict[str, Any]],
                 targets: List[str]) -> Any:
    """The --diff of the file with every secret value masked; a list with the attributes diff when they differ.
    The header names the changed parameters with their sections (a hunk of ``k=v`` lines alone does not)."""
    header = "%s (content%s)" % (path, ": " + ", ".join(targets) if targets else "")
    before = CpfDocument.parse(original).render_masked(is_secret_key, MASK).decode("utf-8", "replace")
    after = document.render_masked(is_secret_key, MASK).decode("utf-8", "replace")
    content = dict(before=before, after=after, before_header=header, after_header=header)
    return [content, attributes] if attributes else content


class CpfMergeEdit(CpfEdit):
    """apply=merge: the same plan, guards, diff and backup as CpfEdit; the change set goes into the running
    instance through ``iris merge`` (module_utils/cpf_merge.py), and a failure merges the previous values back."""

    def __init__(self, module: AnsibleModule, path: str, settings: List[Setting], control: IrisControl,
                 instance_name: str, actions: List[MergeAction]) -> None:
        super().__init__(module, path, settings)
        for setting in settings:
            if setting.state == "absent":
                raise CpfError("%s: apply=merge cannot remove a parameter (a merge only sets values); use apply=file" % (
                    setting.target))
        self.control = control
        self.instance = control.instance(instance_name)
        if not self.instance.running:
            raise CpfError("apply=merge needs a running instance and %s is %s; use apply=file (IRIS reads the CPF "
                           "at its next start)" % (self.instance.name, self.instance.status or "not running"))
        self.actions = actions
        self.view: ActiveView = read_active_view(self.instance)
        self.planned_actions: List[PlannedAction] = []
        self.to_merge: List[Tuple[str, str, str]] = []
        self.before = CpfDocument.parse(b"")  # the file as planned from, set by plan()
        self.result.update(activated=[], pending_restart=[], actions=[], active_source=self.view.source,
                           active_reason=self.view.reason)

    def plan(self, document: CpfDocument) -> None:
        self.before = CpfDocument.parse(document.render())
        super().plan(document)
        for setting, entry in zip(self.settings, self.changes):
            active = self.view.active(setting.section, setting.parameter)
            live = activation(setting.spec) == ACTIVATED
            # Written earlier (e.g. by apply=file) but not in effect: merging it again activates it.
            inactive = (self.view.observable and live
                        and not cpf_catalog.values_equal(setting.spec, active, setting.value or ""))
            entry.update(activation=None, active_before=setting.shown(active), active_after=setting.shown(active))
            if not (entry["changed"] or inactive):
                continue
            if not entry["changed"]:
                entry["changed"] = True
                self.builder.add_change("%s [%s] %s (active)" % (self.instance.name, entry["section"], entry["parameter"]),
                                        setting.shown(active), setting.shown(setting.value))
            entry["activation"] = activation(setting.spec)
            self.label_file_change(entry, live)
            self.to_merge.append((entry["section"], entry["parameter"], setting.value or ""))
            self.result["activated" if live else "pending_restart"].append(setting.target)
        self.planned_actions = [plan_action(action, self.before, self.view) for action in self.actions]
        self.result["actions"] = [planned.as_dict() for planned in self.planned_actions]

    def label_file_change(self, entry: Dict[str, Any], live: bool) -> None:
        """The ToolResult (and so the WorkflowTrace) says which written values are active now and which wait."""
        target = "%s [%s] %s" % (self.path, entry["section"], entry["parameter"])
        for change in self.builder.changes:
            if change["target"] == target:
                change["target"] += " (active now)" if live else " (waits for the restart)"

    def needs_apply(self, original: bytes, updated: bytes) -> bool:
        return bool(self.to_merge) or any(planned.run for planned in self.planned_actions)

    def write(self, original: bytes, updated: bytes) -> None:
        if time.monotonic() >= self.deadline:
            raise CpfError("timed out after %d s before the merge; nothing was changed" % self.module.params["timeout"])
        self.keep_backup()
        actions = [planned.action for planned in self.planned_actions if planned.run]
        try:
            after = apply_merge(self.control, self.instance, self.path, self.to_merge, actions)
        except (MergeError, IrisControlError, OSError) as error:
            raise CpfError("%s; %s" % (error, self.roll_back(original, bool(actions)))) from None
        for setting, entry in zip(self.settings, self.changes):
            entry["active_after"] = setting.shown(after.active(setting.section, setting.parameter))

    def roll_back(self, original: bytes, actions_ran: bool) -> str:
        """Merge the previous values back (restoring the active ones), then put the file's previous bytes back."""
        notes = []
        previous = previous_values([(section, parameter) for section, parameter, _value in self.to_merge],
                                   self.before, self.view)
        try:
            if previous:
                apply_merge(self.control, self.instance, self.path, previous, [])
                notes.append("the previous values were merged back (active values restored)")
        except (MergeError, IrisControlError, OSError) as error:
            notes.append("merging the previous values back failed too (%s): the active values may differ from the file"
                         % error)
        try:
            replace_file(self.path, original, self.move)
            notes.append("the file's previous content was restored")
        except (MoveFailed, OSError) as error:
            notes.append("restoring the file's previous content failed (%s)" % error_chain(error))
        if actions_ran:
            notes.append("actions that ran are not undone")
        return "; ".join(notes)


def resolve_path(module: AnsibleModule) -> str:
    if module.params["path"]:
        return check_cpf_path(module.params["path"])
    control = IrisControl.from_module(module)
    return check_cpf_path(control.instance(module.params["instance"]).cpf_path)


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("path", "instance"), ("parameter", "settings", "merge_file")],
        required_one_of=[("path", "instance"), ("parameter", "settings", "merge_file")],
        required_together=[("section", "parameter")],
        required_if=[("apply", "merge", ("instance",)), ("apply", "auto", ("instance",))],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    builder = ToolResultBuilder(TOOL, module.params["trace_id"])
    if module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got %d" % module.params["timeout"],
                         tool_result=builder.build(status="failure", error_message="bad timeout"))
    try:
        path = resolve_path(module)
        apply = module.params["apply"]
        if apply != "file":
            control = IrisControl.from_module(module)
            if apply == "auto":
                apply = "merge" if control.instance(module.params["instance"]).running else "file"
        module.params["apply"] = apply
        settings = validate_settings(requested_settings(module.params), module.params["allow_unknown"])
        if apply == "merge":
            actions = merge_actions(read_merge_file(module.params["merge_file"])) if module.params["merge_file"] else []
            edit: CpfEdit = CpfMergeEdit(module, path, settings, control, module.params["instance"], actions)
        else:
            edit = CpfEdit(module, path, settings)
        edit.result["apply"] = apply
    except (ValueError, IrisControlError, OSError) as error:
        msg = str(error)
        module.fail_json(msg=msg, changed=False, tool_result=builder.build(
            status="failure", error_message=msg, dry_run=module.check_mode))
    edit.run()


if __name__ == "__main__":
    main()
