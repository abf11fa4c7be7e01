# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Catalog of the CPF parameters remediation touches, and shared-memory sizing (stdlib only).

Facts come from the InterSystems CPF reference (docs/cpf.md lists the sources). Where the
reference does not say whether a change needs a restart, the entry says it does: a needless
restart is an inconvenience, a missed one leaves the fix inactive. Note that a text edit of the CPF is
read at the next start (or activation) whatever the flag says; ``requires_restart`` means IRIS
cannot apply the value to a running instance at all.

Public API: ``lookup``, ``specs``, ``validate_value``, ``check_setting``, ``canonical_section``,
``KNOWN_SECTIONS``, ``OPEN_SECTIONS``, ``estimate_shared_memory``, ``shared_memory_of``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.cpf import ACTIONS_SECTION, CpfDocument, check_value

INT = "int"
BOOL = "bool"
STR = "str"
PATH = "path"
INT_LIST = "int_list"

# Every section an instance or a merge file may contain (shared/reference/cpf-parameters.md).
KNOWN_SECTIONS: Tuple[str, ...] = (
    "ConfigFile", "ECPServers", "Databases", "Namespaces", "MirrorMember", "Journal", "Startup", "WorkQueues",
    "Gateways", "DeviceSubTypes", "Devices", "MagTapes", "config", "Miscellaneous", "ECP", "Cluster",
    "LicenseServers", "Monitor", "IO", "SQL", "SqlSysDatatypes", "Telnet", "Conversions", "Logging", "Debug",
    "Archives", "ComPorts", "SqlUserDatatypes", "Actions",
)
# Sections whose keys are names the user chooses (databases, namespaces, mappings, devices, ...):
# any key is acceptable there; only the value's characters are checked.
OPEN_SECTIONS: Tuple[str, ...] = (
    "ECPServers", "Databases", "Namespaces", "WorkQueues", "Gateways", "DeviceSubTypes", "Devices", "MagTapes",
    "LicenseServers", "SqlSysDatatypes", "SqlUserDatatypes", "Archives", "ComPorts", "Conversions",
)
MAP_SECTION_PREFIX = "Map."
INT_MAX = 2147483647


@dataclass(frozen=True)
class ParameterSpec(object):
    """What the catalog knows about one parameter."""

    section: str
    name: str
    kind: str
    default: str
    requires_restart: bool
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    special: Tuple[int, ...] = ()  # values accepted outside [minimum, maximum], e.g. 0 = "system chooses"
    units: str = ""
    max_length: Optional[int] = None
    counts: Tuple[int, ...] = ()  # INT_LIST: how many comma-separated values are accepted
    dangerous: bool = False
    danger: str = ""
    read_only: bool = False
    description: str = ""

    @property
    def target(self) -> str:
        return "[%s] %s" % (self.section, self.name)


def _int(section: str, name: str, minimum: int, maximum: int, default: str, restart: bool, **extra: object) -> ParameterSpec:
    return ParameterSpec(section=section, name=name, kind=INT, minimum=minimum, maximum=maximum, default=default,
                         requires_restart=restart, **extra)  # type: ignore[arg-type]


def _bool(section: str, name: str, default: str, restart: bool, **extra: object) -> ParameterSpec:
    return ParameterSpec(section=section, name=name, kind=BOOL, default=default, requires_restart=restart,
                         **extra)  # type: ignore[arg-type]


def _str(section: str, name: str, max_length: int, default: str, restart: bool, kind: str = STR,
         **extra: object) -> ParameterSpec:
    return ParameterSpec(section=section, name=name, kind=kind, max_length=max_length, default=default,
                         requires_restart=restart, **extra)  # type: ignore[arg-type]


def _ints(section: str, name: str, counts: Tuple[int, ...], minimum: int, maximum: int, default: str, restart: bool,
          **extra: object) -> ParameterSpec:
    return ParameterSpec(section=section, name=name, kind=INT_LIST, counts=counts, minimum=minimum, maximum=maximum,
                         default=default, requires_restart=restart, **extra)  # type: ignore[arg-type]


_C = "config"
_S = "Startup"
_J = "Journal"
_Q = "SQL"
_M = "Miscellaneous"
_MISC_FLAGS = (
    "AsyncDisconnectErr", "AsynchError", "BreakMode", "CollectResourceStats", "DisconnectErr", "GlobalKillEnabled",
    "IEEEError", "LineRecall", "ListFormat", "LogRollback", "MVDefined", "NodeNameInPid", "NullSubscripts", "OldZU5",
    "OpenMode", "PopError", "RefInKind", "ScientificNotation", "SetZEOF", "ShutDownLogErrors", "StopID",
    "SwitchOSdir", "SynchCommit", "TelnetNUL", "TruncateOverflow", "UseNagleAlgorithm", "ViewPastData", "ZDateNull",
    "ZaMode",
)
_MISC_DEFAULT_ON = ("AsynchError", "BreakMode", "GlobalKillEnabled", "IEEEError", "LineRecall", "ScientificNotation")
_STARTUP_HOOKS = ("CallinHalt", "CallinStart", "JobHalt", "JobStart", "ProcessHalt", "ProcessStart", "SystemHalt",
                  "SystemStart")

_SPECS: Tuple[ParameterSpec, ...] = (
    # [config]: memory, locks, journal buffers, connections, console.
    _str(_C, "LibPath", 1024, "", True),
    _int(_C, "MaxServerConn", 0, 254, "1", True, description="max ECP clients of this data server"),
    _int(_C, "MaxServers", 0, 254, "2", True, description="max ECP data servers this instance connects to"),
    _str(_C, "Path", 1024, "", True),
    _str(_C, "PythonPath", 1024, "", False),
    _bool(_C, "UUIDv1RandomMac", "0", False),
    _int(_C, "bbsiz", 256, INT_MAX, "-1", False, special=(-1,), units="KB",
         description="max per-process private memory; -1 = unlimited; applies to new processes"),
    _str(_C, "console", 229, ",", True, description="VMSConsoleTerminal,ConsoleFile (file must be messages.log)"),
    _int(_C, "errlog", 10, 10000, "500", True),
    _ints(_C, "globals", (6,), 0, 16777216, "0,0,0,0,0,0", True, units="MB",
          description="global buffer MB per block size: 0,0,8KB,16KB,32KB,64KB; all 0 = 25% of physical memory"),
    _int(_C, "gmheap", 16384, 1073741760, "0", True, special=(0,), units="KB",
         description="shared memory heap; 0 = 3% of global buffers, min 300 MB, max 2 GB; huge pages may need raising"),
    _ints(_C, "history", (1, 2), 0, INT_MAX, "500", False),
    _int(_C, "ijcbuff", 512, 8192, "512", True, units="bytes"),
    _int(_C, "ijcnum", 0, 256, "16", True),
    _int(_C, "jrnbufs", 8, 1024, "64", True, units="MB", description="journal buffers; min 16 on Unicode instances"),
    _int(_C, "locksiz", 65536, 1073741760 * 1024, "0", False, special=(0,), units="bytes",
         description="lock table limit; 0 = bounded by gmheap (recommended)"),
    _int(_C, "memlock", 0, 255, "0", True,
         dangerous=True, danger="bit 64 (LargePagesRequired) and 128 (BackoffDisabled) make startup abort "
                                "when the memory cannot be allocated",
         description="bit flags: 1 LockSharedMemory, 8 LockTextSegment, 32 LargePagesDisabled, 64 LargePagesRequired, "
                     "128 BackoffDisabled"),
    _bool(_C, "netjob", "1", True),
    _int(_C, "nlstab", 0, 64, "50", True),
    _str(_C, "overview", 64, "", False, read_only=True, description="written by IRIS"),
    _ints(_C, "routines", (1, 6), 0, 16777216, "0", True, units="MB",
          description="routine buffer MB: one value (auto split) or six (2/4/8/16/32/64 KB pools); 0 = 10% of globals"),
    _int(_C, "targwijsz", 0, INT_MAX, "0", True, units="MB"),
    _int(_C, "udevtabsiz", 0, 65535, "24576", True, units="bytes"),
    _str(_C, "wijdir", 226, "", True, kind=PATH, dangerous=True,
         danger="the write image journal directory must exist and be reliable storage, or startup fails"),
    _ints(_C, "zfheap", (2,), 0, 270336, "0,0", False, description="ZFString,ZFSize; 0,0 recommended"),
    # [Startup]
    _str(_S, "CliSysName", 64, "", True),
    _ints(_S, "DBSizesAllowed", (1, 2, 3, 4), 8192, 65536, "8192", True, units="bytes"),
    _int(_S, "DefaultPort", 1, 65535, "1972", True, description="superserver port"),
    _str(_S, "DefaultPortBindAddress", 64, "", True),
    _bool(_S, "EnableVSSBackup", "1", True),
    _bool(_S, "EnsembleAutoStart", "1", True),
    _int(_S, "ErrorPurge", 1, 1000, "30", True, units="days"),
    _bool(_S, "FIPSMode", "0", True),
    _bool(_S, "IPv6", "0", True),
    _int(_S, "JobServers", 0, 2000, "0", True),
    _str(_S, "LicenseID", 64, "", True),
    _int(_S, "MaxConsoleLogSize", 1, 500, "5", True, units="MB"),
    _int(_S, "MaxIRISTempSizeAtStart", 0, 1000000, "0", True, units="MB"),
    _str(_S, "PasswordHash", 1024, "", True, dangerous=True,
         danger="used once at deployment to set the predefined accounts' passwords"),
    _int(_S, "ShutdownTimeout", 120, 100000, "300", True, units="seconds"),
    _str(_S, "SystemMode", 32, "", True),
    _int(_S, "SystemPerformanceDailyReportsOn", -300, 1, "0", True),
    _str(_S, "TempDirectory", 226, "Temp", True),
    _ints(_S, "TerminalPrompt", (1, 2, 3, 4, 5, 6, 7, 8, 9), 0, 8, "8,2", True),
    _bool(_S, "WebServer", "0", True),
    _int(_S, "WebServerPort", 0, 65535, "80", True),
    # [Journal]
    _str(_J, "AlternateDirectory", 207, "", True, kind=PATH),
    _int(_J, "BackupsBeforePurge", 0, 10, "2", False),
    _bool(_J, "CompressFiles", "1", True),
    _str(_J, "CurrentDirectory", 207, "", True, kind=PATH),
    _int(_J, "DaysBeforePurge", 0, 100, "2", False, units="days"),
    _int(_J, "FileSizeLimit", 0, 4079, "1024", True, units="MB"),
    _bool(_J, "FreezeOnError", "0", True, dangerous=True,
          danger="1 freezes all journaled updates on a journal I/O error; the instance appears hung"),
    _str(_J, "JournalFilePrefix", 64, "", True),
    _bool(_J, "JournalcspSession", "0", True),
    _bool(_J, "PurgeArchive", "0", False),
    # [SQL]
    _int(_Q, "LockThreshold", 0, INT_MAX, "1000", False, description="row locks per table before escalation"),
    _int(_Q, "LockTimeout", 0, 32767, "10", False, units="seconds"),
    _str(_Q, "DefaultSchema", 128, "SQLUser", False),
    _int(_Q, "ODBCVarcharMaxlen", 0, INT_MAX, "4096", False),
    _int(_Q, "TCPKeepAlive", 0, INT_MAX, "300", False, units="seconds"),
    # [ECP]
    _int("ECP", "ClientReconnectDuration", 10, 65636, "1200", True, units="seconds"),
    _int("ECP", "ClientReconnectInterval", 1, 60, "5", True, units="seconds"),
    _int("ECP", "ServerTroubleDuration", 20, 65636, "60", True, units="seconds"),
    # [ConfigFile]
    _str("ConfigFile", "Version", 7, "", True, dangerous=True,
         danger="the CPF syntax version; changing it can make startup fail"),
    _str("ConfigFile", "Product", 32, "IRIS", True, read_only=True, description="written by IRIS"),
    # [Miscellaneous]: process defaults, picked up by new processes; whether running ones change is undocumented.
    _int(_M, "Undefined", 0, 2, "0", True),
) + tuple(_bool(_S, name, "1", True) for name in _STARTUP_HOOKS) + tuple(
    _bool(_M, name, "1" if name in _MISC_DEFAULT_ON else "0", True) for name in _MISC_FLAGS)

_INDEX: Dict[Tuple[str, str], ParameterSpec] = {(spec.section.lower(), spec.name.lower()): spec for spec in _SPECS}
CATALOG_SECTIONS: Tuple[str, ...] = tuple(sorted({spec.section for spec in _SPECS}))


def specs(section: Optional[str] = None) -> Tuple[ParameterSpec, ...]:
    """Every catalogued parameter, or those of one section (case-insensitive)."""
    if section is None:
        return _SPECS
    return tuple(spec for spec in _SPECS if spec.section.lower() == section.strip().lower())


def canonical_section(section: str) -> Optional[str]:
    """The documented spelling of a known section (``CONFIG`` -> ``config``), or None when unknown."""
    wanted = section.strip().lower()
    if wanted.startswith(MAP_SECTION_PREFIX.lower()) and len(wanted) > len(MAP_SECTION_PREFIX):
        return MAP_SECTION_PREFIX + section.strip()[len(MAP_SECTION_PREFIX):]
    for known in KNOWN_SECTIONS:
        if known.lower() == wanted:
            return known
    return None


def is_open_section(section: str) -> bool:
    canonical = canonical_section(section)
    return canonical is not None and (canonical in OPEN_SECTIONS or canonical.startswith(MAP_SECTION_PREFIX))


def lookup(section: str, parameter: str) -> Optional[ParameterSpec]:
    """The catalog entry for ``[section] parameter`` (both case-insensitive), or None."""
    return _INDEX.get((section.strip().lower(), parameter.strip().lower()))


def _parse_int(spec: ParameterSpec, text: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise ValueError("%s: %r is not an integer" % (spec.target, text)) from None


def _check_range(spec: ParameterSpec, number: int) -> None:
    if number in spec.special:
        return
    low = spec.minimum if spec.minimum is not None else -INT_MAX
    high = spec.maximum if spec.maximum is not None else INT_MAX
    if not low <= number <= high:
        also = " (or %s)" % ", ".join(str(value) for value in spec.special) if spec.special else ""
        raise ValueError("%s: %d is out of range %d..%d%s%s" % (
            spec.target, number, low, high, " " + spec.units if spec.units else "", also))


def validate_value(spec: ParameterSpec, value: str) -> str:
    """Check ``value`` against the spec and return it normalised (``"064"`` -> ``"64"``, ``" 0, 0"`` -> ``"0,0"``).

    Raises ValueError naming the parameter and the reason.
    """
    if not isinstance(value, str):
        raise ValueError("%s: value must be a string, got %s" % (spec.target, type(value).__name__))
    try:
        check_value("value of %s" % spec.target, value)
    except ValueError as error:
        raise ValueError(str(error)) from None
    if spec.read_only:
        raise ValueError("%s is written by IRIS itself and cannot be set" % spec.target)
    text = value.strip()
    if spec.kind == INT:
        number = _parse_int(spec, text)
        _check_range(spec, number)
        return str(number)
    if spec.kind == BOOL:
        if text not in ("0", "1"):
            raise ValueError("%s: %r must be 0 or 1" % (spec.target, value))
        return text
    if spec.kind == INT_LIST:
        parts = text.split(",")
        if len(parts) not in spec.counts:
            raise ValueError("%s: %r has %d comma-separated values, expected %s" % (
                spec.target, value, len(parts), " or ".join(str(count) for count in spec.counts)))
        numbers = [_parse_int(spec, part) for part in parts]
        for number in numbers:
            _check_range(spec, number)
        return ",".join(str(number) for number in numbers)
    if spec.max_length is not None and len(text) > spec.max_length:
        raise ValueError("%s: value is %d characters long, the limit is %d" % (spec.target, len(text), spec.max_length))
    if spec.kind == PATH and text and (not os.path.isabs(text) or ".." in text.split("/")):
        raise ValueError("%s: %r must be an absolute path without '..'" % (spec.target, value))
    return text


def check_setting(section: str, parameter: str, value: Optional[str], allow_unknown: bool = False
                  ) -> Tuple[str, Optional[ParameterSpec], Optional[str]]:
    """Validate one requested setting. Returns (canonical section, spec or None, normalised value or None).

    Unknown sections are refused; unknown parameters of catalogued sections are refused unless
    ``allow_unknown``; parameters of open sections (databases, mappings, ...) only get their value checked.
    """
    canonical = canonical_section(section)
    if canonical is None:
        raise ValueError("section [%s] is not a known CPF section (known: %s, Map.<namespace>)" % (
            section, ", ".join(KNOWN_SECTIONS)))
    if canonical == ACTIONS_SECTION:
        raise ValueError("section [%s] holds merge actions; this module edits parameters only" % section)
    spec = lookup(canonical, parameter)
    if spec is None and not allow_unknown and not is_open_section(canonical):
        raise ValueError("parameter %r is not in the catalog for section [%s]; set allow_unknown to write it anyway" % (
            parameter, canonical))
    if value is None:
        return canonical, spec, None
    if spec is not None:
        return canonical, spec, validate_value(spec, value)
    try:
        check_value("value of %s in [%s]" % (parameter, canonical), value)
    except ValueError as error:
        raise ValueError(str(error)) from None
    return canonical, None, value.strip()


def values_equal(spec: Optional[ParameterSpec], current: Optional[str], wanted: str) -> bool:
    """Compare as IRIS would: by normalised value when the catalog knows the type, else as text."""
    if current is None:
        return False
    if spec is not None:
        try:
            return validate_value(spec, current) == wanted
        except ValueError:
            return False
    return current.strip() == wanted.strip()


# ----------------------------------------------------------------------------- shared memory
# Fixed parts of the startup allocation, calibrated on the real line
# "100MB global buffers, 44MB routine buffers, 64MB journal buffers, 9MB buffer descriptors, 72MB heap,
# 5MB ECP, 10MB miscellaneous" (IRIS 2022, PYDuquesnoy/IRIS-Docker-HugePages).
ECP_MB = 5
MISC_MB = 10
BUFFER_DESCRIPTORS_PER_100MB = 9
ROUTINES_AUTO_MIN_MB = 80
ROUTINES_AUTO_MAX_MB = 1020
HEAP_AUTO_MIN_MB = 300
HEAP_AUTO_MAX_MB = 2047  # 2,097,000 KB
JRNBUFS_DEFAULT_MB = 64


@dataclass(frozen=True)
class SharedMemoryEstimate(object):
    """The shared memory IRIS allocates at startup, in MB, split like its "Allocated ..." lines."""

    global_buffers_mb: int
    routine_buffers_mb: int
    journal_buffers_mb: int
    buffer_descriptors_mb: int
    heap_mb: int
    ecp_mb: int
    misc_mb: int

    @property
    def total_mb(self) -> int:
        return (self.global_buffers_mb + self.routine_buffers_mb + self.journal_buffers_mb
                + self.buffer_descriptors_mb + self.heap_mb + self.ecp_mb + self.misc_mb)


def shared_memory_of(global_buffers_mb: int, routine_buffers_mb: int, journal_buffers_mb: int,
                     heap_mb: int) -> SharedMemoryEstimate:
    """The allocation for these buffers and heap: the descriptors follow the global buffers, ECP and the rest are fixed."""
    return SharedMemoryEstimate(
        global_buffers_mb=global_buffers_mb,
        routine_buffers_mb=routine_buffers_mb,
        journal_buffers_mb=journal_buffers_mb,
        buffer_descriptors_mb=int(math.ceil(global_buffers_mb * BUFFER_DESCRIPTORS_PER_100MB / 100.0)),
        heap_mb=heap_mb,
        ecp_mb=ECP_MB,
        misc_mb=MISC_MB,
    )


def _int_fields(doc: CpfDocument, parameter: str) -> Tuple[int, ...]:
    spec = lookup("config", parameter)
    raw = doc.get("config", parameter)
    if spec is None or raw is None or not raw.strip():
        return ()
    try:
        return tuple(int(part) for part in validate_value(spec, raw).split(","))
    except ValueError as error:
        raise ValueError("cannot size shared memory: %s" % error) from None


def physical_memory_mb() -> int:
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024))


def estimate_shared_memory(doc: CpfDocument, physical_mb: Optional[int] = None) -> SharedMemoryEstimate:
    """Estimate the startup shared-memory allocation from ``[config]`` (documented defaults for 0 values).

    ``physical_mb`` is only needed when globals are all 0 (IRIS then takes 25% of physical memory);
    it defaults to this machine's memory.
    """
    globals_fields = _int_fields(doc, "globals")
    global_buffers = sum(globals_fields)
    if global_buffers == 0:
        global_buffers = (physical_mb if physical_mb is not None else physical_memory_mb()) // 4
    routines_fields = _int_fields(doc, "routines")
    routines = sum(routines_fields)
    if routines == 0:
        eight_kb = globals_fields[2] if len(globals_fields) == 6 and globals_fields[2] else global_buffers
        routines = min(max(eight_kb // 10, ROUTINES_AUTO_MIN_MB), ROUTINES_AUTO_MAX_MB)
    jrnbufs = _int_fields(doc, "jrnbufs")
    journal = jrnbufs[0] if jrnbufs else JRNBUFS_DEFAULT_MB
    gmheap = _int_fields(doc, "gmheap")
    if gmheap and gmheap[0]:
        heap = int(math.ceil(gmheap[0] / 1024.0))
    else:
        heap = min(max(int(math.ceil(global_buffers * 0.03)), HEAP_AUTO_MIN_MB), HEAP_AUTO_MAX_MB)
    return shared_memory_of(global_buffers, routines, journal, heap)
