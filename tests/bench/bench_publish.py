# SPDX-License-Identifier: GPL-3.0-or-later
"""Publisher throughput to a loopback sink, as a ratio to a bare aiohttp POST loop at the same concurrency.

Run: .venv/bin/python tests/bench/bench_publish.py   (prints messages/s of both and the ratio)
Both send the same IRISMessage JSON bodies, one message per request, with the same number of requests in flight,
to the same HttpSink on 127.0.0.1, in the same run. The publisher's extra work per message is what the ratio
shows: contract validation, the idempotency key, the fsync'd spool journal, the ack log and the final compaction.
A batched run (50 messages per request) is printed for comparison.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

import aiohttp  # noqa: E402
from http_sink import HttpSink  # noqa: E402

from ansible_collections.irisops.iris.plugins.plugin_utils.publisher import PublisherConfig, publish  # noqa: E402

MESSAGES = 3000
CONCURRENCY = 10
ROUNDS = 3


def make_messages(count: int, offset: int) -> List[Dict[str, Any]]:
    return [{"timestamp": "2026-02-01T10:%02d:%02d.%03d+00:00" % (n // 60000 % 60, n // 1000 % 60, n % 1000),
             "pid": 4000 + n % 97, "severity": n % 4, "category": "Utility.Event",
             "text": "bench event %d of round %d" % (n, offset), "instance": "IRIS"} for n in range(count)]


async def bare_post_loop(url: str, bodies: List[bytes]) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                if response.status >= 300:
                    raise RuntimeError("sink answered %d" % response.status)

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for unused in range(CONCURRENCY)))


def rate_bare(sink: HttpSink, offset: int) -> float:
    bodies = [json.dumps(message).encode() for message in make_messages(MESSAGES, offset)]
    started = time.perf_counter()
    asyncio.run(bare_post_loop(sink.url, bodies))
    return MESSAGES / (time.perf_counter() - started)


def rate_publisher(sink: HttpSink, offset: int, batch_size: int = 1) -> float:
    messages = make_messages(MESSAGES, offset)
    with tempfile.TemporaryDirectory() as spool:
        config = PublisherConfig(endpoint=sink.url, spool_dir=Path(spool), concurrency=CONCURRENCY,
                                 batch_size=batch_size, timeout=30)
        started = time.perf_counter()
        report = publish(config, messages)
        elapsed = time.perf_counter() - started
    if report.sent != MESSAGES:
        raise RuntimeError("publisher sent %d of %d" % (report.sent, MESSAGES))
    return MESSAGES / elapsed


def main() -> None:
    with HttpSink() as sink:
        rate_bare(sink, -1)  # warm-up: imports, sockets, the sink's first requests
        bare, single, batched = [], [], []
        for offset in range(ROUNDS):
            bare.append(rate_bare(sink, offset))
            single.append(rate_publisher(sink, offset))
            batched.append(rate_publisher(sink, offset + ROUNDS, batch_size=50))
    best_bare, best_single, best_batched = max(bare), max(single), max(batched)
    print("%d messages, concurrency %d, best of %d rounds, loopback HttpSink" % (MESSAGES, CONCURRENCY, ROUNDS))
    print("bare aiohttp POST loop:            %8.0f messages/s" % best_bare)
    print("publisher (spool, 1 per request):  %8.0f messages/s" % best_single)
    print("ratio publisher/bare:              %8.2f" % (best_single / best_bare))
    print("publisher (spool, 50 per request): %8.0f messages/s (%.2f x the bare loop)" % (
        best_batched, best_batched / best_bare))


if __name__ == "__main__":
    main()
