# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the test suites and tests/bench, imported as ``tests.support.<name>``.

- paths: where the repository, the collection link and the test venv's bin dir are.
- collection: makes this checkout importable as ``ansible_collections.irisops.iris`` (run by tests/conftest.py).
- fixtures: the pytest fixtures (``emulator``, ``emulator_in_process``, ``ansible_env``), registered by tests/conftest.py.
- in_process: a module's main() or an action plugin run in this process (``run_module``, ``run_action``).
- process_guard: refuses to start processes; tests/unit/conftest.py wraps every unit test in it.
- emulator, http_sink, openai_server, ssh_hosts, module_process, restart_playbook, hostile_commands: the real
  processes, servers, hosts and inputs the integration tests and benchmarks run against.
"""
