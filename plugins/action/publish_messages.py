# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin irisops.iris.publish_messages: POST IRISMessage JSON to an HTTP endpoint, at least once.

Runs on the controller; the network path is the controller's. Delivery goes through the durable spool of
plugin_utils.publisher, so what cannot be delivered now is sent first by the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Optional

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import TOOL_RESULT_ARGUMENT_SPEC, ToolResultBuilder
from ansible_collections.irisops.iris.plugins.plugin_utils.action import (
    ControllerRequirements, IrisOpsActionBase, OptionRule)
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError

REQUIREMENTS = ControllerRequirements("aiohttp, pydantic and structlog")
with REQUIREMENTS.imported():
    from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger
    from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage
    from ansible_collections.irisops.iris.plugins.plugin_utils.publisher import (
        REJECTED, PublishReport, Publisher, PublisherConfig, Spool, run_trace_id, safe_endpoint)

DEFAULT_TOKEN_ENV = "IRISOPS_PUBLISH_TOKEN"
# Fields a messages_log entry carries for people, not part of the published IRISMessage contract.
ENTRY_ONLY_FIELDS = ("severity_name", "line_number")
SOURCES = ["messages", "messages_file", "eda_event"]


class ActionModule(IrisOpsActionBase):
    TOOL = "publish_messages"
    REQUIREMENTS = REQUIREMENTS
    ARGUMENT_SPEC: dict[str, Any] = dict(
        endpoint=dict(type="str", required=True),
        messages=dict(type="list", elements="dict"),
        messages_file=dict(type="path"),
        eda_event=dict(type="bool"),
        min_severity=dict(type="int", default=0, choices=[0, 1, 2, 3]),
        instance=dict(type="str"),
        host=dict(type="str"),
        timezone=dict(type="str"),
        spool_dir=dict(type="path"),
        headers=dict(type="dict", default={}),
        auth_token=dict(type="str", no_log=True),
        auth_token_env=dict(type="str", default=DEFAULT_TOKEN_ENV, no_log=False),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="float", default=30.0),
        max_attempts=dict(type="int", default=3),
        backoff_base=dict(type="float", default=1.0),
        concurrency=dict(type="int", default=10),
        batch_size=dict(type="int"),
        batch_format=dict(type="str", default="ndjson", choices=["ndjson", "array"]),
        log_file=dict(type="path"),
        **TOOL_RESULT_ARGUMENT_SPEC,
        undelivered=dict(type="str", default="fail", choices=["fail", "warn"]),
    )
    OPTION_RULES = (
        OptionRule("messages", "give exactly one of %s" % ", ".join(SOURCES),
                   dict(mutually_exclusive=[SOURCES], required_one_of=[SOURCES])),
    )

    def perform(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        self.use_trace_id(args["trace_id"])
        token = args["auth_token"] or os.environ.get(args["auth_token_env"]) or None
        config = PublisherConfig(
            endpoint=args["endpoint"], spool_dir=Path(args["spool_dir"] or default_spool_dir(args["endpoint"])),
            headers={str(k): str(v) for k, v in args["headers"].items()}, auth_token=token,
            validate_certs=args["validate_certs"], timeout=args["timeout"], max_attempts=args["max_attempts"],
            backoff_base=args["backoff_base"], concurrency=args["concurrency"], batch_size=args["batch_size"],
            batch_format=args["batch_format"])
        if args["eda_event"]:
            args["messages"] = event_messages(task_vars)
        messages = [message for message in load_messages(args) if message.get("severity", 0) >= args["min_severity"]]
        self.use_trace_id(run_trace_id(messages, args["trace_id"]))
        if self.check_mode:
            return self._preview(config, len(messages))
        report = self._publish(config, messages, args["log_file"], str(self.tool_result.trace_id))
        return outcome(report, config.spool_dir, args["undelivered"], self.tool_result)

    def _preview(self, config: PublisherConfig, count: int) -> dict[str, Any]:
        """What a run would send: these messages and the spool's backlog."""
        config.check()
        backlog = len(Spool(config.spool_dir).backlog()) if config.spool_dir.exists() else 0
        return dict(changed=bool(count) or backlog > 0, would_send=count + backlog,
                    msg="[preview] would send %d messages (backlog %d)" % (count + backlog, backlog),
                    backlog=backlog, endpoint=safe_endpoint(config.endpoint), spool_dir=str(config.spool_dir),
                    trace_id=self.tool_result.trace_id, tool_result=self.tool_result.build("success", dry_run=True))

    @staticmethod
    def _publish(config: PublisherConfig, messages: list[dict[str, Any]], log_file: Optional[str],
                 trace_id: str) -> PublishReport:
        if log_file is None:
            return Publisher(config, trace_id=trace_id).publish(messages)
        with open(log_file, "a", encoding="utf-8") as stream:
            logger = build_logger("irisops.iris.publish_messages", stream=stream)
            return Publisher(config, logger=logger, trace_id=trace_id).publish(messages)


def outcome(report: PublishReport, spool_dir: Path, undelivered: str, builder: ToolResultBuilder) -> dict[str, Any]:
    """The task result: undelivered messages fail the task unless O(undelivered=warn); repairs are warnings."""
    values = report.as_dict()
    latency = values["latency_ms"]["p50"]
    summary = "sent %d, refused %d, spooled %d (backlog was %d); latency p50 %s" % (
        report.sent, report.refused, report.spooled, report.backlog,
        "n/a (no request acknowledged)" if latency is None else "%.1f ms" % latency)
    warnings = ["spool repaired: %(reason)s in %(file)s, %(bytes)d bytes kept in %(quarantine)s (never sent; "
                "a message cut there was never reported as spooled)" % repair for repair in report.quarantined]
    if report.sent:
        builder.add_change(report.endpoint, None, "%d messages delivered" % report.sent)
    missing = report.spooled + report.refused
    status = "success" if not missing else ("partial" if report.sent else "failure")
    failed = False
    message = summary
    if missing:
        message = "%d messages undelivered: %d spooled in %s (sent first by the next run), %d refused (kept in %s); %s" % (
            missing, report.spooled, spool_dir, report.refused, spool_dir / REJECTED, summary)
        failed = undelivered == "fail"
        if not failed:
            warnings.append(message)
    values.update(changed=report.sent > 0 or report.refused > 0, spool_dir=str(spool_dir), msg=message,
                  undelivered=missing, tool_result=builder.build(status, error_message=None if not missing else message))
    if failed:
        values["failed"] = True
    if warnings:
        values["warnings"] = warnings
    return values


def default_spool_dir(endpoint: str) -> str:
    """One spool per endpoint, so a backlog is never delivered to a different receiver."""
    digest = hashlib.sha256(safe_endpoint(endpoint).encode("utf-8")).hexdigest()[:16]
    return os.path.join(os.path.expanduser("~"), ".cache", "irisops", "publish-spool", digest)


def event_messages(task_vars: dict[str, Any]) -> list[Any]:
    """``ansible_eda.event.message`` (one message or a list), read untemplated: a messages.log line is data, and
    text such as ``{{ ... }}`` in it must be published as written, never evaluated by Ansible."""
    event = (task_vars.get("ansible_eda") or {}).get("event") or {}
    if "message" not in event:
        raise ValidationError("eda_event: no ansible_eda.event.message; run this from an EDA rulebook whose event "
                              "carries a message (irisops.iris.messages_log source)", [("eda_event", "no event message")])
    message = event["message"]
    return list(message) if isinstance(message, list) else [message]


def load_messages(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages from the option or the file, with O(instance)/O(host) filled in where missing."""
    if params["messages"] is not None:
        raw = [json.loads(json.dumps(message, default=str)) for message in params["messages"]]
    else:
        raw = list(read_messages_file(Path(params["messages_file"]), params["timezone"]))
    messages = []
    for message in raw:
        cleaned = {name: value for name, value in message.items() if name not in ENTRY_ONLY_FIELDS}
        for name in ("instance", "host"):
            if params[name] is not None and cleaned.get(name) is None:
                cleaned[name] = params[name]
        messages.append(cleaned)
    return messages


def read_messages_file(path: Path, timezone: Optional[str]) -> Iterator[dict[str, Any]]:
    """A JSON array or NDJSON of IRISMessage objects, or a messages.log file (parsed by iris_log)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ValidationError("messages_file: cannot read %s: %s" % (path, error.strerror),
                              [("messages_file", error.strerror or "unreadable")]) from None
    stripped = text.lstrip()
    if stripped.startswith("[") or stripped.startswith("{"):
        try:
            documents = json.loads(text) if stripped.startswith("[") else [
                json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as error:
            raise ValidationError("messages_file: %s is neither a JSON array nor NDJSON: %s" % (path, error),
                                  [("messages_file", str(error))]) from None
        for document in documents:
            if not isinstance(document, dict):
                raise ValidationError("messages_file: every item must be a JSON object", [("messages_file", "not an object")])
            yield document
        return
    try:
        zone = iris_log.resolve_timezone(timezone)
    except iris_log.LogFormatError as error:
        raise ValidationError(str(error), [("timezone", str(error))]) from None
    entries, _malformed = iris_log.parse_text(text, zone)
    for entry in entries:
        # No trace id of its own: the publication stamps its run's trace id on every message.
        yield IRISMessage.from_entry(entry).model_dump(mode="json", exclude={"trace_id"})
