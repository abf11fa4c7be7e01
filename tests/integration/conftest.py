# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration fixtures: ``emulator`` gives a test its own EmulatorEnv (see emulator.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emulator import EmulatorEnv, emulator_pids  # noqa: E402


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorEnv]:
    """Emulated IRIS instances in tmp_path; teardown stops them and asserts that none leaked."""
    env = EmulatorEnv(tmp_path / "iris")
    try:
        yield env
    finally:
        env.cleanup()


@pytest.fixture(scope="session", autouse=True)
def no_leaked_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole session no emulator daemon started from this session's temp dirs may be alive."""
    yield
    leaked = emulator_pids(str(tmp_path_factory.getbasetemp()))
    assert not leaked, "emulator processes leaked by the test session: %s" % leaked
