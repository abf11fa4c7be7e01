# SPDX-License-Identifier: GPL-3.0-or-later
"""The EDA event source messages_log on real files: appends, partial lines, multi-line entries, rotation, truncation."""

from __future__ import annotations

import asyncio
import os
import importlib.util
from datetime import timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.models import IRISMessage

REPO = Path(__file__).resolve().parents[3]

# Loaded by path, as ansible-rulebook loads it, from the collection tree under build/collections.
SOURCE_PATH = REPO / "build" / "collections" / "ansible_collections" / "irisops" / "iris" / "extensions" / "eda" / \
    "plugins" / "event_source" / "messages_log.py"


def _load_source() -> Dict[str, Any]:
    spec = importlib.util.spec_from_file_location("irisops_eda_messages_log", SOURCE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


SOURCE = _load_source()
LogTail = SOURCE["LogTail"]


def line(second: int, severity: int, text: str, category: str = "Utility.Event") -> str:
    return "01/31/26-08:00:%02d:000 (%d) %d [%s] %s\n" % (second, 100 + second, severity, category, text)


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(text)


def texts(entries: List[iris_log.LogEntry]) -> List[str]:
    return [entry.full_text for entry in entries]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "messages.log"
    path.write_text(line(0, 0, "before the tail started"))
    return path


def test_starts_at_the_end_and_emits_complete_entries_only(log: Path) -> None:
    tail = LogTail(str(log), tz=timezone.utc)
    try:
        assert tail.poll() == []
        append(log, line(1, 2, "first") + line(2, 0, "second, still open"))
        assert texts(tail.poll()) == ["first"]
        append(log, line(3, 1, "third without its newline"[:20]).rstrip("\n"))
        assert tail.poll() == [], "half a line could still turn out to be a continuation"
        append(log, "\n")
        assert texts(tail.poll()) == ["second, still open"] and tail.collecting
        assert texts(tail.flush()) == ["third without its ne"]
        assert not tail.collecting
    finally:
        tail.close()


def test_from_beginning_and_multi_line_entries_with_line_numbers(log: Path) -> None:
    append(log, line(1, 0, "Journal switched") + "    continuation one\n    continuation two\n" + line(2, 3, "fatal"))
    tail = LogTail(str(log), from_beginning=True, tz=timezone.utc)
    try:
        entries = tail.poll() + tail.flush()
    finally:
        tail.close()
    assert texts(entries) == ["before the tail started", "Journal switched\n    continuation one\n    continuation two",
                              "fatal"]
    assert [entry.line_number for entry in entries] == [1, 2, 5]


def test_rotation_drains_the_old_file_then_reads_the_new_one_from_its_start(log: Path) -> None:
    tail = LogTail(str(log), tz=timezone.utc)
    try:
        append(log, line(1, 2, "last words of the old file"))
        os.rename(log, str(log) + ".1")
        assert texts(tail.poll()) == []  # the entry may still get continuation lines; the file is gone
        append(Path(str(log) + ".1"), line(2, 2, "written to the old file after the rename"))
        log.write_text(line(3, 2, "new file, first entry") + line(4, 0, "new file, second entry"))
        assert texts(tail.poll() + tail.flush()) == [
            "last words of the old file", "written to the old file after the rename",
            "new file, first entry", "new file, second entry"]
        append(log, line(5, 1, "more"))
        assert texts(tail.poll() + tail.flush()) == ["more"]
    finally:
        tail.close()


def test_truncation_reads_the_file_again_from_its_start(log: Path) -> None:
    tail = LogTail(str(log), tz=timezone.utc)
    try:
        append(log, line(1, 0, "a long entry written before the copytruncate"))
        assert tail.poll() == []
        log.write_text(line(2, 2, "after"))
        assert texts(tail.poll() + tail.flush()) == ["a long entry written before the copytruncate", "after"]
    finally:
        tail.close()


def test_missing_file_is_followed_once_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    tail = LogTail(str(path), tz=timezone.utc)
    try:
        assert tail.poll() == []
        path.write_text(line(1, 2, "created after the tail started"))
        assert texts(tail.poll() + tail.flush()) == ["created after the tail started"]
    finally:
        tail.close()


def test_event_carries_an_irismessage_for_publish_yml(log: Path) -> None:
    entry = iris_log.parse_text(line(7, 2, "LOCK TABLE FULL {{ 7 * 6 }}"))[0][0]
    event = SOURCE["to_event"](entry, str(log), "IRIS", "db1")
    assert event["severity"] == 2 and event["instance"] == "IRIS" and event["path"] == str(log)
    message = IRISMessage.model_validate(event["message"])
    assert message.text == "LOCK TABLE FULL {{ 7 * 6 }}" and message.host == "db1"


def test_main_puts_events_at_or_above_min_severity_on_the_queue(log: Path) -> None:
    async def scenario() -> List[Dict[str, Any]]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        task = asyncio.create_task(SOURCE["main"](queue, {"path": str(log), "min_severity": 2, "poll_interval": 0.01,
                                                          "idle_flush": 0.05, "timezone": "UTC", "host": "h"}))
        await asyncio.sleep(0.05)
        append(log, line(1, 0, "info") + line(2, 2, "severe") + line(3, 1, "warning") + line(4, 3, "fatal"))
        events = [await asyncio.wait_for(queue.get(), 10), await asyncio.wait_for(queue.get(), 10)]
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert queue.empty()
        return events

    events = asyncio.run(scenario())
    assert [(event["severity"], event["message"]["text"]) for event in events] == [(2, "severe"), (3, "fatal")]


def test_path_or_instance_is_required() -> None:
    with pytest.raises(ValueError, match="give path or instance"):
        SOURCE["resolve_path"]({})
