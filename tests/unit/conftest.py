# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests start no process: no emulator, no subprocess, no ansible-playbook (those belong in tests/integration).

Collecting a unit test module and every phase of a unit test (setup with its fixtures, the test, teardown) run with
process starts refused (tests/support/process_guard.py); an attempt fails the test even when the code under test
caught the refusal.
"""

from __future__ import annotations

import platform
from typing import Any, Generator

import pytest
from ansible.utils import encrypt  # noqa: F401  # pylint: disable=unused-import

from tests.support.process_guard import processes_forbidden

# Libraries that probe the host once per process and keep the answer: importing ansible.utils.encrypt looks for libcrypt
# with `ldconfig -p`, the openai client reads platform.processor() (`uname -p`). Done here, before any test, so the
# probe is not charged to whichever unit test happens to come first.
platform.processor()


def _without_processes(what: str) -> Generator[None, Any, Any]:
    with processes_forbidden() as attempts:
        try:
            return (yield)
        finally:
            if attempts:
                pytest.fail("%s started a process: %s" % (what, "; ".join(attempts)), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Importing a test module starts nothing either (an error here is a collection error, as for a failed import)."""
    with processes_forbidden() as attempts:
        report = yield
    if attempts:
        report.outcome = "failed"
        report.longrepr = "collecting %s started a process: %s" % (collector.nodeid, "; ".join(attempts))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _without_processes("setting up %s" % item.nodeid))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _without_processes(item.nodeid))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _without_processes("tearing down %s" % item.nodeid))
