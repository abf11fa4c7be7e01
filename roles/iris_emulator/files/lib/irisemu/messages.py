# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything the emulator writes to messages.log, built with iris_log (the one home of the format).

Lines marked REAL below copy the wording of real messages.log lines (shared/samples/messages);
the others are emulator wording for events of which no real line was available (documented in
docs/emulator.md).
"""

from __future__ import annotations

import os
import platform
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, List, Optional, Sequence

from ansible_collections.irisops.iris.plugins.module_utils.iris_log import format_entry, make_entry
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import SharedMemoryEstimate
from ansible_collections.irisops.iris.plugins.module_utils import iris_events

INFO, WARNING, SEVERE, FATAL = 0, 1, 2, 3


@dataclass(frozen=True)
class LogLine:
    """An entry to write, as faults, transactions and merge activation return them."""

    severity: int
    category: str
    text: str


class MessagesLog(object):
    """Appends entries to mgr/messages.log (local time, like IRIS) and counts alerts (severity >= 2)."""

    def __init__(self, path: str, pid: int) -> None:
        self.path = path
        self.pid = pid
        self.alerts = 0

    def write(self, severity: int, category: str, text: str, continuation: Iterable[str] = ()) -> None:
        entry = make_entry(datetime.now().astimezone(), self.pid, severity, category, text, continuation)
        self.write_raw([format_entry(entry)])
        if severity >= SEVERE:
            self.alerts += 1

    def write_line(self, line: Optional[LogLine]) -> None:
        """A returned entry (None: there is nothing to write)."""
        if line is not None:
            self.write(line.severity, line.category, line.text)

    def write_raw(self, lines: Sequence[str]) -> None:
        """Append whole lines in one write so concurrent readers never see half an entry."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "a") as handle:
            handle.write("".join(line + "\n" for line in lines))


def recovery_banner(mgr_dir: str, wij_file: str) -> List[str]:
    """REAL: the untimestamped WIJ recovery block IRIS prints after an unclean shutdown."""
    return [
        "",
        "*** Recovery started at %s" % time.ctime(),
        "     Current default directory: %s" % mgr_dir.rstrip("/"),
        "     Log file directory: %s/" % mgr_dir.rstrip("/"),
        "     WIJ file spec: %s" % wij_file,
        "Recovering local (%s) image journal file..." % wij_file,
        "Starting WIJ recovery for '%s'." % wij_file,
        "  0 blocks pending in this WIJ.",
        "WIJ pass # is 0.",
        "Starting fast WIJ compare",
        "Finished comparing 0 blocks in 0 seconds",
        "Exiting with status 3 (Success)",
    ]


def shared_memory_lines(log: MessagesLog, memory: SharedMemoryEstimate, huge_pages: bool, fell_back: bool) -> None:
    """REAL wording: allocation line (with or without huge pages) and the breakdown line."""
    if fell_back:
        log.write(SEVERE, "Generic.Event", iris_events.LARGE_PAGES_FALLBACK.format(shared_memory_mb=memory.total_mb))
    allocated = iris_events.SHARED_MEMORY_ALLOCATED.format(shared_memory_mb=memory.total_mb)
    log.write(INFO, "Generic.Event", allocated + (iris_events.HUGE_PAGES_SUFFIX if huge_pages else ""))
    log.write(INFO, "Generic.Event", iris_events.SHARED_MEMORY_BREAKDOWN.format(
        global_buffers_mb=memory.global_buffers_mb, routine_buffers_mb=memory.routine_buffers_mb,
        journal_buffers_mb=memory.journal_buffers_mb, buffer_descriptors_mb=memory.buffer_descriptors_mb,
        heap_mb=memory.heap_mb, ecp_mb=memory.ecp_mb, misc_mb=memory.misc_mb))


def startup_banner(log: MessagesLog, install_dir: str, version: str, wij_dir: str) -> None:
    """The multi-line "Startup of InterSystems IRIS" entry (shape of the real one; header ends after the category)."""
    major, minor = (version.split(".") + ["0", "0"])[:2]
    build = version.split(".")[3] if len(version.split(".")) > 3 else "0"
    log.write(INFO, "Generic.Event", "", [
        "Startup of InterSystems IRIS [IRIS for UNIX (%s) %s.%s (Build %sU)]" % (platform.system(), major, minor, build),
        "        in %s/bin/" % install_dir.rstrip("/"),
        "        with mgr: %s/mgr" % install_dir.rstrip("/"),
        "        with wij: %s/IRIS.WIJ" % wij_dir.rstrip("/"),
        "        from: %s/mgr/" % install_dir.rstrip("/"),
        "  OS=[%s], version=[%s], release=[%s], machine=[%s]" % (
            platform.system(), platform.version(), platform.release(), platform.machine()),
        "  nodename=[%s], cpus=[%d], cores=[%d], threads per core=[1], sockets=[1]" % (
            socket.gethostname(), os.cpu_count() or 1, os.cpu_count() or 1),
        "  numasyncwijbuf: 0, wdwrite_asyncio_max: 64, wijdirectio: on, synctype: 3",
        "  System Initialized.",
    ])


def journal_switch(log: MessagesLog, journal_file: str) -> None:
    """REAL: the two-line journaling system message."""
    log.write(INFO, "Generic.Event", "INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE", ["Journaling switched to: %s" % journal_file])
