# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exception hierarchy of the controller-side code (the seed's names)."""

from __future__ import annotations


class IrisOpsError(Exception):
    """Base of every error this collection raises on purpose."""


class ValidationError(IrisOpsError):
    """Input (a command, a request, an option) violates its contract; nothing was changed.

    ``errors`` lists ``(json_path, reason)`` pairs so callers can report each field.
    """

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class ExternalIntegrationError(IrisOpsError):
    """A system outside the collection (HTTP sink, LLM endpoint, command source) failed."""
