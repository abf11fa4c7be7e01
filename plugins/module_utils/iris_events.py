# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wording of the messages.log events the collection writes, generates and matches (stdlib only).

One home for each text: the emulator writes it (``.format(**fields)``), the generator uses it as a
template (the same ``{field}`` names) and modules match it (``ALLOCATION_PATTERN``). Texts marked
REAL copy captured messages.log lines (shared/samples/messages); the others are emulator wording for
events of which no captured line exists (docs/emulator.md).

The emulator ships a copy of this file (roles/iris_emulator/tasks/main.yml), so it must stay stdlib only.
"""

from __future__ import annotations

import re

# --- startup / shared memory (REAL) ---------------------------------------------------------------
SHARED_MEMORY_ALLOCATED = "Allocated {shared_memory_mb}MB shared memory"
HUGE_PAGES_SUFFIX = " using Huge Pages"
# The double space is real.
LARGE_PAGES_FALLBACK = "Failed to allocate {shared_memory_mb}MB shared memory using large pages.  Switching to small pages."
SHARED_MEMORY_BREAKDOWN = ("{global_buffers_mb}MB global buffers, {routine_buffers_mb}MB routine buffers, "
                           "{journal_buffers_mb}MB journal buffers, {buffer_descriptors_mb}MB buffer descriptors, "
                           "{heap_mb}MB heap, {ecp_mb}MB ECP, {misc_mb}MB miscellaneous")
# memlock 64 (large pages required): the start fails instead of falling back (emulator wording).
LARGE_PAGES_REQUIRED = ("Failed to allocate {shared_memory_mb}MB shared memory using large pages and memlock requires them "
                        "(vm.nr_hugepages={nr_hugepages})")
# The size IRIS reports at startup, whether the allocation used large pages or fell back to small ones.
ALLOCATION_PATTERN = re.compile(r"^(?:Allocated|Failed to allocate) (\d+)MB shared memory")
ENABLING_LOGONS = "Enabling logons"
WEBSERVER_STARTED = "Private webserver started on {web_port}"
MOUNTED_READ_WRITE = "Mounted database {db_dir} (SFN {sfn}) read-write."

# --- shutdown (emulator wording: no captured shutdown line) ---------------------------------------
SHUTDOWN_REQUESTED = "Shutdown of InterSystems IRIS requested ({sessions} user session(s) active)"
DISABLING_LOGONS = "Disabling logons"
SHUTDOWN_FORCED = "ShutdownTimeout reached with {sessions} user session(s) active; forcing them off"
DISMOUNTED = "Dismounted database {db_dir}"
JOURNALING_STOPPED = "Journaling stopped"
SHUTDOWN_COMPLETE = "Shutdown of InterSystems IRIS complete"

# --- faults the remediation loop fixes (emulator wording) -----------------------------------------
LOCK_TABLE_FULL_DETAIL = ("LOCK TABLE FULL: lock table (locksiz={locksiz} bytes) cannot hold {demand} bytes of locks; "
                          "lock request refused")
# Documented by an InterSystems FAQ article as what messages.log records; no captured line.
LOCK_TABLE_FULL = "LOCK TABLE FULL!!!"
HEAP_EXHAUSTED = "Shared memory heap exhausted: gmheap={gmheap_kb}KB, {request_kb}KB requested; allocation failed"
LOCK_ESCALATION = "Lock escalation: process {pid} escalated to a table lock on {table} after {lock_threshold} row locks"
# An ECP application server refused at [config] MaxServerConn (the ECP client limit).
ECP_CLIENT_REFUSED = ("ECP connection from application server refused: this data server already serves "
                      "MaxServerConn={max_server_conn} ECP clients ({connected} connected)")
