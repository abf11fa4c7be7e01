# SPDX-License-Identifier: GPL-3.0-or-later
"""The recordings unit tests replay (tests/fixtures/emulator) are what the emulator prints today."""

from __future__ import annotations

import pytest

from tests.support.emulator import EmulatorEnv
from tests.support.recorded import SCENARIOS, comparable, load, run_scenario


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_emulator_still_prints_what_was_recorded(emulator: EmulatorEnv, name: str) -> None:
    recorded = comparable(load(name))
    assert comparable(run_scenario(emulator, name)) == recorded, (
        "the emulator's output changed: re-record with .venv/bin/python -m tests.support.recorded")
