# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Template engine throughput, memory and request latency, against baselines measured in the same run.

Run: .venv/bin/python tests/bench/bench_generator.py [lines]   (default 1,000,000 lines)
- lines/s of the template engine writing messages.log lines (all 8 categories, scenarios included),
  and the ratio to a bare f-string loop writing the same lines (fields taken from the engine's own
  output beforehand) to the same kind of file;
- peak Python memory of the same run under tracemalloc (constant: the engine streams);
- p50/p95 latency of a 100-message request (spec validation + generation + JSON output), the work
  the action plugin does per task. Goals (issue 8): >= 100k lines/s, p95 < 50 ms (SC-002: < 500 ms).
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

from ansible_collections.irisops.iris.plugins.module_utils import iris_log  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import engine, output, runner  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import Session  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.logs import build_logger  # noqa: E402
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory  # noqa: E402

START = datetime(2025, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
BASELINE_SAMPLE = 10_000
REQUESTS = 60
Fields = Tuple[int, int, int, int, int, int, int, int, int, str, str]


def engine_run(path: Path, count: int) -> float:
    """Seconds for the template engine to write ``count`` messages.log lines to ``path``."""
    session = Session(START, seed=1)
    entries = engine.TemplateEngine(list(MessageCategory), frozenset(range(4)), session).entries(count)
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        summary = output.write_entries(entries, "log", stream, None, TRACE_ID, keep=0)
    elapsed = time.perf_counter() - started
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
    """Seconds for a bare f-string loop to write ``count`` lines cycling through ``sample``."""
    size = len(sample)
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for index in range(count):
            mo, d, y, h, mi, s, ms, pid, sev, tag, text = sample[index % size]
            stream.write(f"{mo:02d}/{d:02d}/{y:02d}-{h:02d}:{mi:02d}:{s:02d}:{ms:03d} ({pid}) {sev} [{tag}] {text}\n")
    return time.perf_counter() - started


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


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as directory:
        generated, baseline_file = Path(directory) / "generated.log", Path(directory) / "baseline.log"
        sample = sample_fields(BASELINE_SAMPLE)
        baseline = baseline_run(baseline_file, count, sample)
        generated_seconds = engine_run(generated, count)
        lines, malformed = iris_log.parse_text(generated.read_text(encoding="utf-8")[:2_000_000])
        assert lines and not malformed
        print("lines: %d (all 8 categories, scenarios included), file %.1f MB"
              % (count, generated.stat().st_size / 1e6))
        print("bare f-string loop:     %10.0f lines/s" % (count / baseline))
        print("template engine:        %10.0f lines/s   (goal >= 100000)" % (count / generated_seconds))
        print("ratio engine/baseline:  %10.2f x the baseline's throughput" % (baseline / generated_seconds))
        small, large = peak_memory(generated, count // 10), peak_memory(generated, count)
        print("peak memory (tracemalloc): %.2f MB for %d lines, %.2f MB for %d lines (ratio %.2f)"
              % (small / 1e6, count // 10, large / 1e6, count, large / small))
    latencies = sorted(request_latencies_ms())
    p95 = latencies[max(0, -(-95 * len(latencies) // 100) - 1)]
    print("100-message request:    p50 %.1f ms, p95 %.1f ms over %d requests (goal < 50 ms, SC-002 < 500 ms)"
          % (statistics.median(latencies), p95, len(latencies)))


if __name__ == "__main__":
    main()
