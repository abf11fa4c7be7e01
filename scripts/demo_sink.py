# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The external side of the `make demo` loop: a message sink and a rule-based analyser on 127.0.0.1.

POST /ingest   stores IRISMessage JSON (one document, an array or NDJSON) in <workdir>/received.ndjson;
               a message matching a known fault queues the example RemediationCommand that fixes it.
GET  /commands answers the next queued command (what consume.yml polls), 204 when there is none.
A queued command is also written to <workdir>/proposed/<command_id>.json for the operator to preview.

Usage: python scripts/demo_sink.py <workdir> <port-file>   (the chosen port is written to port-file)
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "commands"
# What a monitoring team would map: the start of a severe message text -> the command that fixes it.
RULES = {
    "LOCK TABLE FULL": "fault-locksiz-too-small.json",
    "Shared memory heap exhausted": "fault-gmheap-too-small.json",
}


class Analyser:
    def __init__(self, workdir: Path) -> None:
        self.received = workdir / "received.ndjson"
        self.proposed = workdir / "proposed"
        self.queue: list[dict[str, Any]] = []
        self.issued: set[str] = set()

    def ingest(self, messages: list[dict[str, Any]]) -> None:
        with self.received.open("a", encoding="utf-8") as stream:
            for message in messages:
                stream.write(json.dumps(message) + "\n")
                self.analyse(message)

    def analyse(self, message: dict[str, Any]) -> None:
        # Generated test data carries no instance: it is stored, never acted on.
        if message.get("severity", 0) < 2 or not message.get("instance"):
            return
        for prefix, example in RULES.items():
            command_id = "%s-%s" % (example.removesuffix(".json"), message["instance"])
            if str(message.get("text", "")).startswith(prefix) and command_id not in self.issued:
                command = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))
                command.update(command_id=command_id, instance=message["instance"], trace_id=message["trace_id"])
                self.issued.add(command_id)
                self.queue.append(command)
                self.proposed.mkdir(exist_ok=True)
                (self.proposed / (command_id + ".json")).write_text(json.dumps(command, indent=2), encoding="utf-8")


def decode(body: bytes, content_type: str) -> list[dict[str, Any]]:
    if content_type == "application/x-ndjson":
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    document = json.loads(body)
    return document if isinstance(document, list) else [document]


def build_app(analyser: Analyser) -> web.Application:
    async def ingest(request: web.Request) -> web.Response:
        analyser.ingest(decode(await request.read(), request.content_type))
        return web.Response(status=202)

    async def commands(request: web.Request) -> web.Response:
        if not analyser.queue:
            return web.Response(status=204)
        return web.json_response(analyser.queue.pop(0))

    app = web.Application()
    app.router.add_post("/ingest", ingest)
    app.router.add_get("/commands", commands)
    return app


async def serve(workdir: Path, port_file: Path) -> None:
    runner = web.AppRunner(build_app(Analyser(workdir)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_file.write_text(str(runner.addresses[0][1]), encoding="utf-8")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2])))
