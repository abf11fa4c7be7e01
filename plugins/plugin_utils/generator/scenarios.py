# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenario sequences: episodes whose lines belong together (same processes, tight timing, fixed order).

A real messages.log is not a stream of independent lines: a startup writes its banner, memory
lines, WIJ and database mounts within milliseconds from one control process; a licence problem
repeats the same LMF error from the same process; a lock table fills up before it is full.
Steps refer to catalog keys; ``delay_ms`` is the gap before the step (a range drawn per run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from ansible_collections.irisops.iris.plugins.plugin_utils.generator import catalog
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory


@dataclass(frozen=True)
class Step:
    key: str
    delay_ms: Tuple[int, int] = (0, 5)
    # The instance starts again before this step: every daemon gets a new PID, databases mount from SFN 0.
    restart: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    category: MessageCategory
    steps: Tuple[Step, ...]


SCENARIOS: Tuple[Scenario, ...] = (
    # A restart: the emulator's shutdown sequence, a pause, then the startup. Order and timing of the startup
    # follow the real samples: allocation, AES-NI and WIJ within ~100 ms of each other, then mounts, the web
    # server and logons (container-startup.log, wij-recovery-after-snapshot-restore.log).
    Scenario("startup", MessageCategory.STARTUP, (
        Step("startup.shutdown_requested"),
        Step("startup.logons_disabled", (0, 2)),
        Step("startup.dismounted", (200, 1500)),
        Step("startup.dismounted", (1, 20)),
        Step("startup.journaling_stopped", (5, 50)),
        Step("startup.shutdown_complete", (100, 600)),
        Step("startup.banner", (5000, 90000), restart=True),
        Step("license.validate", (20, 80)),
        Step("startup.shared_memory", (40, 90)),
        Step("memory.breakdown", (0, 0)),
        Step("startup.aes_ni", (5, 20)),
        Step("startup.wij_file", (10, 60)),
        Step("startup.write_daemon", (1, 10)),
        Step("journal.switch", (50, 400)),
        Step("startup.mounted", (5, 40)),
        Step("startup.mounted", (1, 10)),
        Step("startup.mounted", (1, 10)),
        Step("startup.webserver", (300, 900)),
        Step("startup.logons", (200, 800)),
        Step("startup.interoperability", (2, 10)),
    )),
    # durable-sys-first-boot.log, in its real order and spacing (the chmod lines left out).
    Scenario("durable_sys_first_boot", MessageCategory.CONFIG, (
        Step("config.data_directory", restart=True),
        Step("config.qlist", (2, 4)),
        Step("config.versions_same", (15, 20)),
        Step("config.version_source", (2, 4)),
        Step("config.version_destination", (1, 2)),
        Step("config.update", (1, 3)),
    )),
    # huge-pages-allocation.log: the allocation and its breakdown in the same millisecond.
    Scenario("huge_pages_allocation", MessageCategory.MEMORY, (
        Step("memory.huge_pages"),
        Step("memory.breakdown", (0, 0)),
    )),
    Scenario("startup_large_pages_fallback", MessageCategory.MEMORY, (
        Step("memory.large_pages_fallback", restart=True),
        Step("startup.shared_memory", (1000, 2500)),
        Step("memory.breakdown", (0, 0)),
        Step("startup.wij_file", (10, 60)),
        Step("startup.write_daemon", (1, 10)),
    )),
    # The LMF errors in alerts-large-pages-journal-license.log come from one process, hours apart.
    Scenario("license_exhaustion", MessageCategory.LICENSE, (
        Step("license.validate"),
        Step("license.units_low", (60000, 900000)),
        Step("license.units_low", (60000, 600000)),
        Step("license.limit_exceeded", (1000, 120000)),
        Step("license.limit_exceeded", (1000, 120000)),
        Step("license.send_failed", (1000, 60000)),
        Step("license.connect_failed", (5000, 60000)),
    )),
    Scenario("lock_table_filling", MessageCategory.LOCK, (
        Step("lock.escalation"),
        Step("lock.escalation", (500, 5000)),
        Step("lock.filling", (1000, 30000)),
        Step("lock.filling", (1000, 30000)),
        Step("lock.full", (500, 10000)),
        Step("lock.full_detail", (0, 5)),
        Step("lock.full", (100, 3000)),
    )),
    # backup-freeze-thaw-journal-switch.log, in its real order and spacing.
    Scenario("external_backup", MessageCategory.JOURNAL, (
        Step("journal.freeze_suspending"),
        Step("journal.freeze_not_journalled", (0, 0)),
        Step("journal.freeze_count", (0, 0)),
        Step("journal.switch", (90, 130)),
        Step("journal.freeze_restore", (0, 0)),
        Step("journal.freeze_suspended", (900, 1100)),
        Step("journal.thaw_resuming", (8000, 60000)),
        Step("journal.thaw_resumed", (900, 1100)),
    )),
    Scenario("mirror_failover", MessageCategory.MIRROR, (
        Step("mirror.backup_active"),
        Step("mirror.arbiter_lost", (10000, 600000)),
        Step("mirror.backup_lost", (2000, 8000)),
        Step("mirror.becoming_primary", (8000, 9000)),
    )),
    Scenario("ecp_outage", MessageCategory.NETWORK, (
        Step("network.ecp_connected"),
        Step("network.ecp_lost", (60000, 3600000)),
        Step("network.ecp_trouble", (60000, 61000)),
        Step("network.ecp_failed", (1140000, 1141000)),
    )),
)


def check_scenarios() -> None:
    """Every step names a catalog template (run at import)."""
    known = catalog.by_key()
    for scenario in SCENARIOS:
        for step in scenario.steps:
            if step.key not in known:
                raise ValueError("scenario %s: unknown template %r" % (scenario.name, step.key))


check_scenarios()
