# SPDX-License-Identifier: GPL-3.0-or-later
"""Where things are: the repository, the collection link ansible-playbook and the tests import, the test venv."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO / "build" / "collections"
FIXTURES = REPO / "tests" / "fixtures"
# The bin dir of the Python running the tests (its ansible-playbook, ansible-rulebook): not resolved, a venv's python
# is a link to the base interpreter.
VENV_BIN = Path(sys.executable).parent
