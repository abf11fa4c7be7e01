# SPDX-License-Identifier: GPL-3.0-or-later
"""irisops.iris.cpf run in-process against real copies of real CPFs."""

from __future__ import annotations

import fcntl
import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from ansible_collections.irisops.iris.plugins.modules import cpf as cpf_module
from ansible_collections.irisops.iris.plugins.module_utils.tool_result import is_trace_id
from tests.support.in_process import run_module

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "cpf"
MERGE = FIXTURES / "merge"


def run(args: Dict[str, Any], check_mode: bool = False, diff: bool = False) -> Dict[str, Any]:
    return run_module(cpf_module, args, check_mode=check_mode, diff=diff)


def test_set_one_parameter_then_idempotent(cpf: Path) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section="config", parameter="gmheap", value="307200"))
    assert result["changed"] is True, result
    assert result["restart_required"] is True
    assert result["changes"] == [dict(section="config", parameter="gmheap", before="37568", after="307200",
                                      changed=True, requires_restart=True)]
    tool_result = result["tool_result"]
    assert (tool_result["tool"], tool_result["status"], tool_result["dry_run"]) == ("cpf", "success", False)
    assert tool_result["changes"] == [dict(target="%s [config] gmheap" % cpf, old_value="37568", new_value="307200")]
    assert tool_result["requires_user_action"] is True and is_trace_id(tool_result["trace_id"])
    assert cpf.read_bytes() == before.replace(b"gmheap=37568\r\n", b"gmheap=307200\r\n")
    assert stat.S_IMODE(cpf.stat().st_mode) == 0o640
    again = run(dict(path=str(cpf), section="CONFIG", parameter="GMHEAP", value="0307200"))
    assert again["changed"] is False and again["restart_required"] is False
    assert again["tool_result"]["changes"] == []


def test_check_mode_with_diff_is_a_dry_run(cpf: Path) -> None:
    before = cpf.read_bytes()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    result = run(dict(path=str(cpf), section="SQL", parameter="LockThreshold", value="5000", trace_id=trace_id),
                 check_mode=True, diff=True)
    assert result["changed"] is True and result["restart_required"] is False
    assert result["tool_result"]["dry_run"] is True and result["tool_result"]["trace_id"] == trace_id
    assert result["diff"]["before_header"] == "%s (content: [SQL] LockThreshold)" % cpf  # the section is named
    assert result["diff"]["after"] == result["diff"]["before"].replace("LockThreshold=1000", "LockThreshold=5000")
    assert cpf.read_bytes() == before


def test_current_value_mismatch_aborts_and_reports_both(cpf: Path) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section="config", parameter="locksiz", value="33554432", current_value="1"))
    assert result["failed"] is True
    assert (result["current_value"], result["file_value"]) == ("1", "16777216")
    assert result["msg"] == ("[config] locksiz: the file holds '16777216', neither the expected current_value '1' nor "
                             "the new value '33554432'; nothing was changed")
    assert result["tool_result"]["status"] == "failure"
    assert cpf.read_bytes() == before
    matching = run(dict(path=str(cpf), section="config", parameter="locksiz", value="33554432",
                        current_value="16777216"))
    assert matching["changed"] is True and matching["restart_required"] is False


def test_current_value_of_an_absent_parameter_mismatches(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="config", parameter="wduseasyncio", value="1", current_value="0",
                      allow_unknown=True))
    assert result["failed"] is True and result["file_value"] is None


def test_settings_apply_as_one_change_set_or_not_at_all(cpf: Path) -> None:
    before = cpf.read_bytes()
    bad = run(dict(path=str(cpf), settings=[
        dict(section="config", parameter="jrnbufs", value="128"),
        dict(section="config", parameter="gmheap", value="12"),
        dict(section="Nowhere", parameter="x", value="1"),
    ]))
    assert bad["failed"] is True
    assert "setting 2: [config] gmheap: 12 is out of range" in bad["msg"]
    assert "setting 3: section [Nowhere] is not a known CPF section" in bad["msg"]
    assert cpf.read_bytes() == before
    good = run(dict(path=str(cpf), settings=[
        dict(section="config", parameter="jrnbufs", value="128"),
        dict(section="Startup", parameter="SystemMode", value="LIVE"),
        dict(section="config", parameter="locksiz", state="absent"),
    ]), diff=True)
    assert good["changed"] is True and [change["changed"] for change in good["changes"]] == [True, True, True]
    text = cpf.read_bytes()
    assert b"jrnbufs=128\r\n" in text and b"SystemMode=LIVE\r\n" in text and b"locksiz=" not in text


def test_state_absent_removes_and_then_reports_no_change(cpf: Path) -> None:
    first = run(dict(path=str(cpf), section="config", parameter="locksiz", state="absent"))
    assert first["changed"] is True and first["changes"][0]["after"] is None
    second = run(dict(path=str(cpf), section="config", parameter="locksiz", state="absent"))
    assert second["changed"] is False


def test_new_parameter_is_added_in_order(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="Journal", parameter="CompressFiles", value="1"))
    assert result["changed"] is True
    assert b"BackupsBeforePurge=2\r\nCompressFiles=1\r\nCurrentDirectory=" in cpf.read_bytes()


def test_validate_only_reports_without_writing(cpf: Path) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section="config", parameter="memlock", value="64", validate_only=True))
    assert result["valid"] is True and result["changed"] is False
    assert result["changes"][0]["changed"] is True and result["tool_result"]["dry_run"] is True
    assert result["dangerous"] and "LargePagesRequired" in result["dangerous"][0]
    assert cpf.read_bytes() == before


@pytest.mark.parametrize("args,message", [
    (dict(section="config", parameter="gmheap", value="lots"), "[config] gmheap: 'lots' is not an integer"),
    (dict(section="config", parameter="MaxServerConn", value="300"), "out of range 0..254"),
    (dict(section="config", parameter="frobnicate", value="1"), "'frobnicate' is not in the catalog"),
    (dict(section="Bogus", parameter="x", value="1"), "section [Bogus] is not a known CPF section"),
    (dict(section="config", parameter="gmheap"), "value is required to set gmheap in [config]"),
    (dict(section="Databases", parameter="X", value="/a\n[config]"), "control characters"),
    (dict(section="config", parameter="overview", value="x"), "written by IRIS itself"),
    (dict(settings=[dict(section="config", parameter="gmheap", value="0"),
                    dict(section="CONFIG", parameter="GMHEAP", value="0")]), "requested more than once"),
])
def test_bad_requests_fail_clearly_and_change_nothing(cpf: Path, args: Dict[str, Any], message: str) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), **args))
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert result["tool_result"]["status"] == "failure"
    assert cpf.read_bytes() == before


def test_allow_unknown_writes_a_parameter_seen_in_the_wild(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="config", parameter="wduseasyncio", value="1", allow_unknown=True))
    assert result["changed"] is True and result["restart_required"] is True
    assert b"udevtabsiz=24576\r\nwduseasyncio=1\r\nwijdir=" in cpf.read_bytes()


def test_duplicate_key_in_the_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "dup.cpf"
    target.write_bytes(b"[config]\ngmheap=1\ngmheap=2\n")
    result = run(dict(path=str(target), section="config", parameter="gmheap", value="65536"))
    assert result["failed"] is True and "appears 2 times" in result["msg"]


@pytest.mark.parametrize("make,message", [
    (lambda tmp: str(tmp / "sub" / ".." / "iris.cpf"), "must not contain '..'"),
    (str, "is not a regular file"),
    (lambda tmp: str(tmp / "missing.cpf"), "does not exist"),
    (lambda tmp: "relative.cpf", "must be absolute"),
    (lambda tmp: "/dev/null", "is not a regular file"),
])
def test_bad_paths_are_refused(tmp_path: Path, cpf: Path, make: Any, message: str) -> None:
    (tmp_path / "sub").mkdir()
    result = run(dict(path=make(tmp_path), section="config", parameter="gmheap", value="0"))
    assert result["failed"] is True and message in result["msg"], result["msg"]


def test_symlink_keeps_pointing_at_the_real_file(tmp_path: Path, cpf: Path) -> None:
    link = tmp_path / "link.cpf"
    link.symlink_to(cpf)
    result = run(dict(path=str(link), section="config", parameter="gmheap", value="65536"))
    assert result["path"] == str(cpf) and link.is_symlink()
    assert b"gmheap=65536" in cpf.read_bytes()


@pytest.mark.parametrize("name", ["sylvainguilbaud-formation_admin_IRIS__merge.cpf",
                                  "irismeister-azure-arm-script__merge.cpf.heredoc"])
def test_merge_file_is_applied_as_one_change_set(cpf: Path, name: str) -> None:
    result = run(dict(path=str(cpf), merge_file=str(MERGE / name), allow_unknown=True))
    assert result["changed"] is True, result
    assert result["restart_required"] is True
    again = run(dict(path=str(cpf), merge_file=str(MERGE / name), allow_unknown=True))
    assert again["changed"] is False


def test_merge_file_values_land_in_the_cpf(cpf: Path) -> None:
    run(dict(path=str(cpf), merge_file=str(MERGE / "sylvainguilbaud-formation_admin_IRIS__merge.cpf")))
    text = cpf.read_bytes()
    assert b"globals=0,0,2048,0,0,0\r\n" in text and b"CurrentDirectory=/journal\r\n" in text
    assert b"SystemMode=LIVE\r\n" in text


def test_merge_file_with_actions_is_refused(cpf: Path) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), merge_file=str(MERGE / "irismeister-silent_install__merge.cpf")))
    assert result["failed"] is True and "has an [Actions] section" in result["msg"], result["msg"]
    assert cpf.read_bytes() == before


def test_merge_file_without_parameters_is_refused(cpf: Path, tmp_path: Path) -> None:
    merge = tmp_path / "empty-merge.cpf"
    merge.write_bytes(b"# nothing to merge yet\n[Startup]\n")
    result = run(dict(path=str(cpf), merge_file=str(merge)))
    assert result["failed"] is True and "no section/key=value lines" in result["msg"], result["msg"]


def test_indented_merge_file_from_a_configmap_is_read_like_iris_reads_it(cpf: Path) -> None:
    # Leading spaces have no effect in a CPF; the YAML wrapper lines come before any section.
    result = run(dict(path=str(cpf), merge_file=str(
        MERGE / "intersystems-community-iko-01-basic-iris-cluster__configmap-common-cpf.yaml")))
    assert result["changed"] is True and b"globals=0,0,256,0,0,0\r\n" in cpf.read_bytes()


def test_secret_values_are_masked(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="Startup", parameter="PasswordHash", value="abc,def"), diff=False)
    assert result["changes"][0]["after"] == "********"
    assert result["tool_result"]["changes"][0]["new_value"] == "********"
    assert "abc,def" not in str(result)


@pytest.fixture
def locked_dir(cpf: Path) -> Iterator[Path]:
    """Another editor holding the CPF directory's lock."""
    fd = os.open(str(cpf.parent), os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield cpf
    finally:
        os.close(fd)


def test_timeout_while_another_editor_holds_the_lock(locked_dir: Path) -> None:
    before = locked_dir.read_bytes()
    result = run(dict(path=str(locked_dir), section="config", parameter="gmheap", value="65536", timeout=1))
    assert result["failed"] is True
    assert "timed out waiting for another editor" in result["msg"] and "nothing was changed" in result["msg"]
    assert locked_dir.read_bytes() == before


def test_timeout_must_be_positive(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="config", parameter="gmheap", value="0", timeout=0))
    assert result["failed"] is True and "timeout must be a positive number" in result["msg"]


def test_file_attributes_are_applied(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="config", parameter="gmheap", value="37568", mode="0600"))
    assert result["changed"] is True
    assert stat.S_IMODE(cpf.stat().st_mode) == 0o600


def test_instance_needs_the_iris_command(cpf: Path, tmp_path: Path) -> None:
    result = run(dict(instance="IRIS", iris_bin=str(tmp_path / "no-iris"), section="config", parameter="gmheap",
                      value="0"))
    assert result["failed"] is True and "is not an executable file" in result["msg"]


# -- issue 14: re-runs, clean failures, comment-safe values, attributes in check mode, masked diffs ----------------
def test_guarded_change_applied_twice_is_ok_and_unchanged_the_second_time(cpf: Path) -> None:
    args = dict(path=str(cpf), section="SQL", parameter="LockThreshold", current_value="1000", value="5000")
    first = run(args)
    assert first["changed"] is True and not first.get("failed")
    applied = cpf.read_bytes()
    inode = cpf.stat().st_ino
    second = run(args)
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False and second["tool_result"]["status"] == "success"
    assert second["changes"][0]["changed"] is False and second["tool_result"]["changes"] == []
    # No write at all: same bytes and the same inode (an atomic write would have replaced it).
    assert cpf.read_bytes() == applied and cpf.stat().st_ino == inode


def test_already_applied_is_judged_by_typed_comparison(cpf: Path) -> None:
    cpf.write_bytes(cpf.read_bytes().replace(b"LockThreshold=1000", b"LockThreshold=05000"))
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section="SQL", parameter="LockThreshold", current_value="1000", value="5000"))
    assert not result.get("failed") and result["changed"] is False
    assert cpf.read_bytes() == before


def test_guarded_removal_of_an_already_removed_key_is_ok(cpf: Path) -> None:
    args = dict(path=str(cpf), section="SQL", parameter="LockThreshold", current_value="1000", state="absent")
    assert run(args)["changed"] is True
    again = run(args)
    assert not again.get("failed") and again["changed"] is False


def test_neither_current_nor_new_value_fails_naming_both(cpf: Path) -> None:
    cpf.write_bytes(cpf.read_bytes().replace(b"LockThreshold=1000", b"LockThreshold=7"))
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section="SQL", parameter="LockThreshold", current_value="1000", value="5000"))
    assert result["failed"] is True and result["file_value"] == "7" and result["current_value"] == "1000"
    assert result["msg"] == ("[SQL] LockThreshold: the file holds '7', neither the expected current_value '1000' "
                             "nor the new value '5000'; nothing was changed")
    assert cpf.read_bytes() == before


@pytest.mark.parametrize("value", ["5000 // raised by ops", "5000 //", "// 5000", "abc\t// x"])
@pytest.mark.parametrize("section,parameter,extra", [
    ("SQL", "LockThreshold", {}),
    ("Startup", "SystemMode", {}),
    ("config", "NotInTheCatalog", {"allow_unknown": True}),
])
def test_a_value_the_cpf_would_read_as_a_comment_is_refused_before_any_write(
        cpf: Path, value: str, section: str, parameter: str, extra: Dict[str, Any]) -> None:
    before = cpf.read_bytes()
    result = run(dict(path=str(cpf), section=section, parameter=parameter, value=value, backup=True, **extra))
    assert result["failed"] is True
    assert "value of [%s] %s" % (section, parameter) in result["msg"] or "value of %s in [%s]" % (parameter, section) in result["msg"]
    assert "would read the rest as a comment" in result["msg"]
    assert cpf.read_bytes() == before and sorted(path.name for path in cpf.parent.iterdir()) == ["iris.cpf"]


def test_a_slash_pair_inside_a_value_that_reads_back_whole_is_accepted(cpf: Path) -> None:
    result = run(dict(path=str(cpf), section="config", parameter="NotInTheCatalog", value="http://host/x",
                      allow_unknown=True))
    assert result["changed"] is True and b"NotInTheCatalog=http://host/x\r\n" in cpf.read_bytes()


def test_check_mode_reports_an_attribute_only_difference_like_the_real_run(cpf: Path) -> None:
    args = dict(path=str(cpf), section="config", parameter="gmheap", value="37568", mode="0600")
    before = cpf.read_bytes()
    preview = run(args, check_mode=True, diff=True)
    assert preview["changed"] is True and stat.S_IMODE(cpf.stat().st_mode) == 0o640
    content, attributes = preview["diff"]
    assert content["before"] == content["after"]
    assert attributes["before"]["mode"] == "0640" and attributes["after"]["mode"] == "0600"
    real = run(args)
    assert real["changed"] is True and stat.S_IMODE(cpf.stat().st_mode) == 0o600 and cpf.read_bytes() == before
    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False


def test_check_mode_reports_an_owner_difference_like_the_real_run(cpf: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    args = dict(path=str(cpf), section="config", parameter="gmheap", value="37568", owner="1234")
    assert run(args, check_mode=True)["changed"] is True and cpf.stat().st_uid == 0
    assert run(args)["changed"] is True and cpf.stat().st_uid == 1234
    assert run(args, check_mode=True)["changed"] is False


SECRET_HASH = "8511fe0215912efb646d884e82cd612470b07cd6,t1mt0fka"
SECRET_LICENSE = "LIC-SECRET-4711"


@pytest.fixture
def secret_cpf(cpf: Path) -> Path:
    cpf.write_bytes(cpf.read_bytes().replace(b"PasswordHash=\r\n", b"PasswordHash=%s\r\n" % SECRET_HASH.encode())
                    .replace(b"LicenseID=\r\n", b"LicenseID=%s\r\n" % SECRET_LICENSE.encode()))
    return cpf


@pytest.mark.parametrize("check_mode", [True, False])
def test_diff_masks_password_hash_and_license_id(secret_cpf: Path, check_mode: bool) -> None:
    result = run(dict(path=str(secret_cpf), settings=[
        dict(section="Startup", parameter="LicenseID", value="LIC-NEW-0815"),
        dict(section="config", parameter="gmheap", value="307200")]), check_mode=check_mode, diff=True)
    assert result["changed"] is True
    shown = json.dumps(result)
    for secret in (SECRET_HASH, SECRET_LICENSE, "LIC-NEW-0815"):
        assert secret not in shown
    diff = result["diff"]
    assert "PasswordHash=********\r\n" in diff["before"] and "PasswordHash=********\r\n" in diff["after"]
    assert "LicenseID=********\r\n" in diff["before"] and "gmheap=307200\r\n" in diff["after"]
    assert result["changes"][0]["before"] == result["changes"][0]["after"] == "********"
    written = secret_cpf.read_bytes()
    assert (b"LicenseID=LIC-NEW-0815\r\n" in written) is not check_mode and SECRET_HASH.encode() in written


def test_a_failed_guard_on_a_secret_does_not_show_it(secret_cpf: Path) -> None:
    result = run(dict(path=str(secret_cpf), section="Startup", parameter="LicenseID", current_value="LIC-GUESS",
                      value="LIC-NEW"))
    assert result["failed"] is True and SECRET_LICENSE not in json.dumps(result) and "LIC-GUESS" not in json.dumps(result)


def test_cpf_info_masks_license_id(secret_cpf: Path) -> None:
    from ansible_collections.irisops.iris.plugins.modules import cpf_info
    result = run_module(cpf_info, dict(path=str(secret_cpf), sections=["Startup"]))
    assert result["cpf"]["Startup"]["PasswordHash"] == result["cpf"]["Startup"]["LicenseID"] == "********"
    assert SECRET_HASH not in json.dumps(result) and SECRET_LICENSE not in json.dumps(result)
