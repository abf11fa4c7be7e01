# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""At-least-once HTTP publisher of IRISMessage JSON with a durable spool (controller side).

A run validates every message, then writes the new ones to the spool journal in group-commit windows: one
append and one fsync per window (the first window fills every connection once, each next one doubles). No
message is sent (or reported as safe) before the fsync of its window returned; sending one window overlaps
committing the next. The idempotency key of a message is
appended to the ack log once the sink answered 2xx. A run first sends what earlier runs left unacknowledged, so
killing the publisher at any moment loses nothing; a message may be delivered twice, always with the same
``Idempotency-Key`` and the same body, so the receiver can drop the duplicate.

Every message a run accepts carries the run's trace id in its ``trace_id`` field (also sent as ``traceparent``);
a redelivered message keeps the trace id of the run that accepted it.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import os
import random
import re
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping, NamedTuple, Optional, Sequence

import aiohttp
from pydantic import ValidationError as PydanticValidationError

from ansible_collections.irisops.iris.plugins.module_utils.durable import fsync_directory, replace_file, wait_for_lock
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_text
from ansible_collections.irisops.iris.plugins.plugin_utils.tracing import is_trace_id, new_trace_id, traceparent

BatchFormat = Literal["ndjson", "array"]
JOURNAL = "journal.ndjson"
ACKED = "acked.keys"
REJECTED = "rejected.ndjson"
LOCK = "spool.lock"
# Status codes worth another attempt: the receiver may accept the same request later.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Header values must stay under aiohttp's default 8190-byte field limit: 100 keys of 32 hex + commas.
MAX_BATCH_SIZE = 100
# The largest group-commit window, in messages (a few MB of journal per fsync).
COMMIT_MAX = 8192
KEY_LENGTH = 32
# A receiver that lists this media type in the Accept-Post header of its OPTIONS answer takes NDJSON batches.
BATCH_MEDIA_TYPE = "application/x-ndjson"
# A journal record is {"k":"<key>","m":<message JSON>}; the message's bytes start at this offset.
_RECORD_HEAD = b'{"k":"'
_RECORD_BODY_AT = len(_RECORD_HEAD) + KEY_LENGTH + len(b'","m":')
_TRACE_ID_FIELD = {"trace_id"}
_KEY_PATTERN = re.compile(r"^[0-9a-f]{%d}$" % KEY_LENGTH)


@dataclass(frozen=True)
class PublisherConfig:
    """Where and how to publish; validated by ``check()`` before anything is sent or spooled.

    ``batch_size`` None negotiates: NDJSON batches of MAX_BATCH_SIZE when the endpoint's OPTIONS answer lists
    application/x-ndjson in ``Accept-Post``, one message per request otherwise.
    """

    endpoint: str
    spool_dir: Path
    headers: Mapping[str, str] = field(default_factory=dict)
    auth_token: Optional[str] = None
    validate_certs: bool = True
    timeout: float = 30.0
    max_attempts: int = 3
    backoff_base: float = 1.0
    retry_after_cap: float = 60.0
    concurrency: int = 10
    batch_size: Optional[int] = None
    batch_format: BatchFormat = "ndjson"
    lock_timeout: float = 60.0

    def check(self) -> None:
        problems = []
        if not self.endpoint.startswith(("http://", "https://")):
            problems.append(("endpoint", "must be an http:// or https:// URL"))
        for name in ("timeout", "lock_timeout"):
            if getattr(self, name) <= 0:
                problems.append((name, "must be greater than 0"))
        if self.backoff_base < 0 or self.retry_after_cap < 0:
            problems.append(("backoff_base", "must not be negative"))
        if self.max_attempts < 1:
            problems.append(("max_attempts", "must be at least 1"))
        if self.concurrency < 1:
            problems.append(("concurrency", "must be at least 1"))
        if self.batch_size is not None and not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            problems.append(("batch_size", "must be between 1 and %d" % MAX_BATCH_SIZE))
        if self.batch_format not in ("ndjson", "array"):
            problems.append(("batch_format", "must be ndjson or array"))
        for name in self.headers:
            if name.lower() in ("authorization", "idempotency-key", "x-idempotency-keys", "content-type", "traceparent"):
                problems.append(("headers.%s" % name, "is set by the publisher; use auth_token for credentials"))
        if problems:
            raise ValidationError("; ".join("%s: %s" % item for item in problems), problems)


class SpooledMessage(NamedTuple):
    """One message as journaled: its key, its exact JSON bytes (sent as they are), and what logs name.

    A NamedTuple: a run builds one per message, and a frozen dataclass costs several times as much to build.
    """

    key: str
    body: bytes
    trace_id: str
    severity: Optional[int] = None
    category: Optional[str] = None

    def record(self) -> bytes:
        return _RECORD_HEAD + self.key.encode("ascii") + b'","m":' + self.body + b"}\n"


@dataclass
class PublishReport:
    endpoint: str
    trace_id: str
    sent: int = 0
    refused: int = 0
    spooled: int = 0
    backlog: int = 0
    duplicates_skipped: int = 0
    retraced: int = 0
    requests: int = 0
    attempts: int = 0
    batch_size: int = 1
    latencies_ms: list[float] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint, "trace_id": self.trace_id, "sent": self.sent, "refused": self.refused,
            "spooled": self.spooled, "backlog": self.backlog, "duplicates_skipped": self.duplicates_skipped,
            "retraced": self.retraced, "requests": self.requests, "attempts": self.attempts,
            "batch_size": self.batch_size, "latency_ms": latency_percentiles(self.latencies_ms),
            "rejections": self.rejections, "quarantined": self.quarantined,
        }


def latency_percentiles(samples: Sequence[float]) -> dict[str, Optional[float]]:
    """p50/p90/p99/max by the nearest-rank method; None when no request was acknowledged."""
    if not samples:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def rank(percent: int) -> float:
        return round(ordered[max(0, -(-len(ordered) * percent // 100) - 1)], 3)

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": round(ordered[-1], 3)}


def _identity(model: IRISMessage) -> bytes:
    """The message's contract JSON (compact, field order of the model) without its trace id."""
    identity: bytes = IRISMessage.__pydantic_serializer__.to_json(model, exclude=_TRACE_ID_FIELD)
    return identity


def _key_of(identity: bytes) -> str:
    return hashlib.sha256(identity).hexdigest()[:KEY_LENGTH]


def idempotency_key(message: IRISMessage | Mapping[str, Any]) -> str:
    """Same event, same key across runs: a hash of the message's contract JSON without its trace id."""
    model = message if isinstance(message, IRISMessage) else IRISMessage.model_validate(dict(message))
    return _key_of(_identity(model))


def idempotency_key_of_batch(keys: str) -> str:
    """The Idempotency-Key of a batch request: a hash of its messages' keys (comma-separated, body order)."""
    return hashlib.sha256(keys.encode("ascii")).hexdigest()[:KEY_LENGTH]


def safe_endpoint(endpoint: str) -> str:
    """The endpoint as it may appear in results and logs (credentials in the URL removed)."""
    return redact_text(endpoint)


def _given_trace_id(message: IRISMessage | Mapping[str, Any]) -> Optional[Any]:
    if isinstance(message, dict):  # the common case first: an isinstance check against Mapping costs microseconds
        return message.get("trace_id")
    if isinstance(message, IRISMessage):
        return message.trace_id if "trace_id" in message.model_fields_set else None
    return message.get("trace_id") if isinstance(message, Mapping) else None


def run_trace_id(messages: Sequence[IRISMessage | Mapping[str, Any]], requested: Optional[str] = None) -> str:
    """The trace id of a publication run: ``requested``; else the one trace id the messages carry, so a
    generate -> publish flow stays one trace; else a new one."""
    if requested is not None:
        if not is_trace_id(requested):
            raise ValidationError("trace_id: must be 32 lowercase hex digits, not all zero", [("trace_id", "invalid")])
        return requested
    carried = {given for given in map(_given_trace_id, messages) if isinstance(given, str)}
    if len(carried) == 1:
        only = carried.pop()
        if is_trace_id(only):
            return only
    return new_trace_id()


def prepare_messages(messages: Sequence[IRISMessage | Mapping[str, Any]], trace_id: str) -> tuple[list[SpooledMessage], int]:
    """Validate every message against the contract and stamp the run's trace id on it.

    Returns the spoolable messages and how many carried another trace id. Raises ValidationError naming the
    first bad message's index and fields (nothing is spooled or sent then).
    """
    prepared = []
    retraced = 0
    stamp = b',"trace_id":"' + trace_id.encode("ascii") + b'"}'
    validate = IRISMessage.__pydantic_validator__.validate_python
    serialise = IRISMessage.__pydantic_serializer__.to_json
    for index, message in enumerate(messages):
        given = message.get("trace_id") if isinstance(message, dict) else _given_trace_id(message)
        try:
            if isinstance(message, (dict, Mapping)):
                model = validate(message if given is not None else dict(message, trace_id=trace_id))
            elif isinstance(message, IRISMessage):
                model = message
            else:
                raise ValidationError("messages[%d] is not an IRISMessage: not an object" % index,
                                      [("$[%d]" % index, "not an object")])
        except PydanticValidationError as exc:
            errors = [("$[%d]%s" % (index, "".join("." + str(part) for part in error["loc"])), error["msg"])
                      for error in exc.errors()]
            raise ValidationError("messages[%d] is not an IRISMessage: %s" % (
                index, "; ".join("%s: %s" % error for error in errors)), errors) from None
        body = serialise(model)
        if body.endswith(stamp):  # the usual case: the run's trace id, the model's last field
            identity = body[:-len(stamp)] + b"}"
        else:  # another trace id: given by the caller (counted), or generated by an IRISMessage's default
            retraced += 1 if given is not None else 0
            identity = _identity(model)
            body = identity[:-1] + stamp
        prepared.append(SpooledMessage(_key_of(identity), body, trace_id, model.severity, model.category))
    return prepared, retraced


def _append(path: Path, data: bytes) -> None:
    """Append and fsync: the data is durable when this returns."""
    if not data:
        return
    with open(path, "ab") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _complete_lines(path: Path) -> Iterator[bytes]:
    """Complete lines only (without their LF); a torn last line is left to ``Spool.repair``."""
    if not path.exists():
        return
    with open(path, "rb") as stream:
        for raw in stream:
            if raw.endswith(b"\n"):
                yield raw[:-1]


def _torn_tail(path: Path) -> Optional[tuple[int, bytes]]:
    """(offset, fragment) when the file's last line has no LF: a write cut short by a kill or a crash."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "rb") as stream:
        stream.seek(size - 1)
        if stream.read(1) == b"\n":
            return None
        cut, end = 0, size
        while end > 0:
            start = max(0, end - 65536)
            stream.seek(start)
            newline = stream.read(end - start).rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            end = start
        stream.seek(cut)
        return cut, stream.read()


def _parse_record(line: bytes) -> Optional[SpooledMessage]:
    """A journal record, or None when the line is not one (it is then quarantined, never merged or guessed)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or set(record) != {"k", "m"} or not isinstance(record["m"], dict):
        return None
    key, message = record["k"], record["m"]
    if not isinstance(key, str) or not _KEY_PATTERN.match(key):
        return None
    # Keep the journaled bytes so a redelivery is byte-identical; older records get re-serialised.
    exact = line.startswith(_RECORD_HEAD + key.encode("ascii") + b'","m":')
    if exact:
        body = line[_RECORD_BODY_AT:-1]
    else:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    trace_id = message.get("trace_id")
    return SpooledMessage(key, body, str(trace_id) if is_trace_id(trace_id) else "", message.get("severity"),
                          message.get("category"))


class Spool(object):
    """The spool directory: journal of every message handed over, ack log, dead letters, run lock, quarantine."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock_fd: Optional[int] = None
        self._ack_fd: Optional[int] = None

    def lock(self, timeout: float) -> None:
        """One publisher per spool at a time; another run waits up to ``timeout`` seconds."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        if not wait_for_lock(descriptor, time.monotonic() + timeout):
            os.close(descriptor)
            raise ExternalIntegrationError("spool_dir: %s is locked by another publisher for more than %.0f s"
                                           % (self.directory, timeout))
        self._lock_fd = descriptor

    def unlock(self) -> None:
        self._close_ack_log()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _quarantine(self, source: str, data: bytes, reason: str) -> dict[str, Any]:
        """Keep ``data`` cut from ``source`` in a side file (synced before the source is changed)."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.directory / ("%s.quarantine-%s-%d" % (source, stamp, time.time_ns() % 10**9))
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        fsync_directory(str(self.directory))
        return {"file": source, "quarantine": str(target), "bytes": len(data), "reason": reason}

    def repair(self) -> list[dict[str, Any]]:
        """Cut a torn last line (a write a kill or crash interrupted) off each spool file, keeping it aside.

        Without this the next append would glue a complete record onto the fragment and the merged line would
        read as garbage. A torn journal record was never fsync'd completely, so it was never sent nor reported
        as spooled; the fragment is kept in ``<file>.quarantine-*`` and reported. Call under the lock.
        """
        repairs = []
        for name in (JOURNAL, ACKED, REJECTED):
            path = self.directory / name
            torn = _torn_tail(path)
            if torn is None:
                continue
            cut, fragment = torn
            repairs.append(self._quarantine(name, fragment, "torn last line (no newline): a write cut short"))
            with open(path, "r+b") as stream:
                stream.truncate(cut)
                stream.flush()
                os.fsync(stream.fileno())
        return repairs

    def read_backlog(self) -> tuple[list[SpooledMessage], list[bytes]]:
        """Journaled messages without an ack, in journal order (each key once), and the unreadable lines."""
        acked = {line.decode("ascii", errors="replace") for line in _complete_lines(self.directory / ACKED)}
        pending: dict[str, SpooledMessage] = {}
        unreadable = []
        for line in _complete_lines(self.directory / JOURNAL):
            item = _parse_record(line)
            if item is None:
                unreadable.append(line)
            elif item.key not in acked and item.key not in pending:
                pending[item.key] = item
        return list(pending.values()), unreadable

    def backlog(self) -> list[SpooledMessage]:
        return self.read_backlog()[0]

    def quarantine_lines(self, lines: Sequence[bytes]) -> dict[str, Any]:
        return self._quarantine(JOURNAL, b"".join(line + b"\n" for line in lines),
                                "%d unreadable journal lines" % len(lines))

    def journal(self, items: Sequence[SpooledMessage]) -> None:
        """One group commit: the messages of a window in one append and one fsync; they are durable on return."""
        _append(self.directory / JOURNAL, b"".join(item.record() for item in items))

    def ack(self, keys: Iterable[str]) -> None:
        # Not fsync'd: a lost ack only means one more delivery with the same key. One descriptor per run.
        if self._ack_fd is None:
            self._ack_fd = os.open(self.directory / ACKED, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(self._ack_fd, "".join(key + "\n" for key in keys).encode("ascii"))

    def _close_ack_log(self) -> None:
        if self._ack_fd is not None:
            os.close(self._ack_fd)
            self._ack_fd = None

    def dead_letter(self, items: Sequence[SpooledMessage], status: int, reason: str) -> None:
        reason_json = json.dumps(reason).encode("utf-8")
        _append(self.directory / REJECTED, b"".join(
            b'{"k":"%s","status":%d,"reason":%s,"m":%s}\n' % (item.key.encode("ascii"), status, reason_json, item.body)
            for item in items))

    def compact(self, remaining: Sequence[SpooledMessage]) -> int:
        """Rewrite the journal with only ``remaining`` (the unacknowledged messages), then clear the ack log.

        Crash-safe order: the new journal is complete and synced before it replaces the old one, and the
        ack log is removed only after that, so every intermediate state reads back the same backlog.
        """
        replace_file(str(self.directory / JOURNAL), b"".join(item.record() for item in remaining))
        self._close_ack_log()
        (self.directory / ACKED).unlink(missing_ok=True)
        fsync_directory(str(self.directory))
        return len(remaining)


class _Permanent(Exception):
    """The sink refused the request for good (4xx other than 408/425/429)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def accepts_batches(accept_post: Sequence[str]) -> bool:
    """True when ``Accept-Post`` header values list the NDJSON batch media type."""
    media = {part.split(";")[0].strip().lower() for value in accept_post for part in value.split(",")}
    return BATCH_MEDIA_TYPE in media


class Publisher(object):
    """Sends batches with bounded concurrency, retries with exponential backoff and jitter, spools the rest."""

    def __init__(self, config: PublisherConfig, logger: Any = None, trace_id: Optional[str] = None) -> None:
        config.check()
        self.config = config
        self.logger = logger
        self.spool = Spool(config.spool_dir)
        self._requested_trace_id = trace_id
        self.report = PublishReport(endpoint=safe_endpoint(config.endpoint), trace_id=trace_id or new_trace_id(),
                                    batch_size=config.batch_size or 1)
        self._giving_up = False
        self._settled: set[str] = set()
        self._journaled = 0
        self._batch_format: BatchFormat = config.batch_format
        self._base_headers: dict[str, str] = {}
        self._traceparents: dict[str, str] = {}

    def _log(self, level: str, event: str, **values: Any) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(event, endpoint=self.report.endpoint, trace_id=self.report.trace_id, **values)

    def _log_outcome(self, level: str, batch: Sequence[SpooledMessage], outcome: str, **values: Any) -> None:
        """One structured line per message: outcome, severity, category, key (and its own trace when older)."""
        if self.logger is None:
            return
        for item in batch:
            extra = {} if item.trace_id == self.report.trace_id else {"message_trace_id": item.trace_id}
            self._log(level, "publish_message", outcome=outcome, idempotency_key=item.key, severity=item.severity,
                      category=item.category, **values, **extra)

    def _prepare_headers(self) -> None:
        headers = dict(self.config.headers)
        if self.report.batch_size == 1:
            headers["Content-Type"] = "application/json"
        else:
            headers["Content-Type"] = "application/json" if self._batch_format == "array" else BATCH_MEDIA_TYPE
        if self.config.auth_token:
            headers["Authorization"] = "Bearer " + self.config.auth_token
        self._base_headers = headers

    def _traceparent(self, trace_id: str) -> str:
        # One span per run and trace: every request of the run is a child of the same publishing span.
        header = self._traceparents.get(trace_id)
        if header is None:
            header = self._traceparents[trace_id] = traceparent(trace_id)
        return header

    def _headers(self, batch: Sequence[SpooledMessage]) -> dict[str, str]:
        headers = dict(self._base_headers)
        if self.report.batch_size == 1:
            headers["Idempotency-Key"] = batch[0].key
        else:
            keys = ",".join(item.key for item in batch)
            headers["Idempotency-Key"] = idempotency_key_of_batch(keys)
            headers["X-Idempotency-Keys"] = keys
        headers["traceparent"] = self._traceparent(batch[0].trace_id or self.report.trace_id)
        return headers

    def _body(self, batch: Sequence[SpooledMessage]) -> bytes:
        if self.report.batch_size == 1:
            return batch[0].body
        if self._batch_format == "array":
            return b"[" + b",".join(item.body for item in batch) + b"]"
        return b"".join(item.body + b"\n" for item in batch)

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        """1x, 2x, 4x ... the base delay, plus up to one base of jitter; Retry-After wins when longer."""
        backoff = self.config.backoff_base * (1 << (attempt - 1)) + random.uniform(0, self.config.backoff_base)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.config.retry_after_cap))
        return backoff

    async def _negotiate_batch_size(self, session: aiohttp.ClientSession) -> int:
        """The configured batch size, or ask the endpoint (OPTIONS) whether it takes NDJSON batches."""
        if self.config.batch_size is not None:
            return self.config.batch_size
        headers = dict(self.config.headers)
        if self.config.auth_token:
            headers["Authorization"] = "Bearer " + self.config.auth_token
        try:
            async with session.options(self.config.endpoint, headers=headers) as response:
                await response.read()
                batches = 200 <= response.status < 300 and accepts_batches(response.headers.getall("Accept-Post", []))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            self._log("warning", "publish_negotiation_failed", problem=redact_text(type(exc).__name__))
            batches = False
        if batches:
            self._batch_format = "ndjson"
        return MAX_BATCH_SIZE if batches else 1

    async def _send(self, session: aiohttp.ClientSession, batch: Sequence[SpooledMessage]) -> None:
        body = self._body(batch)
        headers = self._headers(batch)
        for attempt in range(1, self.config.max_attempts + 1):
            if self._giving_up:
                return
            self.report.attempts += 1
            started = time.perf_counter()
            retry_after: Optional[float] = None
            try:
                async with session.post(self.config.endpoint, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                problem = "HTTP %d" % status
                if 200 <= status < 300:
                    latency = (time.perf_counter() - started) * 1000
                    self.report.latencies_ms.append(latency)
                    self.report.requests += 1
                    self.report.sent += len(batch)
                    self.spool.ack(item.key for item in batch)
                    self._settled.update(item.key for item in batch)
                    self._log_outcome("info", batch, "delivered", status=status, attempt=attempt,
                                      latency_ms=round(latency, 3))
                    return
                if status not in RETRYABLE_STATUS:
                    raise _Permanent(status, "HTTP %d %s" % (status, response.reason or ""))
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                problem = redact_text("%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__)
            self._log("warning", "publish_attempt_failed", attempt=attempt, max_attempts=self.config.max_attempts,
                      messages=len(batch), problem=problem)
            if attempt < self.config.max_attempts:
                await asyncio.sleep(self._delay(attempt, retry_after))
        # Retries exhausted: the sink is down or overloaded; keep the rest for the next run.
        self._giving_up = True
        self._log("error", "publish_giving_up", problem=problem, messages=len(batch))

    async def _worker(self, session: aiohttp.ClientSession,
                      queue: asyncio.Queue[Optional[Sequence[SpooledMessage]]]) -> None:
        while True:
            batch = await queue.get()
            if batch is None:
                return
            try:
                await self._send(session, batch)
            except _Permanent as refusal:
                self.report.refused += len(batch)
                self.spool.dead_letter(batch, refusal.status, refusal.reason)
                self.spool.ack(item.key for item in batch)
                self._settled.update(item.key for item in batch)
                if len(self.report.rejections) < 20:
                    self.report.rejections.append({"idempotency_keys": [item.key for item in batch],
                                                   "status": refusal.status, "reason": refusal.reason})
                self._log("error", "publish_rejected", status=refusal.status, messages=len(batch))
                self._log_outcome("error", batch, "refused", status=refusal.status, latency_ms=None)

    @staticmethod
    def _batches(items: Sequence[SpooledMessage], size: int) -> Iterator[Sequence[SpooledMessage]]:
        """Consecutive messages, at most ``size`` per batch, one trace id per batch (it goes in traceparent)."""
        start = 0
        while start < len(items):
            trace_id = items[start].trace_id
            end = start + 1
            while end < len(items) and end - start < size and items[end].trace_id == trace_id:
                end += 1
            yield items[start:end]
            start = end

    def _ssl(self) -> ssl.SSLContext | bool:
        if not self.config.endpoint.startswith("https://"):
            return True  # aiohttp's default; no context to build for plain HTTP
        return ssl.create_default_context() if self.config.validate_certs else False

    def _commit_windows(self, items: Sequence[SpooledMessage]) -> Iterator[Sequence[SpooledMessage]]:
        """Group-commit windows: the first fills every connection once, each next one doubles, up to COMMIT_MAX.

        One fsync per window; sending the first window overlaps writing and syncing the next.
        """
        size = self.report.batch_size * self.config.concurrency
        start = 0
        while start < len(items):
            yield items[start:start + size]
            start += size
            size = min(size * 2, max(COMMIT_MAX, self.report.batch_size))

    async def _run(self, backlog: Sequence[SpooledMessage], fresh: Sequence[SpooledMessage]) -> None:
        connector = aiohttp.TCPConnector(limit=self.config.concurrency, ssl=self._ssl())
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            self.report.batch_size = await self._negotiate_batch_size(session)
            self._prepare_headers()
            queue: asyncio.Queue[Optional[Sequence[SpooledMessage]]] = asyncio.Queue()
            for batch in self._batches(backlog, self.report.batch_size):  # journaled by earlier runs: durable
                queue.put_nowait(batch)
            workers = [asyncio.create_task(self._worker(session, queue)) for unused in range(self.config.concurrency)]
            try:
                for window in self._commit_windows(fresh):
                    # Durable first (the fsync runs in a thread while earlier windows are being sent), then queued.
                    await asyncio.to_thread(self.spool.journal, window)
                    self._journaled += len(window)
                    for batch in self._batches(window, self.report.batch_size):
                        queue.put_nowait(batch)
            finally:
                for unused in workers:
                    queue.put_nowait(None)
                await asyncio.gather(*workers)

    def publish(self, messages: Iterable[IRISMessage | Mapping[str, Any]]) -> PublishReport:
        """Journal ``messages`` behind the spool's backlog, send everything, compact; returns the report.

        Raises ValidationError (nothing spooled, nothing sent) when a message breaks the IRISMessage contract.
        """
        given = list(messages)
        self.report.trace_id = run_trace_id(given, self._requested_trace_id)
        prepared, self.report.retraced = prepare_messages(given, self.report.trace_id)
        self.spool.lock(self.config.lock_timeout)
        try:
            self.report.quarantined = self.spool.repair()
            backlog, unreadable = self.spool.read_backlog()
            if unreadable:
                self.report.quarantined.append(self.spool.quarantine_lines(unreadable))
            for repair in self.report.quarantined:
                self._log("warning", "spool_quarantined", **repair)
            self.report.backlog = len(backlog)
            queued = {item.key for item in backlog}
            fresh = []
            for item in prepared:
                if item.key in queued:
                    self.report.duplicates_skipped += 1
                    continue
                queued.add(item.key)
                fresh.append(item)
            self._log("info", "publish_started", backlog=len(backlog), new=len(fresh))
            if backlog or fresh:
                asyncio.run(self._run(backlog, fresh))
            # Only what was journaled can be spooled; a window never committed was never sent or reported either.
            items = backlog + fresh[:self._journaled]
            remaining = [item for item in items if item.key not in self._settled]
            self.report.spooled = self.spool.compact(remaining)
            self._log_outcome("warning", remaining, "spooled", latency_ms=None, spool_dir=str(self.spool.directory))
            self._log("info", "publish_finished", sent=self.report.sent, refused=self.report.refused,
                      spooled=self.report.spooled, latency_ms=latency_percentiles(self.report.latencies_ms))
        finally:
            self.spool.unlock()
        return self.report


def publish(config: PublisherConfig, messages: Iterable[IRISMessage | Mapping[str, Any]],
            logger: Any = None, trace_id: Optional[str] = None) -> PublishReport:
    return Publisher(config, logger=logger, trace_id=trace_id).publish(messages)
