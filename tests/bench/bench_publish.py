# SPDX-License-Identifier: GPL-3.0-or-later
"""Publisher throughput to a loopback sink, as ratios to a bare aiohttp POST loop sending the same requests.

Run: .venv/bin/python tests/bench/bench_publish.py   (prints messages/s of each and the ratios against the goals)

Both sides send the same bytes (IRISMessage JSON bodies, Content-Type, Idempotency-Key(s), traceparent) with the
same number of requests in flight to the same HttpSink on 127.0.0.1, in the same run, rounds interleaved; the best
round of each counts. The bare loop gets its requests prepared before the clock starts, so the ratio shows the
publisher's own work per message: contract validation, idempotency key, the group-committed (fsync'd) spool
journal, the ack log, retry bookkeeping and the final compaction.
- single: one message per request (batch_size 1). Goal >= 0.8x the bare loop.
- batched: NDJSON batches of 100, negotiated with the sink (OPTIONS, Accept-Post), against a bare loop sending the
  same batches. Goal >= 0.5x the bare loop.
Each line also gives the CPU ratio (messages per CPU second of this process, sink thread included): on a shared
machine it moves less than the wall-clock ratio, which is the one the goals are judged by.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
from tests.support.http_sink import HttpSink  # noqa: E402

from ansible_collections.irisops.iris.plugins.plugin_utils import publisher as pub  # noqa: E402

SINGLE_MESSAGES = 3000
BATCHED_MESSAGES = 30000
BATCH_SIZE = pub.MAX_BATCH_SIZE
CONCURRENCY = 10
ROUNDS = 5
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
GOALS = {"single": 0.8, "batched": 0.5}
Request = Tuple[bytes, Dict[str, str]]
Rate = Tuple[float, float]  # messages per wall second, messages per CPU second


def make_messages(count: int, offset: int) -> List[Dict[str, Any]]:
    return [{"timestamp": "2026-02-01T10:%02d:%02d.%03d+00:00" % (n // 60000 % 60, n // 1000 % 60, n % 1000),
             "pid": 4000 + n % 97, "severity": n % 4, "category": "Utility.Event",
             "text": "bench event %d of round %d" % (n, offset), "instance": "IRIS"} for n in range(count)]


def same_requests(messages: List[Dict[str, Any]], batch_size: int) -> List[Request]:
    """What the publisher puts on the wire for these messages, built before the bare loop's clock starts."""
    items = pub.prepare_messages(messages, TRACE_ID)[0]
    parent = pub.traceparent(TRACE_ID)
    if batch_size == 1:
        return [(item.body, {"Content-Type": "application/json", "Idempotency-Key": item.key, "traceparent": parent})
                for item in items]
    requests = []
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        keys = ",".join(item.key for item in batch)
        requests.append((b"".join(item.body + b"\n" for item in batch),
                         {"Content-Type": pub.BATCH_MEDIA_TYPE, "Idempotency-Key": pub.idempotency_key_of_batch(keys),
                          "X-Idempotency-Keys": keys, "traceparent": parent}))
    return requests


async def bare_post_loop(url: str, requests: List[Request]) -> None:
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status >= 300:
                    raise RuntimeError("sink answered %d" % response.status)

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for unused in range(CONCURRENCY)))


def rate_bare(sink: HttpSink, count: int, offset: int, batch_size: int) -> Rate:
    requests = same_requests(make_messages(count, offset), batch_size)
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(bare_post_loop(sink.url, requests))
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def rate_publisher(sink: HttpSink, count: int, offset: int, batch_size: Optional[int]) -> Rate:
    messages = make_messages(count, offset)
    with tempfile.TemporaryDirectory() as spool:
        config = pub.PublisherConfig(endpoint=sink.url, spool_dir=Path(spool), concurrency=CONCURRENCY,
                                     batch_size=batch_size, timeout=30)
        started, cpu = time.perf_counter(), time.process_time()
        report = pub.publish(config, messages, trace_id=TRACE_ID)
        rate = count / (time.perf_counter() - started), count / (time.process_time() - cpu)
    if report.sent != count or report.batch_size != (batch_size or BATCH_SIZE):
        raise RuntimeError("publisher sent %d of %d in batches of %d" % (report.sent, count, report.batch_size))
    return rate


def best(rates: List[Rate]) -> Rate:
    return max(rate[0] for rate in rates), max(rate[1] for rate in rates)


def measure(count: int, batch_size: int, negotiate: bool) -> Tuple[Rate, Rate]:
    """Best bare and best publisher rates over interleaved rounds (fresh messages every round)."""
    bare: List[Rate] = []
    published: List[Rate] = []
    with HttpSink(accept_batches=negotiate) as sink:
        rate_bare(sink, count // 10, -1, batch_size)  # warm-up: imports, sockets, the sink's first requests
        for offset in range(ROUNDS):
            bare.append(rate_bare(sink, count, offset, batch_size))
            published.append(rate_publisher(sink, count, offset + ROUNDS, None if negotiate else batch_size))
            sink.received.clear()
    return best(bare), best(published)


def main() -> None:
    figures = {"single": measure(SINGLE_MESSAGES, 1, negotiate=False),
               "batched": measure(BATCHED_MESSAGES, BATCH_SIZE, negotiate=True)}
    print("loopback HttpSink, concurrency %d, best of %d interleaved rounds, same requests on both sides"
          % (CONCURRENCY, ROUNDS))
    for name, (bare, published) in figures.items():
        size = 1 if name == "single" else BATCH_SIZE
        ratio = published[0] / bare[0]
        verdict = "met" if ratio >= GOALS[name] else "NOT met"
        print("%-7s (%3d per request): bare aiohttp loop %8.0f msg/s, publisher %8.0f msg/s, ratio %.2f "
              "(goal >= %.1f: %s); CPU ratio %.2f"
              % (name, size, bare[0], published[0], ratio, GOALS[name], verdict, published[1] / bare[1]))


if __name__ == "__main__":
    main()
