# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Options shared by modules that talk to the `iris` control command or return a ToolResult."""

    CONTROL = r"""
options:
  iris_bin:
    description:
      - Path of the C(iris) control command.
      - By default it is looked up on E(PATH) and in C(/usr/irissys/bin), C(/usr/bin), C(/usr/local/bin) and C(/opt/iris/bin).
      - Works with a real IRIS installation and with the emulator deployed by the role C(irisops.iris.iris_emulator).
    type: path
"""

    TOOL_RESULT = r"""
options:
  trace_id:
    description:
      - W3C-compatible trace id (32 lowercase hex characters, not all zero) to stamp on the returned O(ignore:tool_result).
      - A new one is generated when omitted or invalid.
    type: str
"""
