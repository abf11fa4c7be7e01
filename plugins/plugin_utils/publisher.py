# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""At-least-once HTTP publisher of IRISMessage JSON with a durable spool (controller side).

Every message is written to the spool journal (append-only, fsync'd) *before* it is sent, and its
idempotency key is appended to the ack log once the sink answered 2xx. A run first sends what earlier
runs left unacknowledged, so killing the publisher at any moment loses nothing; a message may be
delivered twice, always with the same ``Idempotency-Key`` so the receiver can drop the duplicate.
"""

from __future__ import annotations

import asyncio
import email.utils
import fcntl
import hashlib
import json
import os
import random
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping, Optional, Sequence

import aiohttp
from pydantic import ValidationError as PydanticValidationError

from ansible_collections.irisops.iris.plugins.module_utils.durable import fsync_directory
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_text
from ansible_collections.irisops.iris.plugins.plugin_utils.tracing import new_trace_id, traceparent

BatchFormat = Literal["ndjson", "array"]
JOURNAL = "journal.ndjson"
ACKED = "acked.keys"
REJECTED = "rejected.ndjson"
LOCK = "spool.lock"
# Status codes worth another attempt: the receiver may accept the same request later.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Header values must stay under aiohttp's default 8190-byte field limit: 100 keys of 32 hex + commas.
MAX_BATCH_SIZE = 100
KEY_LENGTH = 32


@dataclass(frozen=True)
class PublisherConfig:
    """Where and how to publish; validated by ``check()`` before anything is sent or spooled."""

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
    batch_size: int = 1
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
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            problems.append(("batch_size", "must be between 1 and %d" % MAX_BATCH_SIZE))
        if self.batch_format not in ("ndjson", "array"):
            problems.append(("batch_format", "must be ndjson or array"))
        for name in self.headers:
            if name.lower() in ("authorization", "idempotency-key", "content-type", "traceparent"):
                problems.append(("headers.%s" % name, "is set by the publisher; use auth_token for credentials"))
        if problems:
            raise ValidationError("; ".join("%s: %s" % item for item in problems), problems)


@dataclass(frozen=True)
class SpooledMessage:
    key: str
    message: dict[str, Any]


@dataclass
class PublishReport:
    endpoint: str
    trace_id: str
    sent: int = 0
    refused: int = 0
    spooled: int = 0
    backlog: int = 0
    duplicates_skipped: int = 0
    requests: int = 0
    attempts: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint, "trace_id": self.trace_id, "sent": self.sent, "refused": self.refused,
            "spooled": self.spooled, "backlog": self.backlog, "duplicates_skipped": self.duplicates_skipped,
            "requests": self.requests, "attempts": self.attempts, "latency_ms": latency_percentiles(self.latencies_ms),
            "rejections": self.rejections,
        }


def latency_percentiles(samples: Sequence[float]) -> dict[str, Optional[float]]:
    """p50/p90/p99/max by the nearest-rank method; None when nothing was sent."""
    if not samples:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def rank(percent: int) -> float:
        return round(ordered[max(0, -(-len(ordered) * percent // 100) - 1)], 3)

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": round(ordered[-1], 3)}


def idempotency_key(message: Mapping[str, Any]) -> str:
    """Same event, same key across runs: a hash of the message without its per-publication trace id."""
    identity = {name: value for name, value in message.items() if name != "trace_id"}
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def to_message_dict(message: IRISMessage | Mapping[str, Any]) -> dict[str, Any]:
    model = message if isinstance(message, IRISMessage) else IRISMessage.model_validate(dict(message))
    return model.model_dump(mode="json")


def safe_endpoint(endpoint: str) -> str:
    """The endpoint as it may appear in results and logs (credentials in the URL removed)."""
    return redact_text(endpoint)


def _append_lines(path: Path, lines: Iterable[str], sync: bool = True) -> None:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if not data:
        return
    with open(path, "ab") as stream:
        stream.write(data)
        stream.flush()
        if sync:
            os.fsync(stream.fileno())


def _read_lines(path: Path) -> Iterator[str]:
    """Complete lines only: a line cut short by a kill mid-write (no final LF) was never acknowledged."""
    if not path.exists():
        return
    with open(path, "rb") as stream:
        for raw in stream:
            if raw.endswith(b"\n"):
                yield raw[:-1].decode("utf-8", errors="replace")


class Spool(object):
    """The spool directory: journal of every message handed over, ack log, dead letters, run lock."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock_fd: Optional[int] = None

    def lock(self, timeout: float) -> None:
        """One publisher per spool at a time; another run waits up to ``timeout`` seconds."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock_fd = descriptor
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(descriptor)
                    raise ExternalIntegrationError("spool_dir: %s is locked by another publisher for more than %.0f s"
                                                   % (self.directory, timeout)) from None
                time.sleep(0.05)

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def backlog(self) -> list[SpooledMessage]:
        """Journaled messages without an ack, in journal order (each key once)."""
        acked = set(_read_lines(self.directory / ACKED))
        pending: dict[str, SpooledMessage] = {}
        for line in _read_lines(self.directory / JOURNAL):
            try:
                record = json.loads(line)
                key, message = record["k"], record["m"]
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from a kill during an unsynced write is never acknowledged either
            if key not in acked and key not in pending:
                pending[key] = SpooledMessage(key, message)
        return list(pending.values())

    def journal(self, items: Sequence[SpooledMessage]) -> None:
        _append_lines(self.directory / JOURNAL, (json.dumps({"k": item.key, "m": item.message},
                                                            separators=(",", ":"), ensure_ascii=False)
                                                 for item in items))

    def ack(self, keys: Iterable[str]) -> None:
        # Not fsync'd per request: a lost ack only means one more delivery with the same key.
        _append_lines(self.directory / ACKED, keys, sync=False)

    def dead_letter(self, items: Sequence[SpooledMessage], status: int, reason: str) -> None:
        _append_lines(self.directory / REJECTED, (json.dumps({"k": item.key, "status": status, "reason": reason,
                                                              "m": item.message}, ensure_ascii=False)
                                                  for item in items))

    def compact(self) -> int:
        """Rewrite the journal with only unacknowledged messages, then clear the ack log; returns their count.

        Crash-safe order: the new journal is complete and synced before it replaces the old one, and the
        ack log is removed only after that, so every intermediate state reads back the same backlog.
        """
        remaining = self.backlog()
        temporary = self.directory / (JOURNAL + ".tmp")
        with open(temporary, "wb") as stream:
            for item in remaining:
                stream.write((json.dumps({"k": item.key, "m": item.message}, separators=(",", ":"),
                                         ensure_ascii=False) + "\n").encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.directory / JOURNAL)
        fsync_directory(str(self.directory))
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


class Publisher(object):
    """Sends batches with bounded concurrency, retries with exponential backoff and jitter, spools the rest."""

    def __init__(self, config: PublisherConfig, logger: Any = None, trace_id: Optional[str] = None) -> None:
        config.check()
        self.config = config
        self.logger = logger
        self.spool = Spool(config.spool_dir)
        self.report = PublishReport(endpoint=safe_endpoint(config.endpoint), trace_id=trace_id or new_trace_id())
        self._giving_up = False

    def _log(self, level: str, event: str, **values: Any) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(event, endpoint=self.report.endpoint, trace_id=self.report.trace_id, **values)

    def _headers(self, batch: Sequence[SpooledMessage]) -> dict[str, str]:
        headers = dict(self.config.headers)
        single = len(batch) == 1
        headers["Content-Type"] = "application/json" if single or self.config.batch_format == "array" \
            else "application/x-ndjson"
        headers["Idempotency-Key"] = batch[0].key if single else \
            hashlib.sha256(",".join(item.key for item in batch).encode()).hexdigest()[:KEY_LENGTH]
        if not single:
            headers["X-Idempotency-Keys"] = ",".join(item.key for item in batch)
        trace_id = batch[0].message.get("trace_id") if single else self.report.trace_id
        headers["traceparent"] = traceparent(str(trace_id))
        if self.config.auth_token:
            headers["Authorization"] = "Bearer " + self.config.auth_token
        return headers

    def _body(self, batch: Sequence[SpooledMessage]) -> bytes:
        if len(batch) == 1 and self.config.batch_size == 1:
            return json.dumps(batch[0].message, ensure_ascii=False).encode("utf-8")
        if self.config.batch_format == "array":
            return json.dumps([item.message for item in batch], ensure_ascii=False).encode("utf-8")
        return "".join(json.dumps(item.message, ensure_ascii=False) + "\n" for item in batch).encode("utf-8")

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        """1x, 2x, 4x ... the base delay, plus up to one base of jitter; Retry-After wins when longer."""
        backoff = self.config.backoff_base * (1 << (attempt - 1)) + random.uniform(0, self.config.backoff_base)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.config.retry_after_cap))
        return backoff

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
                    self.report.latencies_ms.append((time.perf_counter() - started) * 1000)
                    self.report.requests += 1
                    self.report.sent += len(batch)
                    self.spool.ack(item.key for item in batch)
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

    async def _worker(self, session: aiohttp.ClientSession, queue: asyncio.Queue[Sequence[SpooledMessage]]) -> None:
        while True:
            try:
                batch = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self._send(session, batch)
            except _Permanent as refusal:
                self.report.refused += len(batch)
                self.spool.dead_letter(batch, refusal.status, refusal.reason)
                self.spool.ack(item.key for item in batch)
                if len(self.report.rejections) < 20:
                    self.report.rejections.append({"idempotency_keys": [item.key for item in batch],
                                                   "status": refusal.status, "reason": refusal.reason})
                self._log("error", "publish_rejected", status=refusal.status, messages=len(batch))

    def _batches(self, items: Sequence[SpooledMessage]) -> Iterator[Sequence[SpooledMessage]]:
        size = self.config.batch_size
        for start in range(0, len(items), size):
            yield items[start:start + size]

    async def _run(self, items: Sequence[SpooledMessage]) -> None:
        queue: asyncio.Queue[Sequence[SpooledMessage]] = asyncio.Queue()
        for batch in self._batches(items):
            queue.put_nowait(batch)
        ssl_context: ssl.SSLContext | bool = ssl.create_default_context() if self.config.validate_certs else False
        connector = aiohttp.TCPConnector(limit=self.config.concurrency, ssl=ssl_context)
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            workers = [asyncio.create_task(self._worker(session, queue))
                       for unused in range(min(self.config.concurrency, queue.qsize()))]
            await asyncio.gather(*workers)

    def publish(self, messages: Iterable[IRISMessage | Mapping[str, Any]]) -> PublishReport:
        """Journal ``messages`` behind the spool's backlog, send everything, compact; returns the report.

        Raises ValidationError (nothing spooled, nothing sent) when a message breaks the IRISMessage contract.
        """
        prepared = []
        for index, message in enumerate(messages):
            try:
                body = to_message_dict(message)
            except PydanticValidationError as exc:
                errors = [("$[%d]%s" % (index, "".join("." + str(part) for part in error["loc"])), error["msg"])
                          for error in exc.errors()]
                raise ValidationError("messages[%d] is not an IRISMessage: %s" % (
                    index, "; ".join("%s: %s" % error for error in errors)), errors) from None
            prepared.append(SpooledMessage(idempotency_key(body), body))
        self.spool.lock(self.config.lock_timeout)
        try:
            backlog = self.spool.backlog()
            self.report.backlog = len(backlog)
            queued = {item.key for item in backlog}
            fresh = []
            for item in prepared:
                if item.key in queued:
                    self.report.duplicates_skipped += 1
                    continue
                queued.add(item.key)
                fresh.append(item)
            self.spool.journal(fresh)
            self._log("info", "publish_started", backlog=len(backlog), new=len(fresh))
            asyncio.run(self._run(backlog + fresh))
            self.report.spooled = self.spool.compact()
            self._log("info", "publish_finished", sent=self.report.sent, refused=self.report.refused,
                      spooled=self.report.spooled)
        finally:
            self.spool.unlock()
        return self.report


def publish(config: PublisherConfig, messages: Iterable[IRISMessage | Mapping[str, Any]],
            logger: Any = None, trace_id: Optional[str] = None) -> PublishReport:
    return Publisher(config, logger=logger, trace_id=trace_id).publish(messages)
