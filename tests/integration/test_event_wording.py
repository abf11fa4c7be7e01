# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator and the generator write each event from the one text in module_utils/iris_events.py."""

from __future__ import annotations

import re
import string
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Pattern

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_events as E
from ansible_collections.irisops.iris.plugins.module_utils import iris_memory
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.iris_log import parse_text
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.catalog import Renderer, by_key
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import Session
from tests.support.emulator import EMULATOR_FILES, EmulatorEnv

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

# Generator template -> the iris_events text it is built from.
GENERATOR_EVENTS: Dict[str, str] = {
    "startup.mounted": E.MOUNTED_READ_WRITE,
    "startup.webserver": E.WEBSERVER_STARTED,
    "startup.logons": E.ENABLING_LOGONS,
    "startup.shutdown_requested": E.SHUTDOWN_REQUESTED,
    "startup.logons_disabled": E.DISABLING_LOGONS,
    "startup.dismounted": E.DISMOUNTED,
    "startup.journaling_stopped": E.JOURNALING_STOPPED,
    "startup.shutdown_complete": E.SHUTDOWN_COMPLETE,
    "startup.shutdown_forced": E.SHUTDOWN_FORCED,
    "config.max_server_conn": E.ECP_CLIENT_REFUSED,
    "network.ecp_clients_refused": E.ECP_CLIENT_REFUSED,
    "memory.huge_pages": E.SHARED_MEMORY_ALLOCATED + E.HUGE_PAGES_SUFFIX,
    "memory.breakdown": E.SHARED_MEMORY_BREAKDOWN,
    "memory.large_pages_fallback": E.LARGE_PAGES_FALLBACK,
    "memory.heap_exhausted": E.HEAP_EXHAUSTED,
    "memory.allocation_failed": E.LARGE_PAGES_REQUIRED,
    "lock.escalation": E.LOCK_ESCALATION,
    "lock.full": E.LOCK_TABLE_FULL,
    "lock.full_detail": E.LOCK_TABLE_FULL_DETAIL,
}
# What one start, a lock-table fault and one stop of the emulator write, in this order.
EMULATOR_EVENTS = (E.SHARED_MEMORY_ALLOCATED, E.SHARED_MEMORY_BREAKDOWN, E.MOUNTED_READ_WRITE, E.WEBSERVER_STARTED,
                   E.ENABLING_LOGONS, E.LOCK_TABLE_FULL_DETAIL, E.SHUTDOWN_REQUESTED, E.DISABLING_LOGONS,
                   E.DISMOUNTED, E.JOURNALING_STOPPED, E.SHUTDOWN_COMPLETE)
ALL_EVENTS = sorted({value for name, value in vars(E).items() if name.isupper() and isinstance(value, str)})


def pattern(text: str) -> Pattern[str]:
    """The whole line ``text`` formats to, with any value in each field."""
    parts = ["".join(re.escape(literal) + ("(.+?)" if name is not None else "")
                     for literal, name, _spec, _conversion in string.Formatter().parse(text))]
    return re.compile("^%s$" % parts[0])


def test_generator_templates_render_the_shared_wording() -> None:
    templates = by_key()
    renderer = Renderer(Session(datetime(2025, 1, 1, tzinfo=timezone.utc), seed=7))
    for key, event in GENERATOR_EVENTS.items():
        assert templates[key].text == event, key
        text, _continuation = renderer.render(templates[key], 4242)
        assert pattern(event).match(text), (key, text)


def test_emulator_writes_the_shared_wording(emulator: EmulatorEnv) -> None:
    install_dir = emulator.create("WORDS", switches={"fault_interval_seconds": 0.1})
    cpf = install_dir / "iris.cpf"
    doc = CpfDocument.parse(cpf.read_bytes())
    doc.set("config", "locksiz", "1048576")  # too small: the lock table fault fires
    cpf.write_bytes(doc.render())
    emulator.start("WORDS")
    emulator.wait_for("WORDS", "iris_lock_table_full_total", 1)
    emulator.stop("WORDS")
    entries, _malformed = parse_text(emulator.messages_log("WORDS"))
    texts = [entry.text for entry in entries]
    matched: List[str] = []
    for event in EMULATOR_EVENTS:
        line = next((text for text in texts if pattern(event).match(text)), None)
        assert line is not None, "the emulator wrote no line of %r" % event
        matched.append(line)
    # kernel_param sizes huge pages from this line (module_utils/iris_memory.py): it matches with the same pattern.
    assert iris_memory.ALLOCATION_PATTERN is E.ALLOCATION_PATTERN
    assert E.ALLOCATION_PATTERN.match(matched[0])


@pytest.mark.parametrize("source", sorted(str(path.relative_to(ROOT)) for path in [
    *(EMULATOR_FILES / "lib" / "irisemu").glob("*.py"),
    ROOT / "plugins" / "plugin_utils" / "generator" / "catalog.py",
]))
def test_no_copy_of_the_wording_outside_iris_events(source: str) -> None:
    """The longest literal run of each text may appear only in iris_events.py (a copy would drift)."""
    code = (ROOT / source).read_text()
    for event in ALL_EVENTS:
        literal = max((part[0] for part in string.Formatter().parse(event)), key=len)
        if len(literal) >= 16:
            assert literal not in code, "%s copies %r from iris_events.py" % (source, literal)
