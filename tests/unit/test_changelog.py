# SPDX-License-Identifier: GPL-3.0-or-later
"""The released changelog names every new module and plugin once: in its New Modules / New Plugins list."""

from __future__ import annotations

import re

import yaml

from tests.support.paths import REPO


def test_no_release_announces_a_new_plugin_that_antsibull_changelog_lists_itself() -> None:
    changelog = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text())
    assert "0.1.0" in changelog["releases"]
    for version, release in changelog["releases"].items():
        listed = {entry["name"] for entry in release.get("modules", [])}
        listed |= {entry["name"] for entries in release.get("plugins", {}).values() for entry in entries}
        bullets = [bullet for section in release.get("changes", {}).values() if isinstance(section, list) for bullet in section]
        announced = {name for bullet in bullets
                     for name in re.findall(r"new (?:module|action|callback|plugin) ``irisops\.iris\.(\w+)``", bullet)}
        assert not announced & listed, "%s lists %s twice" % (version, sorted(announced & listed))
        assert len(bullets) == len(set(bullets)), "%s has a bullet twice" % version
