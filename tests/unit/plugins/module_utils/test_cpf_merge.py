# SPDX-License-Identifier: GPL-3.0-or-later
"""Merge files, [Actions] lines, the active view and the merge checks of module_utils/cpf_merge.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import cpf_merge
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument, CpfError, parse_action
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, IrisControl, parse_qlist_line
from tests.support.recorded import Replay

SAMPLES = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "cpf" / "merge"


def instance(install_dir: Path, status: str = "running, since Fri May 13 22:07:02 2016") -> Instance:
    return parse_qlist_line("IRIS^%s/^2023.1.0.235.1com^%s^iris.cpf^1972^52773^^ok^IRIS^^^" % (install_dir, status))


# -- [Actions] lines -------------------------------------------------------------------------------
def test_action_lines_of_the_real_samples_parse() -> None:
    doc = CpfDocument.parse((SAMPLES / "murrayo-ansible-iris-demo__roles_install_iris_files_action_merge.cpf").read_bytes())
    actions = [parse_action(line) for line in doc.action_lines()]
    assert [(action.verb, action.name) for action in actions] == [
        ("CreateDatabase", "APPA"), ("CreateNamespace", "APPA"), ("CreateDatabase", "APPB"), ("CreateNamespace", "APPB")]
    assert actions[1].get("globals") == "APPA" and actions[1].get("Interop") == "1"
    service = parse_action(CpfDocument.parse((SAMPLES / "intersystems-community-intersystems-iris-dev-template__merge.cpf")
                                             .read_bytes()).action_lines()[0])
    assert service.render() == "ModifyService:Name=%Service_CallIn,Enabled=1,AutheEnabled=48"


def test_quoted_values_keep_commas_and_quotes_and_render_back() -> None:
    action = parse_action('CreateUser:Name=ops,Password="a,b""c",Roles=%All')
    assert action.properties == (("Name", "ops"), ("Password", 'a,b"c'), ("Roles", "%All"))
    assert parse_action(action.render()) == action
    assert action.render(masked=True) == "CreateUser:Name=ops,Password=********,Roles=%All"


@pytest.mark.parametrize("line", ["CreateDatabase", "Create Database:Name=x", ":Name=x", 'CreateUser:Name="x'])
def test_malformed_action_lines_are_refused(line: str) -> None:
    with pytest.raises(CpfError):
        parse_action(line)


def test_only_the_exact_actions_spelling_is_read() -> None:
    doc = CpfDocument.parse(b"[actions]\nCreateDatabase:Name=A,Directory=/a\n[Actions]\n; comment\n\n"
                            b"/* CreateDatabase:Name=B,Directory=/b */\nCreateDatabase:Name=C,Directory=/c\n")
    assert doc.action_lines() == ["CreateDatabase:Name=C,Directory=/c"]
    with pytest.raises(CpfError, match=r"\[actions\] would be ignored by IRIS"):
        cpf_merge.merge_actions(doc)


def test_merge_file_round_trips_through_the_cpf_model() -> None:
    actions = [parse_action("CreateDatabase:Name=APPA,Directory=/data/APPA")]
    data = cpf_merge.render_merge_file([("config", "locksiz", "33554432"), ("SQL", "LockThreshold", "5000"),
                                        ("config", "gmheap", "307200")], actions)
    doc = CpfDocument.parse(data)
    assert doc.sections() == ["config", "SQL", "Actions"]
    assert doc.parameters("config") == [("locksiz", "33554432"), ("gmheap", "307200")]
    assert cpf_merge.merge_actions(doc) == actions


# -- what is active ------------------------------------------------------------------------------
def test_activation_follows_the_catalog() -> None:
    from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import lookup
    assert cpf_merge.activation(lookup("config", "locksiz")) == cpf_merge.ACTIVATED
    assert cpf_merge.activation(lookup("SQL", "LockThreshold")) == cpf_merge.ACTIVATED
    assert cpf_merge.activation(lookup("config", "gmheap")) == cpf_merge.RESTART_REQUIRED
    assert cpf_merge.activation(None) == cpf_merge.RESTART_REQUIRED


def test_active_view_is_observed_only_where_published(tmp_path: Path) -> None:
    down = cpf_merge.read_active_view(instance(tmp_path, "down, last used Fri May 13 22:07:02 2016"))
    assert not down.observable and down.reason == cpf_merge.INSTANCE_DOWN
    real = cpf_merge.read_active_view(instance(tmp_path))
    assert not real.observable and real.reason == cpf_merge.NOT_OBSERVABLE and real.active("SQL", "LockThreshold") is None
    (tmp_path / "mgr").mkdir()
    (tmp_path / "mgr" / "emulator-state.json").write_text(json.dumps(dict(
        active={"SQL": {"LockThreshold": "5000"}}, pending={"config": {"gmheap": "307200"}},
        security={"users": {"ops": {"Roles": "%All"}}})))
    seen = cpf_merge.read_active_view(instance(tmp_path))
    assert seen.observable and seen.source == str(tmp_path / "mgr" / "emulator-state.json")
    assert seen.active("sql", "lockthreshold") == "5000" and seen.waiting("CONFIG", "gmheap") == "307200"


def test_actions_are_skipped_when_their_object_visibly_exists(tmp_path: Path) -> None:
    cpf = CpfDocument.parse(b"[Databases]\nAPPA=/data/APPA/\n[Namespaces]\nUSER=USER\n")
    blind = cpf_merge.ActiveView(source=None, reason=cpf_merge.NOT_OBSERVABLE)
    seen = cpf_merge.ActiveView(source="x", security={"users": {"ops": {"Roles": "%All"}}})

    def plan(line: str, view: cpf_merge.ActiveView) -> bool:
        return cpf_merge.plan_action(parse_action(line), cpf, view).run

    assert not plan("CreateDatabase:Name=appa,Directory=/data/APPA", blind)
    assert plan("CreateDatabase:Name=APPB,Directory=/data/APPB", blind)
    assert not plan("DeleteNamespace:Name=APPB", blind) and plan("DeleteNamespace:Name=USER", blind)
    assert plan("CreateUser:Name=ops,Roles=%All", blind)  # a real instance does not show its users
    assert not plan("CreateUser:Name=ops,Roles=%All", seen)
    assert not plan("ModifyUser:Name=ops,Roles=%All", seen)
    assert plan("ModifyUser:Name=ops,Roles=%Developer", seen)
    assert plan("ModifyUser:Name=ops,Password=x", seen)  # a password cannot be compared
    assert plan("Execute:Name=x", seen)


def test_checks_find_what_the_merge_did_not_do() -> None:
    cpf = CpfDocument.parse(b"[SQL]\nLockThreshold=1000\n[config]\ngmheap=307200\n")
    view = cpf_merge.ActiveView(source="x", values={("sql", "lockthreshold"): "1000", ("config", "gmheap"): "73728"})
    assert cpf_merge.check_parameters([("config", "gmheap", "307200")], cpf, view) == []  # pending is fine
    problems = cpf_merge.check_parameters([("SQL", "LockThreshold", "5000")], cpf, view)
    assert problems == ["[SQL] LockThreshold: the CPF holds '1000', not '5000'"]
    cpf.set("SQL", "LockThreshold", "5000")
    assert cpf_merge.check_parameters([("SQL", "LockThreshold", "5000")], cpf, view) == [
        "[SQL] LockThreshold: the instance's active value is '1000', not '5000'"]
    assert cpf_merge.check_action(parse_action("CreateDatabase:Name=X,Directory=/x"), cpf, view) == \
        "Database X is missing after CreateDatabase"


def test_previous_values_prefer_the_observed_active_value() -> None:
    before = CpfDocument.parse(b"[config]\nlocksiz=1048576\n")
    view = cpf_merge.ActiveView(source="x", values={("config", "locksiz"): "16777216"})
    blind = cpf_merge.ActiveView(source=None)
    targets = [("config", "locksiz"), ("SQL", "LockThreshold"), ("config", "NotInCatalog")]
    assert cpf_merge.previous_values(targets, before, view) == [("config", "locksiz", "16777216"),
                                                                ("SQL", "LockThreshold", "1000")]
    assert cpf_merge.previous_values(targets, before, blind)[0] == ("config", "locksiz", "1048576")


# -- the command (as a process: tests/integration/test_cpf_merge_command.py) ----------------------
def test_run_merge_needs_the_success_line_and_rc_zero_of_a_recorded_emulator(tmp_path: Path) -> None:
    replay = Replay("merge", tmp_path)
    control = IrisControl("/opt/iris/bin/iris", replay)
    merge_file = str(tmp_path / "merge.cpf")
    with pytest.raises(cpf_merge.MergeError, match=r"'iris merge MRG' failed \(rc=1\): iris merge: instance MRG is not running$"):
        cpf_merge.run_merge(control, "MRG", merge_file)
    assert control.start("MRG")[0] == 0
    cpf_merge.run_merge(control, "MRG", merge_file)
    with pytest.raises(cpf_merge.MergeError, match=r"'iris merge NOPE' failed \(rc=1\): Instance 'NOPE' is not installed.$"):
        cpf_merge.run_merge(control, "NOPE", merge_file)
    assert replay.finished


def test_the_merge_file_is_private_absolute_and_removed(tmp_path: Path) -> None:
    with cpf_merge.merge_file(str(tmp_path), b"[SQL]\nLockThreshold=5000\n") as path:
        assert Path(path).is_absolute() and Path(path).read_bytes() == b"[SQL]\nLockThreshold=5000\n"
        assert Path(path).stat().st_mode & 0o777 == 0o600
    assert not Path(path).exists()
