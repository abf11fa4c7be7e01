# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/awx/job_template.yml, the awx.awx.job_template way of docs/awx.md, checked without the awx.awx collection.

awx.awx cannot be installed offline, so ``ansible-playbook --syntax-check`` cannot resolve its module. The task is
checked instead against a copy of the module's argument_spec (tests/fixtures/awx): every option known, required
ones given, types and choices right; the survey lookup is rendered by Ansible's own templar; and the values agree
with docs/awx/job_template.json, the same template as REST fields, which tests/integration/test_awx_runner.py runs.
"""

from __future__ import annotations

import json
from typing import Any, Dict

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from tests.support.paths import REPO

AWX_DOCS = REPO / "docs" / "awx"
SPEC = json.loads((REPO / "tests" / "fixtures" / "awx" / "job_template_argument_spec.json").read_text())["options"]
PYTHON_TYPES = {"str": str, "bool": bool, "int": int, "dict": dict, "list": list}


def job_template_task() -> Dict[str, Any]:
    [play] = yaml.safe_load((AWX_DOCS / "job_template.yml").read_text())
    assert play["hosts"] == "localhost"
    [task] = play["tasks"]
    return task  # type: ignore[no-any-return]


def rendered(value: Any) -> Any:
    """A templated option as Ansible renders it, with files looked up beside the playbook (playbook text is trusted)."""
    loader = DataLoader()
    loader.set_basedir(str(AWX_DOCS))
    return Templar(loader=loader, variables={}).template(trust_as_template(value) if isinstance(value, str) else value)


def test_the_task_uses_only_documented_options_with_their_types_and_choices() -> None:
    task = job_template_task()
    assert set(task) == {"name", "awx.awx.job_template"}
    arguments = task["awx.awx.job_template"]
    aliases = {alias: name for name, option in SPEC.items() for alias in option.get("aliases", [])}
    canonical = {aliases.get(key, key): value for key, value in arguments.items()}
    assert not set(canonical) - set(SPEC), "not options of awx.awx.job_template: %s" % sorted(set(canonical) - set(SPEC))
    assert {name for name, option in SPEC.items() if option.get("required")} <= set(canonical)
    for name, value in canonical.items():
        value = rendered(value)
        assert isinstance(value, PYTHON_TYPES[SPEC[name]["type"]]), (name, value)
        assert value in SPEC[name].get("choices", [value]), (name, value)


def test_the_survey_is_the_documented_survey_spec() -> None:
    survey = rendered(job_template_task()["awx.awx.job_template"]["survey_spec"])
    assert survey == json.loads((AWX_DOCS / "survey_spec.json").read_text())
    assert [question["variable"] for question in survey["spec"]] == ["remediation_command", "approve_restart"]


def test_the_module_task_and_the_rest_fields_describe_the_same_template() -> None:
    arguments = job_template_task()["awx.awx.job_template"]
    rest_fields = json.loads((AWX_DOCS / "job_template.json").read_text())
    rest_fields["extra_vars"] = yaml.safe_load(rest_fields["extra_vars"])
    shared = set(arguments) & set(rest_fields)
    assert {"name", "playbook", "project", "inventory", "execution_environment", "extra_vars", "job_type"} <= shared
    assert {key: arguments[key] for key in shared} == {key: rest_fields[key] for key in shared}
