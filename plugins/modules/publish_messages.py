#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: publish_messages
short_description: Publish IRIS messages.log entries as JSON to an HTTP endpoint, at least once
version_added: 0.1.0
description:
  - POSTs IRISMessage JSON documents (see C(contracts/iris_message.schema.json)) to O(endpoint), one per request
    or in batches, with bounded concurrency.
  - Every message carries an C(Idempotency-Key) derived from its content (timestamp, pid, severity, category,
    text, instance, host; not its trace id), so a receiver can drop the duplicates that at-least-once delivery implies.
    A batch request carries the keys of its messages, in body order, in C(X-Idempotency-Keys).
  - Retries connection errors, timeouts and HTTP 408, 425, 429, 500, 502, 503 and 504 with exponential backoff
    (O(backoff_base) times 1, 2, 4 ... plus up to O(backoff_base) of random jitter; a longer C(Retry-After) wins).
    Other HTTP 4xx answers are final; those messages are written to C(rejected.ndjson) in the spool.
  - B(Durable spool.) The new messages of a run are appended to a journal in O(spool_dir) in group-commit windows (one
    write and one fsync per window of up to 8192 messages), and no message is sent before the fsync of its window
    returned; a message leaves the journal only after the endpoint acknowledged it with
    HTTP 2xx. What is still unacknowledged after the retries (or when the run is killed) is sent first by the next
    run. When one request exhausts its retries the endpoint is considered down and the remaining messages stay in
    the spool without further attempts.
  - A spool file whose last line was cut short (a kill or a crash during a write) is repaired when the run starts;
    the fragment is moved to C(<file>.quarantine-<time>-<n>) beside it and reported in RV(quarantined) and a warning.
    Such a fragment was never fully fsync'd, so its message was never sent nor reported as spooled. Unreadable
    journal lines are quarantined the same way, never dropped silently.
  - B(Undelivered messages fail the task) (spooled after the retries, or refused by the endpoint), with the count
    and the spool directory in the message, unless O(undelivered=warn).
  - B(Trace ids.) Every message a run accepts carries the run's trace id (RV(trace_id)) in its C(trace_id) field, and
    every request carries it in C(traceparent). A receiver should correlate by the message's C(trace_id). A message
    redelivered from the spool by a later run keeps the trace id of the run that accepted it.
  - Runs on the controller (action plugin). The network path is the controller's.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.ACTION
attributes:
  check_mode:
    support: full
    details:
      - Nothing is sent and the spool is not changed; RV(would_send) counts the backlog and the new messages.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Publishing sends the messages again on every run; receivers use the C(Idempotency-Key) to drop duplicates.
  platform:
    support: full
    platforms: posix
options:
  endpoint:
    description:
      - The http:// or https:// URL that receives the POST requests.
      - Credentials embedded in the URL are redacted from results and logs.
    type: str
    required: true
  messages:
    description:
      - The messages to publish, each an IRISMessage object (C(timestamp) with offset, C(pid), C(severity),
        C(category), C(text), optional C(instance), C(host), C(trace_id)).
      - Entries returned by M(irisops.iris.messages_log) can be passed as they are.
      - Exactly one of O(messages), O(messages_file) and O(eda_event) is required.
    type: list
    elements: dict
  messages_file:
    description:
      - A file on the controller with the messages to publish, either a JSON array or NDJSON of IRISMessage
        objects, or a C(messages.log) file (its entries are parsed in O(timezone)).
    type: path
  eda_event:
    description:
      - Publish the message (or list of messages) of the EDA event that started the playbook, read untemplated from
        C(ansible_eda.event.message), as the rulebook C(publish_severe.yml) with the C(irisops.iris.messages_log)
        source sets it. A C({{ ... }}) written in a log line is published as written, never evaluated.
      - Mutually exclusive with O(messages) and O(messages_file).
    type: bool
  min_severity:
    description: Publish only messages at least this severe (0 info, 1 warning, 2 severe, 3 fatal).
    type: int
    default: 0
    choices: [0, 1, 2, 3]
  instance:
    description: Instance name set on messages that have none.
    type: str
  host:
    description: Host name set on messages that have none.
    type: str
  timezone:
    description:
      - IANA zone name or V(UTC) of the timestamps in a C(messages.log) O(messages_file); the controller's zone by default.
    type: str
  spool_dir:
    description:
      - Directory of the durable spool (created with mode 0700).
      - By default one directory per endpoint under C(~/.cache/irisops/publish-spool/), so a backlog is never
        delivered to another endpoint.
      - One publisher uses a spool at a time; another run waits up to 60 seconds for it.
    type: path
  headers:
    description:
      - Extra HTTP headers. C(Authorization), C(Content-Type), C(Idempotency-Key) and C(traceparent) are set by
        the plugin and refused here.
    type: dict
    default: {}
  auth_token:
    description:
      - Bearer token sent as C(Authorization) header. Keep it in Ansible Vault or use O(auth_token_env).
      - Never logged, returned or written to the spool.
    type: str
  auth_token_env:
    description: Environment variable on the controller holding the bearer token when O(auth_token) is not given.
    type: str
    default: IRISOPS_PUBLISH_TOKEN
  validate_certs:
    description: Verify the endpoint's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds one request may take, connection included.
    type: float
    default: 30
  max_attempts:
    description: Attempts per request before the messages stay in the spool for the next run.
    type: int
    default: 3
  backoff_base:
    description: Delay in seconds before the first retry; it doubles with every further retry.
    type: float
    default: 1
  concurrency:
    description: Maximum number of requests in flight at once.
    type: int
    default: 10
  batch_size:
    description:
      - Messages per request (1 to 100). With V(1) each request body is one JSON object.
      - When not set, the endpoint is asked with an C(OPTIONS) request; if its C(Accept-Post) header lists
        C(application/x-ndjson), messages are sent as NDJSON batches of 100, otherwise one per request.
      - A batch never mixes trace ids (backlog messages of an earlier run go in their own requests).
    type: int
  batch_format:
    description:
      - Body of a batch request, C(application/x-ndjson) or a JSON array, when O(batch_size) is set above 1.
        Negotiated batches are always NDJSON.
    type: str
    default: ndjson
    choices: [ndjson, array]
  log_file:
    description: Append structured JSON log lines (attempts, failures, summary; secrets redacted) to this file.
    type: path
  trace_id:
    description:
      - Trace id of this publication (32 lowercase hex digits), stamped on every message the run accepts.
      - When omitted, the run continues the trace its messages carry if they all carry the same one (a generated
        batch keeps its generation trace); otherwise a new trace id is generated.
    type: str
  undelivered:
    description:
      - What messages that were not delivered in this run (spooled for the next run, or refused by the endpoint) do
        to the task. V(fail) fails it, naming the counts and the spool directory; V(warn) returns a warning instead.
    type: str
    default: fail
    choices: [fail, warn]
seealso:
  - module: irisops.iris.messages_log
notes:
  - Requires aiohttp, pydantic and structlog on the controller.
"""

EXAMPLES = r"""
- name: Read the severe entries of the last hour
  irisops.iris.messages_log:
    instance: IRIS
    min_severity: severe
    since: last 1 hours
  register: log

- name: Publish them
  irisops.iris.publish_messages:
    endpoint: https://collector.example.com/iris/messages
    messages: "{{ log.entries }}"
    instance: IRIS
    host: "{{ inventory_hostname }}"
    auth_token: "{{ vault_collector_token }}"

- name: Publish a generated NDJSON file in batches of 50
  irisops.iris.publish_messages:
    endpoint: http://127.0.0.1:8080/ingest
    messages_file: /tmp/messages.ndjson
    batch_size: 50
    concurrency: 4
"""

RETURN = r"""
msg:
  description:
    - One-line summary of the publication with the latency median.
    - When messages were not delivered it starts with their count, the spool directory and the dead-letter file.
  returned: always
  type: str
  sample: sent 120, refused 0, spooled 0 (backlog was 20); latency p50 3.2 ms
endpoint:
  description: The endpoint, credentials redacted.
  returned: always
  type: str
sent:
  description: Messages acknowledged by the endpoint in this run (backlog included).
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
refused:
  description: Messages the endpoint refused for good (HTTP 4xx other than 408, 425, 429); see RV(rejections).
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
spooled:
  description: Messages left in the spool, sent first by the next run.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
backlog:
  description: Messages earlier runs had left in the spool when this run started.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
would_send:
  description: In check mode, messages a real run would try to send (backlog plus new).
  returned: check mode
  type: int
undelivered:
  description: Messages not delivered by this run (RV(spooled) plus RV(refused)); non-zero fails the task unless O(undelivered=warn).
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
retraced:
  description: Messages that came with a trace id other than the run's and were published with the run's.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
batch_size:
  description: Messages per request used in this run (configured, or negotiated with the endpoint).
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
quarantined:
  description: Torn last lines and unreadable lines cut from spool files when the run started, each kept in a side file.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: list
  elements: dict
  contains:
    file:
      description: The spool file that was repaired (C(journal.ndjson), C(acked.keys) or C(rejected.ndjson)).
      type: str
    quarantine:
      description: Path of the side file holding the bytes that were cut.
      type: str
    bytes:
      description: Number of bytes cut.
      type: int
    reason:
      description: Why they were cut.
      type: str
duplicates_skipped:
  description: Messages not queued again because a message with the same idempotency key was already queued.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
requests:
  description: HTTP requests answered with 2xx.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
attempts:
  description: HTTP requests made, retries included.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: int
latency_ms:
  description:
    - Percentiles of the round trip of acknowledged requests, in milliseconds.
    - Every value is null (None) when no request was acknowledged; the summary in RV(msg) then says C(n/a).
  returned: when a publication ran (also when undelivered messages failed the task)
  type: dict
  contains:
    p50:
      description: Median.
      type: float
    p90:
      description: 90th percentile.
      type: float
    p99:
      description: 99th percentile.
      type: float
    max:
      description: Slowest request.
      type: float
rejections:
  description: The first 20 refused requests with the idempotency keys of their messages.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: list
  elements: dict
  sample: [{"idempotency_keys": ["0f1e2d3c4b5a69788796a5b4c3d2e1f0"], "status": 400, "reason": "HTTP 400 Bad Request"}]
spool_dir:
  description: The spool directory used.
  returned: when a publication ran (also when undelivered messages failed the task)
  type: str
trace_id:
  description: Trace id of this publication, carried by every message it accepted and sent as C(traceparent).
  returned: when a publication ran (also when undelivered messages failed the task)
  type: str
errors:
  description: On invalid input, each offending field as a JSON path and the reason.
  returned: failure
  type: list
  elements: dict
tool_result:
  description: ToolResult of the publication (success; partial when some messages were spooled or refused; failure when none was delivered).
  returned: always
  type: dict
"""
