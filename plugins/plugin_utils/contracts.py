# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Published JSON Schemas (contracts/*.schema.json) and validation of external input against them.

The pydantic models are the source of truth; ``write_contracts`` regenerates the files, and input
is checked with jsonschema against the *published* file, so what we promise is what we check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Type, TypeVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as JsonSchemaError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import CONTRACT_MODELS

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
SCHEMA_ID_BASE = "https://github.com/irisops/iris/blob/main/contracts/"
ModelT = TypeVar("ModelT", bound=BaseModel)


def schema_for(name: str) -> dict[str, Any]:
    model = CONTRACT_MODELS[name]
    schema = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID_BASE + name + ".schema.json",
            **schema}


def render_schema(name: str) -> str:
    return json.dumps(schema_for(name), indent=2, sort_keys=True) + "\n"


def write_contracts(directory: Path = CONTRACTS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(CONTRACT_MODELS):
        path = directory / (name + ".schema.json")
        path.write_text(render_schema(name), encoding="utf-8")
        written.append(path)
    return written


def load_schema(name: str, directory: Path = CONTRACTS_DIR) -> dict[str, Any]:
    if name not in CONTRACT_MODELS:
        raise KeyError("unknown contract %r; known: %s" % (name, ", ".join(sorted(CONTRACT_MODELS))))
    loaded: dict[str, Any] = json.loads((directory / (name + ".schema.json")).read_text(encoding="utf-8"))
    return loaded


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return path


def _reasons(error: JsonSchemaError) -> list[tuple[str, str]]:
    """(json_path, reason) of one violation; a failed discriminated ``oneOf`` (an action) reports the field at fault.

    jsonschema alone says "is not valid under any of the given schemas"; the discriminator names the one branch
    the object claims to be, so its errors (or the unknown discriminator value) are the real reason.
    """
    schema, instance = error.schema if isinstance(error.schema, dict) else {}, error.instance
    discriminator = schema.get("discriminator") if error.validator == "oneOf" else None
    if not discriminator or not isinstance(instance, dict):
        return [(_json_path(error.absolute_path), error.message)]
    field, mapping = discriminator["propertyName"], discriminator["mapping"]
    value = instance.get(field)
    if not isinstance(value, str) or value not in mapping:
        return [(_json_path(list(error.absolute_path) + [field]), "%r is not one of %s" % (value, sorted(mapping)))]
    branch = [option.get("$ref") for option in schema["oneOf"]].index(mapping[value])
    return [reason for sub in error.context or () if sub.relative_schema_path[0] == branch for reason in _reasons(sub)]


def schema_errors(name: str, document: Any) -> list[tuple[str, str]]:
    """(json_path, reason) for every violation of the published schema, in document order."""
    validator = Draft202012Validator(load_schema(name))
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(p) for p in error.absolute_path])
    return [reason for error in errors for reason in _reasons(error)]


def parse_document(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("malformed JSON: %s" % exc, [("$", "malformed JSON: %s" % exc)]) from None


def validate(name: str, document: Any, model: Type[ModelT]) -> ModelT:
    """Check ``document`` against the published schema, then build the model (cross-field rules).

    Raises ValidationError whose message names every offending JSON path and the reason.
    """
    errors = schema_errors(name, document)
    if not errors:
        try:
            return model.model_validate(document)
        except PydanticValidationError as exc:
            errors = [(_json_path(error["loc"]), error["msg"]) for error in exc.errors()]
    raise ValidationError(
        "%s is invalid: %s" % (name, "; ".join("%s: %s" % (path, reason) for path, reason in errors)), errors)
