# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: the built tarball holds what they need and nothing of the development
tree, and ansible-builder finds its Python and system dependencies once it is installed."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
RUNTIME_LIBRARIES = ("pydantic", "openai", "aiohttp", "jsonschema", "structlog", "psutil")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("collection")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO)],
                   check=True, capture_output=True, text=True)
    [built] = out.glob("irisops-iris-*.tar.gz")
    return built


def test_tarball_ships_the_collection_without_the_development_tree(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    top = {name.split("/")[0] for name in names}
    assert not top & {"tests", "scripts", "build", ".venv", ".ci", "Makefile", "pyproject.toml", "execution-environment.yml"}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc") or "molecule" in name]
    assert not [name for name in names if name.startswith("requirements/") and name != "requirements/runtime.txt"]
    assert {"meta/execution-environment.yml", "requirements/runtime.txt", "bindep.txt", "playbooks/remediate.yml"} <= set(names)
    shipped_examples = {name for name in names if name.startswith("examples/commands/")}
    assert shipped_examples == {"examples/commands/%s" % path.name for path in (REPO / "examples" / "commands").glob("*.json")}


def test_ansible_builder_introspect_lists_the_dependencies_of_the_installed_collection(tarball: Path, tmp_path: Path) -> None:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"))
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(tmp_path / "collections"), str(tarball)],
                   check=True, capture_output=True, text=True, env=env)
    introspected = subprocess.run([str(BIN / "ansible-builder"), "introspect", "--sanitize", str(tmp_path / "collections")],
                                  check=True, capture_output=True, text=True).stdout
    python_section = introspected.split("python:", 1)[1].split("system:", 1)[0]
    for library in RUNTIME_LIBRARIES:
        assert "- '%s>=" % library in python_section and "# from collection irisops.iris" in python_section, library
    assert "openssh-client [platform:dpkg]  # from collection irisops.iris" in introspected.split("system:", 1)[1]


def test_the_documented_way_finds_the_examples_of_the_installed_collection(tarball: Path, tmp_path: Path) -> None:
    """docs/deployment.md's COLLECTION=$(...) lines, run as written against an installed collection."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), PATH="%s:%s" % (BIN, os.environ["PATH"]))
    subprocess.run(["ansible-galaxy", "collection", "install", "-p", str(tmp_path / "collections"), str(tarball)],
                   check=True, capture_output=True, text=True, env=env)
    text = (REPO / "docs" / "deployment.md").read_text()
    start = text.index("COLLECTION=$(")
    documented = text[start:text.index("\n", text.index("/irisops/iris", start))]
    listed = subprocess.run(["bash", "-c", documented + '\nls "$COLLECTION/examples/commands"'], env=env,
                            check=True, capture_output=True, text=True).stdout.split()
    assert sorted(listed) == sorted(path.name for path in (REPO / "examples" / "commands").glob("*.json"))
