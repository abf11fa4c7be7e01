# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the repo importable as ``ansible_collections.irisops.iris`` and register the shared fixtures.

The helpers live in tests/support (imported as ``tests.support.<name>``); the fixtures in tests/support/fixtures.py.
"""

from __future__ import annotations

from tests.support import collection

collection.prepare()

# pytester: tests/unit/test_process_guard.py runs a pytest session of its own against tests/unit/conftest.py.
pytest_plugins = ("pytester", "tests.support.fixtures")
