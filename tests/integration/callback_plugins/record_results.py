# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: writes every task result of a playbook run to $IRISOPS_TEST_RESULTS as JSON.

ansible-core ships no JSON stdout callback, and tests of whole playbooks need the registered
results, not the human output. Enabled with ANSIBLE_CALLBACK_PLUGINS=<this dir> and
ANSIBLE_CALLBACKS_ENABLED=record_results (see test_generate_playbook.run_playbook).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from ansible.plugins.callback import CallbackBase  # type: ignore[import-untyped]


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.results: List[Dict[str, Any]] = []

    def _record(self, result: Any, status: str) -> None:
        self.results.append({"task": result._task.get_name(), "host": result._host.get_name(), "status": status,
                             "result": result._result})

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        with open(os.environ["IRISOPS_TEST_RESULTS"], "w", encoding="utf-8") as stream:
            json.dump(self.results, stream, default=str)
