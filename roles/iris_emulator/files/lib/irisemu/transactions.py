# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open transactions of background jobs (switches ``open_transactions`` / ``open_transaction_seconds``).

Real IRIS publishes them as ``iris_trans_open_count`` and ``iris_trans_open_secs`` on
/api/monitor/metrics; a restart should wait for them like for user sessions, since a shutdown rolls
them back. Here they are held by jobs that need no connection, so they are independent of sessions.
Each function changes ``state.open_transactions`` and returns the messages.log line to write, if any.
"""

from __future__ import annotations

from typing import List, Optional

from .messages import INFO, WARNING, LogLine
from .state import InstanceState


def open_at_start(state: InstanceState, now: float) -> Optional[LogLine]:
    """Open the switched-on transactions; they commit after ``open_transaction_seconds`` (0: held until shutdown)."""
    count = state.switches.open_transactions
    if not count:
        return None
    state.open_transactions = [now] * count
    hold = state.switches.open_transaction_seconds
    return LogLine(INFO, "Generic.Event", "%d background job(s) opened a transaction%s" % (
        count, " held for %g seconds" % hold if hold else " held until shutdown"))


def commit_all(state: InstanceState) -> Optional[LogLine]:
    if state.phase != "running" or not state.open_transactions:
        return None
    line = LogLine(INFO, "Generic.Event", "%d background transaction(s) committed" % len(state.open_transactions))
    state.open_transactions = []
    return line


def roll_back_at_shutdown(state: InstanceState) -> Optional[LogLine]:
    """A shutdown ends the jobs; their open transactions are rolled back."""
    if not state.open_transactions:
        return None
    line = LogLine(WARNING, "Generic.Event", "Rolling back %d open transaction(s) at shutdown" % len(state.open_transactions))
    state.open_transactions = []
    return line


def average_age_seconds(opened: List[float], now: float) -> float:
    return round(sum(now - started for started in opened) / len(opened), 3) if opened else 0.0
