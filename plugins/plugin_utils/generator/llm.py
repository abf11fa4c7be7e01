# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The LLM backend: any OpenAI-compatible chat completions server, checked line by line.

The model only writes message text. Our code decides what is kept (``validation.check_response``),
stamps timestamps and PIDs from the session (a model's clock and PIDs are not trusted), retries a
category while lines are missing, and then falls back to the template engine or fails, as configured.
The API key never leaves the client: error texts are scrubbed of it before they are raised or logged.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import openai
from openai.types.chat import ChatCompletion

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ExternalIntegrationError, ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import catalog, validation
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.engine import GenerationSpec, TemplateEngine
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import Session
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory
from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import REDACTED, redact_text

DEFAULT_MODEL = "gpt-4o"
DEFAULT_TEMPERATURE = 0.7
API_KEY_ENV = "OPENAI_API_KEY"
FALLBACKS = ("template", "fail")
# One call asks for at most this many lines: long answers drift and cost more per retry.
MAX_LINES_PER_CALL = 25
MAX_LLM_COUNT = 1000
EXAMPLES_PER_CATEGORY = 6
MIN_REAL_EXAMPLES = 3
# How much of a reply that is not a chat completion the error shows.
BODY_PREVIEW_BYTES = 80
SAMPLES_DIR = Path(__file__).resolve().parents[3] / "log_samples" / "messages"

CATEGORY_TOPICS: Dict[MessageCategory, str] = {
    MessageCategory.CONFIG: "configuration (CPF parameters, data directories, settings that need attention)",
    MessageCategory.LICENSE: "licensing (license server LMF errors, license key validation, license units)",
    MessageCategory.MEMORY: "memory and resources (shared memory, global/routine buffers, huge pages, gmheap)",
    MessageCategory.LOCK: "the lock table (lock escalation, lock table filling up, LOCK TABLE FULL)",
    MessageCategory.JOURNAL: "journaling (journal switches, external backup freeze/thaw, journal I/O errors)",
    MessageCategory.STARTUP: "startup and shutdown (shared memory, WIJ, write daemon, database mounts, logons)",
    MessageCategory.MIRROR: "mirroring (failover members, arbiter, backup and async members)",
    MessageCategory.NETWORK: "ECP and network connections (ECP data servers, superserver connections)",
}

SYSTEM_PROMPT = """You write InterSystems IRIS messages.log entries. Answer with log lines only: no prose, \
no numbering, no markdown, no code fences.
Each entry is one line: MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Facility.Event] text
- MM/DD/YY-HH:MM:SS:mmm: 2-digit month, day and year, 24-hour time, 3-digit milliseconds.
- (PID): the decimal process id; lines written by the same process repeat its PID.
- SEVERITY: one digit, 0 information, 1 warning, 2 severe error, 3 fatal error.
- [Facility.Event]: the tag, e.g. [Generic.Event], [Utility.Event], [Database.MountedRW], [WriteDaemon.Started].
- text: terse and technical like IRIS: real parameter names, sizes in MB or KB, absolute paths; IRIS often puts \
two spaces after "Error:" and between sentences.
The only multi-line entry you may write is a journal switch: the line ending in \
"INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE" followed by a line "Journaling switched to: <journal file>".
These are real messages.log lines:
{examples}"""

USER_PROMPT = """Write {count} messages.log entries about {topic}.
Allowed severities: {severities}. Allowed tags: {tags}.
Examples for this topic ({provenance}):
{examples}"""


@dataclass(frozen=True)
class LLMSettings:
    api_key: str = field(repr=False)
    model: str = DEFAULT_MODEL
    temperature: float = DEFAULT_TEMPERATURE
    base_url: Optional[str] = None
    timeout: float = 30.0
    max_retries: int = 2
    max_attempts: int = 3
    fallback: str = "template"

    def __post_init__(self) -> None:
        checks: List[Tuple[str, bool, str]] = [
            ("model", bool(self.model.strip()), "must not be empty"),
            ("temperature", 0 <= self.temperature <= 2, "must be between 0 and 2"),
            ("llm_timeout", self.timeout > 0, "must be > 0 seconds"),
            ("llm_max_retries", self.max_retries >= 0, "must be >= 0"),
            ("llm_max_attempts", self.max_attempts >= 1, "must be >= 1"),
            ("fallback", self.fallback in FALLBACKS, "must be one of %s" % ", ".join(FALLBACKS)),
        ]
        errors = [(name, reason) for name, ok, reason in checks if not ok]
        if errors:
            raise ValidationError("; ".join("%s: %s" % error for error in errors), errors)


def resolve_api_key(option: Optional[str], base_url: Optional[str], environ: Optional[Mapping[str, str]] = None) -> str:
    """The key from the option, else from OPENAI_API_KEY; a local server (base_url) may do without one."""
    key = option or (os.environ if environ is None else environ).get(API_KEY_ENV, "")
    if key:
        return key
    if base_url:
        return "no-key"  # the SDK insists on a value; servers that need no key ignore it
    # Worded so that redaction (which hides the word after "api_key:") leaves the message readable.
    raise ValidationError("engine=llm needs an API key: pass the api_key option (keep it in Ansible Vault) or set %s "
                          "on the controller" % API_KEY_ENV, [("api_key", "missing")])


@lru_cache(maxsize=4)
def shared_client(api_key: str, base_url: Optional[str], timeout: float, max_retries: int) -> openai.OpenAI:
    """One client per process and settings: building one loads the CA bundle into a new TLS context (tens of
    milliseconds, more than the rest of a request), and a kept client reuses its connections."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)


class Scrubber(object):
    """Removes the API key (and anything else secret-shaped) from text before it is raised or logged."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def __call__(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, REDACTED)
        return redact_text(text)


@lru_cache(maxsize=1)
def real_examples() -> Dict[MessageCategory, Tuple[str, ...]]:
    """Captured lines of log_samples/messages per category: those a ``real:`` catalog template was built from."""
    shapes = [(template, template.text.split("{", 1)[0]) for template in catalog.TEMPLATES
              if template.source.startswith("real") and len(template.text.split("{", 1)[0]) >= 8]
    found: Dict[MessageCategory, List[str]] = {category: [] for category in MessageCategory}
    per_template: Dict[str, int] = {}
    for path in sorted(SAMPLES_DIR.glob("*.log")):
        entries, _malformed = iris_log.parse_text(path.read_text(encoding="utf-8"))
        for entry in entries:
            for template, prefix in shapes:
                lines = found[template.category]
                line = iris_log.format_entry(entry)
                if (entry.category == template.tag and entry.text.startswith(prefix) and line not in lines
                        and len(lines) < EXAMPLES_PER_CATEGORY and per_template.get(template.key, 0) < 2):
                    lines.append(line)
                    per_template[template.key] = per_template.get(template.key, 0) + 1
    return {category: tuple(lines) for category, lines in found.items()}


def examples_for(category: MessageCategory, session: Session) -> Tuple[Tuple[str, ...], str]:
    """Few-shot lines for a category and where they come from; documented wording fills in for missing captures."""
    real = real_examples()[category]
    if len(real) >= MIN_REAL_EXAMPLES:
        return real, "real lines from log_samples"
    # A session of its own: illustrations must not move the run's clock or take its PIDs.
    engine = TemplateEngine([category], frozenset(range(4)), Session(session.now, seed=0))
    illustrative = tuple(iris_log.format_entry(engine.entry(template, session.now)) for template in engine.templates
                         if not template.source.startswith("real"))
    provenance = "no captured line exists for most of this topic; wording follows the InterSystems documentation"
    return real + illustrative, provenance


def build_messages(category: MessageCategory, count: int, severities: frozenset[int],
                   session: Session) -> List[Dict[str, str]]:
    """The chat messages of one request: format rules and real lines, then the category's task and examples."""
    every_real = sorted({line for lines in real_examples().values() for line in lines})
    examples, provenance = examples_for(category, session)
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(examples="\n".join(every_real))},
        {"role": "user", "content": USER_PROMPT.format(
            count=count, topic=CATEGORY_TOPICS[category], severities=", ".join(str(s) for s in sorted(severities)),
            tags=", ".join("[%s]" % tag for tag in sorted(validation.allowed_tags(category))),
            provenance=provenance, examples="\n".join(examples))},
    ]


@dataclass
class LLMMetrics:
    calls: int = 0
    failed_calls: int = 0
    latencies_ms: List[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    accepted_lines: int = 0
    rejected_lines: int = 0
    fallback_messages: int = 0
    errors: List[str] = field(default_factory=list)
    rejected_examples: List[Dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        checked = self.accepted_lines + self.rejected_lines
        latencies = sorted(self.latencies_ms)
        return {
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
            "latency_ms_p95": round(_percentile(latencies, 0.95), 1) if latencies else None,
            "latency_ms_max": round(latencies[-1], 1) if latencies else None,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "accepted_lines": self.accepted_lines,
            "rejected_lines": self.rejected_lines,
            "validity_rate": round(self.accepted_lines / checked, 3) if checked else None,
            "fallback_messages": self.fallback_messages,
            "errors": list(self.errors),
            "rejected_examples": list(self.rejected_examples),
        }


class LLMBackend(object):
    """Generates a spec's messages with a chat model; one instance per run (it owns the HTTP client)."""

    def __init__(self, settings: LLMSettings, logger: Any) -> None:
        self.settings = settings
        self.logger = logger
        self.metrics = LLMMetrics()
        self._scrub = Scrubber(settings.api_key)

    def generate(self, spec: GenerationSpec, session: Session) -> Iterator[iris_log.LogEntry]:
        if spec.request.count > MAX_LLM_COUNT:
            raise ValidationError("count: engine=llm generates at most %d messages per run, got %d"
                                  % (MAX_LLM_COUNT, spec.request.count), [("count", "too large for engine=llm")])
        quotas = _split(spec.request.count, spec.categories)
        settings = self.settings
        client = shared_client(settings.api_key, settings.base_url, settings.timeout, settings.max_retries)
        for category, quota in quotas:
            produced = 0
            for entry in self._category(client, category, quota, spec.severities, session):
                produced += 1
                yield entry
            if produced < quota:
                yield from self._fallback(category, quota - produced, spec.severities, session)

    def _category(self, client: openai.OpenAI, category: MessageCategory, quota: int, severities: frozenset[int],
                  session: Session) -> Iterator[iris_log.LogEntry]:
        remaining = quota
        for attempt in range(1, self.settings.max_attempts + 1):
            if remaining <= 0:
                return
            answer = self._ask(client, category, min(remaining, MAX_LINES_PER_CALL), severities, session, attempt)
            if answer is None:
                continue
            accepted, rejected = validation.check_response(answer, category, severities, self._scrub)
            accepted = accepted[:remaining]
            self.metrics.accepted_lines += len(accepted)
            self.metrics.rejected_lines += len(rejected)
            for item in rejected[:max(0, 5 - len(self.metrics.rejected_examples))]:
                self.metrics.rejected_examples.append({"line": iris_log.printable(self._scrub(item.line[:200])),
                                                       "reason": item.reason})
            checked = len(accepted) + len(rejected)
            self.logger.info("llm_lines_checked", category=category.value, attempt=attempt, accepted=len(accepted),
                             rejected=len(rejected), format_match_rate=round(len(accepted) / checked, 3) if checked else None,
                             reasons=sorted({item.reason.split(":", 1)[0] for item in rejected}))
            for entry in accepted:
                remaining -= 1
                yield self._normalise(entry, session)

    def _ask(self, client: openai.OpenAI, category: MessageCategory, count: int, severities: frozenset[int],
             session: Session, attempt: int) -> Optional[str]:
        """One chat completion; None when the call failed (after the SDK's own retries) or the reply is not one."""
        messages = build_messages(category, count, severities, session)
        started = time.monotonic()
        self.metrics.calls += 1
        try:
            raw = client.chat.completions.with_raw_response.create(
                model=self.settings.model, messages=messages, temperature=self.settings.temperature)  # type: ignore[arg-type]
        except openai.OpenAIError as exc:
            self._call_failed(category, attempt, started, "%s: %s" % (type(exc).__name__, exc))
            return None
        try:
            response: object = raw.parse()
        except ValueError:  # a JSON content type over a body that is not JSON
            response = None
        if not isinstance(response, ChatCompletion):  # the SDK hands back the text of a non-JSON reply
            body = raw.http_response
            self._call_failed(category, attempt, started, not_a_completion(
                body.status_code, body.headers.get("content-type", ""), body.content))
            return None
        latency_ms = (time.monotonic() - started) * 1000
        self.metrics.latencies_ms.append(latency_ms)
        usage = response.usage
        if usage is not None:
            self.metrics.prompt_tokens += usage.prompt_tokens
            self.metrics.completion_tokens += usage.completion_tokens
        self.logger.info("llm_call", category=category.value, attempt=attempt, model=self.settings.model,
                         latency_ms=round(latency_ms, 1), prompt_tokens=usage.prompt_tokens if usage else None,
                         completion_tokens=usage.completion_tokens if usage else None)
        choices = response.choices or []
        return (choices[0].message.content or "") if choices else ""

    def _call_failed(self, category: MessageCategory, attempt: int, started: float, error: str) -> None:
        self.metrics.failed_calls += 1
        message = iris_log.printable(self._scrub(error))
        self.metrics.errors.append(message)
        self.logger.warning("llm_call_failed", category=category.value, attempt=attempt, error=message,
                            latency_ms=round((time.monotonic() - started) * 1000, 1))

    @staticmethod
    def _normalise(entry: iris_log.LogEntry, session: Session) -> iris_log.LogEntry:
        """Our clock, our PIDs (one per PID the model used) and our journal files; the model's severity, tag, text.

        A journal file is named after its day (YYYYMMDD.NNN), so the model's name would contradict our clock.
        """
        timestamp = session.tick()
        continuation = entry.continuation
        if continuation:  # validation keeps only a journal switch's "Journaling switched to:" line
            continuation = ("Journaling switched to: %s" % session.journal_file(switch=True),)
        # make_entry validates every field: what the writer renders without checking again.
        return iris_log.make_entry(timestamp, session.pid("llm:%d" % entry.pid), entry.severity,
                                   entry.category, entry.text, continuation)

    def _fallback(self, category: MessageCategory, missing: int, severities: frozenset[int],
                  session: Session) -> Iterator[iris_log.LogEntry]:
        summary = "the model produced %d of the requested %s messages valid after %d attempt(s)" % (
            self.metrics.accepted_lines, category.value, self.settings.max_attempts)
        if self.metrics.errors:
            summary += "; last error: %s" % self.metrics.errors[-1]
        if self.settings.fallback == "fail":
            self.logger.error("llm_failed", category=category.value, missing=missing, reason=summary)
            raise ExternalIntegrationError("LLM generation failed: %s (fallback=fail)" % summary)
        try:
            engine = TemplateEngine([category], severities, session)
        except ValidationError as exc:
            raise ExternalIntegrationError("LLM generation failed: %s; the template fallback cannot help: %s"
                                           % (summary, exc)) from None
        self.metrics.fallback_messages += missing
        self.logger.warning("llm_fallback", category=category.value, missing=missing, reason=summary)
        yield from engine.entries(missing)


def not_a_completion(status: int, content_type: str, body: bytes) -> str:
    """What came back instead of a chat completion: status, content type and the first bytes (scrubbed by the caller)."""
    head = body[:BODY_PREVIEW_BYTES].decode("utf-8", errors="replace")
    return "the server answered HTTP %d with content type %r and a body that is not a chat completion JSON " \
           "(%d bytes, starting %r)" % (status, content_type or "(none)", len(body), head)


def _percentile(ordered: List[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty list."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _split(count: int, categories: List[MessageCategory]) -> List[Tuple[MessageCategory, int]]:
    """``count`` shared across categories in order (the first ones get the remainder)."""
    share, extra = divmod(count, len(categories))
    return [(category, share + (1 if index < extra else 0)) for index, category in enumerate(categories)
            if share + (1 if index < extra else 0)]
