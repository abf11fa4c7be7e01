# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an instance needs from its CPF, its emulated /proc/sys and the emulator-only switches file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import (
    SharedMemoryEstimate, estimate_shared_memory, lookup, validate_value)

from .registry import EmulatorError, read_json

HUGE_PAGE_MB = 2  # x86-64 default huge page size (2048 kB)
# memlock flag bits ([config] memlock, CPF reference).
MEMLOCK_LARGE_PAGES_DISABLED = 32
MEMLOCK_LARGE_PAGES_REQUIRED = 64
# Sections whose values start-up depends on; a bad value there stops the start like a real CPF error.
CHECKED_SECTIONS = ("config", "Startup", "Journal")


@dataclass(frozen=True)
class Switches:
    """``<install_dir>/emulator.json``: test switches and the emulated workload (read at each start/stop)."""

    stop_hang_seconds: float = 0.0
    fail_start: bool = False
    crash_after_seconds: float = 0.0
    start_delay_seconds: float = 0.0
    fault_interval_seconds: float = 60.0
    # The emulated workload that the faults compare the CPF against.
    lock_table_demand_bytes: int = 4 * 1024 * 1024
    heap_demand_kb: int = 32768
    license_units: int = 8
    system_processes: int = 24
    # Transactions background jobs hold open from start (iris_trans_open_count), for this long (0: until shutdown).
    open_transactions: int = 0
    open_transaction_seconds: float = 0.0

    @classmethod
    def load(cls, path: str) -> "Switches":
        data = read_json(path) or {}
        values: Dict[str, Any] = {}
        for key, value in data.items():
            if key not in cls.__dataclass_fields__:
                raise EmulatorError("%s: unknown switch %r (known: %s)" % (path, key, ", ".join(sorted(cls.__dataclass_fields__))))
            expected = type(getattr(cls, key))
            if expected is bool:
                ok = isinstance(value, bool)
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
                value = expected(value)
            if not ok:
                raise EmulatorError("%s: switch %r must be %s, got %r" % (
                    path, key, "true/false" if expected is bool else "a non-negative number", value))
            values[key] = value
        return cls(**values)


def _int_param(doc: CpfDocument, section: str, name: str, default: int) -> int:
    raw = doc.get(section, name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise EmulatorError("[%s] %s=%s is not an integer" % (section, name, raw.strip())) from None


@dataclass(frozen=True)
class InstanceConfig:
    """The CPF values the emulated instance acts on."""

    memory: SharedMemoryEstimate
    locksiz: int
    gmheap_kb: int
    max_server_conn: int
    memlock: int
    shutdown_timeout: int
    web_server: bool
    journal_dir: Optional[str]
    wij_dir: Optional[str]
    databases: Dict[str, str]

    @property
    def huge_pages_wanted(self) -> bool:
        return not self.memlock & MEMLOCK_LARGE_PAGES_DISABLED

    @property
    def huge_pages_required(self) -> bool:
        return bool(self.memlock & MEMLOCK_LARGE_PAGES_REQUIRED)


def _databases(doc: CpfDocument) -> Dict[str, str]:
    """Local databases of [Databases] (name -> directory); remote (ECP) ones are not mounted locally."""
    result = {}
    for name, value in doc.parameters("Databases"):
        fields = value.split(",")
        if fields[0] and (len(fields) < 2 or not fields[1]):
            result[name] = fields[0]
    return result


def _validate(doc: CpfDocument) -> None:
    """Catalogued parameters of the sections the instance acts on must hold valid values."""
    if not doc.has_section("config"):
        raise ValueError("section [config] is missing")
    for section in CHECKED_SECTIONS:
        for name, value in doc.parameters(section):
            spec = lookup(section, name)
            # Empty means "default"; read-only values are IRIS's own business.
            if spec is not None and not spec.read_only and value.strip():
                validate_value(spec, value)


def load_instance_config(cpf_path: str) -> InstanceConfig:
    """Parse and check the CPF; EmulatorError names the file and the reason."""
    try:
        with open(cpf_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise EmulatorError("cannot read CPF %s: %s" % (cpf_path, exc.strerror)) from None
    try:
        doc = CpfDocument.parse(data)
        _validate(doc)
        memory = estimate_shared_memory(doc)
    except ValueError as exc:
        raise EmulatorError("invalid CPF %s: %s" % (cpf_path, exc)) from None
    return InstanceConfig(
        memory=memory,
        locksiz=_int_param(doc, "config", "locksiz", 0),
        gmheap_kb=_int_param(doc, "config", "gmheap", 0),
        max_server_conn=_int_param(doc, "config", "MaxServerConn", 1),
        memlock=_int_param(doc, "config", "memlock", 0),
        shutdown_timeout=_int_param(doc, "Startup", "ShutdownTimeout", 300),
        web_server=_int_param(doc, "Startup", "WebServer", 1) == 1,
        journal_dir=(doc.get("Journal", "CurrentDirectory") or "").strip() or None,
        wij_dir=(doc.get("config", "wijdir") or "").strip() or None,
        databases=_databases(doc),
    )


def read_nr_hugepages(proc_root: str) -> int:
    path = os.path.join(proc_root, "vm", "nr_hugepages")
    try:
        with open(path) as handle:
            return int(handle.read().strip() or 0)
    except OSError:
        return 0
    except ValueError:
        raise EmulatorError("%s does not hold an integer" % path) from None
