# SPDX-License-Identifier: GPL-3.0-or-later
"""Every controller-side module imports with the pinned requirements installed.

ansible-test's import sanity test cannot check plugins/plugin_utils (its venv has only
ansible-core's requirements), so this test does, with requirements/runtime.txt installed.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PLUGIN_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "plugin_utils"
MODULES = sorted(
    "ansible_collections.irisops.iris.plugins.plugin_utils." + ".".join(path.relative_to(PLUGIN_UTILS).with_suffix("").parts)
    for path in PLUGIN_UTILS.rglob("*.py") if path.name != "__init__.py"
)


@pytest.mark.parametrize("name", MODULES)
def test_controller_module_imports(name: str) -> None:
    assert importlib.import_module(name).__name__ == name
