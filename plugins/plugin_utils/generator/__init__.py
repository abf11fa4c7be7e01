# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Message generation (controller side): an offline template engine and an OpenAI-compatible LLM backend.

- ``session``   sequential timestamps, stable PIDs and one consistent instance profile per run
- ``catalog``   IRIS message templates per category, built from log_samples/ and the documentation
- ``scenarios`` multi-line episodes (startup, licence exhaustion, lock table filling up, ...)
- ``engine``    the template engine (deterministic with a seed) and the request options
- ``validation`` checks every line (template or LLM) with iris_log and against the request
- ``llm``       the LLM backend with few-shot prompts, retries and fallback to the template engine
- ``output``    streaming writers for json, ndjson and messages.log output
"""
