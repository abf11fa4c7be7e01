# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel parameters an IRIS host is tuned with, and the bounds of each (stdlib only; one place).

Sources (../shared/reference/kernel-and-hugepages.md): InterSystems' Linux configuration guide (shared memory,
message queues, huge pages), the OS settings of InterSystems' own Ansible demo (swappiness, dirty ratios, huge
pages) and the TCP keepalive settings ECP connections rely on. A remediation command may touch these and nothing
else; an operator widens the list explicitly (the remediate role's ``remediate_allow_kernel_parameters``).
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

# Sized from the instance's shared memory (value "auto"); IRIS allocates shared memory only at start.
MEMORY_PARAMETERS = ("vm.nr_hugepages", "kernel.shmmax", "kernel.shmall")
KERNEL_INT_LIMIT = 2 ** 63 - 1
# name -> (lowest, highest) value the kernel accepts for it.
IRIS_KERNEL_PARAMETERS: Dict[str, Tuple[int, int]] = {
    "vm.nr_hugepages": (0, KERNEL_INT_LIMIT),
    "vm.hugetlb_shm_group": (0, 2 ** 32 - 1),
    "kernel.shmmax": (1, KERNEL_INT_LIMIT),
    "kernel.shmall": (1, KERNEL_INT_LIMIT),
    "kernel.shmmni": (1, 32768),
    "kernel.msgmni": (1, 32768),
    "kernel.msgmax": (1, 2 ** 31 - 1),
    "kernel.msgmnb": (1, 2 ** 31 - 1),
    "vm.swappiness": (0, 200),
    "vm.dirty_ratio": (0, 100),
    "vm.dirty_background_ratio": (0, 100),
    "net.core.somaxconn": (1, 2 ** 31 - 1),
    "net.ipv4.tcp_keepalive_time": (1, 32767),
    "net.ipv4.tcp_keepalive_intvl": (1, 32767),
    "net.ipv4.tcp_keepalive_probes": (1, 127),
}
# Upper bounds recommended for IRIS hosts (docs/kernel_param.md lists the sources); above them is allowed, but noted.
RECOMMENDED_MAXIMUM = {"vm.swappiness": 5, "vm.dirty_background_ratio": 5, "vm.dirty_ratio": 10}
# Transparent huge pages recommended for IRIS hosts (IRIS uses explicit huge pages, vm.nr_hugepages).
RECOMMENDED_TRANSPARENT_HUGEPAGES = "never"


def kernel_parameter_problem(name: str, value: Optional[int], also_allowed: Tuple[str, ...] = ()) -> Optional[str]:
    """Why a remediation may not set ``name`` to ``value`` (None: only the name is checked), or None."""
    if name not in IRIS_KERNEL_PARAMETERS and name not in also_allowed:
        return ("%s is not a kernel parameter IRIS hosts are tuned with; a command may set only %s "
                "(an operator may allow more with remediate_allow_kernel_parameters)"
                % (name, ", ".join(sorted(IRIS_KERNEL_PARAMETERS))))
    lowest, highest = IRIS_KERNEL_PARAMETERS.get(name, (-KERNEL_INT_LIMIT, KERNEL_INT_LIMIT))
    if value is not None and not lowest <= value <= highest:
        return "%d is outside %s's range %d..%d" % (value, name, lowest, highest)
    return None


def recommendations(name: str, value: str, transparent_hugepages: Optional[str]) -> List[str]:
    """How setting ``name`` to ``value`` compares with the recommendations for IRIS hosts (empty: as recommended).

    ``transparent_hugepages`` is the host's THP mode (None when unknown); it matters when huge pages are set.
    """
    notes = []
    maximum = RECOMMENDED_MAXIMUM.get(name)
    if maximum is not None and re.match(r"^\d+$", value) and int(value) > maximum:
        notes.append("%s=%s is above the %d recommended for IRIS hosts" % (name, value, maximum))
    if name == "vm.nr_hugepages" and transparent_hugepages not in (None, RECOMMENDED_TRANSPARENT_HUGEPAGES):
        notes.append("transparent huge pages are '{mode}'; '{never}' is recommended for IRIS hosts (transparent_hugepage={never} "
                     "on the kernel command line)".format(mode=transparent_hugepages, never=RECOMMENDED_TRANSPARENT_HUGEPAGES))
    return notes
