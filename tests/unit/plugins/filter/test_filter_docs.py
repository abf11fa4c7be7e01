# SPDX-License-Identifier: GPL-3.0-or-later
"""Every filter of the collection is documented in its sidecar file, with exactly the arguments it takes."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"


def collection_filters() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for path in sorted(FILTER_DIR.glob("*.py")):
        plugin = importlib.import_module("ansible_collections.irisops.iris.plugins.filter.%s" % path.stem)
        found.update(plugin.FilterModule().filters())
    return found


FILTERS = collection_filters()


def test_the_collection_has_filters_and_no_undocumented_sidecar() -> None:
    assert FILTERS
    assert sorted(path.stem for path in FILTER_DIR.glob("*.yml")) == sorted(FILTERS)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_the_sidecar_documents_the_filters_arguments(name: str) -> None:
    docs = yaml.safe_load((FILTER_DIR / ("%s.yml" % name)).read_text())
    assert sorted(docs) == ["DOCUMENTATION", "EXAMPLES", "RETURN"]
    documentation = docs["DOCUMENTATION"]
    assert documentation["name"] == name and documentation["short_description"] and documentation["description"]
    parameters = list(inspect.signature(FILTERS[name]).parameters)
    assert list(documentation["options"]) == ["_input"] + parameters[1:]
    assert all(option.get("required") for option in documentation["options"].values())
    positional = [part.strip() for part in documentation.get("positional", "_input").split(",")]
    assert positional == ["_input"] + parameters[1:len(positional)]
    assert "irisops.iris.%s" % name in docs["EXAMPLES"] and "_value" in docs["RETURN"]
