# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() or an action plugin in this process, the way Ansible would run it (so coverage sees it)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Dict, Iterator, Optional


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


def run_action_on_this_host(action: str, tmp_path: Path, check_mode: bool = False, diff: bool = False,
                            **args: Any) -> Dict[str, Any]:
    """run_action with this host as the target (this Python, a remote tmp under tmp_path); the result's
    ``tool_result`` must be a valid ToolResult, as every irisops.iris action returns one."""
    from ansible_collections.irisops.iris.plugins.plugin_utils.models import ToolResult

    task_vars = {"ansible_python_interpreter": sys.executable, "ansible_remote_tmp": str(tmp_path / "remote-tmp")}
    result = run_action(action, args, task_vars, check_mode=check_mode, diff=diff)
    ToolResult.model_validate(result["tool_result"])
    return result


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
