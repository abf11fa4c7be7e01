# SPDX-License-Identifier: GPL-3.0-or-later
"""activation.py and transactions.py: the state changes of a live merge and of background transactions, and the
messages.log lines they return."""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.irisops.iris.plugins.module_utils import iris_events
from irisemu import activation, transactions
from irisemu.config import Switches
from irisemu.messages import INFO, WARNING, LogLine
from irisemu.state import InstanceState

StateFactory = Callable[..., InstanceState]  # the make_state fixture (conftest.py)


def request(request_id: str, *parameters: Any, actions: Any = (), activate: bool = True) -> Dict[str, Any]:
    return {"id": request_id, "activate": activate, "parameters": [list(item) for item in parameters],
            "actions": list(actions)}


def test_live_parameters_become_active_the_others_wait_for_a_restart(make_state: StateFactory) -> None:
    state = make_state("[config]\nlocksiz=1048576\n")
    lines = activation.activate(state, request("m1", ("config", "locksiz", "16777216"), ("config", "gmheap", "307200"),
                                               ("SQL", "LockThreshold", "1000")))
    assert lines == [
        LogLine(INFO, "Utility.Event", "Configuration merge: [config] locksiz=16777216 activated (was 1048576)"),
        LogLine(INFO, "Utility.Event", "Configuration merge: [config] gmheap=307200 takes effect at the next restart"),
    ]
    assert state.config is not None and state.config.locksiz == 16777216  # faults and metrics follow at once
    assert state.active["config"]["locksiz"] == "16777216"
    assert state.pending == {"config": {"gmheap": "307200"}}
    assert state.merge_id == "m1"
    assert state.last_merge == {"id": "m1", "activated": ["[config] locksiz"], "pending": ["[config] gmheap"],
                                "unchanged": ["[SQL] LockThreshold"], "actions": []}


def test_a_request_applies_once_and_only_to_a_running_instance(make_state: StateFactory) -> None:
    state = make_state()
    assert activation.activate(state, None) is None
    assert activation.activate(state, request("m1")) == []
    assert activation.activate(state, request("m1", ("config", "locksiz", "16777216"))) is None
    state.phase = "stopping"
    assert activation.activate(state, request("m2", ("config", "locksiz", "16777216"))) is None
    assert state.merge_id == "m1" and state.active["config"]["locksiz"] == "0"


def test_a_merge_into_another_cpf_activates_nothing(make_state: StateFactory) -> None:
    state = make_state()
    assert activation.activate(state, request("m1", ("config", "locksiz", "16777216"), activate=False)) == []
    assert state.active["config"]["locksiz"] == "0" and state.pending == {}


def test_database_actions_mount_and_dismount(make_state: StateFactory) -> None:
    state = make_state()
    create = {"verb": "CreateDatabase", "name": "APP", "directory": "/data/app/", "changed": True,
              "line": "CreateDatabase:Name=APP,Directory=/data/app"}
    unchanged = dict(create, name="OLD", changed=False)
    lines = activation.activate(state, request("m1", actions=[create, unchanged]))
    assert lines == [
        LogLine(INFO, "Database.MountedRW", iris_events.MOUNTED_READ_WRITE.format(db_dir="/data/app/", sfn=0)),
        LogLine(INFO, "Utility.Event", "Configuration merge action CreateDatabase:Name=APP,Directory=/data/app")]
    assert state.databases == {"APP": "/data/app/"}
    delete = {"verb": "DeleteDatabase", "name": "APP", "changed": True, "line": "DeleteDatabase:Name=APP"}
    lines = activation.activate(state, request("m2", actions=[delete]))
    assert lines is not None and lines[0] == LogLine(INFO, "Database.Dismounted",
                                                     iris_events.DISMOUNTED.format(db_dir="/data/app/"))
    assert state.databases == {} and state.last_merge["actions"] == ["DeleteDatabase:Name=APP"]


def test_background_transactions_open_commit_and_roll_back(make_state: StateFactory) -> None:
    state = make_state(switches=Switches(open_transactions=3, open_transaction_seconds=2.5))
    assert transactions.open_at_start(state, now=50.0) == LogLine(
        INFO, "Generic.Event", "3 background job(s) opened a transaction held for 2.5 seconds")
    assert state.open_transactions == [50.0, 50.0, 50.0]
    assert transactions.average_age_seconds(state.open_transactions, now=52.0) == 2.0
    assert transactions.commit_all(state) == LogLine(INFO, "Generic.Event", "3 background transaction(s) committed")
    assert state.open_transactions == [] and transactions.commit_all(state) is None

    held = make_state(switches=Switches(open_transactions=1))
    assert transactions.open_at_start(held, now=0.0) == LogLine(
        INFO, "Generic.Event", "1 background job(s) opened a transaction held until shutdown")
    held.phase = "stopping"
    assert transactions.commit_all(held) is None  # a stopping instance commits nothing: the shutdown rolls back
    assert transactions.roll_back_at_shutdown(held) == LogLine(
        WARNING, "Generic.Event", "Rolling back 1 open transaction(s) at shutdown")
    assert held.open_transactions == [] and transactions.roll_back_at_shutdown(held) is None
    assert transactions.open_at_start(make_state(), now=0.0) is None
