# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One generation run's state: clock, PIDs and the instance profile every template draws from.

Everything random comes from one ``random.Random(seed)``, so a seed and a start time reproduce a
run byte for byte. The clock never goes backwards; a process role (control process, write daemon,
licence monitor, ...) keeps its PID for the whole session, as in a real messages.log.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Dict, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import SharedMemoryEstimate, shared_memory_of

# PIDs IRIS processes get on a busy Linux host (the samples show 390 .. 68232).
PID_RANGE = (300, 69999)
# Linux hands out PIDs in increasing order and wraps at pid_max; other processes of the host take the
# numbers in between, so consecutive IRIS processes are a few to a few hundred apart.
PID_GAP = (1, 400)
# Database directories in SFN order after a default installation (USER is SFN 5 in the real sample).
DEFAULT_DATABASES = ("irissys", "irislib", "iristemp", "irislocaldata", "irisaudit", "user")


@dataclass(frozen=True)
class Profile:
    """The instance the messages claim to come from; fixed for a session so lines agree with each other."""

    instance: str
    install_dir: str
    data_dir: str
    journal_dir: str
    wij_dir: str
    version: str
    build: str
    hostname: str
    superserver_port: int
    web_port: int
    license_server: str
    license_port: int
    global_buffers_mb: int
    routine_buffers_mb: int
    journal_buffers_mb: int
    heap_mb: int
    ecp_server: str
    ecp_address: str
    mirror_name: str
    mirror_peer: str
    cpus: int
    locksiz: int
    # Configuration the lines name; an instance has one value for a whole run.
    max_server_conn: int  # [config] MaxServerConn: ECP clients this instance serves as a data server
    license_units: int
    lock_threshold: int  # [SQL] LockThreshold
    mirror_qos_ms: int  # [Mirrors] QOSTimeout
    ecp_reconnect_interval: int  # [ECP] ClientReconnectInterval, seconds
    ecp_reconnect_duration: int  # [ECP] ClientReconnectDuration, seconds
    ecp_trouble_seconds: int  # [ECP] ServerTroubleDuration

    @property
    def mgr_dir(self) -> str:
        return self.data_dir + "mgr/"

    @property
    def memory(self) -> SharedMemoryEstimate:
        """The startup allocation, sized like the emulator and cpf_info size it (cpf_catalog)."""
        return shared_memory_of(self.global_buffers_mb, self.routine_buffers_mb, self.journal_buffers_mb, self.heap_mb)

    @property
    def major(self) -> str:
        """The release in the startup banner: ``2024.1`` of version ``2024.1.0.267.0``."""
        return self.version.rsplit(".", 3)[0]

    def template_fields(self) -> Dict[str, str]:
        """Every value a template may name, as text (computed once per session: rendering is the hot path)."""
        fields = {name: str(value) for name, value in asdict(self).items()}
        for name in ("mgr_dir", "major"):
            fields[name] = str(getattr(self, name))
        memory = self.memory
        fields.update(shared_memory_mb=str(memory.total_mb), buffer_descriptors_mb=str(memory.buffer_descriptors_mb),
                      ecp_mb=str(memory.ecp_mb), misc_mb=str(memory.misc_mb))
        return fields


def random_profile(rng: random.Random, instance: Optional[str] = None) -> Profile:
    install_dir = rng.choice(("/usr/irissys/", "/opt/iris/", "/intersystems/iris/"))
    # Durable %SYS (the data directory apart from the installation), as in containers and in the real
    # first-boot sample: the config lines about ISC_DATA_DIRECTORY and "iris update" need it.
    data_dir = rng.choice(("/iris/", "/durable/iris/", "/IRIS/", "/data/iris/"))
    major = rng.choice(("2022.1", "2023.1", "2024.1", "2025.1"))
    build = str(rng.choice((114, 140, 215, 229, 267, 301)))
    global_buffers = rng.choice((128, 256, 512, 1024, 2048, 4096, 8003))
    return Profile(
        instance=instance or rng.choice(("IRIS", "IRISHEALTH", "PROD", "IRIS1")),
        install_dir=install_dir,
        data_dir=data_dir,
        journal_dir=rng.choice((data_dir + "mgr/journal/", "/iris/journal1/", "/journal/primary/")),
        wij_dir=rng.choice((data_dir + "mgr/", "/iris/wij/")),
        version="%s.0.%s.0" % (major, build),
        build=build,
        hostname=rng.choice(("iris-prod-01", "dbhost2", "ip-10-0-3-17", "iris-0", "hmscentos7")),
        superserver_port=1972,
        web_port=rng.choice((52773, 52773, 57772)),
        license_server="127.0.0.1",
        license_port=4002,
        global_buffers_mb=global_buffers,
        routine_buffers_mb=rng.choice((35, 44, 64, 80, 128, 300)),
        journal_buffers_mb=rng.choice((16, 32, 64)),
        heap_mb=rng.choice((37, 72, 150, 300)),
        ecp_server=rng.choice(("DATASERVER", "CECP", "SALESERVER")),
        ecp_address=rng.choice(("10.0.3.21", "192.168.0.6", "172.17.0.4")),
        mirror_name=rng.choice(("PRDMIRROR", "MIRRORSET", "IRISMIRROR")),
        mirror_peer=rng.choice(("IRIS-B", "NODE2", "MIRRORB")),
        cpus=rng.choice((2, 4, 8, 16, 32)),
        locksiz=rng.choice((65536, 1048576, 16777216)),
        max_server_conn=rng.choice((1, 2, 4, 8)),
        license_units=rng.choice((5, 8, 25, 100, 200)),
        lock_threshold=rng.choice((1000, 1000, 5000)),
        mirror_qos_ms=rng.choice((8000, 8000, 4000)),
        ecp_reconnect_interval=rng.choice((5, 5, 10)),
        ecp_reconnect_duration=rng.choice((1200, 1200, 600)),
        ecp_trouble_seconds=rng.choice((60, 60, 120)),
    )


class Session(object):
    """Clock, PIDs, counters and the profile of one generation run."""

    def __init__(
        self,
        start: datetime,
        seed: Optional[int] = None,
        rate: float = 1.0,
        jitter: float = 0.5,
        instance: Optional[str] = None,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start_time: must carry a timezone offset")
        if rate <= 0:
            raise ValueError("rate: must be > 0 messages per second, got %r" % rate)
        if not 0 <= jitter <= 1:
            raise ValueError("jitter: must be between 0 and 1, got %r" % jitter)
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self.profile = random_profile(self.rng, instance)
        self.fields = self.profile.template_fields()
        # messages.log has millisecond timestamps; JSON output must say the same instant as the log line.
        self._start = start.replace(microsecond=start.microsecond // 1000 * 1000)
        self._elapsed_ms = 0.0  # kept fractional so high rates still move the clock on average
        self.now = self._start
        self.mean_interval_ms = 1000.0 / rate
        self.jitter = jitter
        self._shortest_ms = self.mean_interval_ms * (1 - jitter)
        self._spread_ms = 2 * self.mean_interval_ms * jitter
        self._pids: Dict[str, int] = {}
        self._last_pid = self.rng.randint(*PID_RANGE)
        self._journal_file: Optional[Tuple[str, int]] = None
        self._sfn = 0
        self._counters: Dict[str, int] = {}

    def draw(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high`` inclusive, from the run's generator. random.randint does the same
        with rejection sampling over several Python calls, a tenth of the engine's time per line."""
        return low + int(self._random() * (high - low + 1))

    def restart(self) -> None:
        """The instance starts again: new PIDs for every daemon, databases mounted from SFN 0, counters reset."""
        self._pids.clear()
        self._sfn = 0
        self._counters.clear()

    def pid(self, role: str) -> int:
        """The PID of a long-lived process role, the same for the whole session."""
        pid = self._pids.get(role)
        if pid is None:
            pid = self._pids[role] = self.new_pid()
        return pid

    def new_pid(self) -> int:
        """The next PID the host would hand out (a short-lived user or job process, or a new daemon).

        Never one a living process role holds. Numbers wrap like the kernel's, so a session of any
        length needs constant memory (short-lived processes' PIDs are reused, as on a real host).
        """
        low, high = PID_RANGE
        held = set(self._pids.values())
        pid = self._last_pid
        while True:
            pid += self.draw(*PID_GAP)
            if pid > high:
                pid = low + (pid - high - 1)
            if pid not in held:
                self._last_pid = pid
                return pid

    def tick(self) -> datetime:
        """Advance the clock by one mean interval +- jitter in whole milliseconds (never backwards) and return it."""
        # mean + random.uniform(-spread, spread), spelled out: this runs once per line.
        delay = self._shortest_ms + self._spread_ms * self._random()
        return self._move(delay if delay > 0.0 else 0.0)

    def advance(self, min_ms: int, max_ms: int) -> datetime:
        """Advance by a scenario step's own delay (startup lines follow each other within milliseconds)."""
        return self._move(self.draw(min_ms, max_ms))

    def _move(self, delay_ms: float) -> datetime:
        self._elapsed_ms += delay_ms
        self.now = self._start + timedelta(0, 0, 0, int(self._elapsed_ms))  # (days, s, us, ms): positional is cheaper
        return self.now

    def journal_file(self, switch: bool = False) -> str:
        """Current journal file ``<dir>YYYYMMDD.NNN``; ``switch`` moves to the next one like a journal switch."""
        day = self.now.strftime("%Y%m%d")
        if self._journal_file is None or self._journal_file[0] != day:
            self._journal_file = (day, self.draw(1, 3))
        elif switch:
            self._journal_file = (day, self._journal_file[1] + 1)
        return "%s%s.%03d" % (self.profile.journal_dir, day, self._journal_file[1])

    def count_up(self, name: str, start: Tuple[int, int], step: Tuple[int, int], maximum: int) -> int:
        """A value that only grows within a session (a fill level, a count since startup), from ``start`` again
        once it would pass ``maximum`` (the lock table was emptied, the instance restarted)."""
        value = self._counters.get(name)
        value = self.draw(*start) if value is None else value + self.draw(*step)
        if value > maximum:
            value = self.draw(*start)
        self._counters[name] = value
        return value

    def database(self) -> Tuple[str, int]:
        """The next database directory and its SFN, cycling through the default databases."""
        index = self._sfn % len(DEFAULT_DATABASES)
        self._sfn += 1
        name = DEFAULT_DATABASES[index]
        return self.profile.mgr_dir + ("" if name == "irissys" else name + "/"), index
