#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: generate_messages
short_description: Generate realistic InterSystems IRIS messages.log entries
version_added: 0.1.0
description:
  - Generates messages.log entries (timestamp C(MM/DD/YY-HH:MM:SS:mmm), PID in parentheses, severity,
    C([Facility.Event]) tag and text) for testing monitors, parsers and remediation, from an offline template
    engine (default) or an OpenAI-compatible LLM.
  - The template engine uses a catalog built from real, attributed messages.log excerpts (C(log_samples/)) and, where
    no captured line exists (lock table full, ECP, mirror), from the wording the InterSystems documentation describes.
    It writes scenario sequences (a startup, a licence exhaustion episode, a lock table filling up, an external backup,
    a mirror failover, an ECP outage) as well as single lines, with sequential timestamps and one PID per process.
  - With O(seed) and O(start_time) the output is identical from run to run (with O(trace_id) as well for JSON output).
  - The LLM engine sends format rules and real few-shot lines, checks every returned line with the collection's
    messages.log parser and against the request (category, severity), stamps timestamps and PIDs itself, retries
    missing lines and then falls back to the template engine or fails (O(fallback)).
  - A returned line is refused when it is not exactly one printable line (escape sequences, NUL, an embedded CR,
    TAB, DEL, C1 controls such as U+0085, U+2028/U+2029) or when it carries the API key or anything else the
    redaction rules hide; refused lines count as rejected with their reason and are never written.
  - A reply that is not a chat completion (HTTP 200 with an HTML or otherwise non-JSON body) is a failed call whose
    error names the status, content type and first bytes (scrubbed); O(fallback) then applies as for any failure.
  - Messages are generated on the controller into a temporary file (constant memory), then returned, copied to
    O(dest) on the target, or appended to an instance's live C(messages.log) (O(append_to_instance_log)).
  - This is an action plugin; it runs the C(iris) control command, M(ansible.builtin.copy) and
    M(ansible.builtin.command) on the target.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.ACTION
attributes:
  check_mode:
    support: full
    details:
      - Messages are generated and returned; nothing is written to O(dest) or to the instance's C(messages.log).
  diff_mode:
    support: partial
    details:
      - The diff of O(dest) comes from M(ansible.builtin.copy); appending to C(messages.log) has no diff.
  idempotent:
    support: partial
    details:
      - With O(seed) and O(start_time), writing O(dest) again reports no change (same checksum); for O(output=json)
        and O(output=ndjson) pass O(trace_id) too, since every message carries it.
      - Appending to an instance's C(messages.log) always changes it.
  platform:
    support: full
    platforms: posix
options:
  category:
    description:
      - One category or a list of them; a comma-separated string works too.
      - V(config), V(license), V(memory), V(lock), V(journal), V(startup), V(mirror), V(network).
      - With O(engine=llm) the count is shared across the categories in order.
    type: list
    elements: str
    required: true
  count:
    description: Number of entries (a multi-line entry counts once). 1 to 100000.
    type: int
    default: 10
  severity:
    description:
      - Allowed severities as a range V(2-3), a single value V(2), names (V(warning), V(severe-fatal)) or a list V([0, 2]).
      - 0 information, 1 warning, 2 severe error, 3 fatal error.
    type: raw
    default: "0-3"
  engine:
    description: V(template) (offline, deterministic with O(seed)) or V(llm) (OpenAI-compatible chat completions).
    type: str
    choices: [template, llm]
    default: template
  seed:
    description: Seed of the random generator; with O(start_time) it makes the output reproducible.
    type: int
  start_time:
    description:
      - Timestamp of the first entry, ISO 8601 (naive means O(timezone)) or V(last N minutes|hours|days).
      - Defaults to now.
    type: str
  timezone:
    description: IANA zone the timestamps are written in (messages.log has no zone); default the controller's local zone.
    type: str
  rate:
    description: Average number of single entries per second of log time; scenario lines keep their own pace.
    type: float
    default: 1.0
  jitter:
    description: Random spread of the interval between single entries, as a fraction of it (0 to 1).
    type: float
    default: 0.5
  output:
    description:
      - Format of O(dest) and of what is appended to C(messages.log).
      - V(json) (an array of IRISMessage objects), V(ndjson) (one per line) or V(log) (messages.log lines).
    type: str
    choices: [json, ndjson, log]
    default: json
  dest:
    description:
      - File on the target to write (replaced; unchanged when the content is the same).
      - Mutually exclusive with O(append_to_instance_log).
    type: path
  instance:
    description:
      - IRIS instance name stamped on the returned messages; with O(append_to_instance_log) the instance whose
        C(messages.log) receives them, resolved with C(iris qlist) on the target.
    type: str
  append_to_instance_log:
    description:
      - Append the entries to the live C(mgr/messages.log) of O(instance), so monitors, the EDA source and the
        emulator's readers see them. Needs O(output=log).
    type: bool
    default: false
  iris_bin:
    description: Path of the C(iris) control command on the target (default C(iris) on E(PATH)).
    type: path
  return_limit:
    description:
      - Largest number of messages returned in RV(messages). Without O(dest) or O(append_to_instance_log),
        O(count) may not exceed it; with them, only the count and the file are returned when O(count) exceeds it.
    type: int
    default: 1000
  trace_id:
    description: Trace id (32 lowercase hex) stamped on every message and on RV(tool_result); a new one when omitted.
    type: str
  model:
    description: Chat model for O(engine=llm).
    type: str
    default: gpt-4o
  temperature:
    description: Sampling temperature for O(engine=llm) (0 to 2).
    type: float
    default: 0.7
  base_url:
    description: Base URL of an OpenAI-compatible API (for example C(http://127.0.0.1:8000/v1)); default OpenAI's.
    type: str
  api_key:
    description:
      - API key for O(engine=llm); defaults to the E(OPENAI_API_KEY) environment variable of the controller.
      - Never logged or returned; keep it in Ansible Vault.
    type: str
  llm_timeout:
    description: Seconds to wait for one chat completion.
    type: float
    default: 30.0
  llm_max_retries:
    description: HTTP retries of one call (429, 5xx, timeouts) with the SDK's backoff.
    type: int
    default: 2
  llm_max_attempts:
    description: Calls per category while valid lines are still missing.
    type: int
    default: 3
  fallback:
    description: What to do when the LLM did not produce enough valid lines; V(template) fills in, V(fail) fails.
    type: str
    choices: [template, fail]
    default: template
notes:
  - Requires pydantic, structlog and (for O(engine=llm)) openai on the controller.
seealso:
  - module: irisops.iris.messages_log
"""

EXAMPLES = r"""
- name: Ten severe or fatal config messages as JSON
  irisops.iris.generate_messages:
    category: config
    count: 10
    severity: "2-3"
  register: generated

- name: A reproducible startup and licence episode written to a file
  irisops.iris.generate_messages:
    category: [startup, license]
    count: 200
    seed: 42
    start_time: "2025-03-01T08:00:00"
    output: log
    dest: /tmp/messages.log

- name: Lock table errors appended to the live messages.log of IRIS1
  irisops.iris.generate_messages:
    category: lock
    count: 5
    severity: severe
    instance: IRIS1
    append_to_instance_log: true
    output: log

- name: Messages from a local OpenAI-compatible server, failing instead of falling back
  irisops.iris.generate_messages:
    category: memory
    count: 20
    engine: llm
    base_url: http://127.0.0.1:8000/v1
    model: llama3
    fallback: fail
"""

RETURN = r"""
messages:
  description: The generated messages (IRISMessage contract), at most O(return_limit).
  returned: always
  type: list
  elements: dict
  sample:
    - timestamp: "2025-03-01T08:00:01.445000Z"
      pid: 41906
      severity: 2
      category: Utility.Event
      text: "LMF Error:  Could not send startup message to license server"
      instance: IRIS1
      host: null
      trace_id: 4bf92f3577b34da6a3ce929d0e0e4736
messages_returned:
  description: Number of messages in RV(messages).
  returned: always
  type: int
count:
  description: Number of entries generated.
  returned: always
  type: int
dest:
  description: File written (O(dest) or the instance's C(messages.log)); null when nothing was written.
  returned: always
  type: str
output:
  description: Format of the written file.
  returned: always
  type: str
engine:
  description: Engine requested.
  returned: always
  type: str
checksum:
  description: SHA-1 of the generated content in O(output) format.
  returned: always
  type: str
trace_id:
  description: Trace id of the run, on every message too.
  returned: always
  type: str
metrics:
  description:
    - Generation metrics. C(engine), C(messages), C(duration_ms), C(messages_per_second); with O(engine=llm) also
      C(llm) with C(calls), C(failed_calls), C(latency_ms_p50), C(latency_ms_p95), C(latency_ms_max), C(prompt_tokens),
      C(completion_tokens), C(accepted_lines), C(rejected_lines), C(validity_rate), C(fallback_messages),
      C(errors) and C(rejected_examples) (the first five rejected lines, control characters escaped, with their reason).
  returned: always
  type: dict
diff:
  description: Before/after of O(dest) from M(ansible.builtin.copy) in diff mode; the "after" side is named after O(dest).
  returned: when diff mode is on and O(dest) changed
  type: list
  elements: dict
errors:
  description: On invalid options or a failed LLM run, each offending field and the reason.
  returned: failure
  type: list
  elements: dict
  sample: [{"path": "severity", "reason": "no lock messages exist at severity 3"}]
tool_result:
  description: ToolResult of the run (status, changes, duration_ms, trace_id, dry_run).
  returned: always
  type: dict
"""
