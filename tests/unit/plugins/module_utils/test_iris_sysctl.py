# SPDX-License-Identifier: GPL-3.0-or-later
"""iris_sysctl.py: how a kernel parameter's value compares with the recommendations for IRIS hosts."""

from __future__ import annotations

from typing import List, Optional

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.iris_sysctl import (
    IRIS_KERNEL_PARAMETERS, RECOMMENDED_MAXIMUM, recommendations)

THP_NOTE = ("transparent huge pages are 'madvise'; 'never' is recommended for IRIS hosts "
            "(transparent_hugepage=never on the kernel command line)")


@pytest.mark.parametrize("name, value, notes", [
    ("vm.swappiness", "5", []),
    ("vm.swappiness", "60", ["vm.swappiness=60 is above the 5 recommended for IRIS hosts"]),
    ("vm.dirty_background_ratio", "6", ["vm.dirty_background_ratio=6 is above the 5 recommended for IRIS hosts"]),
    ("vm.dirty_ratio", "10", []),
    ("vm.dirty_ratio", "30", ["vm.dirty_ratio=30 is above the 10 recommended for IRIS hosts"]),
    ("vm.dirty_ratio", "30 1", []),  # not one number: nothing to compare
    ("kernel.shmmax", "99999999999", []),  # no recommended maximum
])
def test_recommended_maxima(name: str, value: str, notes: List[str]) -> None:
    assert recommendations(name, value, "never") == notes


@pytest.mark.parametrize("name, mode, notes", [
    ("vm.nr_hugepages", "madvise", [THP_NOTE]),
    ("vm.nr_hugepages", "never", []),
    ("vm.nr_hugepages", None, []),  # unknown mode (no sysfs): nothing to say
    ("vm.swappiness", "madvise", []),  # transparent huge pages matter only next to explicit ones
])
def test_transparent_huge_pages_matter_for_huge_pages(name: str, mode: Optional[str], notes: List[str]) -> None:
    assert recommendations(name, "5", mode) == notes


def test_every_recommended_parameter_is_one_iris_hosts_are_tuned_with() -> None:
    for name, maximum in RECOMMENDED_MAXIMUM.items():
        lowest, highest = IRIS_KERNEL_PARAMETERS[name]
        assert lowest <= maximum <= highest
