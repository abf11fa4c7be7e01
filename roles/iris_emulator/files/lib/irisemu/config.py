# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an instance needs from its CPF, its emulated /proc/sys and the emulator-only switches file."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Dict, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import (
    CATALOG_SECTIONS, SharedMemoryEstimate, canonical_section, estimate_shared_memory, lookup, specs, validate_value)

from .registry import EmulatorError, read_json

HUGE_PAGE_MB = 2  # x86-64 default huge page size (2048 kB)
# memlock flag bits ([config] memlock, CPF reference).
MEMLOCK_LARGE_PAGES_DISABLED = 32
MEMLOCK_LARGE_PAGES_REQUIRED = 64
# Sections whose values start-up depends on; a bad value there stops the start like a real CPF error.
CHECKED_SECTIONS = ("config", "Startup", "Journal", "SQL")


def catalog_default(section: str, parameter: str) -> int:
    """IRIS's default of a catalogued integer parameter: the catalog is its one home."""
    spec = lookup(section, parameter)
    if spec is None:
        raise LookupError("[%s] %s is not in the CPF catalog" % (section, parameter))
    return int(spec.default)


# The integer settings the emulated instance acts on: InstanceConfig field <- [section] parameter (the catalog's
# default when absent or empty). A merge that activates one of these parameters live (the catalog says whether
# IRIS can) updates the field, so faults and metrics follow the active value.
INT_FIELDS: Tuple[Tuple[str, str, str, int], ...] = tuple(
    (field, section, parameter, catalog_default(section, parameter)) for field, section, parameter in (
        ("locksiz", "config", "locksiz"),
        ("gmheap_kb", "config", "gmheap"),
        ("max_server_conn", "config", "MaxServerConn"),
        ("memlock", "config", "memlock"),
        ("shutdown_timeout", "Startup", "ShutdownTimeout"),
        ("lock_threshold", "SQL", "LockThreshold"),
        ("web_server", "Startup", "WebServer"),
    ))
Parameters = Dict[str, Dict[str, str]]


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
    sql_row_locks_per_transaction: int = 0
    license_units: int = 8
    system_processes: int = 24
    # iris merge writes the merge file's last parameter nowhere yet reports success (tests of read-back and rollback).
    merge_drops_last_parameter: bool = False
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
    lock_threshold: int
    web_server: int  # [Startup] WebServer: 1 runs the private web server (IRIS's default is 0 since 2023.2)
    journal_dir: Optional[str]
    wij_dir: Optional[str]
    databases: Dict[str, str]
    namespaces: Dict[str, str]
    # The values read at start: catalogued parameters (their default when absent) and the other keys of the
    # catalog's sections, normalised like the catalog compares them. The instance's active configuration begins here.
    parameters: Parameters

    def activated(self, section: str, parameter: str, value: str) -> "InstanceConfig":
        """This configuration with a value activated live (only the fields the emulator acts on change)."""
        for field, field_section, field_parameter, default in INT_FIELDS:
            if (field_section.lower(), field_parameter.lower()) == (section.lower(), parameter.lower()):
                changes: Dict[str, Any] = {field: int(value) if value.strip() else default}
                return replace(self, **changes)
        return self

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


def normalised(section: str, parameter: str, value: str) -> str:
    """A value as the catalog compares it ("064" -> "64"); unknown or invalid values stripped only."""
    spec = lookup(section, parameter)
    if spec is not None and not spec.read_only and value.strip():
        try:
            return validate_value(spec, value)
        except ValueError:
            pass
    return value.strip()


def start_parameters(doc: CpfDocument) -> Parameters:
    """The catalog sections' values an instance starts with (see InstanceConfig.parameters)."""
    result: Parameters = {}
    for section in CATALOG_SECTIONS:
        values = result.setdefault(section, {})
        for spec in specs(section):
            if not spec.read_only:
                values[spec.name] = spec.default
        for name, value in doc.parameters(section):
            known = lookup(section, name)
            values[known.name if known is not None else name] = normalised(section, name, value)
    return result


def canonical_name(section: str, parameter: str) -> Tuple[str, str]:
    """(section, parameter) spelled as the catalog spells them, when it knows them."""
    spec = lookup(section, parameter)
    if spec is not None:
        return spec.section, spec.name
    return canonical_section(section) or section, parameter


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
    fields: Dict[str, Any] = {field: _int_param(doc, section, parameter, default)
                              for field, section, parameter, default in INT_FIELDS}
    return InstanceConfig(
        memory=memory,
        journal_dir=(doc.get("Journal", "CurrentDirectory") or "").strip() or None,
        wij_dir=(doc.get("config", "wijdir") or "").strip() or None,
        databases=_databases(doc),
        namespaces=dict(doc.parameters("Namespaces")),
        parameters=start_parameters(doc),
        **fields,
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
