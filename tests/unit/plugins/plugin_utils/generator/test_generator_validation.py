# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checking a model's answer line by line: what is kept, what is rejected and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import validation
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory

REPO = Path(__file__).resolve().parents[5]
LICENSE = MessageCategory.LICENSE
SEVERE = frozenset({2, 3})
GOOD = "12/03/24-06:29:54:435 (66624) 2 [Utility.Event] LMF Error:  Could not send startup message to license server"


def test_real_lines_of_a_category_are_accepted() -> None:
    text = (REPO / "log_samples" / "messages" / "alerts-large-pages-journal-license.log").read_text(encoding="utf-8")
    licence_lines = "\n".join(line for line in text.splitlines() if "LMF" in line)
    accepted, rejected = validation.check_response(licence_lines, LICENSE, SEVERE)
    assert len(accepted) == 6 and rejected == []


@pytest.mark.parametrize("answer,reason", [
    ("Sure! Here are the messages you asked for:", "not a messages.log entry: text before the first entry"),
    ("12/03/24-06:29:54 (66624) 2 [Utility.Event] LMF Error:  no milliseconds", "timestamp"),
    ("2024-12-03 06:29:54.435 [66624] ERROR LMF Error: license server", "not a messages.log entry"),
    ("12/03/24-06:29:54:435 (66624) 1 [Utility.Event] LMF Error:  warning only", "severity 1 is outside the requested [2, 3]"),
    ("12/03/24-06:29:54:435 (66624) 2 [Database.MountedRW] LMF Error:  license", "tag [Database.MountedRW] is not one license"),
    ("12/03/24-06:29:54:435 (66624) 2 [Utility.Event] Mounted database /x/ (SFN 5) read-write.", "does not read like a license"),
    ("12/03/24-06:29:54:435 (66624) 2 [Utility.Event]", "empty message text"),
    ("12/03/24-06:29:54:435 (66624) 2 [Utility.Event] license " + "x" * 1000, "longer than 1000"),
    ("```", "markdown code fence"),
    ("[INFO] log: " + GOOD, "a docker-compose or iris-main prefix"),
])
def test_bad_lines_are_rejected_with_a_reason(answer: str, reason: str) -> None:
    accepted, rejected = validation.check_response(answer, LICENSE, SEVERE)
    assert accepted == []
    assert len(rejected) == 1 and reason in rejected[0].reason, rejected


def test_prose_and_fences_around_good_lines_cost_only_themselves() -> None:
    answer = "\n".join(["Here you go:", "```", GOOD, "", GOOD.replace("06:29", "06:31"), "```",
                        "Let me know if you need more."])
    accepted, rejected = validation.check_response(answer, LICENSE, SEVERE)
    assert [iris_log.format_entry(entry) for entry in accepted] == [GOOD, GOOD.replace("06:29", "06:31")]
    assert sorted(item.line for item in rejected) == sorted(["Here you go:", "```", "```", "Let me know if you need more."])


def test_only_a_journal_switch_keeps_its_continuation_line() -> None:
    switch = ("08/11/21-05:49:43:342 (18374) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE\n"
              "Journaling switched to: /iris/journal1/20210811.003")
    accepted, rejected = validation.check_response(switch, MessageCategory.JOURNAL, frozenset({0}))
    assert rejected == [] and accepted[0].continuation == ("Journaling switched to: /iris/journal1/20210811.003",)

    invented = "08/11/21-05:49:43:342 (18374) 0 [Generic.Event] Journal file switched\n    by the journal daemon"
    accepted, rejected = validation.check_response(invented, MessageCategory.JOURNAL, frozenset({0}))
    assert accepted[0].continuation == () and rejected[0].line == "    by the journal daemon"

    bare = "08/11/21-05:49:43:342 (18374) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE"
    accepted, rejected = validation.check_response(bare, MessageCategory.JOURNAL, frozenset({0}))
    assert accepted == [] and "without its 'Journaling switched to" in rejected[0].reason


def test_allowed_tags_are_the_generic_ones_plus_the_category_own() -> None:
    assert validation.allowed_tags(MessageCategory.STARTUP) >= {
        "Generic.Event", "Utility.Event", "Database.MountedRW", "WriteDaemon.Started"}
    assert "Database.MountedRW" not in validation.allowed_tags(LICENSE)
