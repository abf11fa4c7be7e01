# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Template engine throughput, memory, request latency and the LLM path's own overhead, against baselines
measured in the same run.

Run: .venv/bin/python tests/bench/bench_generator.py [lines]   (default 1,000,000 lines)
- lines/s of the template engine writing messages.log lines (all 8 categories, scenarios included, as
  runner.run writes them), and the ratio to a bare f-string loop writing the same lines (fields taken from the
  engine's own output beforehand) to the same kind of file. Both are timed in CPU seconds of this process
  (time.process_time: file writes included, other jobs' time on a shared machine not), alternating in ROUNDS
  rounds of lines/ROUNDS each; the best round of each counts.
  Goal (issue 16): ratio >= 0.3;
- peak Python memory under tracemalloc for lines/10 and lines (constant: the engine streams);
- p50/p95 latency of a 100-message request (spec validation + generation + JSON output), the work
  the action plugin does per task. Goals (issue 8): >= 100k lines/s, p95 < 50 ms (SC-002: < 500 ms);
- the LLM engine's own overhead per request: one 25-line request through LLMBackend (client, prompt,
  validation, normalisation) against the bare openai client sending the same prompt to the same local
  OpenAI-compatible server (tests/support/openai_server.py) with the same answer, alternating.
  Goal (issue 16): p95 overhead < 5 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path
from typing import List, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO))

import openai  # noqa: E402
from tests.support.openai_server import OpenAIServer, reply  # noqa: E402

from ansible_collections.irisops.iris.plugins.module_utils import iris_log  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import engine, llm, output, runner  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import Session  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory  # noqa: E402

START = datetime(2025, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
BASELINE_SAMPLE = 10_000
REQUESTS = 60
ROUNDS = 5
LLM_REQUESTS = 200
LLM_LINES = 25
Fields = Tuple[int, int, int, int, int, int, int, int, int, str, str]


def engine_run(path: Path, count: int) -> float:
    """CPU seconds for the template engine to write ``count`` messages.log lines to ``path``."""
    session = Session(START, seed=1)
    entries = engine.TemplateEngine(list(MessageCategory), frozenset(range(4)), session).entries(count)
    started = time.process_time()
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        summary = output.write_entries(entries, "log", stream, None, TRACE_ID, keep=0, validated=True)  # as runner.run
    elapsed = time.process_time() - started
    assert summary.count == count
    return elapsed


def sample_fields(count: int) -> List[Fields]:
    """The engine's own lines, split into fields, for the baseline to write with an f-string."""
    session = Session(START, seed=1)
    fields = []
    for entry in engine.TemplateEngine(list(MessageCategory), frozenset(range(4)), session).entries(count):
        stamp = entry.timestamp
        body = "\n".join((entry.text,) + entry.continuation)
        fields.append((stamp.month, stamp.day, stamp.year % 100, stamp.hour, stamp.minute, stamp.second,
                       stamp.microsecond // 1000, entry.pid, entry.severity, entry.category, body))
    return fields


def baseline_run(path: Path, count: int, sample: List[Fields]) -> float:
    """CPU seconds for a bare f-string loop to write ``count`` lines cycling through ``sample``."""
    size = len(sample)
    started = time.process_time()
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for index in range(count):
            mo, d, y, h, mi, s, ms, pid, sev, tag, text = sample[index % size]
            stream.write(f"{mo:02d}/{d:02d}/{y:02d}-{h:02d}:{mi:02d}:{s:02d}:{ms:03d} ({pid}) {sev} [{tag}] {text}\n")
    return time.process_time() - started


def peak_memory(path: Path, count: int) -> int:
    tracemalloc.start()
    try:
        engine_run(path, count)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def request_latencies_ms() -> List[float]:
    """One 100-message request per seed: validate the options, generate, render the JSON result."""
    logger = build_logger("bench", stream=StringIO())
    latencies = []
    for seed in range(REQUESTS):
        started = time.perf_counter()
        spec = engine.build_spec(["config", "license", "lock"], count=100, severity="0-3", seed=seed,
                                 start_time=START, trace_id=TRACE_ID)
        outcome = runner.run(spec, "json", StringIO(), logger, 100, START)
        latencies.append((time.perf_counter() - started) * 1000)
        assert outcome.count == 100 and len(outcome.messages) == 100
    return latencies


def throughput(directory: Path, count: int) -> Tuple[float, float]:
    """Best CPU seconds per line of the bare loop and of the engine, over ROUNDS alternating rounds."""
    per_round = max(1, count // ROUNDS)
    sample = sample_fields(BASELINE_SAMPLE)
    baseline, generated = [], []
    for unused in range(ROUNDS):
        baseline.append(baseline_run(directory / "baseline.log", per_round, sample) / per_round)
        generated.append(engine_run(directory / "generated.log", per_round) / per_round)
    return min(baseline), min(generated)


def llm_overheads_ms() -> Tuple[List[float], List[float], List[float]]:
    """Per-request latency of the bare openai client and of LLMBackend, same prompt and answer, alternating;
    and LLMBackend's own work: its wall time less the call's latency as the backend itself measures it."""
    spec = engine.build_spec("license", count=LLM_LINES, severity="2", engine="llm", seed=1, start_time=START,
                             trace_id=TRACE_ID)
    answer = "\n".join("01/17/99-23:59:%02d:001 (%d) 2 [Utility.Event] LMF Error:  Could not send startup message to "
                       "license server" % (index % 60, 700 + index % 3) for index in range(LLM_LINES))
    logger = build_logger("bench", stream=StringIO())
    bare, ours, own = [], [], []
    with OpenAIServer(default=reply(answer)) as server:
        settings = llm.LLMSettings(api_key="sk-bench-key-0123456789", base_url=server.url, max_retries=0)
        session = spec.session(START)
        messages = llm.build_messages(spec.categories[0], LLM_LINES, spec.severities, session)
        with openai.OpenAI(api_key=settings.api_key, base_url=server.url, max_retries=0) as client:
            for index in range(LLM_REQUESTS + 10):  # the first 10 of each warm up (imports, connections)
                started = time.perf_counter()
                completion = client.chat.completions.create(model=settings.model, messages=messages,  # type: ignore[arg-type]
                                                            temperature=settings.temperature)
                bare_ms = (time.perf_counter() - started) * 1000
                assert completion.choices[0].message.content == answer
                backend = llm.LLMBackend(settings, logger)
                run_session = spec.session(START)  # once per run, not per request (runner.run makes it)
                started = time.perf_counter()
                produced = sum(1 for unused in backend.generate(spec, run_session))
                ours_ms = (time.perf_counter() - started) * 1000
                assert produced == LLM_LINES and backend.metrics.fallback_messages == 0
                if index >= 10:
                    bare.append(bare_ms)
                    ours.append(ours_ms)
                    own.append(ours_ms - backend.metrics.latencies_ms[0])
    return bare, ours, own


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(fraction * 100) * len(ordered) // 100) - 1)]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as directory:
        generated = Path(directory) / "generated.log"
        baseline, generated_seconds = throughput(Path(directory), count)
        engine_run(generated, min(count, 100_000))
        head = generated.read_text(encoding="utf-8")[:2_000_000]
        lines, malformed = iris_log.parse_text(head[:head.rfind("\n") + 1])  # whole lines only
        assert lines and not malformed
        print("lines: %d in %d alternating rounds (all 8 categories, scenarios included), best round of each"
              % (count, ROUNDS))
        print("bare f-string loop:     %10.0f lines per CPU second" % (1 / baseline))
        print("template engine:        %10.0f lines per CPU second   (goal >= 100000)" % (1 / generated_seconds))
        print("ratio engine/baseline:  %10.2f x the baseline's throughput (goal >= 0.30)" % (baseline / generated_seconds))
        small, large = peak_memory(generated, count // 10), peak_memory(generated, count)
        print("peak memory (tracemalloc): %.2f MB for %d lines, %.2f MB for %d lines (ratio %.2f)"
              % (small / 1e6, count // 10, large / 1e6, count, large / small))
    latencies = request_latencies_ms()
    print("100-message request:    p50 %.1f ms, p95 %.1f ms over %d requests (goal < 50 ms, SC-002 < 500 ms)"
          % (statistics.median(latencies), percentile(latencies, 0.95), len(latencies)))
    bare, ours, own = llm_overheads_ms()
    print("LLM request, %d lines:  bare openai client p50 %.2f ms p95 %.2f ms; LLMBackend p50 %.2f ms p95 %.2f ms "
          "(ratio p50 %.2f)" % (LLM_LINES, statistics.median(bare), percentile(bare, 0.95), statistics.median(ours),
                                percentile(ours, 0.95), statistics.median(ours) / statistics.median(bare)))
    print("LLM request overhead:   LLMBackend - bare client: p50 %+.2f ms, p95 %+.2f ms; own work outside the call "
          "p50 %.2f ms, p95 %.2f ms over %d requests (goal p95 < 5 ms)"
          % (statistics.median(ours) - statistics.median(bare), percentile(ours, 0.95) - percentile(bare, 0.95),
             statistics.median(own), percentile(own, 0.95), len(own)))


if __name__ == "__main__":
    main()
