# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator package (roles/iris_emulator/files/lib/irisemu) importable in-process, for tests of its pure parts.

It imports the collection's module_utils as ``ansible_collections.irisops.iris...``, which tests/conftest.py makes
importable, the same way the role's copies next to it are on a target.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Optional

import pytest

EMULATOR_LIB = Path(__file__).resolve().parents[3] / "roles" / "iris_emulator" / "files" / "lib"
if str(EMULATOR_LIB) not in sys.path:
    sys.path.append(str(EMULATOR_LIB))

from irisemu.config import InstanceConfig, Switches, load_instance_config  # noqa: E402
from irisemu.state import InstanceState  # noqa: E402

# What a CPF needs for the emulator to start; the rest takes the catalog's defaults.
MINIMAL_CPF = "[config]\nglobals=0,0,256,0,0,0\nroutines=64\n"


@pytest.fixture
def make_state(tmp_path: Path) -> Callable[..., InstanceState]:
    """A running instance's state from a minimal CPF plus ``[section] parameter=value`` lines, and its switches."""

    def make(cpf_lines: str = "", switches: Optional[Switches] = None, pid: int = 4242, started: float = 1000.0) -> InstanceState:
        cpf = tmp_path / "iris.cpf"
        cpf.write_text(MINIMAL_CPF + cpf_lines)
        config: InstanceConfig = load_instance_config(str(cpf))
        state = InstanceState(pid=pid, started=started, phase="running", switches=switches or Switches())
        state.load(config)
        return state

    return make
