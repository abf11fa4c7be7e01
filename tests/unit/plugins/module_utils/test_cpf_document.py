# SPDX-License-Identifier: GPL-3.0-or-later
"""The CPF document model: byte-identical round trips of real files and minimal, style-keeping edits."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import List

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument, CpfError, split_value

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "cpf"
REAL_FILES = sorted(path for path in FIXTURES.rglob("*") if path.is_file() and path.name != "SOURCES.md")
RCEMPER = FIXTURES / "rcemper-CrossECP-IRIS__iris.cpf"
TIAGO = FIXTURES / "tiagogribeiro-cache-intersystems-docker__cache.cpf"
COELHO = FIXTURES / "coelho-extremosistemas-IntersystemsCacheDocker__cache.cpf"


def _lines(data: bytes) -> List[str]:
    return re.findall(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$", data.decode("utf-8"))


def changed_lines(before: bytes, after: bytes) -> List[str]:
    """Lines removed (-) and added (+), line endings included, so an EOL change counts."""
    diff = difflib.ndiff(_lines(before), _lines(after))
    return [line for line in diff if line[:1] in "+-"]


def test_fixtures_are_present() -> None:
    assert len(REAL_FILES) >= 14


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda path: path.name)
def test_every_real_cpf_round_trips_byte_identically(path: Path) -> None:
    data = path.read_bytes()
    assert CpfDocument.parse(data).render() == data


@pytest.mark.parametrize("data", [
    b"", b"\n", b"\r\n\r\n", b"[config]", b"\xef\xbb\xbf[config]\r\ngmheap=1\r\n", b"[config]\rgmheap=1\r",
    b"[config]\ngmheap=\xff\xfe\n", b"key before any section=1\n[x]\n", b"/* open comment\n[config]\n",
])
def test_edge_inputs_round_trip(data: bytes) -> None:
    assert CpfDocument.parse(data).render() == data


@pytest.mark.parametrize("path,section,parameter,value", [
    (RCEMPER, "config", "gmheap", "37568"),
    (RCEMPER, "Startup", "DefaultPort", "1972"),
    (RCEMPER, "SQL", "IdTrxFrom", "~ `!@#$%^&*()_+-=[]\\{}|;':\",./<>?"),
    (RCEMPER, "DeviceSubTypes", "C-IRIS Terminal",
     '80^#,$C(27,91,72,27,91,74)^24^$C(8)^W $C(27,91)_(DY+1)_";"_(DX+1)_"H" S $X=DX,$Y=DY^$C(27,91,74)'
     '^$C(27,91,75)^$C(27,91,72,27,91,74)^$C(8,32,8)'),
    (RCEMPER, "SqlSysDatatypes", "BINARY VARYING(%1)", "%Library.Binary(MAXLEN=%1)"),
    (RCEMPER, "Devices", "|PRN|", '|PRN|^OTH^P-DEC^^"W"^^Windows Printer^'),
    (RCEMPER, "Namespaces", "%SYS", "IRISSYS"),
    (COELHO, "Map.%SYS", "Global_%CS*", None),
    (COELHO, "Map.SISTEMAS", "Global_%CS*", "SISTEMAS"),
])
def test_get_reads_real_values(path: Path, section: str, parameter: str, value: str) -> None:
    assert CpfDocument.parse(path.read_bytes()).get(section, parameter) == value


def test_sections_are_matched_case_insensitively_and_listed_as_written() -> None:
    doc = CpfDocument.parse(RCEMPER.read_bytes())
    assert doc.get("CONFIG", "gmheap") == doc.get("config", "GMHEAP") == "37568"
    assert doc.section_name("startup") == "Startup"
    assert doc.sections()[:3] == ["ConfigFile", "ECPServers", "Databases"]
    assert doc.has_section("Map.%SYS") is False
    assert dict(doc.items())["config"][0] == ("LibPath", "")


@pytest.mark.parametrize("path", [RCEMPER, TIAGO, COELHO], ids=lambda path: path.name)
def test_editing_one_parameter_changes_exactly_one_line(path: Path) -> None:
    before = path.read_bytes()
    doc = CpfDocument.parse(before)
    assert doc.set("config", "gmheap", "307200") is True
    after = doc.render()
    eol = "\r\n" if b"\r\n" in before else "\n"
    old = [line for line in before.decode().splitlines(keepends=True) if line.startswith("gmheap=")][0]
    assert changed_lines(before, after) == ["- " + old, "+ gmheap=307200" + eol]


def test_setting_the_same_value_is_no_change() -> None:
    data = RCEMPER.read_bytes()
    doc = CpfDocument.parse(data)
    assert doc.set("config", "gmheap", "37568") is False
    assert doc.render() == data


def test_edit_keeps_spacing_trailing_spaces_and_inline_comment() -> None:
    data = b"[config]\r\nglobals= 0,0,256,0,0,0\r\nmemlock=64 \r\n[Debug] // add by hand\r\ndumpstyle=2 // then, specify\r\n"
    doc = CpfDocument.parse(data)
    assert doc.get("config", "globals") == "0,0,256,0,0,0"
    assert doc.get("config", "memlock") == "64"
    assert doc.get("Debug", "dumpstyle") is None  # "[Debug] // ..." is not a bare header
    doc.set("config", "globals", "0,0,512,0,0,0")
    doc.set("config", "memlock", "0")
    assert doc.render() == data.replace(b"256", b"512").replace(b"memlock=64 ", b"memlock=0 ")


def test_inline_comment_after_value_is_kept() -> None:
    doc = CpfDocument.parse(b"[Debug]\ndumpstyle=2 // then, specify a value\n")
    assert doc.get("Debug", "dumpstyle") == "2"
    doc.set("Debug", "dumpstyle", "3")
    assert doc.render() == b"[Debug]\ndumpstyle=3 // then, specify a value\n"


def test_split_value_parts() -> None:
    assert split_value(" 5 ") == (" ", "5", " ")
    assert split_value("") == ("", "", "")
    assert split_value("  // only a comment") == ("", "", "  // only a comment")
    assert split_value("http://host/x") == ("", "http://host/x", "")


def test_comments_are_never_parameters() -> None:
    data = (b"[config]\n; gmheap=1\n# gmheap=2\n// gmheap=3\n/* gmheap=4\ngmheap=5 */\n/* x */\n"
            b"gmheap=6\n  /* one-line */ \n")
    doc = CpfDocument.parse(data)
    assert doc.parameters("config") == [("gmheap", "6")]
    doc.set("config", "gmheap", "7")
    assert doc.render() == data.replace(b"gmheap=6", b"gmheap=7")


def test_new_key_goes_in_ascii_order_of_a_sorted_section() -> None:
    before = RCEMPER.read_bytes()
    doc = CpfDocument.parse(before)
    doc.set("config", "locksizX", "1")
    doc.set("Startup", "AAA", "x")
    after = doc.render()
    assert changed_lines(before, after) == ["+ AAA=x\r\n", "+ locksizX=1\r\n"]
    text = after.decode()
    assert text.index("locksiz=16777216\r\nlocksizX=1\r\nmemlock=0") > 0
    assert text.index("[Startup]\r\nAAA=x\r\nArbiterURL=") > 0


def test_new_key_is_appended_to_an_unsorted_section_before_its_blank_line() -> None:
    doc = CpfDocument.parse(b"[Startup]\nZ=1\nA=2\n\n[config]\nx=1\n")
    doc.set("startup", "M", "3")
    assert doc.render() == b"[Startup]\nZ=1\nA=2\nM=3\n\n[config]\nx=1\n"


def test_new_section_is_placed_in_instance_order_with_the_file_line_ending() -> None:
    doc = CpfDocument.parse(b"[ConfigFile]\r\nVersion=1\r\n\r\n[SQL]\r\nLockThreshold=1000\r\n")
    doc.set("config", "gmheap", "307200")
    assert doc.render() == (b"[ConfigFile]\r\nVersion=1\r\n\r\n[config]\r\ngmheap=307200\r\n\r\n"
                            b"[SQL]\r\nLockThreshold=1000\r\n")
    tail = CpfDocument.parse(b"[config]\nx=1")
    tail.set("Telnet", "Port", "23")
    assert tail.render() == b"[config]\nx=1\n\n[Telnet]\nPort=23"
    unknown = CpfDocument.parse(b"")
    unknown.set("Custom", "k", "v")
    assert unknown.render() == b"[Custom]\r\nk=v\r\n"


def test_new_key_at_end_keeps_missing_final_newline() -> None:
    doc = CpfDocument.parse(b"[Startup]\nSystemMode=LIVE")
    doc.set("Startup", "TerminalPrompt", "8,2")
    assert doc.render() == b"[Startup]\nSystemMode=LIVE\nTerminalPrompt=8,2"
    assert doc.remove("Startup", "TerminalPrompt") is True
    assert doc.render() == b"[Startup]\nSystemMode=LIVE"


def test_empty_section_gets_its_first_key_after_the_header() -> None:
    doc = CpfDocument.parse(COELHO.read_bytes())
    doc.set("ECPServers", "CECP", "192.168.0.6,41773")
    assert b"[ECPServers]\nCECP=192.168.0.6,41773\n\n" in doc.render()


def test_trailing_spaces_on_a_header_still_name_the_section() -> None:
    data = (FIXTURES / "merge" / "sylvainguilbaud-formation_admin_IRIS__merge.cpf").read_bytes()
    doc = CpfDocument.parse(data)
    assert doc.get("Journal", "CurrentDirectory") == "/journal"
    assert doc.get("Startup", "SystemMode") == "LIVE"


def test_remove_deletes_only_that_line() -> None:
    before = RCEMPER.read_bytes()
    doc = CpfDocument.parse(before)
    assert doc.remove("config", "locksiz") is True
    assert doc.remove("config", "locksiz") is False
    assert changed_lines(before, doc.render()) == ["- locksiz=16777216\r\n"]


def test_parameter_names_match_exactly_before_case_folding() -> None:
    doc = CpfDocument.parse(b"[Map.X]\nGlobal_A=DB1\nGLOBAL_A=DB2\n")
    assert doc.get("Map.X", "Global_A") == "DB1"
    assert doc.get("Map.X", "GLOBAL_A") == "DB2"
    assert doc.parameter_name("Map.X", "global_a") == "GLOBAL_A"
    with pytest.raises(CpfError, match="appears 2 times"):
        doc.set("Map.X", "global_a", "DB3")


def test_duplicate_keys_read_last_and_refuse_edits() -> None:
    doc = CpfDocument.parse(b"[config]\ngmheap=1\ngmheap=2\n")
    assert doc.get("config", "gmheap") == "2"
    assert doc.line_number("config", "gmheap") == 3
    with pytest.raises(CpfError, match="appears 2 times in \\[config\\] \\(lines 2, 3\\)"):
        doc.set("config", "gmheap", "3")


def test_repeated_section_headers_are_one_section() -> None:
    doc = CpfDocument.parse(b"[config]\na=1\n[SQL]\nb=2\n[CONFIG]\nc=3\n")
    assert doc.parameters("config") == [("a", "1"), ("c", "3")]
    doc.set("config", "d", "4")
    assert doc.render() == b"[config]\na=1\n[SQL]\nb=2\n[CONFIG]\nc=3\nd=4\n"


def test_actions_lines_are_not_parameters_and_cannot_be_edited() -> None:
    data = (FIXTURES / "merge" / "irismeister-silent_install__merge.cpf").read_bytes()
    doc = CpfDocument.parse(data)
    assert doc.parameters("Actions") == []
    assert doc.get("config", "globals") == "0,0,64,0,0,0"
    with pytest.raises(CpfError, match="merge actions"):
        doc.set("Actions", "CreateDatabase:Name", "x")


@pytest.mark.parametrize("section,parameter,value,message", [
    ("config", "gmheap", "1\n[Startup]", "line breaks or control characters"),
    ("config", "gmheap", "1\x00", "line breaks or control characters"),
    ("config", "gm=heap", "1", "without '='"),
    ("config", " gmheap", "1", "surrounding spaces"),
    ("config", "", "1", "non-empty"),
    ("config", "#gmheap", "1", "comment"),
    ("con]fig", "gmheap", "1", "without '\\[' or '\\]'"),
    ("config\r", "gmheap", "1", "line breaks"),
])
def test_bad_edits_are_refused_and_change_nothing(section: str, parameter: str, value: str, message: str) -> None:
    data = RCEMPER.read_bytes()
    doc = CpfDocument.parse(data)
    with pytest.raises(CpfError, match=message):
        doc.set(section, parameter, value)
    assert doc.render() == data


def test_eol_defaults_to_crlf_and_follows_the_file() -> None:
    assert CpfDocument.parse(b"[a]").eol == "\r\n"
    assert CpfDocument.parse(TIAGO.read_bytes()).eol == "\n"
