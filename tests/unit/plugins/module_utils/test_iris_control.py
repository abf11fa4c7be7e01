# SPDX-License-Identifier: GPL-3.0-or-later
"""qlist parsing against the verbatim qlist lines published with ontariosystems/isclib (instance_test.go, qlist.go);
IrisControl over a recorded emulator session (live: tests/integration/test_iris_control_emulator.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import (
    IrisControl, IrisControlError, find_iris_bin, parse_qlist, parse_qlist_line)
from tests.support.control_session import check_control_session
from tests.support.recorded import Replay

# Real qlist output: 13 fields (IRIS), 13 with mirror fields (Cache), 10, 8 (2012) and 10 with empty state (DOCKER).
IRIS_13 = ("INSTTEST^/ensemble/instances/insttest/^2018.1.1.643.0^running, since Fri May 13 22:07:02 2016^iris.cpf"
           "^56772^57772^62972^ok^IRIS^^^/mgr/config")
MIRROR_13 = ("INSTTEST^/ensemble/instances/insttest/^2015.2.2.805.0.16216^running, since Fri May 13 22:07:02 2016^cache.cpf"
             "^56772^57772^62972^ok^^Failover^Primary^/mgr/config")
WARN_10 = ("INSTTEST^/ensemble/instances/insttest/^2015.2.2.805.0.16216^running, since Fri May 13 22:07:02 2016^cache.cpf"
           "^56772^57772^62972^warn^")
OLD_8 = ("INSTTEST^/ensemble/instances/insttest/^2012.2.3.903.2.12515^down, last used Thu Sep 15 18:58:30 2016^cache.cpf"
         "^56772^57772^62972")
DOCKER_10 = ("DOCKER^/ensemble/instances/docker/^2015.2.2.805.0.16216^down, last used Fri May 13 18:12:33 2016^cache.cpf"
             "^56772^57772^62972^^")


def test_current_thirteen_field_line() -> None:
    instance = parse_qlist_line(IRIS_13)
    assert (instance.name, instance.install_dir, instance.version) == ("INSTTEST", "/ensemble/instances/insttest/", "2018.1.1.643.0")
    assert (instance.status, instance.activity, instance.running) == ("running", "since Fri May 13 22:07:02 2016", True)
    assert instance.since == "2016-05-13T22:07:02"
    assert (instance.superserver_port, instance.web_port, instance.jdbc_port) == (56772, 57772, 62972)
    assert (instance.state, instance.product, instance.data_dir) == ("ok", "IRIS", "/mgr/config/")
    assert instance.cpf_path == "/mgr/config/iris.cpf"
    assert instance.messages_log_path == "/mgr/config/mgr/messages.log"


def test_mirror_fields() -> None:
    instance = parse_qlist_line(MIRROR_13)
    assert (instance.product, instance.mirror_member_type, instance.mirror_status) == ("", "Failover", "Primary")


def test_older_short_formats_fill_missing_fields_empty() -> None:
    warn = parse_qlist_line(WARN_10)
    assert (warn.state, warn.product, warn.mirror_status, warn.data_dir) == ("warn", "", "", "")
    assert warn.cpf_path == "/ensemble/instances/insttest/cache.cpf"
    old = parse_qlist_line(OLD_8)
    assert (old.status, old.running, old.state) == ("down", False, "")
    assert old.activity == "last used Thu Sep 15 18:58:30 2016" and old.since == "2016-09-15T18:58:30"
    assert old.messages_log_path == "/ensemble/instances/insttest/mgr/messages.log"
    docker = parse_qlist_line(DOCKER_10)
    assert (docker.name, docker.state, docker.jdbc_port) == ("DOCKER", "", 62972)


def test_as_dict_holds_every_fact() -> None:
    facts = parse_qlist_line(IRIS_13).as_dict()
    assert set(facts) == {"name", "install_dir", "version", "status", "activity", "since", "running", "cpf_name",
                          "superserver_port", "web_port", "jdbc_port", "state", "product", "mirror_member_type",
                          "mirror_status", "data_dir", "cpf_path", "messages_log_path"}


def test_padded_day_and_unreadable_dates() -> None:
    padded = parse_qlist_line(OLD_8.replace("Thu Sep 15", "Fri Apr  8"))
    assert padded.since == "2016-04-08T18:58:30"
    assert parse_qlist_line(OLD_8.replace("Thu Sep 15 18:58:30 2016", "yesterday")).since is None
    assert parse_qlist_line(OLD_8.replace("down, last used Thu Sep 15 18:58:30 2016", "sign-on inhibited")).since is None


def test_empty_ports_are_none_and_blank_lines_are_skipped() -> None:
    instances = parse_qlist("\n" + IRIS_13.replace("^56772^57772^62972^", "^^^^") + "\r\n\n" + OLD_8 + "\n")
    assert [instance.superserver_port for instance in instances] == [None, 56772]


def test_too_few_fields_is_an_error_naming_the_line() -> None:
    with pytest.raises(IrisControlError, match=r"qlist line has 7 fields, expected at least 8: 'A\^"):
        parse_qlist_line("A^/a/^1^down^iris.cpf^1^2")


def executable(path: Path) -> str:
    """A file find_iris_bin accepts as the control command; it is never run."""
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(0o755)
    return str(path)


def test_control_over_a_recorded_emulator_session(tmp_path: Path) -> None:
    """The session of tests/integration/test_iris_control_emulator.py, answered by its recording."""
    replay = Replay("control", tmp_path)
    control = IrisControl("/opt/iris/bin/iris", replay)
    instance = check_control_session(control)
    assert instance.install_dir == str(tmp_path / "instances" / "ctl") + "/"
    with pytest.raises(IrisControlError, match=r"qlist NOPE' failed \(rc=1\): Instance 'NOPE' is not installed."):
        control.qlist("NOPE")
    assert replay.finished


def test_find_iris_bin(tmp_path: Path) -> None:
    iris_bin = executable(tmp_path / "iris")
    assert find_iris_bin(lambda *_args, **_kw: None, iris_bin) == iris_bin
    with pytest.raises(IrisControlError, match="is not an executable file"):
        find_iris_bin(lambda *_args, **_kw: None, str(tmp_path / "missing"))
    assert find_iris_bin(lambda name, opt_dirs: "/found/" + name) == "/found/iris"
    with pytest.raises(IrisControlError, match="was not found on PATH or in /usr/irissys/bin"):
        find_iris_bin(lambda *_args, **_kw: None)
