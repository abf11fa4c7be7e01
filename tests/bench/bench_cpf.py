# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate + edit a 50 KB CPF in-process, against a plain read + write of the same file as the baseline.

Run: .venv/bin/python tests/bench/bench_cpf.py   (prints time per op and the ratio to the baseline)
The 50 KB file is the real rcemper CPF with real [Map.USER] global mappings appended until it reaches
the size of a HealthShare CPF (the 50,411-character one SOURCES.md mentions).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build" / "collections"))

from ansible_collections.irisops.iris.plugins.module_utils import cpf_catalog  # noqa: E402
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument  # noqa: E402
from ansible_collections.irisops.iris.plugins.module_utils.durable import replace_file  # noqa: E402

SOURCE = REPO / "tests" / "fixtures" / "cpf" / "rcemper-CrossECP-IRIS__iris.cpf"
TARGET_BYTES = 50 * 1024
ROUNDS = 200


def build_large_cpf(path: Path) -> None:
    data = SOURCE.read_bytes()
    mappings = []
    number = 0
    while len(data) + sum(len(line) for line in mappings) < TARGET_BYTES:
        mappings.append(b'Global_Ens.Config.Item%05d("X","X12")=ENSLIB\r\n' % number)
        number += 1
    path.write_bytes(data + b"\r\n[Map.USER]\r\n" + b"".join(mappings))


def plain_read_write(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data)


def validate_and_edit(path: Path, state: list) -> None:
    state[0] = "65536" if state[0] != "65536" else "307200"
    _section, spec, value = cpf_catalog.check_setting("config", "gmheap", state[0])
    document = CpfDocument.parse(path.read_bytes())
    if not cpf_catalog.values_equal(spec, document.get("config", "gmheap"), value or ""):
        document.set("config", "gmheap", value or "")
    replace_file(str(path), document.render(), os.replace)


def per_op(action: Callable[[], None]) -> float:
    action()  # warm-up
    started = time.perf_counter()
    for _round in range(ROUNDS):
        action()
    return (time.perf_counter() - started) / ROUNDS


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "iris.cpf"
        build_large_cpf(path)
        state = ["0"]
        baseline = per_op(lambda: plain_read_write(path))
        edit = per_op(lambda: validate_and_edit(path, state))
        print("CPF size: %d bytes, %d rounds" % (path.stat().st_size, ROUNDS))
        print("plain read+write:              %8.1f us/op" % (baseline * 1e6))
        print("validate+edit (atomic, fsync): %8.1f us/op" % (edit * 1e6))
        print("ratio edit/baseline:           %8.1f x" % (edit / baseline))
        document = CpfDocument.parse(path.read_bytes())
        started = time.perf_counter()
        for _round in range(ROUNDS):
            CpfDocument.parse(path.read_bytes()).render()
        print("parse+render only:             %8.1f us/op" % ((time.perf_counter() - started) / ROUNDS * 1e6))
        assert document.get("config", "gmheap") in ("65536", "307200")


if __name__ == "__main__":
    main()
