# SPDX-License-Identifier: GPL-3.0-or-later
"""The parameter catalog (validation the planner relies on) and the shared-memory estimate."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import cpf_catalog
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import (
    KNOWN_SECTIONS, SharedMemoryEstimate, canonical_section, check_setting, estimate_shared_memory, lookup,
    validate_value, values_equal)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "cpf"


def spec(section: str, parameter: str) -> cpf_catalog.ParameterSpec:
    found = lookup(section, parameter)
    assert found is not None, (section, parameter)
    return found


def test_lookup_is_case_insensitive_and_reports_flags() -> None:
    gmheap = spec("CONFIG", "GMHEAP")
    assert (gmheap.section, gmheap.name, gmheap.units, gmheap.requires_restart) == ("config", "gmheap", "KB", True)
    assert spec("config", "locksiz").requires_restart is False
    assert spec("config", "memlock").dangerous is True
    assert "LargePagesRequired" in spec("config", "memlock").danger
    assert spec("Journal", "FreezeOnError").dangerous is True
    assert spec("Startup", "PasswordHash").dangerous is True
    assert spec("SQL", "LockThreshold").requires_restart is False
    assert lookup("config", "nonsense") is None
    assert spec("config", "gmheap").target == "[config] gmheap"


def test_every_catalogued_parameter_accepts_its_default() -> None:
    for entry in cpf_catalog._SPECS:
        if not entry.read_only and entry.default:
            assert validate_value(entry, entry.default) == entry.default.strip(), entry.target


@pytest.mark.parametrize("section,parameter,value,normalised", [
    ("config", "gmheap", " 0307200 ", "307200"),
    ("config", "gmheap", "0", "0"),
    ("config", "bbsiz", "-1", "-1"),
    ("config", "globals", "0, 0,256,0,0,0", "0,0,256,0,0,0"),
    ("config", "routines", "64", "64"),
    ("config", "routines", "0,0,8,16,0,64", "0,0,8,16,0,64"),
    ("config", "zfheap", "0,0", "0,0"),
    ("Startup", "WebServer", "1", "1"),
    ("Startup", "SystemMode", "IRIS Dev Template", "IRIS Dev Template"),
    ("Journal", "CurrentDirectory", "/journal1/", "/journal1/"),
    ("Journal", "CurrentDirectory", "", ""),
    ("SQL", "LockThreshold", "5000", "5000"),
])
def test_valid_values_are_normalised(section: str, parameter: str, value: str, normalised: str) -> None:
    assert validate_value(spec(section, parameter), value) == normalised


@pytest.mark.parametrize("section,parameter,value,message", [
    ("config", "gmheap", "100", r"\[config\] gmheap: 100 is out of range 16384\.\.1073741760 KB \(or 0\)"),
    ("config", "gmheap", "lots", r"\[config\] gmheap: 'lots' is not an integer"),
    ("config", "MaxServerConn", "255", "out of range 0..254"),
    ("config", "locksiz", "1024", "out of range 65536"),
    ("config", "globals", "0,0,256", "has 3 comma-separated values, expected 6"),
    ("config", "routines", "1,2", "expected 1 or 6"),
    ("config", "overview", "x", "written by IRIS itself"),
    ("Startup", "WebServer", "yes", "must be 0 or 1"),
    ("Startup", "SystemMode", "x" * 33, "33 characters long, the limit is 32"),
    ("Journal", "CurrentDirectory", "journal", "absolute path"),
    ("Journal", "CurrentDirectory", "/a/../etc", "without '..'"),
    ("config", "gmheap", "1\n2", "control characters"),
])
def test_invalid_values_name_the_parameter_and_reason(section: str, parameter: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_value(spec(section, parameter), value)


def test_non_string_value_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a string, got int"):
        validate_value(spec("config", "gmheap"), 5)  # type: ignore[arg-type]


def test_known_sections_and_canonical_spelling() -> None:
    assert "config" in KNOWN_SECTIONS and "Startup" in KNOWN_SECTIONS
    assert canonical_section("CONFIG") == "config"
    assert canonical_section(" startup ") == "Startup"
    assert canonical_section("Map.%SYS") == "Map.%SYS"
    assert canonical_section("map.USER") == "Map.USER"
    assert canonical_section("Map.") is None
    assert canonical_section("Bogus") is None


def test_check_setting_rules() -> None:
    assert check_setting("CONFIG", "gmheap", "0307200") == ("config", spec("config", "gmheap"), "307200")
    assert check_setting("Databases", "MYDB", "/data/mydb/") == ("Databases", None, "/data/mydb/")
    assert check_setting("Map.USER", "Global_X(1):(5)", "DB") == ("Map.USER", None, "DB")
    assert check_setting("config", "wduseasyncio", "1", allow_unknown=True) == ("config", None, "1")
    assert check_setting("config", "gmheap", None) == ("config", spec("config", "gmheap"), None)
    with pytest.raises(ValueError, match=r"section \[Bogus\] is not a known CPF section"):
        check_setting("Bogus", "x", "1")
    with pytest.raises(ValueError, match=r"'wduseasyncio' is not in the catalog for section \[config\]; set allow_unknown"):
        check_setting("config", "wduseasyncio", "1")
    with pytest.raises(ValueError, match="merge actions"):
        check_setting("Actions", "CreateDatabase:Name", "X")
    with pytest.raises(ValueError, match="control characters"):
        check_setting("Databases", "MYDB", "/x\n[config]")


def test_values_equal_compares_by_type() -> None:
    gmheap = spec("config", "gmheap")
    assert values_equal(gmheap, "0307200", "307200") is True
    assert values_equal(gmheap, "garbage", "307200") is False
    assert values_equal(gmheap, None, "307200") is False
    assert values_equal(None, " a ", "a") is True


def test_estimate_matches_the_real_startup_line_breakdown() -> None:
    # irislpmerge.cpf (globals 100 MB, routines 35) gave "100MB global buffers, ... 9MB buffer descriptors".
    doc = CpfDocument.parse(
        (FIXTURES / "merge" / "pyduquesnoy-IRIS-Docker-HugePages__communityEdition_shared_irislpmerge.cpf").read_bytes())
    estimate = estimate_shared_memory(doc)
    assert estimate == SharedMemoryEstimate(global_buffers_mb=100, routine_buffers_mb=35, journal_buffers_mb=64,
                                            buffer_descriptors_mb=9, heap_mb=300, ecp_mb=5, misc_mb=10)
    assert estimate.total_mb == 523


def test_estimate_uses_explicit_gmheap_jrnbufs_and_auto_routines() -> None:
    doc = CpfDocument.parse(b"[config]\nglobals=0,0,2048,0,0,0\nroutines=0\njrnbufs=128\ngmheap=75136\n")
    estimate = estimate_shared_memory(doc)
    assert (estimate.global_buffers_mb, estimate.routine_buffers_mb, estimate.journal_buffers_mb,
            estimate.heap_mb, estimate.buffer_descriptors_mb) == (2048, 204, 128, 74, 185)


def test_estimate_with_all_zero_globals_takes_a_quarter_of_physical_memory() -> None:
    doc = CpfDocument.parse((FIXTURES / "rcemper-CrossECP-IRIS__iris.cpf").read_bytes())
    estimate = estimate_shared_memory(doc, physical_mb=16384)
    assert (estimate.global_buffers_mb, estimate.routine_buffers_mb, estimate.heap_mb) == (4096, 409, 37)
    assert estimate_shared_memory(doc).global_buffers_mb == cpf_catalog.physical_memory_mb() // 4


def test_estimate_of_an_empty_cpf_uses_documented_defaults() -> None:
    estimate = estimate_shared_memory(CpfDocument.parse(b""), physical_mb=1000)
    assert (estimate.global_buffers_mb, estimate.routine_buffers_mb, estimate.journal_buffers_mb,
            estimate.heap_mb) == (250, 80, 64, 300)


def test_estimate_refuses_an_unreadable_value() -> None:
    with pytest.raises(ValueError, match=r"cannot size shared memory: \[config\] gmheap: 'big' is not an integer"):
        estimate_shared_memory(CpfDocument.parse(b"[config]\nglobals=0,0,100,0,0,0\ngmheap=big\n"))


@pytest.mark.parametrize("section,parameter,value", [
    ("SQL", "LockThreshold", "5000 // raised by ops"),
    ("Startup", "SystemMode", "LIVE //"),
    ("Journal", "CurrentDirectory", "// /jrn/"),
    ("Databases", "USER", "/db/user/ // note"),
])
def test_values_the_cpf_would_read_as_a_comment_are_refused(section: str, parameter: str, value: str) -> None:
    with pytest.raises(ValueError, match="must not contain '//' at its start or after a space"):
        cpf_catalog.check_setting(section, parameter, value)
