#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: messages_log
short_description: Read and filter an InterSystems IRIS messages.log
version_added: 0.1.0
description:
  - Parses the C(messages.log) of an IRIS instance (or the bundled emulator) into entries with timestamp, pid,
    severity, category and text; continuation lines (journal switch messages, the C(*** Recovery started) block)
    stay with the entry before them.
  - Filters by minimum severity, categories and time, and returns counts per severity and per category.
  - Reads three forms of the same entries, told apart by the first line that starts an entry (see RV(form)),
    a plain C(messages.log); C(docker compose logs) output, whose C(service  | ) prefix is stripped (lines of other
    services are reported as malformed); and the structured log IRIS writes with structured logging on
    (C([Logging] Format=NVP), one C(when="..." pid=... level=... event=... text="...") line per entry, levels
    C(INFO)/C(WARNING)/C(SEVERE)/C(FATAL) read as severities 0-3, C(DEBUG) levels as 0).
  - A file with lines none of which starts an entry in these forms fails, naming what it looks like (for example a
    C(Format=JSON) structured log); an empty file returns no entries.
  - Lines that are neither an entry nor a continuation (for example lines wrapped by C(kubectl logs) prefixes in a
    plain log) are returned in RV(malformed_lines) with their line number and the reason.
  - The file is streamed, never read whole into memory. With O(max_entries) it is read backwards from the end
    in blocks, so the newest entries of a large file come back without parsing all of it.
  - Read-only; never changes anything on the target.
author:
  - irisops.iris contributors (@irisops)
extends_documentation_fragment:
  - irisops.iris.attributes
  - irisops.iris.attributes.INFO_MODULE
  - irisops.iris.iris.CONTROL
attributes:
  platform:
    support: full
    platforms: posix
options:
  path:
    description:
      - Path of the C(messages.log) file to read.
      - Exactly one of O(path) and O(instance) is required.
    type: path
  instance:
    description:
      - Name of the IRIS instance whose C(mgr/messages.log) to read, as listed by C(iris qlist) (case-insensitive).
      - The instance's directory is resolved with the C(iris) control command (see O(iris_bin)).
    type: str
  min_severity:
    description:
      - Return only entries at least this severe.
      - V(0)/V(info), V(1)/V(warning), V(2)/V(severe), V(3)/V(fatal).
    type: raw
    default: 0
  categories:
    description:
      - Return only entries whose category is one of these, for example V(Utility.Event).
      - A name without a dot also matches every event of that facility, so V(WriteDaemon) matches
        V(WriteDaemon.Started) and V(WriteDaemon.UsingWIJFile).
      - Matching is case-sensitive, like the categories IRIS writes.
    type: list
    elements: str
  since:
    description:
      - Return only entries at or after this time.
      - An ISO 8601 date/time (V(2026-01-31T08:00:00), V(2026-01-31T08:00:00+01:00), V(2026-01-31T07:00:00Z));
        without an offset it is a time in O(timezone).
      - Or a relative time V(last N minutes), V(last N hours) or V(last N days) before now.
      - When reading backwards (O(max_entries)) the scan stops at the first entry older than this,
        as messages.log is written in time order.
    type: str
  max_entries:
    description:
      - Return at most this many entries, the newest ones, in file order.
      - The file is then read backwards from its end in blocks until enough matching entries are found.
    type: int
  timezone:
    description:
      - IANA zone name (for example V(Europe/Paris)) or V(UTC) of the timestamps in the log.
      - IRIS writes the host's local time without a zone; by default the target's local zone is used
        (E(TZ), then C(/etc/localtime)).
    type: str
notes:
  - Line numbers count from 1 and refer to the whole file, also when it is read backwards.
  - With O(max_entries), malformed lines are counted from the oldest returned entry (or, when fewer entries match,
    from the oldest line the backward scan read) to the end of the file; RV(malformed_from_line) says where.
  - Bytes that are not valid UTF-8 are returned as U+FFFD.
"""

EXAMPLES = r"""
- name: Severe and fatal entries of the last hour
  irisops.iris.messages_log:
    instance: IRIS
    min_severity: severe
    since: last 1 hours
  register: problems

- name: Fail when the instance logged a fatal entry
  ansible.builtin.assert:
    that: problems.severity_counts.fatal == 0
    fail_msg: "{{ problems.entries | map(attribute='text') | list }}"

- name: The 50 newest write daemon and journal entries of a log file, in the log's own zone
  irisops.iris.messages_log:
    path: /usr/irissys/mgr/messages.log
    categories:
      - WriteDaemon
      - Utility.Event
    max_entries: 50
    timezone: Europe/Paris
  register: tail

- name: Entries since a point in time, with an emulated instance's control command
  irisops.iris.messages_log:
    instance: iris1
    iris_bin: /opt/iris-emulator/iris1/bin/iris
    since: "2026-01-31T08:00:00"
"""

RETURN = r"""
path:
  description: The messages.log file that was read.
  returned: success
  type: str
  sample: /usr/irissys/mgr/messages.log
timezone:
  description: The zone the log's timestamps were read in.
  returned: success
  type: str
  sample: Europe/Paris
entries:
  description: The matching entries, oldest first.
  returned: success
  type: list
  elements: dict
  contains:
    timestamp:
      description: ISO 8601 time with milliseconds and the offset of O(timezone).
      type: str
      sample: "2021-08-11T05:49:43.342+00:00"
    pid:
      description: Process id that wrote the entry.
      type: int
      sample: 18374
    severity:
      description: 0 (info), 1 (warning), 2 (severe) or 3 (fatal).
      type: int
      sample: 0
    severity_name:
      description: V(info), V(warning), V(severe) or V(fatal).
      type: str
      sample: info
    category:
      description: The bracketed category, for example V(Utility.Event).
      type: str
      sample: Generic.Event
    text:
      description: The message; continuation lines follow the header text, joined by newlines.
      type: str
      sample: "INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE\nJournaling switched to: /iris/journal1/20210811.003"
    line_number:
      description: Line of the entry's header in the file.
      type: int
      sample: 5
severity_counts:
  description: Number of returned entries per severity name (every name present, zero included).
  returned: success
  type: dict
  sample: {"info": 7, "warning": 2, "severe": 0, "fatal": 0}
category_counts:
  description: Number of returned entries per category.
  returned: success
  type: dict
  sample: {"Utility.Event": 8, "Generic.Event": 1}
truncated:
  description: True when O(max_entries) left out older matching entries.
  returned: success
  type: bool
  sample: false
malformed_lines:
  description:
    - Lines that are neither an entry header nor a continuation line, at most the first 100 read.
  returned: success
  type: list
  elements: dict
  contains:
    line_number:
      description: Line number in the file.
      type: int
      sample: 12
    text:
      description: The line.
      type: str
      sample: "irislp  | 09/28/22-12:07:29:340 (1149) 0 [Generic.Event] 100MB global buffers"
    reason:
      description: Why the line is not an entry.
      type: str
      sample: "entry header preceded by 'irislp  | ' (a docker-compose or iris-main prefix?)"
malformed_count:
  description:
    - Number of malformed lines from RV(malformed_from_line) to the end of the file (also those beyond the first 100).
  returned: success
  type: int
  sample: 0
malformed_from_line:
  description:
    - First line of the part of the file that was parsed and whose malformed lines RV(malformed_count) counts;
      V(1) when the whole file was read (always without O(max_entries)).
  returned: success
  type: int
  sample: 1
form:
  description:
    - The form the file was read in, V(messages.log), V(docker-compose) (prefixes stripped) or V(structured-nvp).
  returned: success
  type: str
  sample: messages.log
"""

import os
from datetime import datetime, tzinfo
from typing import BinaryIO, Dict, Iterator, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.iris_control import CONTROL_ARGUMENT_SPEC, IrisControl, IrisControlError

MALFORMED_REPORT_LIMIT = 100
DETECT_READ_BYTES = 65536


class EntryFilter(object):
    """The user's severity, category and time filters, applied to entry headers."""

    def __init__(self, min_severity: int, categories: Optional[List[str]], since: Optional[datetime]) -> None:
        self.min_severity = min_severity
        self.categories = frozenset(categories or ())
        self.since = since

    def matches(self, entry: iris_log.LogEntry) -> bool:
        if entry.severity < self.min_severity:
            return False
        if self.since is not None and entry.timestamp < self.since:
            return False
        if not self.categories:
            return True
        facility = entry.category.split(".", 1)[0]
        return entry.category in self.categories or facility in self.categories


class Report(object):
    """Entries, counts and malformed lines collected while the file streams past."""

    def __init__(self) -> None:
        self.entries: List[Dict[str, object]] = []
        self.severity_counts = dict((name, 0) for name in iris_log.SEVERITY_NAMES.values())
        self.category_counts: Dict[str, int] = {}
        self.malformed_lines: List[Dict[str, object]] = []
        self.malformed_count = 0
        self.form = iris_log.FORM_PLAIN
        self.first_line = 1  # malformed lines are counted from this line to the end of the file

    def add(self, item: iris_log.ParsedItem, entry_filter: EntryFilter) -> None:
        if isinstance(item, iris_log.MalformedLine):
            self.malformed_count += 1
            if len(self.malformed_lines) < MALFORMED_REPORT_LIMIT:
                self.malformed_lines.append(item.as_dict())
        elif entry_filter.matches(item):
            self.entries.append(item.as_dict())
            self.severity_counts[item.severity_name] += 1
            self.category_counts[item.category] = self.category_counts.get(item.category, 0) + 1


def decoded_lines(stream: BinaryIO) -> Iterator[str]:
    for raw in stream:
        yield iris_log.decode_line(raw)


class UnreadableLog(Exception):
    """The file has lines, but none starts an entry in any form this module reads."""


def detect_form(stream: BinaryIO) -> Optional[iris_log.LogForm]:
    """The file's form from its first line that starts an entry; UnreadableLog when no line does (None: empty)."""
    stream.seek(0)
    first_line: Optional[str] = None
    # Bounded reads: a file without line breaks must not be read whole into memory (a header fits easily).
    for raw in iter(lambda: stream.readline(DETECT_READ_BYTES), b""):
        line = iris_log.decode_line(raw)
        if first_line is None and line.strip():
            first_line = line
        form = iris_log.detect_form([line])
        if form is not None:
            return form
    if first_line is not None:
        raise UnreadableLog(iris_log.describe_unreadable(first_line))
    return None


def find_tail_start(stream: BinaryIO, entry_filter: EntryFilter, max_entries: int, tz: tzinfo,
                    form: Optional[iris_log.LogForm] = None) -> Tuple[int, bool]:
    """Where to parse from for the newest ``max_entries`` matching entries, and whether older matches exist.

    The offset is the oldest of those headers; when fewer match, the oldest line the backward scan read (the
    start of the file, or the first header older than ``since``), so the lines read are all reported on.
    """
    form = form or iris_log.LogForm(iris_log.FORM_PLAIN)
    end = stream.seek(0, os.SEEK_END)
    found = 0
    start: Optional[int] = None
    for offset, raw in iris_log.iter_lines_backwards(stream, end):
        try:
            header = form.header(iris_log.split_line(iris_log.decode_line(raw)), tz)
        except iris_log.LogFormatError:
            continue
        if header is None:
            continue
        if entry_filter.since is not None and header.timestamp < entry_filter.since:
            return (offset if start is None else start), False
        if entry_filter.matches(header):
            found += 1
            if found > max_entries:
                return (offset if start is None else start), True
            start = offset
    return (0 if start is None else start), False


def read_log(path: str, entry_filter: EntryFilter, max_entries: Optional[int], tz: tzinfo) -> Tuple[Report, bool]:
    """Entries of the file in its own form; malformed lines counted over every line parsed (``first_line``)."""
    report = Report()
    truncated = False
    with open(path, "rb") as stream:
        form = detect_form(stream)
        if form is None:
            return report, False
        report.form = form.name
        stream.seek(0)
        if max_entries is not None:
            start, truncated = find_tail_start(stream, entry_filter, max_entries, tz, form)
            report.first_line = iris_log.count_lines_before(stream, start) + 1
            stream.seek(start)
        for item in iris_log.iter_parse(decoded_lines(stream), tz, report.first_line, form):
            report.add(item, entry_filter)
    return report, truncated


def resolve_path(module: AnsibleModule) -> str:
    if module.params["path"]:
        return str(module.params["path"])
    control = IrisControl.from_module(module)
    return control.instance(module.params["instance"]).messages_log_path


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            instance=dict(type="str"),
            **CONTROL_ARGUMENT_SPEC,
            min_severity=dict(type="raw", default=0),
            categories=dict(type="list", elements="str"),
            since=dict(type="str"),
            max_entries=dict(type="int"),
            timezone=dict(type="str"),
        ),
        required_one_of=[("path", "instance")],
        mutually_exclusive=[("path", "instance")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        min_severity = iris_log.parse_severity(params["min_severity"])
    except iris_log.LogFormatError as exc:
        module.fail_json(msg="min_%s" % exc)
    try:
        tz = iris_log.resolve_timezone(params["timezone"])
        since = iris_log.since_cutoff(params["since"], tz) if params["since"] else None
    except iris_log.LogFormatError as exc:
        module.fail_json(msg=str(exc))
    if params["max_entries"] is not None and params["max_entries"] < 1:
        module.fail_json(msg="max_entries: must be at least 1, got %d" % params["max_entries"])
    try:
        path = resolve_path(module)
    except IrisControlError as exc:
        module.fail_json(msg="instance: %s" % exc)
    if not os.path.isfile(path):
        module.fail_json(msg="path: %s %s" % (path, "is not a regular file" if os.path.exists(path) else "does not exist"),
                         path=path)
    entry_filter = EntryFilter(min_severity, params["categories"], since)
    try:
        report, truncated = read_log(path, entry_filter, params["max_entries"], tz)
    except OSError as exc:
        module.fail_json(msg="path: cannot read %s: %s" % (path, exc.strerror or exc), path=path)
    except UnreadableLog as exc:
        module.fail_json(msg="path: %s is %s" % (path, exc), path=path)
    module.exit_json(
        changed=False,
        path=path,
        timezone=str(tz),
        entries=report.entries,
        severity_counts=report.severity_counts,
        category_counts=report.category_counts,
        truncated=truncated,
        malformed_lines=report.malformed_lines,
        malformed_count=report.malformed_count,
        malformed_from_line=report.first_line,
        form=report.form,
    )


if __name__ == "__main__":
    main()
