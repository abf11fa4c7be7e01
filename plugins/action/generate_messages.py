# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.generate_messages: generate on the controller, write on the target.

Messages are generated into a controller temp file (streaming, constant memory), then either
returned, copied to ``dest`` (ansible.builtin.copy: checksum-based ``changed``, check and diff
mode), or appended to an instance's live messages.log, found with ``iris qlist`` on the target
(irisops.iris.instance_info, which also runs in check mode).
"""

from __future__ import annotations

import io
import os
import shlex
import tempfile
from datetime import datetime
from typing import Any, Dict, List, Optional, TextIO, Tuple

from ansible.errors import AnsibleActionFail  # type: ignore[import-untyped]
from ansible.utils.display import Display  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import MASK
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC
from ansible_collections.irisops.iris.plugins.plugin_utils.action import (
    ControllerRequirements, IrisOpsActionBase, OptionError, OptionRule)

REQUIREMENTS = ControllerRequirements("pydantic, openai and structlog")
with REQUIREMENTS.imported():
    from ansible_collections.irisops.iris.plugins.plugin_utils.generator import engine as generator_engine
    from ansible_collections.irisops.iris.plugins.plugin_utils.generator import llm as generator_llm
    from ansible_collections.irisops.iris.plugins.plugin_utils.generator import runner
    from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger

display = Display()

# Appends one file to another on the target; both paths travel as arguments, never inside the script.
APPEND_SCRIPT = '[ -f "$2" ] || { echo "messages.log $2 does not exist" >&2; exit 3; }; cat -- "$1" >> "$2"'


class _DisplayStream(io.StringIO):
    """structlog output goes to Ansible's display at -vvv, not to stdout/stderr of the play."""

    def write(self, text: str) -> int:
        if text.strip():
            display.vvv(text.rstrip("\n"))
        return len(text)


class ActionModule(IrisOpsActionBase):
    TOOL = "generate_messages"
    REQUIREMENTS = REQUIREMENTS
    ARGUMENT_SPEC: Dict[str, Any] = dict(
        category=dict(type="list", elements="str", required=True),
        count=dict(type="int", default=10),
        severity=dict(type="raw", default="0-3"),
        engine=dict(type="str", default="template", choices=["template", "llm"]),
        seed=dict(type="int"),
        start_time=dict(type="str"),
        timezone=dict(type="str"),
        rate=dict(type="float", default=1.0),
        jitter=dict(type="float", default=0.5),
        output=dict(type="str", default="json", choices=["json", "ndjson", "log"]),
        dest=dict(type="path"),
        instance=dict(type="str"),
        append_to_instance_log=dict(type="bool", default=False),
        iris_bin=dict(type="path"),
        return_limit=dict(type="int", default=1000),
        **TOOL_RESULT_ARGUMENT_SPEC,
        model=dict(type="str", default="gpt-4o"),
        temperature=dict(type="float", default=0.7),
        base_url=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        llm_timeout=dict(type="float", default=30.0),
        llm_max_retries=dict(type="int", default=2),
        llm_max_attempts=dict(type="int", default=3),
        fallback=dict(type="str", default="template", choices=["template", "fail"]),
    )
    OPTION_RULES = (
        OptionRule("dest", "mutually exclusive with append_to_instance_log (which writes the instance's messages.log)",
                   dict(mutually_exclusive=[["dest", "append_to_instance_log"]])),
        OptionRule("append_to_instance_log", "needs instance (the instance whose messages.log to append to)",
                   dict(required_if=[["append_to_instance_log", True, ["instance"]]])),
    )
    api_key: Optional[str] = None

    def perform(self, args: Dict[str, Any], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        self.api_key = args.pop("api_key")
        self.use_trace_id(args["trace_id"])
        handle, local_path = tempfile.mkstemp(prefix="irisops-generate-", suffix="." + args["output"])
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                outcome, spec = self._generate(args, stream)
            return self._deliver(args, spec, outcome, local_path, task_vars)
        except ValueError as exc:  # iris_log.LogFormatError (a bad timezone) included
            raise AnsibleActionFail(self.scrub(str(exc))) from None
        finally:
            os.unlink(local_path)

    def scrub(self, text: str) -> str:
        return super().scrub(text.replace(self.api_key, MASK) if self.api_key else text)

    def _generate(self, args: Dict[str, Any], stream: TextIO) -> Tuple[runner.RunOutcome, generator_engine.GenerationSpec]:
        tz = iris_log.resolve_timezone(args["timezone"])
        start = None
        if args["start_time"]:
            try:
                start = iris_log.since_cutoff(args["start_time"], tz)
            except iris_log.LogFormatError as exc:
                raise OptionError("start_time", str(exc).replace("since: ", "", 1)) from None
        # What the argument spec cannot say: a value that depends on another option's value.
        if args["append_to_instance_log"] and args["output"] != "log":
            raise OptionError("output", "must be 'log' when appending to an instance's messages.log, got %r" % args["output"])
        if args["return_limit"] < 0:
            raise OptionError("return_limit", "must be >= 0, got %d" % args["return_limit"])
        writes_file = bool(args["dest"] or args["append_to_instance_log"])
        if not writes_file and args["count"] > args["return_limit"]:
            raise OptionError("count", "%d messages are more than return_limit=%d can return in the task result; "
                              "set dest (the file streams with constant memory) or raise return_limit"
                              % (args["count"], args["return_limit"]))
        spec = generator_engine.build_spec(
            args["category"], count=args["count"], severity=args["severity"], engine=args["engine"], seed=args["seed"],
            start_time=start, instance=args["instance"], trace_id=args["trace_id"], rate=args["rate"],
            jitter=args["jitter"])
        self.use_trace_id(spec.request.trace_id)
        settings = None
        if args["engine"] == "llm":
            settings = generator_llm.LLMSettings(
                api_key=generator_llm.resolve_api_key(self.api_key, args["base_url"]), model=args["model"],
                temperature=args["temperature"], base_url=args["base_url"], timeout=args["llm_timeout"],
                max_retries=args["llm_max_retries"], max_attempts=args["llm_max_attempts"], fallback=args["fallback"])
        logger = build_logger("irisops.iris.generate_messages", stream=_DisplayStream(), trace_id=spec.request.trace_id)
        keep = args["return_limit"] if writes_file else args["count"]
        outcome = runner.run(spec, args["output"], stream, logger, keep, datetime.now(tz), settings)
        return outcome, spec

    def _deliver(self, args: Dict[str, Any], spec: generator_engine.GenerationSpec, outcome: runner.RunOutcome,
                 local_path: str, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        delivered: Dict[str, Any] = dict(changed=False, count=outcome.count, output=args["output"],
                                         engine=args["engine"], trace_id=spec.request.trace_id, checksum=outcome.sha1,
                                         metrics=outcome.metrics, dest=None)
        returned = outcome.count <= args["return_limit"]
        delivered["messages"] = outcome.messages if returned else []
        delivered["messages_returned"] = len(delivered["messages"])
        if args["dest"]:
            copied = self._copy(local_path, args["dest"], task_vars)
            delivered.update(changed=bool(copied.get("changed")), dest=args["dest"])
            if copied.get("diff"):
                delivered["diff"] = self._name_diff(copied["diff"], args["dest"])
            if copied.get("changed"):
                self.tool_result.add_change(args["dest"], None, "%d messages (%s)" % (outcome.count, args["output"]))
        elif args["append_to_instance_log"]:
            log_path = self._append_to_instance_log(args, outcome.count, local_path, task_vars)
            delivered.update(changed=True, dest=log_path)
        delivered["tool_result"] = self.tool_result.build(dry_run=self.check_mode)
        return delivered

    @staticmethod
    def _name_diff(diff: Any, dest: str) -> List[Dict[str, Any]]:
        """copy's diff names our controller temp file as "after"; name the destination instead."""
        items: List[Dict[str, Any]] = diff if isinstance(diff, list) else [diff]
        return [dict(item, after_header="%s (generated)" % dest) if "after_header" in item else item for item in items]

    def _copy(self, local_path: str, dest: str, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """ansible.builtin.copy does the transfer, the checksum comparison, check mode and diff."""
        copy_task = self._task.copy()
        copy_task.args = dict(src=local_path, dest=dest, mode="0644")
        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy", task=copy_task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        copied: Dict[str, Any] = copy_action.run(task_vars=task_vars)
        if copied.get("failed"):
            raise OptionError("dest", "could not write %s: %s" % (dest, copied.get("msg", "copy failed")))
        return copied

    def _append_to_instance_log(self, args: Dict[str, Any], count: int, local_path: str,
                                task_vars: Dict[str, Any]) -> str:
        """Append the generated file to the instance's live messages.log (only found, in check mode); return its path."""
        remote_tmp = self._make_tmp_path()  # the modules run from it and the generated file goes there
        try:
            log_path = self._instance_log(args["instance"], args["iris_bin"], task_vars)
            self.tool_result.add_change(log_path, None, "+%d messages appended" % count)
            if not self.check_mode:
                remote_src = self._connection._shell.join_path(remote_tmp, "generated.log")
                self._transfer_file(local_path, remote_src)
                self._fixup_perms2((remote_tmp, remote_src))
                appended = self._command(["sh", "-c", APPEND_SCRIPT, "sh", remote_src, log_path], task_vars)
                if appended.get("rc") != 0:
                    raise OptionError("append_to_instance_log", "could not append to %s: %s" % (
                        shlex.quote(log_path), (appended.get("stderr") or appended.get("msg") or "").strip()))
            return log_path
        finally:
            self._remove_tmp_path(remote_tmp)

    def _command(self, argv: List[str], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        outcome: Dict[str, Any] = self._execute_module(module_name="ansible.legacy.command",
                                                       module_args=dict(argv=argv), task_vars=task_vars)
        return outcome

    def _instance_log(self, instance: str, iris_bin: Optional[str], task_vars: Dict[str, Any]) -> str:
        """The instance's live messages.log as ``iris qlist`` on the target reports it (irisops.iris.instance_info)."""
        module_args: Dict[str, Any] = dict(name=instance)
        if iris_bin:
            module_args["iris_bin"] = iris_bin
        facts: Dict[str, Any] = self._execute_module(module_name="irisops.iris.instance_info", module_args=module_args,
                                                     task_vars=task_vars)
        if facts.get("failed"):
            raise OptionError("instance", "could not list the IRIS instances on the target: %s" % facts.get("msg", ""))
        found = facts.get("instance")
        if not found:
            raise OptionError("instance", "%r is not listed by '%s qlist' on the target" % (instance, facts.get("iris_bin")))
        log_path: str = found["messages_log_path"]
        return log_path
