# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Remove secrets (passwords, API keys, bearer tokens, licence keys) from anything we log or return."""

from __future__ import annotations

import re
from typing import Any, MutableMapping

# The secret keys are listed once, target-side, so modules (diffs, results) and the controller agree.
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import MASK, SECRET_SETTING_NAMES, is_secret_key

REDACTED = MASK
# Secrets recognisable by their shape inside free text.
SECRET_VALUE_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),                                       # OpenAI-style API keys
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),               # Authorization header values
    re.compile(r"(?i)\b(%s|password|passwd|pwd|api[_-]?key|secret|token)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"
               % "|".join(SECRET_SETTING_NAMES)),
    re.compile(r"(?i)(://[^:/@\s]+:)([^@\s]+)(@)"),                              # credentials in URLs
)


def redact_text(text: str) -> str:
    text = SECRET_VALUE_PATTERNS[0].sub(REDACTED, text)
    text = SECRET_VALUE_PATTERNS[1].sub(lambda m: "%s %s" % (m.group(1), REDACTED), text)
    text = SECRET_VALUE_PATTERNS[2].sub(lambda m: "%s%s%s" % (m.group(1), m.group(2), REDACTED), text)
    return SECRET_VALUE_PATTERNS[3].sub(lambda m: "%s%s%s" % (m.group(1), REDACTED, m.group(3)), text)


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
