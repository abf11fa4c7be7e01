# SPDX-License-Identifier: GPL-3.0-or-later
"""A temp root laid out like a Linux host's / for kernel_param and its module_utils: proc/sys, proc/meminfo,
sys/kernel/mm/transparent_hugepage and etc/sysctl.d, with real files a test reads and writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

CONF = "99-irisops-iris.conf"


class Host(object):
    """A temp root with proc/sys, proc/meminfo, sys/kernel/mm and etc/sysctl.d like a Linux host."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.proc_sys = root / "proc" / "sys"
        self.sysctl_dir = root / "etc" / "sysctl.d"
        self.sysctl_dir.mkdir(parents=True)
        for name, value in {"vm.swappiness": "60", "vm.nr_hugepages": "0", "vm.dirty_ratio": "20",
                            "kernel.shmmax": "18446744073692774399", "kernel.sem": "32000\t1024000000\t500\t32000"}.items():
            self.set_runtime(name, value)
        (root / "proc" / "meminfo").write_text("MemTotal:       16318412 kB\nHugepagesize:       2048 kB\n")
        thp = root / "sys" / "kernel" / "mm" / "transparent_hugepage"
        thp.mkdir(parents=True)
        (thp / "enabled").write_text("always [madvise] never\n")

    def path(self, name: str) -> Path:
        return self.proc_sys.joinpath(*name.split("."))

    def set_runtime(self, name: str, value: str) -> None:
        self.path(name).parent.mkdir(parents=True, exist_ok=True)
        self.path(name).write_text(value + "\n")

    def runtime(self, name: str) -> str:
        return self.path(name).read_text()

    @property
    def conf(self) -> Path:
        return self.sysctl_dir / CONF

    def args(self, **options: Any) -> Dict[str, Any]:
        return dict({"proc_root": str(self.proc_sys), "sysctl_dir": str(self.sysctl_dir)}, **options)
