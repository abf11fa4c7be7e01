# SPDX-License-Identifier: GPL-3.0-or-later
"""The version matrix reuses the integration helpers (emulator.py)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
