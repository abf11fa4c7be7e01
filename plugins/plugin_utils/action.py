# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the collection's action plugins: controller requirements, argument checking, one failure shape.

An action plugin declares what it needs and does only its work::

    REQUIREMENTS = ControllerRequirements("pydantic and jsonschema")
    with REQUIREMENTS.imported():
        from ansible_collections.irisops.iris.plugins.plugin_utils.planner import plan_document

    class ActionModule(IrisOpsActionBase):
        TOOL = "remediation_plan"
        REQUIREMENTS = REQUIREMENTS
        ARGUMENT_SPEC = dict(command=dict(type="raw", required=True))  # as its docs stub documents

        def perform(self, args, task_vars):
            return dict(changed=False, plan=plan_document(args["command"]).as_dict())  # arguments -> work -> result

Every failure, whether ansible-core's argument check, a missing library, an option rule, a raised
``AnsibleActionFail`` or an ``IrisOpsError`` from the work, carries ``failed``, ``changed=false``, ``msg``,
``errors`` (each offending field and the reason) and ``tool_result`` (status failure).
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from ansible.errors import AnsibleActionFail  # type: ignore[import-untyped]
from ansible.module_utils.basic import missing_required_lib  # type: ignore[import-untyped]
from ansible.plugins.action import ActionBase  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils.tool_result import ToolResultBuilder, is_trace_id
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import IrisOpsError
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_text

# Where a user finds the controller libraries: the collection's requirements file (docs/deployment.md).
INSTALL_HINT = "pip install -r requirements/runtime.txt from the irisops.iris collection"


class ControllerRequirements(object):
    """The controller-side libraries an action plugin imports, and the ImportError if one is missing.

    Imports inside ``with REQUIREMENTS.imported():`` that fail are recorded instead of raised, so the plugin
    still loads (ansible-doc, ansible-test's import test) and its task fails naming what is missing.
    """

    def __init__(self, libraries: str) -> None:
        self.libraries = libraries
        self.error: Optional[ImportError] = None

    @contextmanager
    def imported(self) -> Iterator[None]:
        try:
            yield
        except ImportError as error:
            self.error = error

    def check(self, action: str) -> None:
        if self.error is not None:
            missing = self.error.name or self.libraries
            raise AnsibleActionFail(missing_required_lib(
                missing, reason="on the controller by %s, which needs %s (%s)" % (action, self.libraries, INSTALL_HINT)),
                orig_exc=self.error)


class OptionRule(NamedTuple):
    """A rule across options that ansible-core's validate_argument_spec checks, and what the user reads if broken."""

    option: str
    reason: str
    checks: Dict[str, Any]  # validate_argument_spec's keywords: mutually_exclusive, required_if, required_one_of, ...


class OptionError(AnsibleActionFail):  # type: ignore[misc]
    """An option the work cannot use; the message names it: ``<option>: <reason>``."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__("%s: %s" % (option, reason))
        self.errors: List[Tuple[str, str]] = [(option, reason)]


class IrisOpsActionBase(ActionBase):  # type: ignore[misc]
    """ActionBase for irisops.iris: requirements -> validated arguments -> ``perform`` -> result or one failure shape."""

    TOOL: str  # the ToolResult's tool name
    REQUIREMENTS = ControllerRequirements("")  # none beyond ansible-core unless the plugin says so
    ARGUMENT_SPEC: Dict[str, Any]  # each action's options, as its docs stub in plugins/modules documents them
    OPTION_RULES: Sequence[OptionRule] = ()
    tool_result: ToolResultBuilder  # this run's ToolResult: perform adds its changes and builds it
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result: Dict[str, Any] = super().run(tmp, task_vars)
        del tmp  # ignored by ansible-core since 2.5
        self.tool_result = ToolResultBuilder(self.TOOL)
        try:
            self.REQUIREMENTS.check(self._task.action)
            result.update(self.perform(self.validated_arguments(), task_vars or {}))
        except IrisOpsError as error:
            result.update(self.failure(error))
        except AnsibleActionFail as error:  # raised on: it is ansible-core's way to fail a task, with its traceback
            error.result.update(self.failure(error))
            raise
        return result

    @abstractmethod
    def perform(self, args: Dict[str, Any], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """The plugin's work on its validated arguments; returns the task result (raise to fail)."""

    def validated_arguments(self) -> Dict[str, Any]:
        """The task's arguments as ansible-core checks and converts them against ARGUMENT_SPEC and OPTION_RULES.

        The rules are checked one at a time, so a failure says which rule broke and why (``option: reason``).
        """
        unused_validation, arguments = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        for rule in self.OPTION_RULES:
            try:
                self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC, **rule.checks)
            except AnsibleActionFail:
                raise OptionError(rule.option, rule.reason) from None
        return dict(arguments)

    @property
    def check_mode(self) -> bool:
        return bool(self._task.check_mode)

    def use_trace_id(self, trace_id: Optional[str]) -> None:
        """The run's trace id, once known, for its ToolResult (a missing or malformed one keeps the current)."""
        if is_trace_id(trace_id):
            self.tool_result.trace_id = trace_id

    def scrub(self, text: str) -> str:
        """Text fit for the result: secrets redacted."""
        return redact_text(text)

    def failure(self, error: Exception, requires_user_action: bool = False) -> Dict[str, Any]:
        """The failed task result for ``error``; its ``errors`` are ``(path, reason)`` pairs, when it has them."""
        message = self.scrub(str(error))
        return dict(failed=True, changed=False, msg=message,
                    errors=[{"path": path, "reason": self.scrub(reason)} for path, reason in getattr(error, "errors", [])],
                    tool_result=self.tool_result.build("failure", error_message=message, dry_run=self.check_mode,
                                                       requires_user_action=requires_user_action))
