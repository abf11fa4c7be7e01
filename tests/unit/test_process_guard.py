# SPDX-License-Identifier: GPL-3.0-or-later
"""The guard of tests/unit/conftest.py: a unit test that starts a process fails, even when the refusal is caught."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.process_guard import ProcessStartRefused, processes_forbidden

UNIT_CONFTEST = Path(__file__).resolve().parent / "conftest.py"


def test_every_way_to_start_a_process_is_refused_and_recorded(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with processes_forbidden() as attempts:
        with pytest.raises(ProcessStartRefused, match=r"subprocess.Popen\(\['touch', .*\]\): a unit test must not"):
            subprocess.run(["touch", str(marker)], check=False)
        with pytest.raises(ProcessStartRefused):
            os.system("touch %s" % marker)
        with pytest.raises(ProcessStartRefused):
            os.fork()
        with pytest.raises(ProcessStartRefused):
            os.posix_spawnp("touch", ["touch", str(marker)], dict(os.environ))
        with pytest.raises(ProcessStartRefused):
            multiprocessing.get_context("spawn").Process(target=print).start()
        with pytest.raises(ProcessStartRefused):
            asyncio.run(asyncio.create_subprocess_exec("touch", str(marker)))
    assert not marker.exists()
    assert attempts[0] == "subprocess.Popen(%r)" % ["touch", str(marker)] and len(attempts) == 6
    assert attempts[1:4] == ["os.system('touch %s')" % marker, "fork()", "os.posix_spawnp(%r)" % ["touch", str(marker)]]


def test_the_guard_is_lifted_afterwards() -> None:
    before = (getattr(subprocess.Popen, "_execute_child"), os.fork, os.system)
    with processes_forbidden():
        assert os.fork is not before[1]
    assert (getattr(subprocess.Popen, "_execute_child"), os.fork, os.system) == before


def inner_session(pytester: pytest.Pytester) -> None:
    """A pytest session of its own with this directory's conftest.py."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(UNIT_CONFTEST.read_text())


def test_the_unit_conftest_fails_tests_that_start_processes(pytester: pytest.Pytester) -> None:
    inner_session(pytester)
    pytester.makepyfile(test_inner='''
        import os
        import subprocess

        import pytest


        @pytest.fixture
        def spawning_fixture():
            os.system("true")


        def test_pure():
            assert sum(range(4)) == 6


        def test_runs_a_command():
            subprocess.run(["true"], check=True)


        def test_swallows_the_refusal():
            try:
                subprocess.run(["true"], check=True)
            except Exception:
                pass


        def test_fixture_starts_one(spawning_fixture):
            pass
    ''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2, errors=1)
    output = result.stdout.str()
    assert "test_inner.py::test_runs_a_command started a process: subprocess.Popen(['true'])" in output
    assert "test_inner.py::test_swallows_the_refusal started a process: subprocess.Popen(['true'])" in output
    assert "setting up test_inner.py::test_fixture_starts_one started a process: os.system('true')" in output


def test_the_unit_conftest_fails_a_module_that_starts_a_process_on_import(pytester: pytest.Pytester) -> None:
    inner_session(pytester)
    pytester.makepyfile(test_imports='''
        import subprocess

        try:
            subprocess.run(["true"], check=True)
        except Exception:
            pass


        def test_never_reached():
            pass
    ''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert "collecting test_imports.py started a process: subprocess.Popen(['true'])" in result.stdout.str()
