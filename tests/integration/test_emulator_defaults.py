# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's CPF defaults and shared-memory sizing are the catalog's (module_utils/cpf_catalog.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import (
    CATALOG_SECTIONS, estimate_shared_memory, lookup, specs)
from ansible_collections.irisops.iris.plugins.module_utils.iris_events import WEBSERVER_STARTED
from tests.support.emulator import EMULATOR_FILES, EmulatorEnv

pytestmark = pytest.mark.slow
MINIMAL_CPF = b"[config]\nglobals=0,0,256,0,0,0\nroutines=64\n"


@pytest.fixture
def emulator_config() -> Iterator[ModuleType]:
    """The emulator's config module, imported from the role's files (it runs against this collection's module_utils)."""
    sys.path.insert(0, str(EMULATOR_FILES / "lib"))
    try:
        yield importlib.import_module("irisemu.config")
    finally:
        sys.path.remove(str(EMULATOR_FILES / "lib"))
        for name in [name for name in sys.modules if name == "irisemu" or name.startswith("irisemu.")]:
            del sys.modules[name]


def test_absent_parameters_take_the_catalog_default(emulator_config: ModuleType, tmp_path: Path) -> None:
    cpf = tmp_path / "iris.cpf"
    cpf.write_bytes(MINIMAL_CPF)
    config = emulator_config.load_instance_config(str(cpf))
    for field, section, parameter, _default in emulator_config.INT_FIELDS:
        spec = lookup(section, parameter)
        assert spec is not None, (section, parameter)
        assert getattr(config, field) == int(spec.default), (field, section, parameter)
    assert config.web_server == 0  # IRIS has no private web server by default since 2023.2
    doc = CpfDocument.parse(MINIMAL_CPF)
    for section in CATALOG_SECTIONS:
        for spec in specs(section):
            if not spec.read_only and doc.get(section, spec.name) is None:
                assert config.parameters[section][spec.name] == spec.default, (section, spec.name)
    assert config.memory == estimate_shared_memory(doc)


@pytest.mark.parametrize("web_server", [None, "0", "1"])
def test_private_web_server_line_follows_webserver(emulator: EmulatorEnv, web_server: str) -> None:
    install_dir = emulator.create("WEB")
    cpf = install_dir / "iris.cpf"
    doc = CpfDocument.parse(cpf.read_bytes())
    if web_server is None:
        assert doc.remove("Startup", "WebServer")
    else:
        doc.set("Startup", "WebServer", web_server)
    cpf.write_bytes(doc.render())
    emulator.start("WEB")
    started = WEBSERVER_STARTED.split("{", 1)[0]
    assert (started in emulator.messages_log("WEB")) is (web_server == "1")
