# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An OpenAI-compatible chat completions server on 127.0.0.1 with scripted answers, for LLM backend tests.

The real openai client talks to it over TCP (``base_url=server.url``). Each POST
/v1/chat/completions takes the next scripted answer (a completion, an HTTP error, or a hang that
outlasts the client's timeout, or a raw body that is not a completion); when the script is empty the ``default`` answer is used. Every
request is recorded (JSON body and headers) so tests can assert on the prompt that was sent.

    with OpenAIServer() as server:
        server.script(error(429), reply("12/03/24-06:29:54:435 (66624) 2 [Utility.Event] LMF Error: ..."))
        ...LLMSettings(api_key="k", base_url=server.url)...
        assert server.requests[0]["temperature"] == 0.7
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.support.http_sink import free_port


@dataclass(frozen=True)
class Answer:
    content: str = ""
    status: int = 200
    hang_seconds: float = 0.0
    error_message: str = ""
    headers: Dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Sent as is instead of a chat completion (a proxy's HTML page, a truncated or non-JSON body).
    raw_body: Optional[bytes] = None
    content_type: str = "application/json"


def reply(content: str, prompt_tokens: int = 120, completion_tokens: int = 40) -> Answer:
    return Answer(content=content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def error(status: int, message: str = "scripted failure", retry_after_ms: Optional[int] = 10) -> Answer:
    """An OpenAI-style error body; Retry-After-Ms keeps the SDK's retry pause short."""
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return Answer(status=status, error_message=message, headers=headers)


def raw(body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200) -> Answer:
    """A reply that is not a chat completion: ``body`` under ``content_type`` (HTTP 200 by default)."""
    return Answer(status=status, raw_body=body, content_type=content_type)


def hang(seconds: float) -> Answer:
    return Answer(hang_seconds=seconds, content="")


class OpenAIServer(object):
    def __init__(self, default: Optional[Answer] = None) -> None:
        self.port = free_port()
        self.default = default or error(500, "script exhausted", retry_after_ms=None)
        self.requests: List[Dict[str, Any]] = []
        self.headers: List[Dict[str, str]] = []
        self._script: List[Answer] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: Optional[web.AppRunner] = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/v1" % self.port

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def __enter__(self) -> "OpenAIServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *unused_exc: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # A handler still sleeping in a scripted hang ends here, not when the loop is closed under it.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            answer = self._script.pop(0) if self._script else self.default
        if answer.hang_seconds:
            await asyncio.sleep(answer.hang_seconds)
        if answer.raw_body is not None:
            return web.Response(body=answer.raw_body, status=answer.status, headers={"Content-Type": answer.content_type})
        if answer.status != 200:
            document = {"error": {"message": answer.error_message, "type": "scripted", "code": str(answer.status)}}
            return web.json_response(document, status=answer.status, headers=answer.headers)
        return web.json_response({
            "id": "chatcmpl-%d" % len(self.requests),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.content},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
                      "total_tokens": answer.prompt_tokens + answer.completion_tokens},
        })

    def user_prompts(self) -> List[str]:
        return [message["content"] for body in self.requests for message in body["messages"] if message["role"] == "user"]

    def system_prompts(self) -> List[str]:
        return [message["content"] for body in self.requests for message in body["messages"] if message["role"] == "system"]
