# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files that processes share: crash-safe replacement (readers and a crash see the old file or the new one, never a
torn one) and the exclusive lock that makes a second writer wait."""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import time
from typing import Callable, List, Optional, Tuple


def fsync_directory(directory: str) -> None:
    """Make a rename or a new directory entry survive a power loss (the entry lives in the directory)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temp_file(path: str, directory: str, fallback_dir: Optional[str]) -> Tuple[int, str]:
    prefix = ".%s." % os.path.basename(path)
    try:
        return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    except OSError:
        if fallback_dir is None:
            raise
        return tempfile.mkstemp(dir=fallback_dir, prefix=prefix, suffix=".tmp")


def replace_file(path: str, data: bytes, move: Callable[[str, str], None] = os.replace,
                 fallback_dir: Optional[str] = None) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, ``move`` it over ``path``, fsync the directory.

    ``move`` is AnsibleModule.atomic_move in modules (it keeps owner, mode and SELinux context).
    ``fallback_dir`` holds the temp file when the directory refuses new files: only for a ``move`` that can
    then write in place (atomic_move with unsafe_writes), since a rename into that directory will fail.
    """
    directory = os.path.dirname(path) or "."
    descriptor, temp_path = _temp_file(path, directory, fallback_dir)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        move(temp_path, path)
    finally:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
    fsync_directory(directory)


def error_chain(error: BaseException) -> str:
    """An error's message followed by those of its causes.

    AnsibleModule.atomic_move and backup_local raise a bare Exception ("Could not replace ...") whose cause holds
    the reason ("[Errno 1] Operation not permitted"); both belong in a message.
    """
    reasons: List[str] = []
    current: Optional[BaseException] = error
    while current is not None and len(reasons) < 4:
        if str(current) and str(current) not in reasons:
            reasons.append(str(current))
        current = current.__cause__ or current.__context__
    return ": ".join(reasons) or type(error).__name__


def wait_for_lock(descriptor: int, deadline: float, poll_seconds: float = 0.05) -> bool:
    """Take an exclusive flock on ``descriptor``, retrying until ``deadline`` (time.monotonic()); False if still held.

    Polling, not a blocking flock, so the caller's deadline holds and its own error says who holds the lock.
    """
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_seconds)
