# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module as its own process, as Ansible does, optionally without root's permission bypass.

Root ignores file modes only through CAP_DAC_OVERRIDE (and CAP_DAC_READ_SEARCH, CAP_FOWNER). Under
``setpriv --bounding-set -dac_override,-dac_read_search,-fowner`` the process is still uid 0, but a
0444 file or a 0555 directory refuses writes with a genuine EACCES from the kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest

from tests.support.paths import COLLECTIONS_ROOT

WITHOUT_DAC_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def run_module_process(tmp_path: Path, module: str, args: Dict[str, Any], wrapper: Sequence[str] = ()) -> Dict[str, Any]:
    """Run ``ansible_collections.irisops.iris.plugins.modules.<module>`` with an args file; its JSON result."""
    args_file = tmp_path / "module-args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_remote_tmp=str(tmp_path))}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS_ROOT), LANG="C", LC_ALL="C")
    completed = subprocess.run(list(wrapper) + [sys.executable, "-m", "ansible_collections.irisops.iris.plugins.modules."
                                                + module, str(args_file)],
                               capture_output=True, text=True, env=env, timeout=60, cwd=str(tmp_path), check=False)
    assert completed.stdout, "module printed nothing; stderr:\n%s" % completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    return json.loads(completed.stdout)  # type: ignore[no-any-return]


def unprivileged_wrapper() -> List[str]:
    """The command prefix that takes root's permission bypass away (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE while running as root")
    return list(WITHOUT_DAC_OVERRIDE)
