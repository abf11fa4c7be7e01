# SPDX-License-Identifier: GPL-3.0-or-later
"""EmulatorEnv: real emulated IRIS instances in a temp dir, for any test that needs one.

It installs the emulator the way the iris_emulator role does (the package from
roles/iris_emulator/files plus copies of the module_utils it imports), with its own registry,
free ports and an emulated /proc/sys per instance. ``cleanup()`` stops everything it started and
fails when an emulator process of this environment is still alive afterwards.

    def test_something(emulator):
        install_dir = emulator.create("IRIS1")
        emulator.start("IRIS1")
        assert emulator.instance("IRIS1").state == "ok"
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, parse_qlist
from tests.support.paths import REPO

EMULATOR_FILES = REPO / "roles" / "iris_emulator" / "files"
MODULE_UTILS = REPO / "plugins" / "module_utils"
# The module_utils the emulator imports at run time (copied, never duplicated in the repo).
SHIPPED_MODULE_UTILS = ("iris_log.py", "iris_events.py", "cpf.py", "cpf_catalog.py", "durable.py", "secret_keys.py")
MODULE_UTILS_IN_LIB = Path("ansible_collections", "irisops", "iris", "plugins", "module_utils")
COMMAND_TIMEOUT = 120.0
# What an ECP application server sends first on a superserver connection (the daemon's ECP_HELLO).
ECP_HELLO = b"ECP"


def install_emulator(prefix: Path, python: str = sys.executable) -> Path:
    """Lay out <prefix>/bin/iris and <prefix>/lib like the role does; returns the iris executable."""
    shutil.copytree(EMULATOR_FILES / "lib", prefix / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    utils_dir = prefix / "lib" / MODULE_UTILS_IN_LIB
    utils_dir.mkdir(parents=True)
    for name in SHIPPED_MODULE_UTILS:
        shutil.copy2(MODULE_UTILS / name, utils_dir / name)
    launcher = (EMULATOR_FILES / "bin" / "iris").read_text()
    iris_bin = prefix / "bin" / "iris"
    iris_bin.parent.mkdir(parents=True)
    # The role writes the target's interpreter into the shebang the same way.
    iris_bin.write_text("#!%s\n%s" % (python, launcher.split("\n", 1)[1]))
    iris_bin.chmod(0o755)
    return iris_bin


def emulator_pids(marker: str) -> List[int]:
    """Pids of live emulator daemons whose command line mentions ``marker`` (a path unique to one env)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path("/proc", entry, "cmdline").read_bytes().split(b"\0")
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        if b"_daemon" in argv and any(marker.encode() in arg for arg in argv) and stat.rpartition(")")[2].split()[0] != "Z":
            pids.append(int(entry))
    return pids


class PortPool(object):
    """Ports the kernel says are free now, never the same one twice (so instances of one test never clash)."""

    def __init__(self) -> None:
        self._given: Set[int] = set()

    def free_port(self) -> int:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("", 0))
                port = int(probe.getsockname()[1])
            if port not in self._given:
                self._given.add(port)
                return port


class EmulatorEnv(object):
    def __init__(self, base_dir: Path) -> None:
        self.base_dir = Path(base_dir)
        self.iris_bin = str(install_emulator(self.base_dir / "emulator"))
        self.registry = str(self.base_dir / "registry")
        self.env: Dict[str, str] = dict(os.environ)
        self.env.update(
            IRISEMU_REGISTRY=self.registry,
            PATH="%s:%s" % (os.path.dirname(self.iris_bin), os.environ.get("PATH", "")),
            LANG="C", LC_ALL="C",
        )
        self.instances: Dict[str, Path] = {}
        self._ports = PortPool()

    # -- provisioning ----------------------------------------------------------------------------
    def free_port(self) -> int:
        """A port the kernel says is free now and that this env has not handed out before."""
        return self._ports.free_port()

    def create(self, name: str, superserver_port: Optional[int] = None, web_port: Optional[int] = None,
               cpf: Optional[Path] = None, version: Optional[str] = None, nr_hugepages: int = 0,
               switches: Optional[Dict[str, Any]] = None) -> Path:
        """Register an instance (default CPF unless ``cpf``), free ports, own emulated /proc/sys; returns its install dir."""
        install_dir = self.base_dir / "instances" / name.lower()
        proc_root = self.base_dir / "proc" / name.lower()
        (proc_root / "vm").mkdir(parents=True)
        (proc_root / "vm" / "nr_hugepages").write_text("%d\n" % nr_hugepages)
        args = ["create", name, str(install_dir),
                "--superserver-port", str(self.free_port() if superserver_port is None else superserver_port),
                "--web-port", str(self.free_port() if web_port is None else web_port),
                "--proc-root", str(proc_root)]
        if cpf is not None:
            args += ["--cpf", str(cpf)]
        if version is not None:
            args += ["--version", version]
        self.iris(*args)
        self.instances[name.upper()] = install_dir
        if switches:
            self.set_switches(name, **switches)
        return install_dir

    def proc_root(self, name: str) -> Path:
        return self.base_dir / "proc" / name.lower()

    def set_switches(self, name: str, **switches: Any) -> None:
        """Write <install_dir>/emulator.json (read by the instance at each start/stop)."""
        path = self.instances[name.upper()] / "emulator.json"
        path.write_text(json.dumps(switches))

    # -- control command -------------------------------------------------------------------------
    def iris(self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT) -> "subprocess.CompletedProcess[str]":
        result = subprocess.run([self.iris_bin] + list(args), env=self.env, capture_output=True, text=True, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            raise AssertionError("iris %s failed (rc=%d):\n%s%s" % (" ".join(args), result.returncode, result.stdout, result.stderr))
        return result

    def start(self, name: str) -> "subprocess.CompletedProcess[str]":
        return self.iris("start", name, "quietly")

    def stop(self, name: str, *flags: str) -> "subprocess.CompletedProcess[str]":
        return self.iris("stop", name, *(flags or ("quietly",)))

    def instance(self, name: str) -> Instance:
        found = parse_qlist(self.iris("qlist", name).stdout)
        if len(found) != 1:
            raise AssertionError("qlist %s printed %d lines" % (name, len(found)))
        return found[0]

    def instances_from_qlist(self) -> List[Instance]:
        return parse_qlist(self.iris("qlist").stdout)

    def messages_log(self, name: str) -> str:
        path = self.instances[name.upper()] / "mgr" / "messages.log"
        return path.read_text() if path.exists() else ""

    # -- web port ----------------------------------------------------------------------------------
    def http_get(self, name: str, path: str) -> Tuple[int, str]:
        port = self.instance(name).web_port
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode("utf-8")

    def metrics(self, name: str) -> Dict[str, float]:
        status, body = self.http_get(name, "/api/monitor/metrics")
        if status != 200:
            raise AssertionError("metrics of %s answered %d" % (name, status))
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                metric, value = line.rsplit(" ", 1)
                values[metric] = float(value)
        return values

    def connect(self, name: str) -> socket.socket:
        """Open a user session (a superserver connection); close it to end the session."""
        return socket.create_connection(("127.0.0.1", self.instance(name).superserver_port or 0), timeout=10)

    def connect_ecp(self, name: str) -> socket.socket:
        """Connect as an ECP application server (counted against [config] MaxServerConn, not as a user session)."""
        conn = self.connect(name)
        conn.sendall(ECP_HELLO)
        return conn

    def wait_for(self, name: str, metric: str, value: float, timeout: float = 10.0) -> Dict[str, float]:
        """Metrics once ``metric`` equals ``value`` (sessions are counted asynchronously by the daemon)."""
        deadline = time.monotonic() + timeout
        while True:
            metrics = self.metrics(name)
            if metrics.get(metric) == value or time.monotonic() > deadline:
                return metrics
            time.sleep(0.05)

    # -- teardown ----------------------------------------------------------------------------------
    def pids(self) -> List[int]:
        return emulator_pids(str(self.base_dir / "emulator"))

    def cleanup(self) -> None:
        """Stop every instance; kill and fail if any emulator process of this env survives."""
        for name in self.instances:
            if not self.pids():
                break
            result = self.iris("qlist", name, check=False)
            if "running" in result.stdout:
                if self.iris("stop", name, "quietly", check=False, timeout=60).returncode != 0:
                    self.iris("force", name, check=False)
        leaked = self.pids()
        for pid in leaked:
            os.kill(pid, signal.SIGKILL)
        # SIGKILL is asynchronous: on a busy machine the process is still listed for a moment.
        deadline = time.monotonic() + 10
        while leaked and self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        if leaked:
            raise AssertionError("emulator processes still running after cleanup: %s" % leaked)
