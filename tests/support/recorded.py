# SPDX-License-Identifier: GPL-3.0-or-later
"""Real output of the emulator's control command, recorded for unit tests that must not start it.

Each scenario sets up real emulated instances and names the ``iris`` commands to run; ``record()`` runs them and
stores rc, stdout and stderr in tests/fixtures/emulator/<scenario>.json (the environment's directory written as
``{base}``, in the commands too). ``Replay`` serves a recording to the code under test in the place of AnsibleModule.run_command, in the
recorded order, and fails on any other command. tests/integration/test_recorded_emulator_output.py runs every
scenario again and fails when the emulator no longer prints what was recorded; re-record with
``.venv/bin/python -m tests.support.recorded``.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

from tests.support.paths import FIXTURES

RECORDINGS = FIXTURES / "emulator"
BASE = "{base}"
# The parts of the output that differ on every run: free ports (qlist fields 6 and 7) and the time of the last start.
_QLIST_PORTS = re.compile(r"^([^^\n]*(?:\^[^^\n]*){4})\^\d*\^\d*\^", re.M)
_DATE = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")
Scenario = Callable[[Any], List[List[str]]]


def _instances(env: Any) -> List[List[str]]:
    env.create("UP", version="2024.1.0.267.2")
    env.create("DOWN")
    env.start("UP")
    return [["qlist"]]


def _broken_registry(env: Any) -> List[List[str]]:
    env.create("BROKEN")
    (Path(env.registry) / "BROKEN.json").write_text("{not json")
    return [["qlist"]]


def _control(env: Any) -> List[List[str]]:
    env.create("CTL")
    return [["qlist"], ["qlist"], ["start", "CTL", "quietly"], ["qlist"], ["stop", "CTL", "quietly", "restart"],
            ["qlist"], ["force", "CTL"], ["qlist", "CTL"], ["start", "CTL"], ["stop", "CTL", "quietly"], ["qlist"],
            ["qlist", "NOPE"]]


def _merge(env: Any) -> List[List[str]]:
    env.create("MRG")
    merge_file = env.base_dir / "merge.cpf"
    merge_file.write_text("[config]\nlocksiz=33554432\n")
    return [["merge", "MRG", str(merge_file)], ["start", "MRG", "quietly"], ["merge", "MRG", str(merge_file)],
            ["merge", "NOPE", str(merge_file)]]


SCENARIOS: Dict[str, Scenario] = {"instances": _instances, "broken_registry": _broken_registry, "control": _control,
                                  "merge": _merge}


def run_scenario(env: Any, name: str) -> Dict[str, Any]:
    """Set up ``name`` in ``env`` (an EmulatorEnv), run its commands for real; the recording (paths as ``{base}``)."""
    base = str(env.base_dir)
    commands = []
    for argv in SCENARIOS[name](env):
        done = env.iris(*argv, check=False)
        commands.append({"argv": [arg.replace(base, BASE) for arg in argv], "rc": done.returncode, "stdout": done.stdout.replace(base, BASE),
                         "stderr": done.stderr.replace(base, BASE)})
    return {"scenario": name, "commands": commands}


def load(name: str) -> Dict[str, Any]:
    return json.loads((RECORDINGS / (name + ".json")).read_text())  # type: ignore[no-any-return]


def comparable(recording: Dict[str, Any]) -> List[Tuple[Any, ...]]:
    """The recording without what differs on every run (ports, dates)."""
    def mask(text: str) -> str:
        return _DATE.sub("<date>", _QLIST_PORTS.sub(r"\1^<port>^<port>^", text))
    return [(tuple(c["argv"]), c["rc"], mask(c["stdout"]), mask(c["stderr"])) for c in recording["commands"]]


class Replay(object):
    """An AnsibleModule.run_command that answers with a recording, ``{base}`` read as ``base``."""

    def __init__(self, name: str, base: Path) -> None:
        self.commands: List[Dict[str, Any]] = load(name)["commands"]
        self.base = str(base)
        self.calls: List[List[str]] = []

    def __call__(self, args: Sequence[Any], **_kwargs: Any) -> Tuple[int, str, str]:
        argv = [str(arg) for arg in args[1:]]
        position = len(self.calls)
        self.calls.append(argv)
        if position >= len(self.commands):
            raise AssertionError("command %d was %r, the recording ends after %d" % (position, argv, len(self.commands)))
        recorded = self.commands[position]
        expected = [arg.replace(BASE, self.base) for arg in recorded["argv"]]
        if expected != argv:
            raise AssertionError("command %d was %r, the recording has %r" % (position, argv, expected))
        return recorded["rc"], recorded["stdout"].replace(BASE, self.base), recorded["stderr"].replace(BASE, self.base)

    @property
    def finished(self) -> bool:
        return len(self.calls) == len(self.commands)


def record() -> None:
    from tests.support import collection

    collection.prepare()
    from tests.support.emulator import EmulatorEnv

    RECORDINGS.mkdir(exist_ok=True)
    for name in SCENARIOS:
        with tempfile.TemporaryDirectory() as work:
            env = EmulatorEnv(Path(work) / "iris")
            try:
                recording = run_scenario(env, name)
            finally:
                env.cleanup()
        path = RECORDINGS / (name + ".json")
        if path.exists() and comparable(load(name)) == comparable(recording):
            sys.stdout.write("unchanged %s\n" % name)  # only ports and dates differ: keep the file as it is
            continue
        path.write_text(json.dumps(recording, indent=1) + "\n")
        sys.stdout.write("recorded %s\n" % name)


if __name__ == "__main__":
    record()
