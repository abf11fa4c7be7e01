# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an IRIS instance needs in shared memory, and what that means for the kernel's memory parameters (stdlib only).

The need is the larger of two sources: the estimate from the instance's CPF (``cpf_catalog.estimate_shared_memory``,
what the next start will allocate) and the size of its latest startup allocation in messages.log
(``iris_events.ALLOCATION_PATTERN``, what the last start did allocate). The parameters sized from it are
``iris_sysctl.MEMORY_PARAMETERS``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import estimate_shared_memory
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance
from ansible_collections.irisops.iris.plugins.module_utils.iris_events import ALLOCATION_PATTERN
from ansible_collections.irisops.iris.plugins.module_utils.sysctl import as_integer

MIB = 1024 * 1024


class MemoryNeedError(Exception):
    """The instance's CPF or messages.log cannot be read, or neither says how much shared memory it needs."""


@dataclass(frozen=True)
class MemoryNeed:
    instance: str
    required_mb: int
    cpf_estimate_mb: Optional[int]
    log_allocated_mb: Optional[int]
    hugepage_size_kb: int
    margin_percent: int

    def value_for(self, name: str) -> Optional[int]:
        """``name``'s value that fits the need plus the margin, None for other parameters."""
        need_bytes = int(math.ceil(self.required_mb * MIB * (100 + self.margin_percent) / 100.0))
        if name == "vm.nr_hugepages":
            return int(math.ceil(need_bytes / (self.hugepage_size_kb * 1024.0)))
        if name == "kernel.shmmax":
            return need_bytes
        if name == "kernel.shmall":
            return int(math.ceil(need_bytes / float(os.sysconf("SC_PAGE_SIZE"))))
        return None

    def as_dict(self, name: str) -> Dict[str, Any]:
        required = self.value_for(name)
        return {"instance": self.instance, "required_mb": self.required_mb, "cpf_estimate_mb": self.cpf_estimate_mb,
                "log_allocated_mb": self.log_allocated_mb, "hugepage_size_kb": self.hugepage_size_kb,
                "required_value": None if required is None else str(required)}


def last_allocation_mb(messages_log: str) -> Optional[int]:
    """MB of the latest startup allocation (or failed large-page attempt) in messages.log, read from the end."""
    try:
        with open(messages_log, "rb") as stream:
            end = stream.seek(0, os.SEEK_END)
            for _offset, raw in iris_log.iter_lines_backwards(stream, end):
                try:
                    entry = iris_log.parse_header(iris_log.split_line(iris_log.decode_line(raw)))
                except iris_log.LogFormatError:
                    continue
                match = ALLOCATION_PATTERN.match(entry.text) if entry is not None else None
                if match:
                    return int(match.group(1))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MemoryNeedError("cannot read %s: %s" % (messages_log, exc.strerror))
    return None


def cpf_estimate_mb(cpf_path: str) -> Optional[int]:
    """The CPF's shared memory estimate in MB, None when there is no CPF."""
    try:
        with open(cpf_path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MemoryNeedError("cannot read %s: %s" % (cpf_path, exc.strerror))
    try:
        return estimate_shared_memory(CpfDocument.parse(data)).total_mb
    except ValueError as exc:
        raise MemoryNeedError("%s: %s" % (cpf_path, exc))


def memory_need(instance: Instance, page_kb: int, margin_percent: int) -> MemoryNeed:
    """The instance's need: the larger of its CPF estimate and its latest allocation."""
    estimate = cpf_estimate_mb(instance.cpf_path)
    allocated = last_allocation_mb(instance.messages_log_path)
    known = [mb for mb in (estimate, allocated) if mb is not None]
    if not known:
        raise MemoryNeedError("cannot size shared memory of %s: no CPF at %s and no 'Allocated ...MB shared memory' "
                              "line in %s" % (instance.name, instance.cpf_path, instance.messages_log_path))
    return MemoryNeed(instance.name, max(known), estimate, allocated, page_kb, margin_percent)


def _unsigned(value: Optional[str]) -> Optional[int]:
    """``value`` as a non-negative integer, None when it is not one (unknown, or several values)."""
    return int(value) if value is not None and re.match(r"^\d+$", value.strip()) else None


def auto_value(required: int, runtime_before: Optional[str]) -> str:
    """What ``value: auto`` sets: the need, unless the runtime value already fits (auto never lowers)."""
    current = _unsigned(runtime_before)
    if runtime_before is not None and current is not None and current >= required:
        return runtime_before.strip()
    return str(required)


def danger(name: str, target: str, before: Optional[str], need: Optional[MemoryNeed]) -> Optional[str]:
    """Why setting ``name`` to ``target`` would starve the instance, None when it would not."""
    required = need.value_for(name) if need is not None else None
    if need is None or required is None:
        return None
    number = as_integer("value", target)
    # Below the need is dangerous whichever way it moves: raising 0 to too few pages starves the instance too.
    unchanged = _unsigned(before) == number
    if number >= required or unchanged:
        return None
    return ("%s=%d is below the %d instance %s needs for %dMB shared memory (+%d%%)"
            % (name, number, required, need.instance, need.required_mb, need.margin_percent))
