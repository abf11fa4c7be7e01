# SPDX-License-Identifier: GPL-3.0-or-later
"""The replay of recorded emulator output (tests/support/recorded.py) answers only what was recorded, in order."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.support.recorded import Replay, comparable, load


def test_replay_answers_in_order_with_the_base_dir_filled_in(tmp_path: Path) -> None:
    replay = Replay("merge", tmp_path)
    rc, out, err = replay(["/any/iris", "merge", "MRG", str(tmp_path / "merge.cpf")], environ_update={"LANG": "C"})
    assert (rc, out, err) == (1, "", "iris merge: instance MRG is not running\n") and not replay.finished
    assert replay(["/any/iris", "start", "MRG", "quietly"])[1].startswith("Starting MRG\n")


def test_replay_refuses_a_command_that_was_not_recorded(tmp_path: Path) -> None:
    replay = Replay("merge", tmp_path)
    with pytest.raises(AssertionError, match=r"command 0 was \['qlist'\], the recording has \['merge', 'MRG', '/"):
        replay(["/any/iris", "qlist"])
    done = Replay("broken_registry", tmp_path)
    done(["/any/iris", "qlist"])
    with pytest.raises(AssertionError, match=r"command 1 was \['qlist'\], the recording ends after 1"):
        done(["/any/iris", "qlist"])


def test_comparable_ignores_ports_and_dates_only() -> None:
    recording = load("instances")
    other_run = copy.deepcopy(recording)
    line = other_run["commands"][0]["stdout"].splitlines()[1].split("^")
    line[3], line[5], line[6] = "running, since Mon Jan  5 01:02:03 2026", "1972", "52773"
    other_run["commands"][0]["stdout"] = other_run["commands"][0]["stdout"].splitlines()[0] + "\n" + "^".join(line) + "\n"
    assert comparable(other_run) == comparable(recording)
    line[8] = "warn"
    other_run["commands"][0]["stdout"] = other_run["commands"][0]["stdout"].splitlines()[0] + "\n" + "^".join(line) + "\n"
    assert comparable(other_run) != comparable(recording)
