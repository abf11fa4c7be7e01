# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One generation run: spec -> engine -> streaming writer, with metrics. Ansible-free, so it is tested directly."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional, TextIO

from ansible_collections.irisops.iris.plugins.plugin_utils.generator import output
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.engine import GenerationSpec, TemplateEngine
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.llm import LLMBackend, LLMSettings
from ansible_collections.irisops.iris.plugins.plugin_utils.models import GenerationEngine


@dataclass
class RunOutcome:
    count: int
    messages: List[Dict[str, Any]]
    sha1: str
    metrics: Dict[str, Any] = field(default_factory=dict)


def run(spec: GenerationSpec, output_format: str, stream: TextIO, logger: Any, keep: int,
        default_start: datetime, llm_settings: Optional[LLMSettings] = None) -> RunOutcome:
    """Generate ``spec`` into ``stream``; the first ``keep`` messages come back for the task result."""
    request = spec.request
    session = spec.session(default_start)
    started = time.monotonic()
    backend: Optional[LLMBackend] = None
    if request.engine == GenerationEngine.LLM:
        if llm_settings is None:
            raise ValueError("engine=llm needs LLM settings")
        backend = LLMBackend(llm_settings, logger)
        entries = backend.generate(spec, session)
    else:
        entries = TemplateEngine(spec.categories, spec.severities, session).entries(request.count)
    # Both engines build valid entries (templates proven once per session, model lines through make_entry).
    summary = output.write_entries(entries, output_format, stream, request.instance, request.trace_id, keep,
                                   validated=True)
    seconds = time.monotonic() - started
    metrics: Dict[str, Any] = {
        "engine": request.engine.value,
        "messages": summary.count,
        "duration_ms": int(seconds * 1000),
        "messages_per_second": round(summary.count / seconds, 1) if seconds > 0 else None,
    }
    logged = dict(metrics)
    if backend is not None:
        metrics["llm"] = backend.metrics.as_dict()
        # Latency, tokens and validity rate of the model go to the log too; the rejected lines stay in the result.
        # Keys keep their names: "prompt_tokens" is known not to be a secret, "llm_prompt_tokens" would be redacted.
        logged.update((key, value) for key, value in metrics["llm"].items() if key not in ("errors", "rejected_examples"))
    logger.info("messages_generated", **logged)
    return RunOutcome(summary.count, summary.messages, summary.sha1, metrics)
