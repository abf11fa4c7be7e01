# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one strict reader of a RemediationCommand, whichever way it arrives (controller side).

A command comes from outside (an analyser, an LLM, a person) and is data, never code and never an operator's
decision. Every entry point hands its bytes (or data) to ``check_command``: ``-e @command.json`` and
``-e remediation_command=<json>`` on the command line (read here from the raw ``-e`` sources, never from the
variables Ansible made of them), the ``remediation_command`` variable, and consume's HTTP, drop-directory and
EDA arrivals. The same bytes get the same verdict and the same error text (JSON path and reason) everywhere.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from ansible.errors import AnsibleError  # type: ignore[import-untyped]
from ansible.parsing.dataloader import DataLoader  # type: ignore[import-untyped]
from ansible.parsing.splitter import parse_kv  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.plugin_utils.contracts import validate
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.models import RemediationCommand

CONTRACT = "remediation_command"
# The variable that carries a whole command (an AWX survey answer, consume's hand-over to the role).
COMMAND_VARIABLE = "remediation_command"
# A real command is a few KB; these bounds keep hostile input cheap to refuse.
MAX_COMMAND_BYTES = 65536
MAX_DEPTH = 12
# A template marker in a command is an injection attempt: refused before Ansible could ever render it.
TEMPLATE_MARKERS = ("{{", "{%", "{#")
# Control characters (C0, DEL, C1 with U+0085), invisible format characters (bidi overrides, zero widths),
# lone surrogates and the line/paragraph separators U+2028/U+2029: nothing a command needs, everything a
# forged log line or a hidden instruction does.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
COMMAND_FIELDS = tuple(RemediationCommand.model_fields)
# The variables through which the operator, not the command, decides (playbooks/remediate.yml, consume.yml).
OPERATOR_VARIABLES = frozenset({
    "approve_restart", "target", "dry_run", "source", "polls", "interval", "duration", "validate_certs",
    "commands_state_dir", "commands_auth_token", "commands_log_file", "iris_instances", COMMAND_VARIABLE,
})
OPERATOR_PREFIXES = ("remediate_", "irisops_")

Problems = list[tuple[str, str]]


def refusal(path: str, reason: str) -> ValidationError:
    return ValidationError("%s is invalid: %s: %s" % (CONTRACT, path, reason), [(path, reason)])


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError("duplicate key %r: the command would be ambiguous" % key)
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise ValueError("%s is not a JSON number" % name)


def parse_json(raw: bytes, limit: int = MAX_COMMAND_BYTES) -> Any:
    """Strict JSON: a size bound first, UTF-8 only, no duplicate keys, no NaN/Infinity."""
    if len(raw) > limit:
        # Not the size itself: a reader that stops one byte past the limit gives the same verdict.
        raise refusal("$", "document is larger than the limit of %d bytes" % limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise refusal("$", "not UTF-8 text: %s" % error) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except RecursionError:
        raise refusal("$", "nested deeper than the JSON parser allows") from None
    except ValueError as error:
        raise refusal("$", "malformed JSON: %s" % error) from None


def string_problem(text: str) -> Optional[str]:
    """Why ``text`` may not appear in a command, or None."""
    if any(marker in text for marker in TEMPLATE_MARKERS):
        return "contains a Jinja template marker ({{, {% or {#); commands are data, never templates"
    for character in text:
        if unicodedata.category(character) in FORBIDDEN_CATEGORIES:
            return "contains the control or line-separator character U+%04X" % ord(character)
    return None


def _walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if depth > MAX_DEPTH:
        yield path, "nested deeper than %d levels" % MAX_DEPTH
    elif isinstance(value, str):
        problem = string_problem(value)
        if problem:
            yield path, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = string_problem(key)
            if problem:
                yield path, "a key %s" % problem
            else:
                yield from _walk(item, "%s.%s" % (path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, "%s[%d]" % (path, index), depth + 1)


def foreign_field_reason(name: str) -> str:
    if name.startswith("ansible_"):
        return "is an Ansible variable; a command never sets one"
    if name in OPERATOR_VARIABLES or name.startswith(OPERATOR_PREFIXES):
        return "is an operator's decision (a variable of the play); a command never carries it"
    return "is not a field of a remediation command (fields: %s)" % ", ".join(COMMAND_FIELDS)


def _foreign_fields(document: Any) -> Problems:
    if not isinstance(document, dict):
        return []
    return [("$.%s" % name, foreign_field_reason(name)) for name in document if name not in COMMAND_FIELDS]


def check_command(raw: Any) -> RemediationCommand:
    """The command in ``raw`` (JSON bytes or text, or data already parsed elsewhere), or ValidationError
    naming every offending JSON path and the reason. Nothing in it is ever rendered."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    elif not isinstance(raw, bytes):
        try:
            # A round trip through JSON also drops whatever wrapping the data had (Ansible's tagged strings).
            raw = json.dumps(raw, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError) as error:
            raise refusal("$", "not JSON data: %s" % error) from None
    document = parse_json(raw)
    problems = list(_walk(document, "$", 0)) + _foreign_fields(document)
    if problems:
        raise ValidationError("%s is invalid: %s" % (CONTRACT, "; ".join("%s: %s" % item for item in problems)),
                              problems)
    return validate(CONTRACT, document, RemediationCommand)


# --- the command line -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtraVarsSource:
    """One ``-e`` argument: ``@file``, an inline YAML/JSON document, or ``key=value`` pairs."""

    origin: str
    text: Optional[bytes]
    pairs: Optional[dict[str, Any]] = None

    @classmethod
    def from_argument(cls, argument: str) -> ExtraVarsSource:
        if argument.startswith("@"):
            path = os.path.abspath(os.path.expanduser(argument[1:]))
            with open(path, "rb") as handle:
                return cls("-e @%s" % argument[1:], handle.read())
        if argument[:1] in ("{", "["):
            return cls("-e '%s...'" % argument[:20], argument.encode("utf-8", "surrogatepass"))
        return cls("-e %s" % argument.split("=", 1)[0], None, dict(parse_kv(argument)))

    def variables(self) -> dict[str, Any]:
        """The variables of this source: strict JSON where it is JSON, else what Ansible's YAML reading made
        of it; {} when neither reads (the strict reading of check_command then says why)."""
        if self.pairs is not None:
            return self.pairs
        try:
            loaded = parse_json(self.text or b"", limit=len(self.text or b""))
        except ValidationError:
            try:
                loaded = DataLoader().load((self.text or b"").decode("utf-8", "replace"))
            except AnsibleError:
                loaded = None
        return dict(loaded) if isinstance(loaded, dict) else {}


def _command_sources(arguments: Sequence[str]) -> list[tuple[str, Any]]:
    """(origin, raw command) of every ``-e`` argument that carries a command."""
    found: list[tuple[str, Any]] = []
    for argument in arguments:
        if not argument:
            continue
        source = ExtraVarsSource.from_argument(argument)
        variables = source.variables()
        if source.text is not None and (not variables or any(name in COMMAND_FIELDS for name in variables)):
            found.append((source.origin, source.text))
            continue
        stray = [name for name in variables if name in COMMAND_FIELDS]
        if stray:
            raise refusal("$.%s" % stray[0], "given alone with %s; pass the whole command as a file "
                                             "(-e @command.json) or as %s" % (source.origin, COMMAND_VARIABLE))
        if COMMAND_VARIABLE in variables:
            found.append(("%s (%s)" % (source.origin, COMMAND_VARIABLE), variables[COMMAND_VARIABLE]))
    return found


def refused_document(arguments: Sequence[str]) -> Any:
    """The first command the ``-e`` arguments carry, as given, for naming the trace of its refusal (or None)."""
    try:
        found = _command_sources(arguments)
    except (ValidationError, OSError):
        return None
    return found[0][1] if found else None


def command_from_extra_vars(arguments: Sequence[str]) -> Optional[RemediationCommand]:
    """The one command the ``-e`` arguments carry, checked from their raw bytes, or None when they carry none.

    A document (``@file`` or inline) with any command field is a command document: it must be exactly a
    command. ``remediation_command`` (``key=value`` or in a document of the operator's own variables, such as
    AWX's extra vars) carries a command as JSON text or data. Any other variable is the operator's.
    """
    found = _command_sources(arguments)
    if len(found) > 1:
        raise refusal("$", "more than one remediation command given (%s); give exactly one"
                      % ", ".join(origin for origin, unused in found))
    return check_command(found[0][1]) if found else None
