# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Intake of RemediationCommand JSON from outside (controller side).

Commands arrive from an HTTP endpoint polled at an interval, from a drop directory (one file per command)
or inline (an EDA webhook event). Every document is read by the collection's one strict reader
(``command_document.check_command``: size, strict JSON, depth, characters, template markers, foreign fields, the
published contract) and then planned in full (catalog, ranges, kernel allow list), so a command that could never
run is refused here, never left pending. Accepted commands form one serial queue in arrival order. A command_id
is accepted at most once, ever (state file in the state directory), so a command is never executed twice. A
command whose plan ends with a restart waits in the pending state until it is approved (``approve_restart`` or the
file ``<state>/approvals/<command_id>``); nothing changes meanwhile.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

import aiohttp

from ansible_collections.irisops.iris.plugins.module_utils.durable import fsync_directory, replace_file, wait_for_lock
from ansible_collections.irisops.iris.plugins.plugin_utils.command_document import (
    MAX_COMMAND_BYTES, check_command, parse_json, refusal)
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import RemediationCommand
from ansible_collections.irisops.iris.plugins.plugin_utils.planner import RemediationPlan, plan_command
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_text

MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REASON_CHARS = 300
STATE_FILE = "accepted.json"
LOCK_FILE = "intake.lock"
PENDING_DIR = "pending"
APPROVALS_DIR = "approvals"
DONE_DIR = "done"
REJECTED_DIR = "rejected"
REASON_SUFFIX = ".reason.json"

Problems = list[tuple[str, str]]


def utc_stamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def short(reason: str) -> str:
    """Reasons quote the offending value; a huge or secret one must not flood or leak into reports."""
    text = redact_text(reason)
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS] + "... (truncated)"


def check_and_plan(raw: Any, config: IntakeConfig) -> RemediationPlan:
    """The plan of the command in ``raw``; ValidationError for anything the remediate role would refuse."""
    return plan_command(check_command(raw), config.allow_dangerous, config.allow_kernel_parameters,
                        config.live_activation)


def digest(command: RemediationCommand) -> str:
    canonical = json.dumps(command.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


# --- where commands come from --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arrival:
    """One document as it arrived: raw bytes (or parsed data) and where from."""

    origin: str
    raw: Any
    path: Optional[Path] = None
    problem: Optional[tuple[str, str]] = None


def _read_bounded(path: Path) -> Arrival:
    """A drop-directory file, read without following a symlink and never beyond the size limit."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return Arrival(path.name, b"", path, ("$", "cannot open: %s" % (error.strerror or error)))
    with os.fdopen(descriptor, "rb") as stream:
        # One byte past the limit is enough for the strict reader to refuse an oversized command.
        return Arrival(path.name, stream.read(MAX_COMMAND_BYTES + 1), path)


def list_drop_files(directory: Path) -> list[Path]:
    """Regular, visible files in arrival order (mtime, then name). Writers drop a file by renaming a
    hidden temporary (``.name.tmp``) into place, so half-written files are never read."""
    found = []
    for entry in os.scandir(directory):
        if entry.name.startswith(".") or entry.is_dir(follow_symlinks=False):
            continue
        try:
            found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
        except FileNotFoundError:
            continue  # taken away by another reader between listing and stat
    return [directory / name for unused, name in sorted(found)]


def read_drop_directory(directory: Path) -> list[Arrival]:
    arrivals = []
    for path in list_drop_files(directory):
        if path.is_symlink() or not path.is_file():
            arrivals.append(Arrival(path.name, b"", path, ("$", "not a regular file (symlinks are refused)")))
        else:
            arrivals.append(_read_bounded(path))
    return arrivals


def split_response(origin: str, body: bytes) -> list[Arrival]:
    """An HTTP answer holds one command object or a JSON array of them; each is checked on its own."""
    if len(body) > MAX_RESPONSE_BYTES:
        return [Arrival(origin, b"", problem=("$", "response is larger than the limit of %d bytes" % MAX_RESPONSE_BYTES))]
    stripped = body.lstrip()
    if not stripped.startswith(b"["):
        return [Arrival(origin, body)]
    try:
        items = parse_whole(body)
    except ValidationError as error:
        return [Arrival(origin, b"", problem=error.errors[0])]
    return [Arrival("%s[%d]" % (origin, index), item) for index, item in enumerate(items)]


def parse_whole(body: bytes) -> list[Any]:
    return list(parse_json(body, limit=MAX_RESPONSE_BYTES))


@dataclass(frozen=True)
class HttpSource:
    """GET ``url``: 200 with a command or an array of commands, 204 when there is nothing."""

    url: str
    token: Optional[str] = None
    timeout: float = 30.0
    validate_certs: bool = True

    def check(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise refusal("source", "must be an http:// or https:// URL or a directory")
        if self.timeout <= 0:
            raise refusal("timeout", "must be greater than 0")

    async def _get(self) -> tuple[int, bytes]:
        ssl_context: ssl.SSLContext | bool = ssl.create_default_context() if self.validate_certs else False
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                         connector=aiohttp.TCPConnector(ssl=ssl_context)) as session:
            async with session.get(self.url, headers=headers, allow_redirects=False) as response:
                body = b""
                # Never more than one byte past the limit in memory, however large the answer is.
                while len(body) <= MAX_RESPONSE_BYTES:
                    chunk = await response.content.read(MAX_RESPONSE_BYTES + 1 - len(body))
                    if not chunk:
                        break
                    body += chunk
                return response.status, body

    def fetch(self, poll: int) -> list[Arrival]:
        """One poll. Raises ExternalIntegrationError when the endpoint cannot be asked or answers an error."""
        try:
            status, body = asyncio.run(self._get())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise ExternalIntegrationError(redact_text("GET %s failed: %s" % (
                self.url, "%s: %s" % (type(error).__name__, error) if str(error) else type(error).__name__))) from None
        if status == 204:
            return []
        if status != 200:
            raise ExternalIntegrationError(redact_text("GET %s answered HTTP %d" % (self.url, status)))
        return split_response("poll %d" % poll, body)


# --- persistent state ------------------------------------------------------------------------------------------
def write_atomic(path: Path, data: bytes) -> None:
    replace_file(str(path), data)


def move_unique(path: Path, directory: Path) -> Path:
    """Move ``path`` into ``directory`` without overwriting an earlier file of the same name."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / path.name
    counter = 1
    while target.exists() or target.is_symlink():
        target = directory / ("%s.%d" % (path.name, counter))
        counter += 1
    os.rename(path, target)
    fsync_directory(str(directory))
    return target


class IntakeState(object):
    """The state directory: accepted command ids (never executed twice), pending commands, approvals."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pending_dir = directory / PENDING_DIR
        self.approvals_dir = directory / APPROVALS_DIR
        self._lock_descriptor: Optional[int] = None
        self.accepted: dict[str, dict[str, Any]] = {}

    def open(self, timeout: float) -> None:
        """Create the directories, take the lock (one consumer per state directory), load the accepted ids."""
        for directory in (self.directory, self.pending_dir, self.approvals_dir):
            directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        if not wait_for_lock(descriptor, time.monotonic() + timeout):
            os.close(descriptor)
            raise ExternalIntegrationError("another consumer holds %s; waited %.0f s" % (self.directory / LOCK_FILE, timeout))
        self._lock_descriptor = descriptor
        self.accepted = self.load()

    def close(self) -> None:
        if self._lock_descriptor is not None:
            fcntl.flock(self._lock_descriptor, fcntl.LOCK_UN)
            os.close(self._lock_descriptor)
            self._lock_descriptor = None

    def load(self) -> dict[str, dict[str, Any]]:
        path = self.directory / STATE_FILE
        if not path.exists():
            return {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ExternalIntegrationError("state file %s is damaged (%s); it records which commands already ran, "
                                           "so intake stops rather than risk running one twice" % (path, error)) from None
        accepted: dict[str, dict[str, Any]] = loaded.get("accepted", {})
        return accepted

    def record(self, command: RemediationCommand, origin: str) -> dict[str, Any]:
        record = {"sequence": len(self.accepted) + 1, "accepted_at": utc_stamp(), "origin": origin,
                  "instance": command.instance, "digest": digest(command)}
        self.accepted[command.command_id] = record
        write_atomic(self.directory / STATE_FILE,
                     json.dumps({"accepted": self.accepted}, indent=1, sort_keys=True).encode("utf-8"))
        return record

    def approved(self, command_id: str) -> bool:
        approval = self.approvals_dir / command_id
        return approval.is_file()

    def pending_arrivals(self) -> list[Arrival]:
        return [Arrival("pending/" + arrival.origin, arrival.raw, arrival.path, arrival.problem)
                for arrival in read_drop_directory(self.pending_dir)]

    def keep_pending(self, command: RemediationCommand) -> Path:
        path = self.pending_dir / (command.command_id + ".json")
        write_atomic(path, json.dumps(command.model_dump(mode="json", exclude_none=True), indent=1).encode("utf-8"))
        return path


# --- the intake itself ---------------------------------------------------------------------------------------------
@dataclass
class IntakeReport:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: int = 0
    poll_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected, "duplicates": self.duplicates,
                "pending": list(self.pending.values()), "polls": self.polls, "poll_errors": self.poll_errors}


@dataclass(frozen=True)
class IntakeConfig:
    state_dir: Path
    directory: Optional[Path] = None
    http: Optional[HttpSource] = None
    documents: Sequence[Any] = ()
    approve_restart: bool = False
    polls: int = 1
    interval: float = 5.0
    duration: Optional[float] = None
    lock_timeout: float = 60.0
    check_mode: bool = False
    # The operator's settings the remediate role plans with, so the intake refuses what the role would refuse.
    allow_dangerous: bool = False
    allow_kernel_parameters: tuple[str, ...] = ()
    live_activation: bool = True

    def check(self) -> None:
        problems: Problems = []
        if self.polls < 1:
            problems.append(("polls", "must be at least 1"))
        if self.interval < 0:
            problems.append(("interval", "must not be negative"))
        if self.duration is not None and self.duration < 0:
            problems.append(("duration", "must not be negative"))
        if self.directory is not None and not self.directory.is_dir():
            problems.append(("source", "%s is not a directory" % self.directory))
        if self.directory is not None and self.directory.resolve() == self.state_dir.resolve():
            problems.append(("state_dir", "must not be the drop directory"))
        if problems:
            raise ValidationError("; ".join("%s: %s" % item for item in problems), problems)
        if self.http is not None:
            self.http.check()


class Intake(object):
    """Runs the polls, checks every arrival, and keeps accepted commands in one serial queue."""

    def __init__(self, config: IntakeConfig, logger: Any = None) -> None:
        config.check()
        self.config = config
        self.logger = logger
        self.state = IntakeState(config.state_dir)
        self.report = IntakeReport()

    def _log(self, level: str, event: str, **values: Any) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(event, **values)

    def run(self) -> IntakeReport:
        if self.config.check_mode:
            self.state.accepted = self.state.load() if self.config.state_dir.exists() else {}
            return self._polls()
        self.state.open(self.config.lock_timeout)
        try:
            return self._polls()
        finally:
            self.state.close()

    def _polls(self) -> IntakeReport:
        started = time.monotonic()
        self._take_all([Arrival("inline[%d]" % index, document) for index, document in enumerate(self.config.documents)])
        while True:
            self.report.polls += 1
            if self.config.state_dir.exists():
                self._take_all(self.state.pending_arrivals())
            self._take_all(self._fetch(self.report.polls))
            elapsed = time.monotonic() - started
            if self.config.duration is not None:
                if elapsed + self.config.interval > self.config.duration:
                    break
            elif self.report.polls >= self.config.polls:
                break
            time.sleep(self.config.interval)
        for position, entry in enumerate(self.report.accepted, start=1):
            entry["queue_position"] = position
            self._log("info", "command_queued", command_id=entry["command_id"], instance=entry["instance"],
                      queue_position=position, queue_length=len(self.report.accepted),
                      trace_id=entry["command"]["trace_id"])
        for entry in self.report.pending.values():
            self._log("warning", "command_pending", command_id=entry["command_id"], instance=entry["instance"],
                      error_type=entry["error_type"], severity=entry["severity"], reason=entry["reason"])
        return self.report

    def _fetch(self, poll: int) -> list[Arrival]:
        if self.config.directory is not None:
            return read_drop_directory(self.config.directory)
        if self.config.http is None or self.config.check_mode:
            return []
        try:
            return self.config.http.fetch(poll)
        except ExternalIntegrationError as error:
            self.report.poll_errors.append(str(error))
            self._log("warning", "command_poll_failed", poll=poll, problem=str(error))
            return []

    def _take_all(self, arrivals: list[Arrival]) -> None:
        for arrival in arrivals:
            self._take(arrival)

    def _take(self, arrival: Arrival) -> None:
        try:
            if arrival.problem is not None:
                raise refusal(*arrival.problem)
            plan = check_and_plan(arrival.raw, self.config)
        except ValidationError as error:
            self._reject(arrival, [(path, short(reason)) for path, reason in error.errors] or [("$", short(str(error)))])
            return
        earlier = self.state.accepted.get(plan.command.command_id)
        if earlier is not None:
            self._duplicate(arrival, plan.command, earlier)
            return
        if plan.requires_restart and not (self.config.approve_restart or self.state.approved(plan.command.command_id)):
            self._pending(arrival, plan)
            return
        self._accept(arrival, plan)

    def _settle_file(self, arrival: Arrival, subdirectory: str) -> Optional[str]:
        """Move a drop-directory file to done/ or rejected/; a released pending copy is simply removed."""
        if arrival.path is None or self.config.check_mode:
            return None
        if arrival.path.parent == self.state.pending_dir:
            arrival.path.unlink(missing_ok=True)
            return None
        try:
            return str(move_unique(arrival.path, arrival.path.parent / subdirectory))
        except FileNotFoundError:
            return None  # already taken away (by an operator or another tool): nothing left to move

    def _reject(self, arrival: Arrival, errors: Problems, command_id: Optional[str] = None,
                kind: str = "rejected") -> None:
        entry: dict[str, Any] = {"origin": arrival.origin, "command_id": command_id,
                                 "errors": [{"path": path, "reason": reason} for path, reason in errors]}
        moved = self._settle_file(arrival, REJECTED_DIR)
        if moved is not None:
            entry["file"] = moved
            reason_file = Path(moved + REASON_SUFFIX)
            write_atomic(reason_file, json.dumps(dict(entry, rejected_at=utc_stamp()), indent=1).encode("utf-8"))
            entry["reason_file"] = str(reason_file)
        getattr(self.report, kind).append(entry)
        self._log("warning", "command_" + kind, origin=arrival.origin, command_id=command_id,
                  errors=entry["errors"])

    def _duplicate(self, arrival: Arrival, command: RemediationCommand, earlier: dict[str, Any]) -> None:
        reason = "duplicate: command %s was already accepted at %s (from %s); it is not executed twice" % (
            command.command_id, earlier.get("accepted_at"), earlier.get("origin"))
        self._reject(arrival, [("$.command_id", reason)], command.command_id, kind="duplicates")

    def _pending(self, arrival: Arrival, plan: RemediationPlan) -> None:
        command = plan.command
        known = self.report.pending.get(command.command_id)
        if known is not None and known["digest"] != digest(command):
            self._reject(arrival, [("$.command_id", "conflicts with a different pending command of the same id")],
                         command.command_id)
            return
        if arrival.path is None and not self.config.check_mode:
            # An HTTP or inline command has no file of its own: keep it in the state directory until approved.
            self.state.keep_pending(command)
        approval = self.state.approvals_dir / command.command_id
        self.report.pending[command.command_id] = {
            "command_id": command.command_id, "instance": command.instance, "origin": arrival.origin,
            "digest": digest(command), "approval_file": str(approval),
            "error_type": command.error_type.value, "severity": command.severity,
            "reason": "needs a restart of instance %s (%s); approve with approve_restart=true or create %s" % (
                command.instance, "; ".join(plan.restart_reasons), approval)}

    def _accept(self, arrival: Arrival, plan: RemediationPlan) -> None:
        command = plan.command
        record = {"sequence": None, "accepted_at": None} if self.config.check_mode else self.state.record(
            command, arrival.origin)
        if self.config.check_mode:
            # A preview still refuses a second copy of the same command in the same run.
            self.state.accepted[command.command_id] = {"accepted_at": "(preview)", "origin": arrival.origin}
        moved = self._settle_file(arrival, DONE_DIR)
        self.report.pending.pop(command.command_id, None)
        entry = {"command_id": command.command_id, "instance": command.instance, "origin": arrival.origin,
                 "sequence": record["sequence"], "accepted_at": record["accepted_at"],
                 "error_type": command.error_type.value, "severity": command.severity,
                 "restart_approved": plan.requires_restart,
                 "command": command.model_dump(mode="json", exclude_none=True)}
        if moved is not None:
            entry["file"] = moved
        self.report.accepted.append(entry)
        self._log("info", "command_accepted", command_id=command.command_id, instance=command.instance,
                  origin=arrival.origin, error_type=command.error_type.value, severity=command.severity,
                  requires_restart=plan.requires_restart, trace_id=command.trace_id)


def run_intake(config: IntakeConfig, logger: Any = None) -> IntakeReport:
    return Intake(config, logger).run()
