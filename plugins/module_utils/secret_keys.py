# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which keys hold secrets: the one list, for modules (stdlib only) and the controller's redaction.

A key is secret when its name matches ``SECRET_KEY_PATTERN`` (``PasswordHash``, ``LicenseID``,
``api_key``, ...) and is not one of ``NON_SECRET_KEYS``. The CPF keys are also named in
``SECRET_SETTING_NAMES`` so that ``PasswordHash=...`` inside free text is recognised as well
(plugin_utils/redaction.py builds its text pattern from them).
"""

from __future__ import annotations

import re
from typing import Optional, overload

MASK = "********"
# Keys whose values are secret whatever they look like (CPF parameters, option names, JSON fields).
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|authori[sz]ation|auth[_-]?header|licen[cs]e[_-]?(key|id)"
    r"|private[_-]?key|credential)",
    re.IGNORECASE,
)
# Keys that merely mention a secret-ish word but hold no secret.
NON_SECRET_KEYS = frozenset({"token_count", "tokens", "prompt_tokens", "completion_tokens", "total_tokens",
                             "requires_user_action", "api_key_env", "password_file"})
# Secret settings of IRIS files ([Startup] PasswordHash and LicenseID of the CPF, the licence key's
# AuthorizationKey and LicenseKey): also recognised as ``Name=value`` inside free text.
SECRET_SETTING_NAMES = ("PasswordHash", "LicenseID", "AuthorizationKey", "LicenseKey")


def is_secret_key(key: str) -> bool:
    """True when the value stored under ``key`` must never be shown."""
    return key.lower() not in NON_SECRET_KEYS and SECRET_KEY_PATTERN.search(key) is not None


@overload
def masked(key: str, value: str) -> str: ...


@overload
def masked(key: str, value: Optional[str]) -> Optional[str]: ...


def masked(key: str, value: Optional[str]) -> Optional[str]:
    """``value`` as it may be shown: MASK for a non-empty secret, else unchanged (absent and empty stay visible)."""
    return MASK if value and is_secret_key(key) else value
