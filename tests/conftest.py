# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the repo importable as ``ansible_collections.irisops.iris`` and share test helpers.

The collection tree is a symlink under build/collections (the same tree ansible-playbook uses
through ANSIBLE_COLLECTIONS_PATH), so tests import exactly the files in this repository.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS_ROOT = REPO / "build" / "collections"
# The bin dir of the Python running the tests (its ansible-playbook, ansible-rulebook): not resolved, a venv's python
# is a link to the base interpreter.
VENV_BIN = Path(sys.executable).parent


def _link_collection() -> None:
    namespace_dir = COLLECTIONS_ROOT / "ansible_collections" / "irisops"
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / "iris"
    if not link.is_symlink():
        link.symlink_to(REPO, target_is_directory=True)


def _unpack_compressed_fixtures() -> None:
    """CRLF fixtures are stored gzip-compressed: text tooling (ansible-test's line-endings check,
    editors, git settings) would otherwise rewrite the very bytes the round-trip tests compare."""
    for packed in (REPO / "tests" / "fixtures").rglob("*.gz"):
        unpacked = packed.with_suffix("")
        data = gzip.decompress(packed.read_bytes())
        if not unpacked.exists() or unpacked.read_bytes() != data:
            unpacked.write_bytes(data)


_link_collection()
_unpack_compressed_fixtures()
if str(COLLECTIONS_ROOT) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_ROOT))
# Ansible's collection loader before the first import of the collection, as ansible-playbook does: action plugin
# tests resolve plugins through it, and it cannot be installed after the collection was imported another way.
if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(COLLECTIONS_ROOT)])
# The integration helpers (emulator, http_sink, openai_server) import each other by their plain names.
if str(REPO / "tests" / "integration") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "integration"))

from emulator import EmulatorEnv, emulator_pids  # noqa: E402


def fresh_ansible_warnings() -> None:
    """Ansible keeps module warnings in process-wide dicts; each in-process run starts clean like a real one."""
    from ansible.module_utils.common import warnings as ansible_warnings

    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


def run_module(module: Any, args: Dict[str, Any], check_mode: bool = False, diff: bool = False) -> Dict[str, Any]:
    """Run a module's main() in-process (so coverage sees it) and return its JSON result.

    ``failed`` is part of the returned dict; callers assert on it.
    """
    from ansible.module_utils import _internal as module_internal
    from ansible.module_utils.testing import patch_module_args

    fresh_ansible_warnings()

    internal = {"_ansible_check_mode": check_mode, "_ansible_diff": diff, "_ansible_remote_tmp": "/tmp",
                "_ansible_keep_remote_files": False}
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    # A module runs on the target: its warnings belong in its result, not on the controller's display.
    controller, module_internal.is_controller = module_internal.is_controller, False
    try:
        with patch_module_args(dict(args, **internal)), redirect_stdout(buffer):
            try:
                module.main()
            except SystemExit:
                pass
    finally:
        module_internal.is_controller = controller
    return json.loads(buffer.getvalue())  # type: ignore[no-any-return]


def run_action(action: str, args: Dict[str, Any], task_vars: Optional[Dict[str, Any]] = None, check_mode: bool = False,
               diff: bool = False) -> Dict[str, Any]:
    """Run an action plugin in-process the way the task executor does (loaded by name, local connection)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play_context import PlayContext
    from ansible.playbook.task import Task
    from ansible.plugins import loader as plugin_loader
    from ansible.template import Templar

    loader = DataLoader()
    task = Task.load({action: args}, loader=loader)
    task.check_mode, task.diff = check_mode, diff
    play_context = PlayContext()
    play_context.check_mode, play_context.diff = check_mode, diff
    plugin = plugin_loader.action_loader.get(
        task.action, task=task, connection=plugin_loader.connection_loader.get("local", play_context),
        play_context=play_context, loader=loader, templar=Templar(loader=loader),
        shared_loader_obj=plugin_loader.get_plugin_loader_namespace())
    return plugin.run(task_vars=task_vars or {})  # type: ignore[no-any-return]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator["EmulatorEnv"]:
    """Emulated IRIS instances in tmp_path (the one emulator fixture); teardown stops them and asserts none leaked."""
    env = EmulatorEnv(tmp_path / "iris")
    try:
        yield env
    finally:
        env.cleanup()


@pytest.fixture
def emulator_in_process(emulator: "EmulatorEnv", monkeypatch: pytest.MonkeyPatch) -> "EmulatorEnv":
    """``emulator`` with its registry in this process's environment: a module run in-process (run_module) finds the
    instances through it, as the ``iris`` command on a host finds its own."""
    monkeypatch.setenv("IRISEMU_REGISTRY", emulator.registry)
    return emulator


@pytest.fixture(scope="session", autouse=True)
def no_leaked_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole session no emulator daemon started from this session's temp dirs may be alive."""
    yield
    leaked = emulator_pids(str(tmp_path_factory.getbasetemp()))
    assert not leaked, "emulator processes leaked by the test session: %s" % leaked


@pytest.fixture
def ansible_env(tmp_path: Path) -> Iterator[Dict[str, str]]:
    """Environment for running ansible-playbook/ansible against this collection on localhost."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    yield env


@contextlib.contextmanager
def cli_extra_vars(*arguments: str) -> Iterator[None]:
    """Run with these ``-e`` arguments on the command line, as ansible-playbook records them in context.CLIARGS."""
    from ansible import context
    from ansible.utils.context_objects import CLIArgs

    saved = context.CLIARGS
    context.CLIARGS = CLIArgs(dict(saved, extra_vars=tuple(arguments)))
    try:
        yield
    finally:
        context.CLIARGS = saved
