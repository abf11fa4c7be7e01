# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open transactions of background jobs (switches ``open_transactions`` / ``open_transaction_seconds``).

Real IRIS publishes them as ``iris_trans_open_count`` and ``iris_trans_open_secs`` on
/api/monitor/metrics; a restart should wait for them like for user sessions, since a shutdown rolls
them back. Here they are held by jobs that need no connection, so they are independent of sessions.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, List

from .messages import INFO, WARNING

if TYPE_CHECKING:  # pragma: no cover - import cycle only for type checkers
    from .daemon import Instance


def open_at_start(instance: "Instance") -> None:
    """Open the switched-on transactions; they commit after ``open_transaction_seconds`` (0: held until shutdown)."""
    count = instance.switches.open_transactions
    if not count:
        return
    now = time.time()
    instance.open_transactions = [now] * count
    hold = instance.switches.open_transaction_seconds
    instance.log.write(INFO, "Generic.Event", "%d background job(s) opened a transaction%s" % (
        count, " held for %g seconds" % hold if hold else " held until shutdown"))
    if hold:
        instance.add_timer(hold, lambda: commit_all(instance))


def commit_all(instance: "Instance") -> None:
    if instance.phase == "running" and instance.open_transactions:
        instance.log.write(INFO, "Generic.Event", "%d background transaction(s) committed" % len(instance.open_transactions))
        instance.open_transactions = []


def roll_back_at_shutdown(instance: "Instance") -> None:
    """A shutdown ends the jobs; their open transactions are rolled back."""
    if instance.open_transactions:
        instance.log.write(WARNING, "Generic.Event", "Rolling back %d open transaction(s) at shutdown" % len(instance.open_transactions))
        instance.open_transactions = []


def average_age_seconds(opened: List[float]) -> float:
    return round(sum(time.time() - started for started in opened) / len(opened), 3) if opened else 0.0
