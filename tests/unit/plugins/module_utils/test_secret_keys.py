# SPDX-License-Identifier: GPL-3.0-or-later
"""The one list of secret keys, as modules and the controller's redaction use it."""

from __future__ import annotations

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import MASK, is_secret_key, masked
from ansible_collections.irisops.iris.plugins.plugin_utils import redaction


@pytest.mark.parametrize("key", ["PasswordHash", "LicenseID", "license_id", "LicenseKey", "AuthorizationKey", "api_key",
                                 "client_secret", "Token", "private-key", "credentials"])
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key) and masked(key, "value") == MASK


@pytest.mark.parametrize("key", ["gmheap", "LockThreshold", "LicenseServers", "prompt_tokens", "requires_user_action",
                                 "api_key_env", "password_file", "MaxServerConn"])
def test_keys_that_hold_no_secret(key: str) -> None:
    assert not is_secret_key(key) and masked(key, "value") == "value"


def test_absent_and_empty_values_stay_visible() -> None:
    assert masked("PasswordHash", None) is None and masked("PasswordHash", "") == ""


def test_the_controller_redaction_uses_the_same_list() -> None:
    assert redaction.REDACTED == MASK
    assert redaction.redact({"LicenseID": "LIC-1", "PasswordHash": "abc,def", "gmheap": "1"}) == {
        "LicenseID": MASK, "PasswordHash": MASK, "gmheap": "1"}
    text = redaction.redact_text("[Startup]\nPasswordHash=abc,def\nLicenseID=LIC-1\nLicenseKey: K-9\ngmheap=1")
    assert text == "[Startup]\nPasswordHash=%s\nLicenseID=%s\nLicenseKey: %s\ngmheap=1" % (MASK, MASK, MASK)
