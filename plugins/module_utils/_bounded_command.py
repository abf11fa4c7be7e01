# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A ``run_command`` with a deadline, for IrisControl's start and stop (stdlib only).

PRIVATE to irisops.iris: it may change at any time; do not import it from other collections.

``AnsibleModule.run_command`` has no timeout and reads pipes to EOF, so a hung ``iris stop`` or a
started instance's daemon that inherited the pipe would block it forever. This runs the command in
its own process group with output in temp files and kills the whole group at the deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from typing import Any, Dict, Optional, Sequence, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import RunCommand

# After SIGTERM a timed-out command gets this long before SIGKILL.
KILL_GRACE_SECONDS = 2.0


class CommandTimeout(Exception):
    """A command did not finish within its bound (it has been killed)."""


def bounded_run_command(timeout: float, kill_grace: float = KILL_GRACE_SECONDS) -> RunCommand:
    """A ``run_command`` for IrisControl that kills the command (its process group) after ``timeout`` seconds.

    Output goes to temp files, not pipes: a started instance's daemons may inherit the descriptors
    and keep a pipe open long after the control command has exited.
    """

    def run(args: Sequence[str], environ_update: Optional[Dict[str, str]] = None, **_ignored: Any) -> Tuple[int, str, str]:
        env = dict(os.environ)
        env.update(environ_update or {})
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(  # pylint: disable=ansible-bad-function
                list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True)
            try:
                rc = process.wait(timeout=max(timeout, 0.001))
            except subprocess.TimeoutExpired:
                _kill_group(process, kill_grace)
                raise CommandTimeout("'%s' did not finish within %gs and was killed" % (" ".join(args), timeout)) from None
            out.seek(0)
            err.seek(0)
            return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")

    return run


def _kill_group(process: "subprocess.Popen[bytes]", grace: float) -> None:
    """SIGTERM the command's process group, then SIGKILL it when the command outlives ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
