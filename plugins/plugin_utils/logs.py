# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Structured JSON logs (structlog): timestamp, level, event, trace_id and context, secrets redacted."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from ansible_collections.irisops.iris.plugins.plugin_utils.redaction import redact_processor


def build_logger(name: str, stream: TextIO | None = None, level: int = logging.INFO, **context: Any) -> Any:
    """A JSON logger writing one object per line to ``stream`` (stderr by default).

    Each logger is self-contained (no global structlog configuration), so plugins running inside
    ansible-playbook never disturb each other or Ansible's own output.
    """
    logger = structlog.wrap_logger(
        structlog.PrintLogger(stream if stream is not None else sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )
    return logger.bind(logger=name, **context)
