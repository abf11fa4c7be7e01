# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Remove secrets (passwords, API keys, bearer tokens, licence keys) from anything we log or return."""

from __future__ import annotations

import re
from typing import Any, MutableMapping

REDACTED = "********"
# Keys whose values are secret whatever they look like.
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|authorization|auth[_-]?header|licen[cs]e[_-]?key|private[_-]?key|credential)",
    re.IGNORECASE,
)
# Keys that merely mention a secret-ish word but hold no secret.
NON_SECRET_KEYS = frozenset({"token_count", "tokens", "prompt_tokens", "completion_tokens", "total_tokens",
                             "requires_user_action", "api_key_env", "password_file"})
# Secrets recognisable by their shape inside free text.
SECRET_VALUE_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),                                       # OpenAI-style API keys
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),               # Authorization header values
    re.compile(r"(?i)\b(AuthorizationKey|LicenseKey|password|passwd|pwd|api[_-]?key|secret|token)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
    re.compile(r"(?i)(://[^:/@\s]+:)([^@\s]+)(@)"),                              # credentials in URLs
)


def redact_text(text: str) -> str:
    text = SECRET_VALUE_PATTERNS[0].sub(REDACTED, text)
    text = SECRET_VALUE_PATTERNS[1].sub(lambda m: "%s %s" % (m.group(1), REDACTED), text)
    text = SECRET_VALUE_PATTERNS[2].sub(lambda m: "%s%s%s" % (m.group(1), m.group(2), REDACTED), text)
    return SECRET_VALUE_PATTERNS[3].sub(lambda m: "%s%s%s" % (m.group(1), REDACTED, m.group(3)), text)


def is_secret_key(key: str) -> bool:
    return key.lower() not in NON_SECRET_KEYS and SECRET_KEY_PATTERN.search(key) is not None


def redact(value: Any) -> Any:
    """Return a copy of ``value`` (str, mapping, sequence, scalar) with every secret replaced."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, MutableMapping) or isinstance(value, dict):
        return {key: (REDACTED if isinstance(key, str) and is_secret_key(key) and item not in (None, "")
                      else redact(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    return value


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the last line of defence before a record is rendered."""
    return dict(redact(dict(event_dict)))
