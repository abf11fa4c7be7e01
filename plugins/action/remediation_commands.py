# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.remediation_commands: take in RemediationCommand JSON, return the serial queue.

Runs on the controller (plugin_utils.command_intake does the work). Commands from an EDA event are read
from ``ansible_eda.event.payload`` without templating, so a hostile payload cannot run a Jinja expression.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from ansible_collections.irisops.iris.plugins.plugin_utils.action import (
    ControllerRequirements, IrisOpsActionBase, OptionError)
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError

REQUIREMENTS = ControllerRequirements("aiohttp, jsonschema, pydantic and structlog")
with REQUIREMENTS.imported():
    from ansible_collections.irisops.iris.plugins.plugin_utils.command_intake import (
        HttpSource, IntakeConfig, IntakeReport, run_intake)
    from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger

DEFAULT_TOKEN_ENV = "IRISOPS_COMMANDS_TOKEN"
DEFAULT_STATE_DIR = os.path.join("~", ".local", "state", "irisops", "commands")
LOG_NAME = "intake.log"


class ActionModule(IrisOpsActionBase):
    TOOL = "remediation_commands"
    REQUIREMENTS = REQUIREMENTS
    ARGUMENT_SPEC: dict[str, Any] = dict(
        source=dict(type="str"),
        documents=dict(type="list", elements="raw"),
        eda_event=dict(type="bool", default=False),
        state_dir=dict(type="path", default=DEFAULT_STATE_DIR),
        approve_restart=dict(type="bool", default=False),
        allow_dangerous=dict(type="bool", default=False),
        allow_kernel_parameters=dict(type="list", elements="str", default=[]),
        cpf_apply=dict(type="str", choices=["auto", "file"], default="auto"),
        polls=dict(type="int", default=1),
        interval=dict(type="float", default=5.0),
        duration=dict(type="float"),
        timeout=dict(type="float", default=30.0),
        validate_certs=dict(type="bool", default=True),
        auth_token=dict(type="str", no_log=True),
        auth_token_env=dict(type="str", default=DEFAULT_TOKEN_ENV, no_log=False),
        log_file=dict(type="path"),
        lock_timeout=dict(type="float", default=60.0),
    )

    def perform(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        config = build_config(args, task_vars, self.check_mode)
        report = self._intake(config, args["log_file"])
        outcome = report.as_dict()
        summary = summarise(report, self.check_mode)
        unreachable = config.http is not None and not self.check_mode and len(report.poll_errors) == report.polls
        warnings = ["%s: %s" % (entry["origin"], "; ".join("%(path)s: %(reason)s" % problem for problem in entry["errors"]))
                    for entry in report.rejected]
        warnings += ["%s waits for approval: %s" % (entry["command_id"], entry["reason"]) for entry in outcome["pending"]]
        if config.http is not None and self.check_mode:
            warnings.append("check mode (dry run): %s was not polled, since a GET may take commands off the source"
                            % config.http.url)
        status = "failure" if unreachable else "success"
        outcome.update(commands=[entry["command"] for entry in report.accepted],
                       changed=bool(report.accepted or report.rejected or report.duplicates) and not self.check_mode,
                       failed=unreachable, msg=("command source unreachable: " + report.poll_errors[-1]) if unreachable else summary,
                       state_dir=str(config.state_dir), check_mode=self.check_mode,
                       tool_result=self.tool_result.build(status, error_message=None if status == "success" else summary,
                                                          requires_user_action=bool(report.pending), dry_run=self.check_mode))
        if warnings:
            outcome["warnings"] = warnings
        return outcome

    @staticmethod
    def _intake(config: IntakeConfig, log_file: Optional[str]) -> IntakeReport:
        path = log_file or (None if config.check_mode else str(config.state_dir / LOG_NAME))
        if path is None:
            return run_intake(config)
        config.state_dir.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as stream:
            return run_intake(config, build_logger("irisops.iris.remediation_commands", stream=stream))


def eda_payload(task_vars: dict[str, Any]) -> list[Any]:
    """The webhook event's payload, read untemplated from ``ansible_eda.event.payload``."""
    event = (task_vars.get("ansible_eda") or {}).get("event") or {}
    if "payload" not in event:
        raise OptionError("eda_event", "no ansible_eda.event.payload; run this from an EDA rulebook (webhook source) "
                          "or pass documents or source")
    payload = event["payload"]
    return list(payload) if isinstance(payload, list) else [payload]


def build_config(params: dict[str, Any], task_vars: dict[str, Any], check_mode: bool) -> IntakeConfig:
    source = params["source"]
    if source is None and params["documents"] is None and not params["eda_event"]:
        raise ValidationError("source: give a source (http(s) URL or directory), documents, or eda_event=true",
                              [("source", "no command source given")])
    documents = list(params["documents"] or [])
    if params["eda_event"]:
        documents += eda_payload(task_vars)
    http = None
    directory = None
    if source is not None:
        if source.startswith(("http://", "https://")):
            token = params["auth_token"] or os.environ.get(params["auth_token_env"]) or None
            http = HttpSource(source, token=token, timeout=params["timeout"], validate_certs=params["validate_certs"])
        else:
            directory = Path(os.path.expanduser(source))
    state_dir = Path(os.path.expanduser(params["state_dir"] or DEFAULT_STATE_DIR))
    return IntakeConfig(state_dir=state_dir, directory=directory, http=http, documents=documents,
                        approve_restart=params["approve_restart"], polls=params["polls"], interval=params["interval"],
                        duration=params["duration"], lock_timeout=params["lock_timeout"], check_mode=check_mode,
                        allow_dangerous=params["allow_dangerous"],
                        allow_kernel_parameters=tuple(params["allow_kernel_parameters"]),
                        live_activation=params["cpf_apply"] == "auto")


def summarise(report: IntakeReport, check_mode: bool) -> str:
    order = ", ".join("%d. %s on %s" % (entry["queue_position"], entry["command_id"], entry["instance"])
                      for entry in report.accepted)
    return "%s%d accepted%s, %d rejected, %d duplicate, %d pending approval (%d polls)" % (
        "[preview] " if check_mode else "", len(report.accepted), " (%s)" % order if order else "",
        len(report.rejected), len(report.duplicates), len(report.pending), report.polls)
