# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""EDA event source irisops.iris.messages_log: tail an IRIS instance's messages.log and emit parsed entries.

Each entry becomes one event ``{"message": <IRISMessage>, "severity": n, "category": ..., "instance": ...,
"path": ..., "line_number": n}``; ``message`` is what playbooks/publish.yml publishes.
The line format is parsed by module_utils/iris_log.py only (the collection's one home of that format).

Rotation-safe: a new file under the path (rename + create) is read from its start once the old file has been
drained; a truncated file (copytruncate) is read again from its start. A multi-line entry is emitted when the
next header arrives or when the file has been quiet for ``idle_flush`` seconds.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import socket
import subprocess
import sys
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

DOCUMENTATION = r"""
---
short_description: Tail an IRIS instance's messages.log and emit each parsed entry.
description:
  - Follows C(messages.log) like C(tail -F): rotation (rename and create) and truncation are handled without
    losing or repeating entries of the new file.
  - Each event carries the entry as an IRISMessage under C(message), plus C(severity), C(category), C(instance),
    C(path) and C(line_number) for rule conditions.
options:
  path:
    description: Path of the messages.log to follow. Either path or instance is required.
    type: str
  instance:
    description: IRIS instance whose mgr/messages.log to follow, resolved with the iris control command.
    type: str
  iris_bin:
    description: Path of the iris control command (default the one on PATH or in the usual install directories).
    type: str
  min_severity:
    description: Emit only entries at least this severe (0 info, 1 warning, 2 severe, 3 fatal).
    type: int
    default: 0
  from_beginning:
    description: Emit the entries already in the file too (default only those written from now on).
    type: bool
    default: false
  poll_interval:
    description: Seconds between two looks at the file.
    type: float
    default: 0.5
  idle_flush:
    description: Seconds of quiet after which the last (possibly multi-line) entry is emitted.
    type: float
    default: 1.0
  timezone:
    description: IANA zone of the timestamps in the file (default the host's zone).
    type: str
  host:
    description: Host name set on each message (default this host's name).
    type: str
"""

EXAMPLES = r"""
- name: Publish severe IRIS messages
  hosts: all
  sources:
    - irisops.iris.messages_log:
        instance: IRIS
        min_severity: 2
  rules:
    - name: Publish
      condition: event.severity >= 2
      action:
        run_playbook:
          name: irisops.iris.publish
"""


def _collections_root() -> Optional[str]:
    """ansible-rulebook runs this file by path; its own collection tree makes iris_log importable."""
    parts = os.path.abspath(__file__).split(os.sep)
    # .../ansible_collections/irisops/iris/extensions/eda/plugins/event_source/messages_log.py
    if len(parts) > 8 and parts[-8] == "ansible_collections":
        return os.sep.join(parts[:-8])
    return None


ROOT = _collections_root()
if ROOT is not None and ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from ansible_collections.irisops.iris.plugins.module_utils import iris_log  # noqa: E402
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import IrisControl, find_iris_bin  # noqa: E402

READ_BLOCK = 1024 * 1024


def _run_command(args: List[str], environ_update: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """AnsibleModule.run_command's shape, for IrisControl outside a module."""
    environment = dict(os.environ, **(environ_update or {}))
    finished = subprocess.run(args, env=environment, capture_output=True, text=True, check=False, timeout=60)
    return finished.returncode, finished.stdout, finished.stderr


def _which(name: str, opt_dirs: Optional[List[str]] = None) -> Optional[str]:
    search = os.pathsep.join([os.environ.get("PATH", "")] + list(opt_dirs or []))
    return shutil.which(name, path=search)


def resolve_path(args: Dict[str, Any]) -> str:
    if args.get("path"):
        return str(args["path"])
    if not args.get("instance"):
        raise ValueError("messages_log: give path or instance")
    control = IrisControl(find_iris_bin(_which, args.get("iris_bin")), _run_command)
    return str(control.instance(str(args["instance"])).messages_log_path)


class LogTail(object):
    """Follows one messages.log path across rotation and truncation, turning new lines into entries."""

    def __init__(self, path: str, from_beginning: bool = False, tz: Any = None) -> None:
        self.path = path
        self.tz = tz if tz is not None else iris_log.resolve_timezone(None)
        self._stream: Optional[BinaryIO] = None
        self._inode: Optional[int] = None
        self._position = 0
        self._partial = b""
        self._entry_lines: List[str] = []
        self._entry_first_line = 0
        self._line_number = 0
        self.active = False
        self._open(at_end=not from_beginning)

    def _open(self, at_end: bool) -> None:
        try:
            stream = open(self.path, "rb")
        except FileNotFoundError:
            return
        self._stream = stream
        self._inode = os.fstat(stream.fileno()).st_ino
        if at_end:
            self._line_number = sum(block.count(b"\n") for block in iter(functools.partial(stream.read, READ_BLOCK), b""))
            self._position = stream.tell()
        else:
            self._line_number = 0
            self._position = 0

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _read_new(self) -> bytes:
        stream = self._stream
        if stream is None:
            return b""
        stream.seek(self._position)
        data = stream.read()
        self._position += len(data)
        self.active = self.active or bool(data)
        return data

    @property
    def collecting(self) -> bool:
        """An entry has started and may still get continuation lines."""
        return bool(self._entry_lines)

    def poll(self) -> List[iris_log.LogEntry]:
        """Entries completed by what was written since the last poll (rotation and truncation included).

        ``active`` tells afterwards whether anything was read at all."""
        self.active = False
        entries = self._consume(self._read_new())
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return entries  # rotated away and not yet re-created: the old file was drained above
        if self._stream is None or status.st_ino != self._inode:
            # A new file: finish the old entry, then read the new file from its first byte.
            entries += self._consume(b"", end_of_file=True)
            self.close()
            self._open(at_end=False)
            entries += self._consume(self._read_new())
        elif status.st_size < self._position:
            entries += self._consume(b"", end_of_file=True)
            self._position = 0
            self._line_number = 0
            entries += self._consume(self._read_new())
        return entries

    def flush(self) -> List[iris_log.LogEntry]:
        """The entry still being collected, as it stands (the file has been quiet)."""
        return self._consume(b"", end_of_file=True)

    def _consume(self, data: bytes, end_of_file: bool = False) -> List[iris_log.LogEntry]:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if end_of_file and self._partial:
            lines.append(self._partial)
            self._partial = b""
        entries: List[iris_log.LogEntry] = []
        for raw in lines:
            self._line_number += 1
            line = iris_log.split_line(iris_log.decode_line(raw))
            if self._starts_entry(line):
                entries += self._finish_entry()
                self._entry_first_line = self._line_number
            if self._entry_lines or self._starts_entry(line):
                self._entry_lines.append(line)
        if end_of_file:
            entries += self._finish_entry()
        return entries

    def _starts_entry(self, line: str) -> bool:
        try:
            return iris_log.parse_header(line, self.tz) is not None
        except iris_log.LogFormatError:
            return False

    def _finish_entry(self) -> List[iris_log.LogEntry]:
        lines, self._entry_lines = self._entry_lines, []
        return [item for item in iris_log.iter_parse(lines, self.tz, self._entry_first_line)
                if isinstance(item, iris_log.LogEntry)]


def to_event(entry: iris_log.LogEntry, path: str, instance: Optional[str], host: Optional[str]) -> Dict[str, Any]:
    message = {name: value for name, value in entry.as_dict().items() if name not in ("severity_name", "line_number")}
    message["instance"] = instance
    message["host"] = host
    return {"message": message, "severity": entry.severity, "category": entry.category, "instance": instance,
            "path": path, "line_number": entry.line_number}


async def main(queue: asyncio.Queue[Any], args: Dict[str, Any]) -> None:
    path = resolve_path(args)
    min_severity = int(args.get("min_severity", 0))
    poll_interval = float(args.get("poll_interval", 0.5))
    idle_flush = float(args.get("idle_flush", 1.0))
    instance = args.get("instance")
    host = args.get("host") or socket.gethostname()
    tail = LogTail(path, bool(args.get("from_beginning", False)), iris_log.resolve_timezone(args.get("timezone")))
    quiet = 0.0
    try:
        while True:
            entries = tail.poll()
            quiet = quiet + poll_interval if tail.collecting and not tail.active else 0.0
            if quiet >= idle_flush:
                entries += tail.flush()
                quiet = 0.0
            for entry in entries:
                if entry.severity >= min_severity:
                    await queue.put(to_event(entry, path, instance, host))
            await asyncio.sleep(poll_interval)
    finally:
        tail.close()
