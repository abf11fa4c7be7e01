# SPDX-License-Identifier: GPL-3.0-or-later
"""Refuse to start processes: what tests/unit/conftest.py wraps around every unit test.

A unit test runs the code under test in this process. Everything that would start another one (subprocess and
what is built on it: AnsibleModule.run_command, asyncio subprocesses, os.popen; os.fork, os.forkpty, os.posix_spawn,
os.system, multiprocessing) raises ProcessStartRefused instead, and the attempt is recorded: code under test that
catches the error (run_command reports it as a failed command) cannot hide it from the conftest, which fails the test.
"""

from __future__ import annotations

import _posixsubprocess
import contextlib
import os
import subprocess
from typing import Any, Callable, Iterator, List, Tuple

# (owner, attribute): every way this Python starts a process. Popen._execute_child is where subprocess forks (or uses
# posix_spawn); _posixsubprocess.fork_exec also serves multiprocessing's spawn and forkserver start methods.
_PROCESS_STARTERS: Tuple[Tuple[Any, str], ...] = (
    (subprocess.Popen, "_execute_child"),
    (_posixsubprocess, "fork_exec"),
    (os, "fork"),
    (os, "forkpty"),
    (os, "posix_spawn"),
    (os, "posix_spawnp"),
    (os, "system"),
)


class ProcessStartRefused(RuntimeError):
    """Raised instead of starting a process while processes are forbidden."""


def _describe(name: str, args: Tuple[Any, ...]) -> str:
    if name == "_execute_child":  # (self, args, executable, ...): the command line
        return "subprocess.Popen(%r)" % (args[1],)
    if name in ("posix_spawn", "posix_spawnp", "system"):
        return "os.%s(%r)" % (name, args[1] if name != "system" else args[0])
    return "%s()" % name


@contextlib.contextmanager
def processes_forbidden() -> Iterator[List[str]]:
    """While active, starting a process raises ProcessStartRefused; yields the list of the attempts (descriptions)."""
    attempts: List[str] = []

    def refuser(name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **_kwargs: Any) -> Any:
            attempt = _describe(name, args)
            attempts.append(attempt)
            raise ProcessStartRefused("%s: a unit test must not start a process (move the test to tests/integration, "
                                      "or give the code a recorded output instead)" % attempt)
        return refuse

    saved = [(owner, name, getattr(owner, name)) for owner, name in _PROCESS_STARTERS if hasattr(owner, name)]
    try:
        for owner, name, _original in saved:
            setattr(owner, name, refuser(name))
        yield attempts
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
