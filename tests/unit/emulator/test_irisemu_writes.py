# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator writes its files one way: registry.write_file, over the collection's crash-safe durable.py."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from irisemu import registry

PACKAGE = Path(registry.__file__).parent


def test_files_are_replaced_whole_with_the_mode_a_new_file_gets(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    target.chmod(0o600)
    umask = os.umask(0o027)
    try:
        registry.write_json_atomic(str(target), {"b": 1, "a": [1, 2]})
    finally:
        os.umask(umask)
    assert target.read_text() == json.dumps({"a": [1, 2], "b": 1}, indent=1, sort_keys=True) + "\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # like open() under that umask, as before
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]  # no temp file left


def test_an_explicit_mode_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "iris.cpf"
    registry.write_file(str(target), b"[config]\n", mode=0o604)
    assert target.read_bytes() == b"[config]\n" and stat.S_IMODE(target.stat().st_mode) == 0o604


def test_no_other_module_replaces_files_itself() -> None:
    writers = {path.name for path in PACKAGE.glob("*.py")
               if re.search(r"os\.replace\(|os\.rename\(|replace_file\(", path.read_text())}
    assert writers == {"registry.py"}
