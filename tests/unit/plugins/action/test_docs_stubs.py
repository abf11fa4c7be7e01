# SPDX-License-Identifier: GPL-3.0-or-later
"""Each action plugin's ARGUMENT_SPEC and its docs stub in plugins/modules describe the same options.

ansible-test's validate-modules cannot compare them (the stub has no argument spec to import), so this does:
name, type, elements, default, choices and required of every option, both ways.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
ACTIONS = sorted(path.stem for path in (REPO / "plugins" / "action").glob("*.py") if path.stem != "__init__")
COMPARED = ("type", "elements", "default", "choices", "required")


def documented_options(name: str) -> Dict[str, Any]:
    stub = importlib.import_module("ansible_collections.irisops.iris.plugins.modules.%s" % name)
    options: Dict[str, Any] = yaml.safe_load(stub.DOCUMENTATION)["options"]
    return options


def described(option: Dict[str, Any]) -> Dict[str, Any]:
    """An option as both sides state it: ``str`` when no type is given, ``required`` false when not given."""
    values = {key: option.get(key) for key in COMPARED}
    values["type"] = values["type"] or "str"
    values["required"] = bool(values["required"])
    return values


def test_every_action_has_a_docs_stub() -> None:
    assert ACTIONS == sorted(["generate_messages", "publish_messages", "remediation_commands", "remediation_plan",
                              "remediation_trace"])
    assert all((REPO / "plugins" / "modules" / ("%s.py" % name)).is_file() for name in ACTIONS)


@pytest.mark.parametrize("name", ACTIONS)
def test_argument_spec_matches_the_documented_options(name: str) -> None:
    action = importlib.import_module("ansible_collections.irisops.iris.plugins.action.%s" % name).ActionModule
    documented = documented_options(name)
    assert sorted(action.ARGUMENT_SPEC) == sorted(documented)
    for option, spec in action.ARGUMENT_SPEC.items():
        assert described(spec) == described(documented[option]), "%s: option %s" % (name, option)
