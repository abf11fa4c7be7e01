# SPDX-License-Identifier: GPL-3.0-or-later
"""The pytest fixtures every suite shares (registered by tests/conftest.py): the one emulator fixture, its
in-process variant, the leak check over the whole session, the environment for ansible-playbook runs and a
private copy of a real CPF."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.support.emulator import EmulatorEnv, emulator_pids
from tests.support.paths import COLLECTIONS_ROOT, FIXTURES

RCEMPER_CPF = FIXTURES / "cpf" / "rcemper-CrossECP-IRIS__iris.cpf"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorEnv]:
    """Emulated IRIS instances in tmp_path (the one emulator fixture); teardown stops them and asserts none leaked."""
    env = EmulatorEnv(tmp_path / "iris")
    try:
        yield env
    finally:
        env.cleanup()


@pytest.fixture
def emulator_in_process(emulator: EmulatorEnv, monkeypatch: pytest.MonkeyPatch) -> EmulatorEnv:
    """``emulator`` with its registry in this process's environment: a module run in-process (run_module) finds the
    instances through it, as the ``iris`` command on a host finds its own."""
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    return emulator


@pytest.fixture(scope="session", autouse=True)
def no_leaked_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole session no emulator daemon started from this session's temp dirs may be alive."""
    yield
    leaked = emulator_pids(str(tmp_path_factory.getbasetemp()))
    assert not leaked, "emulator processes leaked by the test session: %s" % leaked


@pytest.fixture
def ansible_env(tmp_path: Path) -> Iterator[Dict[str, str]]:
    """Environment for running ansible-playbook/ansible against this collection on localhost."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    yield env


@pytest.fixture
def cpf(tmp_path: Path) -> Path:
    """A private copy (mode 0640) of a real CPF: rcemper's CRLF iris.cpf from tests/fixtures/cpf."""
    target = tmp_path / "iris.cpf"
    shutil.copyfile(RCEMPER_CPF, target)
    target.chmod(0o640)
    return target
