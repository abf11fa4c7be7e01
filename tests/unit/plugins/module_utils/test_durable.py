# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exclusive lock that the CPF editor, the publisher's spool and the consumer's state share."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.durable import replace_file, wait_for_lock


@pytest.fixture
def lock_file(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "lock"
    path.touch()
    yield str(path)


def _open(path: str) -> int:
    # flock belongs to the open file description: two opens in one process contend like two processes do.
    return os.open(path, os.O_RDWR)


def test_a_free_lock_is_taken_at_once(lock_file: str) -> None:
    descriptor = _open(lock_file)
    try:
        assert wait_for_lock(descriptor, time.monotonic())
    finally:
        os.close(descriptor)


def test_a_held_lock_gives_up_at_the_deadline(lock_file: str) -> None:
    holder, waiter = _open(lock_file), _open(lock_file)
    try:
        assert wait_for_lock(holder, time.monotonic())
        started = time.monotonic()
        assert not wait_for_lock(waiter, started + 0.2, poll_seconds=0.01)
        assert time.monotonic() - started >= 0.2
    finally:
        os.close(holder)
        os.close(waiter)


def test_a_released_lock_is_taken_by_the_waiter(lock_file: str) -> None:
    holder, waiter = _open(lock_file), _open(lock_file)
    try:
        assert wait_for_lock(holder, time.monotonic())
        os.close(holder)
        assert wait_for_lock(waiter, time.monotonic())
    finally:
        os.close(waiter)


def test_an_error_other_than_contention_is_raised(lock_file: str) -> None:
    descriptor = _open(lock_file)
    os.close(descriptor)
    with pytest.raises(OSError):
        wait_for_lock(descriptor, time.monotonic() + 1)


def test_replace_file_leaves_the_new_content_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "journal.ndjson"
    target.write_bytes(b"old\n")
    replace_file(str(target), b"new\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["journal.ndjson"]
