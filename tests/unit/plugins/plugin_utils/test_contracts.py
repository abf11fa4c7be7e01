# SPDX-License-Identifier: GPL-3.0-or-later
"""The published schemas match the models, and external input is checked against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.irisops.iris.plugins.plugin_utils import contracts
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import CONTRACT_MODELS, RemediationCommand

EXAMPLE_COMMAND: dict[str, Any] = {
    "command_id": "cmd-locksiz-001",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "instance": "IRIS",
    "error_type": "config",
    "severity": 2,
    "requires_restart": True,
    "execution_order": ["cpf", "restart"],
    "parameters": [
        {"action": "cpf", "changes": [{"section": "config", "parameter": "locksiz", "current_value": "65536",
                                       "new_value": "16777216"}]},
        {"action": "restart", "user_wait_timeout": 30},
    ],
}


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_checked_in_schema_matches_model(name: str) -> None:
    published = (contracts.CONTRACTS_DIR / (name + ".schema.json")).read_text(encoding="utf-8")
    assert published == contracts.render_schema(name), "contracts drifted: run `make contracts`"


def test_write_contracts_writes_every_model(tmp_path: Path) -> None:
    written = contracts.write_contracts(tmp_path)
    assert sorted(p.name for p in written) == sorted(n + ".schema.json" for n in CONTRACT_MODELS)
    assert json.loads(written[0].read_text())["$schema"].startswith("https://json-schema.org/")


def test_valid_command_is_parsed_in_execution_order() -> None:
    command = contracts.validate("remediation_command", EXAMPLE_COMMAND, RemediationCommand)
    assert [a.action for a in command.ordered_actions()] == ["cpf", "restart"]
    assert command.trace_id == EXAMPLE_COMMAND["trace_id"]


@pytest.mark.parametrize(
    ("patch", "path", "reason"),
    [
        ({"severity": 7}, "$.severity", "maximum"),
        ({"instance": "IRIS; rm -rf /"}, "$.instance", "does not match"),
        ({"trace_id": "0" * 32}, "$.trace_id", "does not match"),
        ({"error_type": "cosmic"}, "$.error_type", "is not one of"),
        ({"surprise": 1}, "$", "Additional properties"),
        ({"parameters": [{"action": "reboot"}]}, "$.parameters[0].action",
         "'reboot' is not one of ['cpf', 'kernel', 'restart']"),
        ({"parameters": [{"action": "cpf",
                          "changes": [{"section": "config", "parameter": "../../etc", "new_value": "1"}]}]},
         "$.parameters[0].changes[0].parameter", "'../../etc' does not match"),
    ],
)
def test_invalid_command_names_path_and_reason(patch: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        contracts.validate("remediation_command", dict(EXAMPLE_COMMAND, **patch), RemediationCommand)
    # The field at fault and why, in the same error (not merely somewhere in the message).
    assert any(error_path == path and reason in error_reason for error_path, error_reason in caught.value.errors), \
        caught.value.errors
    assert path + ": " in str(caught.value) and reason in str(caught.value)


def test_cross_field_rules_are_reported_after_schema() -> None:
    command = dict(EXAMPLE_COMMAND, execution_order=["kernel", "restart"])
    with pytest.raises(ValidationError, match="execution_order"):
        contracts.validate("remediation_command", command, RemediationCommand)


def test_control_characters_in_values_are_refused() -> None:
    command = json.loads(json.dumps(EXAMPLE_COMMAND))
    command["parameters"][0]["changes"][0]["new_value"] = "1\n[Startup]"
    with pytest.raises(ValidationError, match="new_value"):
        contracts.validate("remediation_command", command, RemediationCommand)


def test_duplicate_actions_are_refused() -> None:
    command = dict(EXAMPLE_COMMAND, execution_order=[],
                   parameters=[EXAMPLE_COMMAND["parameters"][0], EXAMPLE_COMMAND["parameters"][0]])
    with pytest.raises(ValidationError, match="may appear once"):
        contracts.validate("remediation_command", command, RemediationCommand)


def test_malformed_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="malformed JSON") as caught:
        contracts.parse_document(b'{"command_id": ')
    assert caught.value.errors[0][0] == "$"


def test_unknown_contract_name_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown contract"):
        contracts.load_schema("nope")
