# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_bounded_command.py with real child processes (sh, sleep): output, the deadline, the process group."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils._bounded_command import CommandTimeout, bounded_run_command
from ansible_collections.irisops.iris.plugins.module_utils.instance_health import wait_until
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import C_LOCALE

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan may wait a moment for init to reap it)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_returns_rc_stdout_and_stderr_with_the_environment_update() -> None:
    run = bounded_run_command(30)
    rc, out, err = run(["sh", "-c", 'echo "$LC_ALL $LANG"; echo oops >&2; exit 3'], environ_update=C_LOCALE)
    assert (rc, out, err) == (3, "C C\n", "oops\n")


def test_does_not_wait_for_a_daemon_that_inherited_stdout() -> None:
    # Like 'iris start': the command exits and leaves a daemon holding its output descriptor; a pipe would stay open.
    rc, out, _err = bounded_run_command(30)(["sh", "-c", "sleep 60 & echo $!"])
    daemon = int(out)
    try:
        assert rc == 0 and alive(daemon)
    finally:
        os.kill(daemon, signal.SIGKILL)


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    with pytest.raises(CommandTimeout) as caught:
        bounded_run_command(2)(["sh", "-c", "sleep 60 & echo $! > %s; wait" % pid_file])
    assert str(caught.value) == "'sh -c sleep 60 & echo $! > %s; wait' did not finish within 2s and was killed" % pid_file
    child = int(pid_file.read_text())
    assert wait_until(lambda: not alive(child), 10)


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # The ignored SIGTERM is inherited by sleep: only the SIGKILL after the grace ends them.
    script = "trap '' TERM; sleep 60 & echo $! > %s; wait" % pid_file
    with pytest.raises(CommandTimeout, match="did not finish within 1s and was killed"):
        bounded_run_command(1, kill_grace=0.2)(["sh", "-c", script])
    child = int(pid_file.read_text())
    assert wait_until(lambda: not alive(child), 10)
