# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf on a running emulated instance: the edit is picked up by the next start."""

from __future__ import annotations

import pytest

from ansible_collections.irisops.iris.plugins.modules import cpf as cpf_module
from ansible_collections.irisops.iris.plugins.modules import cpf_info
from tests.support.emulator import EmulatorEnv
from tests.support.in_process import run_module


@pytest.mark.slow
def test_edit_of_a_running_instance_is_picked_up_by_a_restart(
        emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.create("CPFTEST")
    emulator.start("CPFTEST")
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    args = dict(instance="cpftest", iris_bin=emulator.iris_bin, settings=[
        dict(section="config", parameter="gmheap", value="307200"),
        dict(section="config", parameter="locksiz", value="33554432"),
    ])
    planned = run_module(cpf_module, args, check_mode=True)
    assert planned["changed"] is True and planned["restart_required"] is True, planned
    applied = run_module(cpf_module, args)
    assert applied["changed"] is True and applied["path"] == str(emulator.instance("CPFTEST").cpf_path)
    # The running instance still uses what it read at its start ...
    assert emulator.metrics("CPFTEST")["iris_lock_table_size_bytes"] != 33554432
    emulator.stop("CPFTEST")
    emulator.start("CPFTEST")
    # ... and the restart picks the new values up.
    assert emulator.metrics("CPFTEST")["iris_lock_table_size_bytes"] == 33554432
    breakdown = [line for line in emulator.messages_log("CPFTEST").splitlines() if "MB heap" in line]
    assert len(breakdown) == 2 and "300MB heap" in breakdown[-1] and "300MB heap" not in breakdown[0]
    assert run_module(cpf_module, args)["changed"] is False


def test_cpf_info_finds_an_instance_cpf_with_qlist(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.create("INFOTEST")
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    result = run_module(cpf_info, dict(instance="INFOTEST", iris_bin=emulator.iris_bin, sections=["config"]))
    assert result["path"] == str(emulator.instance("INFOTEST").cpf_path)
    assert list(result["cpf"]) == ["config"] and "gmheap" in result["cpf"]["config"]
