# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf_info run in-process against real CPFs."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.irisops.iris.plugins.modules import cpf_info
from tests.support.in_process import run_module

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "cpf"
RCEMPER = FIXTURES / "rcemper-CrossECP-IRIS__iris.cpf"
HUGEPAGES_MERGE = FIXTURES / "merge" / "pyduquesnoy-IRIS-Docker-HugePages__communityEdition_shared_irislpmerge.cpf"


def test_selected_sections_and_parameters_with_catalog_facts() -> None:
    result = run_module(cpf_info, dict(path=str(RCEMPER), sections=["CONFIG", "sql"],
                                       parameters=["gmheap", "LOCKSIZ", "LockThreshold"]), check_mode=True)
    assert result["changed"] is False
    assert result["cpf"] == {"config": {"gmheap": "37568", "locksiz": "16777216"}, "SQL": {"LockThreshold": "1000"}}
    assert result["catalog"]["config"]["gmheap"] == dict(kind="int", default="0", units="KB", minimum=16384,
                                                         maximum=1073741760, requires_restart=True, dangerous=False)
    assert result["sections"][:2] == ["ConfigFile", "ECPServers"] and "Map.%SYS" not in result["sections"]


def test_all_sections_by_default_with_masked_secrets_and_memory_estimate() -> None:
    result = run_module(cpf_info, dict(path=str(HUGEPAGES_MERGE)))
    assert result["cpf"]["Startup"]["PasswordHash"] == "********"
    assert result["cpf"]["config"] == {"globals": "0,0,100,0,0,0", "routines": "35", "memlock": "64"}
    assert result["shared_memory"]["global_buffers_mb"] == 100 and result["shared_memory"]["total_mb"] == 523


def test_unreadable_memory_values_give_no_estimate(tmp_path: Path) -> None:
    target = tmp_path / "iris.cpf"
    target.write_bytes(b"[config]\ngmheap=big\n")
    result = run_module(cpf_info, dict(path=str(target)))
    assert result["shared_memory"] is None and result["cpf"] == {"config": {"gmheap": "big"}}


def test_bad_path_fails_clearly(tmp_path: Path) -> None:
    result = run_module(cpf_info, dict(path=str(tmp_path / "nope.cpf")))
    assert result["failed"] is True and "does not exist" in result["msg"]
