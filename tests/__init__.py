# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's tests. A package so that ``tests.support`` (the shared helpers) has one import path for pytest
(which puts the repository root on sys.path for tests/conftest.py) and for the scripts in tests/bench."""
