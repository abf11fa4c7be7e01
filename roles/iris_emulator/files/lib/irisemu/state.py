# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a running emulated instance is: plain data, no I/O.

faults.py, metrics.py, transactions.py and activation.py read it (and the last two change it); the daemon
(daemon.py) owns it, writes the messages.log lines those modules return and publishes it in emulator-state.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set

from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import masked as masked_value

from .config import InstanceConfig, Parameters, Switches, catalog_default

if TYPE_CHECKING:  # the daemon's connections; only type checkers need asyncio here
    from asyncio import BaseTransport

# Events counted since start, shown as *_total metrics.
COUNTERS = ("ecp_clients_refused", "lock_table_full", "heap_errors", "lock_escalations", "http_requests")
DEFAULT_SHUTDOWN_TIMEOUT = catalog_default("Startup", "ShutdownTimeout")


@dataclass
class InstanceState:
    pid: int
    started: float  # epoch seconds
    phase: str = "starting"  # starting | running | stopping | hung (registry.RuntimeState)
    config: Optional[InstanceConfig] = None  # the CPF values acted on, with live-merged values activated
    switches: Switches = field(default_factory=Switches)  # emulator.json: test switches and the workload
    huge_pages: bool = False
    huge_pages_fell_back: bool = False
    counters: Dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    # Open superserver connections: user sessions, and the ECP application servers served.
    sessions: Set[BaseTransport] = field(default_factory=set)
    ecp_clients: Set[BaseTransport] = field(default_factory=set)
    ecp_clients_peak: int = 0
    # The active configuration (what the instance uses now) and merged values that wait for a restart.
    active: Parameters = field(default_factory=dict)
    pending: Parameters = field(default_factory=dict)
    databases: Dict[str, str] = field(default_factory=dict)
    namespaces: Dict[str, str] = field(default_factory=dict)
    merge_id: str = ""
    last_merge: Dict[str, Any] = field(default_factory=dict)
    active_faults: List[str] = field(default_factory=list)
    recurring: Set[str] = field(default_factory=set)  # recurring faults that are ticking
    open_transactions: List[float] = field(default_factory=list)  # their start times (transactions.py)

    @property
    def shutdown_timeout(self) -> int:
        return self.config.shutdown_timeout if self.config else DEFAULT_SHUTDOWN_TIMEOUT

    def load(self, config: InstanceConfig) -> None:
        """Take the configuration read at start: the active values begin as the CPF's."""
        self.config = config
        self.active = {section: dict(values) for section, values in config.parameters.items()}
        self.databases = dict(config.databases)
        self.namespaces = dict(config.namespaces)


def masked(parameters: Parameters) -> Parameters:
    """Parameters as published: secret values ([Startup] PasswordHash) never leave the CPF."""
    return {section: {name: masked_value(name, value) or "" for name, value in values.items()}
            for section, values in parameters.items()}
