# SPDX-License-Identifier: GPL-3.0-or-later
"""A real aiohttp HTTP sink on 127.0.0.1 for publisher and intake tests.

It runs its own event loop in a background thread, so the code under test (in-process or in a
subprocess) talks to it over real TCP. It can fail the next N requests with a status, be slow, go
down and come back on the same port, require a bearer token, serve documents for GET (command
polling), advertise NDJSON batches (``Accept-Post`` in its OPTIONS answer) when asked to, and records
every request: Idempotency-Keys, bodies, headers and the peak number of requests in flight.

    with HttpSink() as sink:
        sink.fail_next(3, status=503)
        ...publish to sink.url...
        assert sink.unique_keys() == expected
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web


@dataclass
class Received:
    keys: List[str]
    messages: List[Dict[str, Any]]
    headers: Dict[str, str]
    body: bytes


@dataclass
class _Behaviour:
    delay: float = 0.0
    fail_remaining: int = 0
    fail_status: int = 503
    retry_after: Optional[str] = None
    hang_remaining: int = 0
    hang_seconds: float = 0.0
    token: Optional[str] = None
    reject_status: Optional[int] = None
    documents: List[Any] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class HttpSink(object):
    def __init__(self, port: Optional[int] = None, delay: float = 0.0, token: Optional[str] = None,
                 accept_batches: bool = False) -> None:
        self.port = port or free_port()
        self.behaviour = _Behaviour(delay=delay, token=token)
        self.accept_batches = accept_batches
        self.received: List[Received] = []
        self.options_requests = 0
        self.refused = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.polls = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: Optional[web.AppRunner] = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/ingest" % self.port

    @property
    def commands_url(self) -> str:
        return "http://127.0.0.1:%d/commands" % self.port

    # --- behaviour switches ---------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503, retry_after: Optional[str] = None) -> None:
        with self._lock:
            self.behaviour.fail_remaining = count
            self.behaviour.fail_status = status
            self.behaviour.retry_after = retry_after

    def hang_next(self, count: int, seconds: float) -> None:
        with self._lock:
            self.behaviour.hang_remaining = count
            self.behaviour.hang_seconds = seconds

    def set_delay(self, seconds: float) -> None:
        self.behaviour.delay = seconds

    def reject_all(self, status: Optional[int]) -> None:
        self.behaviour.reject_status = status

    def serve_documents(self, *documents: Any) -> None:
        """Each GET /commands returns the next document (JSON-encoded unless bytes), then 204."""
        with self._lock:
            self.behaviour.documents.extend(documents)

    # --- lifecycle ------------------------------------------------------------------------
    def up(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def down(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)

    def close(self) -> None:
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> "HttpSink":
        self.up()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    # --- what arrived -----------------------------------------------------------------------
    def keys(self) -> List[str]:
        with self._lock:
            return [key for request in self.received for key in request.keys]

    def unique_keys(self) -> set[str]:
        return set(self.keys())

    def messages(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [message for request in self.received for message in request.messages]

    # --- server -----------------------------------------------------------------------------
    async def _start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/ingest", self._ingest)
        if self.accept_batches:
            app.router.add_route("OPTIONS", "/ingest", self._options)
        app.router.add_get("/commands", self._commands)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, request: web.Request) -> bool:
        token = self.behaviour.token
        return token is None or request.headers.get("Authorization") == "Bearer " + token

    async def _commands(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        with self._lock:
            self.polls += 1
            document = self.behaviour.documents.pop(0) if self.behaviour.documents else None
        if document is None:
            return web.Response(status=204)
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return web.Response(body=body, content_type="application/json")

    async def _options(self, request: web.Request) -> web.Response:
        with self._lock:
            self.options_requests += 1
        if not self._authorised(request):
            return web.Response(status=401)
        return web.Response(status=204, headers={"Allow": "POST, OPTIONS",
                                                 "Accept-Post": "application/json, application/x-ndjson"})

    async def _ingest(self, request: web.Request) -> web.Response:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._handle(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        behaviour = self.behaviour
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if not self._authorised(request):
            return web.Response(status=401)
        with self._lock:
            hang = behaviour.hang_remaining > 0
            if hang:
                behaviour.hang_remaining -= 1
            fail = not hang and behaviour.fail_remaining > 0
            if fail:
                behaviour.fail_remaining -= 1
                self.refused += 1
        if hang:
            await asyncio.sleep(behaviour.hang_seconds)
            return web.Response(status=504)
        if fail:
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
            return web.Response(status=behaviour.fail_status, headers=headers)
        if behaviour.reject_status is not None:
            return web.Response(status=behaviour.reject_status, text="rejected by test sink")
        messages = self._decode(body, request.content_type)
        batch_keys = request.headers.get("X-Idempotency-Keys")
        keys = batch_keys.split(",") if batch_keys else [request.headers.get("Idempotency-Key", "")]
        with self._lock:
            self.received.append(Received(keys, messages, dict(request.headers), body))
        return web.Response(status=202)

    @staticmethod
    def _decode(body: bytes, content_type: str) -> List[Dict[str, Any]]:
        if content_type == "application/x-ndjson":
            return [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        document = json.loads(body)
        return document if isinstance(document, list) else [document]
