# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The file attributes a task asks for (owner, group, mode, SELinux context, chattr flags), set or compared.

For modules with ``add_file_common_args=True``. In check mode Ansible's ``set_*_if_different``
report a difference without touching the file, so a check run and the real run agree on
``changed`` for a file whose content is right but whose mode or owner is not.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple


def apply_file_attributes(module: Any, path: str, changed: bool) -> Tuple[bool, Optional[Dict[str, Any]]]:
    """Set (in check mode: compare) ``path``'s attributes; returns (changed, diff of the attributes or None).

    A file that does not exist yet (check mode of a first write) is left to the write, which already counts
    as a change and creates it with these attributes.
    """
    if not os.path.lexists(path):
        return changed, None
    file_args = module.load_file_common_arguments(module.params, path=path)
    diff: Dict[str, Any] = {}
    changed = module.set_fs_attributes_if_different(file_args, changed, diff)
    if not diff:
        return changed, None
    header = "%s (file attributes)" % path
    diff.update(before_header=header, after_header=header)
    return changed, diff
